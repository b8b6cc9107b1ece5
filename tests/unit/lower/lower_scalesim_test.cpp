// Lowering agrees with SCALE-Sim: on the scalesim-ws-32x32 / scalesim-os-32x32 presets (folds
// back to back, padded partial folds, ideal DRAM) a single dense or pointwise conv takes exactly
// F x (2R + C + T - 2) cycles on ws (T = Npix) and F x (R + C + T - 2) on os (T = K), F = the
// GEMM's folds (hw/MACHINE.md). The lowering must keep every fold one stream (a fold split over
// pixel or K chunks is segments of the same fold): its array commands, run in order through
// MacArrayTimer with everything ready at 0, end exactly there, and so does gemm_cycles.
#include <catch2/catch.hpp>

#include "lower_test_util.hpp"

using namespace nax;
using namespace nax::hw;
using namespace nax::lower_test;

namespace {

struct Shape {
  int64_t cin, h, w;
  int cout, k, stride;
};

Cycle array_cycles(const Program& p, const ArrayConfig& cfg, int64_t& folds) {
  MacArrayTimer t(cfg);
  Cycle end = 0;
  folds = 0;
  for (const Command& c : p.cmds) {
    if (c.unit != UnitKind::kMacArray) continue;
    folds += c.array.seg.new_fold ? 1 : 0;
    end = std::max(end, t.run(c.array.seg, 0).done);
  }
  return end;
}

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

}  // namespace

TEST_CASE("a conv on scalesim-ws-32x32 takes F x (2R + C + Npix - 2) cycles", "[lower][scalesim]") {
  const ChipParams chip = load_chip("scalesim-ws-32x32");
  const ArrayConfig cfg = ArrayConfig::from_chip(chip);
  REQUIRE(cfg.pad_partial_folds);
  REQUIRE_FALSE(cfg.overlap_preload);
  const int64_t R = cfg.rows, C = cfg.cols;
  const Shape shapes[] = {
      {64, 28, 28, 96, 1, 1},    // K = 64: 2 row folds (partial sums), 3 column folds
      {3, 56, 56, 32, 3, 2},     // K = 27: one partial row fold
      {32, 56, 56, 200, 1, 1},   // 7 column folds, the last partial
      {100, 7, 7, 50, 1, 1},     // partial folds both ways
      {16, 112, 112, 24, 1, 1},  // a big pixel stream split over chunks
      {144, 14, 14, 40, 3, 1},   // K = 1296: 41 row folds
  };
  for (const Shape& s : shapes) {
    const ir::Graph g = single_conv(s.cin, s.h, s.w, s.cout, s.k, s.stride);
    INFO("conv " << s.cin << "x" << s.h << "x" << s.w << " -> " << s.cout << " k" << s.k << " s"
                 << s.stride);
    const Program p = lower(g, chip);
    const int64_t out = (s.h + 2 * ((s.k - 1) / 2) - s.k) / s.stride + 1;
    const int64_t npix = out * out;
    const int64_t K = s.cin * s.k * s.k;
    const int64_t F = ceil_div(K, R) * ceil_div(s.cout, C);
    int64_t folds = 0;
    const Cycle cyc = array_cycles(p, cfg, folds);
    CHECK(folds == F);
    CHECK(cyc == static_cast<Cycle>(F * (2 * R + C + npix - 2)));
    CHECK(cyc == gemm_cycles(cfg, GemmShape{npix, K, s.cout, false}));
  }
}

TEST_CASE("a conv on scalesim-os-32x32 takes F x (R + C + K - 2) cycles", "[lower][scalesim]") {
  const ChipParams chip = load_chip("scalesim-os-32x32");
  const ArrayConfig cfg = ArrayConfig::from_chip(chip);
  REQUIRE(cfg.pad_partial_folds);
  const int64_t R = cfg.rows, C = cfg.cols;
  const Shape shapes[] = {
      {64, 28, 28, 96, 1, 1},
      {3, 56, 56, 32, 3, 2},
      {100, 7, 7, 50, 1, 1},
      {256, 14, 14, 64, 3, 1},  // K = 2304: the K stream split over input-channel chunks
  };
  for (const Shape& s : shapes) {
    const ir::Graph g = single_conv(s.cin, s.h, s.w, s.cout, s.k, s.stride);
    INFO("conv " << s.cin << "x" << s.h << "x" << s.w << " -> " << s.cout << " k" << s.k);
    const Program p = lower(g, chip);
    const int64_t out = (s.h + 2 * ((s.k - 1) / 2) - s.k) / s.stride + 1;
    const int64_t npix = out * out;
    const int64_t K = s.cin * s.k * s.k;
    const int64_t F = ceil_div(npix, R) * ceil_div(s.cout, C);
    int64_t folds = 0;
    const Cycle cyc = array_cycles(p, cfg, folds);
    CHECK(folds == F);
    CHECK(cyc == static_cast<Cycle>(F * (R + C + K - 2)));
    CHECK(cyc == gemm_cycles(cfg, GemmShape{npix, K, s.cout, false}));
  }
}

TEST_CASE("a 1x1 conv's folds step at multiples of the array's columns and rows",
          "[lower][scalesim]") {
  const ChipParams chip = load_chip("scalesim-ws-32x32");
  auto folds_of = [&](int64_t cin, int cout) {
    const Program p = lower(single_conv(cin, 14, 14, cout, 1), chip);
    return p.layers.at(0).folds;
  };
  CHECK(folds_of(64, 32) == 2);
  CHECK(folds_of(64, 33) == 4);
  CHECK(folds_of(64, 64) == 4);
  CHECK(folds_of(32, 64) == 2);
  CHECK(folds_of(33, 64) == 4);
}
