// SCALE-Sim v2's cycle model for one conv layer in its default stall-free mode, written from its
// documentation and code (scalesim/compute/systolic_compute_{ws,os,is}.py), independently of nax.
//
// The conv is a GEMM: Npix = output H x W, K = kernel H x W x input channels, M = filters.
// Spatial dims (rows, cols) and time dim per dataflow: os (Npix, M) / K, ws (K, M) / Npix,
// is (K, Npix) / M. Folds = ceil(rows / R) x ceil(cols / C), run one after another; cycles per
// fold 2R + C + T - 2 (ws, is) or R + C + T - 2 (os); SCALE-Sim reports folds x per-fold - 1
// (the index of the last output cycle).
#pragma once

#include <cstdint>
#include <string>

namespace nax::test {

struct ScaleSimLayer {
  int64_t npix = 0, k = 0, m = 0;
};

inline int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

inline int64_t scalesim_reported_cycles(const ScaleSimLayer& l, int64_t R, int64_t C,
                                        const std::string& dataflow) {
  int64_t rows = 0, cols = 0, t = 0, per_fold_extra = 0;
  if (dataflow == "os") {
    rows = l.npix, cols = l.m, t = l.k, per_fold_extra = R + C - 2;
  } else if (dataflow == "ws") {
    rows = l.k, cols = l.m, t = l.npix, per_fold_extra = 2 * R + C - 2;
  } else {  // is
    rows = l.k, cols = l.npix, t = l.m, per_fold_extra = 2 * R + C - 2;
  }
  const int64_t folds = ceil_div(rows, R) * ceil_div(cols, C);
  return folds * (per_fold_extra + t) - 1;
}

}  // namespace nax::test
