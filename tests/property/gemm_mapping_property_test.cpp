// map_gemm + gemm_cycles, checked end to end: every fold map_gemm produces (dense GEMMs and the
// block-diagonal depthwise packings) is laid out as real operands, run on the PE-level reference
// array, and the outputs (partial sums of split reductions added up) must equal the GEMM or the
// depthwise convolution; the timer must agree with the reference on every fold, and gemm_cycles
// with the latest done.
#include <catch2/catch.hpp>

#include <random>
#include <sstream>

#include "hw/timing/timing.hpp"
#include "tests/reference/systolic_array_ref.hpp"

using namespace nax;
using namespace nax::hw;

namespace {

constexpr int kCases = 1000;

int uni(std::mt19937_64& rng, int lo, int hi) {
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

// The problem: dense Y[p][m] = sum_k X[p][k] W[k][m]; depthwise Y[p][ch] = sum_q X[p][ch][q]
// w[ch][q] (X indexed [p][ch * k + q], W indexed [ch][q] -> stored as W[q][ch]).
struct Problem {
  GemmShape g;
  std::vector<int64_t> x, w;
  int64_t X(int64_t p, int64_t k) const { return x[static_cast<size_t>(p * width() + k)]; }
  int64_t W(int64_t k, int64_t m) const { return w[static_cast<size_t>(k * g.m + m)]; }
  int64_t width() const { return g.depthwise ? g.m * g.k : g.k; }
  // Depthwise accessors: patch value q of channel ch at pixel p, filter tap q of channel ch.
  int64_t Xd(int64_t p, int64_t ch, int64_t q) const { return X(p, ch * g.k + q); }
  int64_t Wd(int64_t ch, int64_t q) const { return W(q, ch); }
  std::vector<int64_t> expected() const {
    std::vector<int64_t> y(static_cast<size_t>(g.npix * g.m), 0);
    for (int64_t p = 0; p < g.npix; ++p)
      for (int64_t m = 0; m < g.m; ++m)
        for (int64_t k = 0; k < g.k; ++k)
          y[static_cast<size_t>(p * g.m + m)] +=
              g.depthwise ? Xd(p, m, k) * Wd(m, k) : X(p, k) * W(k, m);
    return y;
  }
};

// Where a fold's outputs go: out(t, col) or, on os, acc(row, col), adds into Y[p][m].
struct Place {
  int64_t p = -1, m = -1;
};

struct FoldJob {
  ref::RefSegment cmd;
  std::vector<Place> dest;  // ws/is: T x c; os: r x c
};

// Lays fold (i, j) out as operands. Dense: rows/cols/T index into K, M, Npix per dataflow.
FoldJob layout(const ArrayConfig& cfg, const FoldGrid& f, const Problem& pb, int64_t i, int64_t j) {
  const FoldShape s = f.fold(i, j);
  const int R = cfg.rows, C = cfg.cols;
  const int r = s.rows_used, c = s.cols_used;
  const int64_t T = s.vectors;
  FoldJob job;
  job.cmd.seg.rows_used = r;
  job.cmd.seg.cols_used = c;
  job.cmd.seg.vectors = T;
  const bool os = cfg.dataflow == Dataflow::kOutputStationary;
  auto& st = job.cmd.stationary;
  auto& sv = job.cmd.stream;
  auto& wv = job.cmd.weights;
  st.assign(static_cast<size_t>(r) * c, 0);
  sv.assign(static_cast<size_t>(T * r), 0);
  if (os) wv.assign(static_cast<size_t>(T * c), 0);
  job.dest.assign(static_cast<size_t>(os ? int64_t{r} * c : T * c), Place{});
  auto S = [&](int a, int b) -> int64_t& { return st[static_cast<size_t>(a * c + b)]; };
  auto V = [&](int64_t t, int a) -> int64_t& { return sv[static_cast<size_t>(t * r + a)]; };
  auto Wt = [&](int64_t t, int b) -> int64_t& { return wv[static_cast<size_t>(t * c + b)]; };
  auto D = [&](int64_t a, int b) -> Place& { return job.dest[static_cast<size_t>(a * c + b)]; };
  const GemmShape& g = pb.g;
  if (!g.depthwise || f.packing == FoldPacking::kDense) {
    // Dense GEMM, or depthwise with one channel per fold (ws k > R, os): a channel is a GEMM
    // column whose reduction reads its own inputs.
    auto x = [&](int64_t p, int64_t k, int64_t m) {
      return g.depthwise ? pb.Xd(p, m, k) : pb.X(p, k);
    };
    auto w = [&](int64_t k, int64_t m) { return g.depthwise ? pb.Wd(m, k) : pb.W(k, m); };
    // Output channel of column b: depthwise folds hold one channel, column fold j.
    auto col = [&](int b) { return g.depthwise ? j : j * C + b; };
    switch (cfg.dataflow) {
      case Dataflow::kWeightStationary:  // rows k, cols m, T pixels
        for (int a = 0; a < r; ++a)
          for (int b = 0; b < c; ++b) S(a, b) = w(i * R + a, col(b));
        for (int64_t t = 0; t < T; ++t) {
          for (int a = 0; a < r; ++a) V(t, a) = x(t, i * R + a, col(0));  // depthwise: c == 1
          for (int b = 0; b < c; ++b) D(t, b) = {t, col(b)};
        }
        break;
      case Dataflow::kInputStationary:  // rows k, cols pixels, T = m
        for (int a = 0; a < r; ++a)
          for (int b = 0; b < c; ++b) S(a, b) = pb.X(j * C + b, i * R + a);
        for (int64_t t = 0; t < T; ++t) {
          for (int a = 0; a < r; ++a) V(t, a) = pb.W(i * R + a, t);
          for (int b = 0; b < c; ++b) D(t, b) = {j * C + b, t};
        }
        break;
      case Dataflow::kOutputStationary:  // rows pixels, cols m, T = k
        for (int64_t t = 0; t < T; ++t) {
          for (int a = 0; a < r; ++a) V(t, a) = x(i * R + a, t, col(0));  // depthwise: c == 1
          for (int b = 0; b < c; ++b) Wt(t, b) = w(t, col(b));
        }
        for (int a = 0; a < r; ++a)
          for (int b = 0; b < c; ++b) D(a, b) = {i * R + a, col(b)};
        break;
    }
    return job;
  }
  const int64_t k = g.k;
  switch (f.packing) {
    case FoldPacking::kDepthwiseColumns: {  // ws: g channels, block-diagonal r = c k
      const int64_t ch0 = j * f.channels_per_fold;
      for (int b = 0; b < c; ++b)
        for (int64_t q = 0; q < k; ++q) S(static_cast<int>(b * k + q), b) = pb.Wd(ch0 + b, q);
      for (int64_t t = 0; t < T; ++t) {
        for (int b = 0; b < c; ++b)
          for (int64_t q = 0; q < k; ++q) V(t, static_cast<int>(b * k + q)) = pb.Xd(t, ch0 + b, q);
        for (int b = 0; b < c; ++b) D(t, b) = {t, ch0 + b};
      }
      break;
    }
    case FoldPacking::kDepthwiseRows: {  // is: g channels stacked on rows, one vector each
      const int64_t ch0 = i * f.channels_per_fold;
      for (int64_t t = 0; t < T; ++t)
        for (int b = 0; b < c; ++b)
          for (int64_t q = 0; q < k; ++q)
            S(static_cast<int>(t * k + q), b) = pb.Xd(j * C + b, ch0 + t, q);
      for (int64_t t = 0; t < T; ++t) {
        for (int64_t q = 0; q < k; ++q) V(t, static_cast<int>(t * k + q)) = pb.Wd(ch0 + t, q);
        for (int b = 0; b < c; ++b) D(t, b) = {j * C + b, ch0 + t};
      }
      break;
    }
    case FoldPacking::kDepthwiseSlices: {  // is, k > R: channel i / slices, rows a slice of k
      const int64_t ch = i / f.slices, q0 = (i % f.slices) * R;
      for (int a = 0; a < r; ++a)
        for (int b = 0; b < c; ++b) S(a, b) = pb.Xd(j * C + b, ch, q0 + a);
      for (int a = 0; a < r; ++a) V(0, a) = pb.Wd(ch, q0 + a);
      for (int b = 0; b < c; ++b) D(0, b) = {j * C + b, ch};
      break;
    }
    case FoldPacking::kDense:
      break;
  }
  return job;
}

}  // namespace

TEST_CASE("map_gemm's folds computed on the PE-level array give the GEMM and gemm_cycles agrees",
          "[property][array][gemm]") {
  std::mt19937_64 rng(0x5eed0401);
  for (int n = 0; n < kCases; ++n) {
    ArrayConfig cfg;
    cfg.rows = uni(rng, 1, 8);
    cfg.cols = uni(rng, 1, 8);
    cfg.dataflow = static_cast<Dataflow>(uni(rng, 0, 2));
    cfg.mac_latency_cycles = uni(rng, 1, 3);
    cfg.overlap_preload = uni(rng, 0, 1) == 1;
    cfg.pad_partial_folds = uni(rng, 0, 1) == 1;
    Problem pb;
    pb.g.depthwise = uni(rng, 0, 1) == 1;
    pb.g.npix = uni(rng, 1, 12);
    pb.g.k = pb.g.depthwise ? uni(rng, 1, 12) : uni(rng, 1, 20);
    pb.g.m = uni(rng, 1, 12);
    pb.x.resize(static_cast<size_t>(pb.g.npix * pb.width()));
    pb.w.resize(static_cast<size_t>(pb.g.k * pb.g.m));
    for (auto& v : pb.x) v = uni(rng, -4, 4);
    for (auto& v : pb.w) v = uni(rng, -4, 4);
    INFO("case " << n << ": array " << cfg.rows << "x" << cfg.cols << " "
                 << dataflow_name(cfg.dataflow) << " Lm " << cfg.mac_latency_cycles << " overlap "
                 << cfg.overlap_preload << " pad " << cfg.pad_partial_folds << "; "
                 << (pb.g.depthwise ? "depthwise" : "gemm") << " npix " << pb.g.npix << " k "
                 << pb.g.k << " m " << pb.g.m);
    const FoldGrid f = map_gemm(cfg, pb.g);
    std::vector<FoldJob> jobs;
    for (int64_t j = 0; j < f.col_folds; ++j)
      for (int64_t i = 0; i < f.row_folds; ++i) jobs.push_back(layout(cfg, f, pb, i, j));
    std::vector<ref::RefSegment> cmds;
    for (const auto& jb : jobs) cmds.push_back(jb.cmd);
    ref::SystolicArrayRef array(cfg);
    std::vector<ref::RefTiming> slow;
    try {
      slow = array.run(cmds);
    } catch (const std::exception& e) {
      FAIL("reference: " << e.what());
    }
    std::vector<int64_t> y(static_cast<size_t>(pb.g.npix * pb.g.m), 0);
    MacArrayTimer timer(cfg);
    Cycle latest = 0;
    for (size_t s = 0; s < jobs.size(); ++s) {
      const auto& out = array.results()[s];
      REQUIRE(out.size() == jobs[s].dest.size());
      for (size_t e = 0; e < out.size(); ++e) {
        const Place& d = jobs[s].dest[e];
        if (d.p >= 0) y[static_cast<size_t>(d.p * pb.g.m + d.m)] += out[e];
      }
      const ArrayTiming fast = timer.run(jobs[s].cmd.seg, 0);
      INFO("fold " << s);
      REQUIRE(fast.stream_start == slow[s].stream_start);
      REQUIRE(fast.done == slow[s].done);
      latest = std::max(latest, fast.done);
    }
    REQUIRE(y == pb.expected());
    REQUIRE(gemm_cycles(cfg, pb.g) == latest);
  }
}

TEST_CASE("gemm_cycles equals running every fold through the timer, on large shapes",
          "[property][array][gemm]") {
  std::mt19937_64 rng(0x5eed0402);
  for (int n = 0; n < kCases; ++n) {
    ArrayConfig cfg;
    cfg.rows = uni(rng, 1, 64);
    cfg.cols = uni(rng, 1, 64);
    cfg.dataflow = static_cast<Dataflow>(uni(rng, 0, 2));
    cfg.mac_latency_cycles = uni(rng, 1, 4);
    cfg.overlap_preload = uni(rng, 0, 1) == 1;
    cfg.pad_partial_folds = uni(rng, 0, 1) == 1;
    GemmShape g;
    g.depthwise = uni(rng, 0, 2) == 0;
    g.npix = uni(rng, 1, 3) == 1 ? uni(rng, 1, 4) : uni(rng, 1, 3000);
    g.k = g.depthwise ? uni(rng, 1, 80) : uni(rng, 1, 700);
    g.m = uni(rng, 1, 300);
    INFO("case " << n << ": array " << cfg.rows << "x" << cfg.cols << " "
                 << dataflow_name(cfg.dataflow) << " Lm " << cfg.mac_latency_cycles << " overlap "
                 << cfg.overlap_preload << " pad " << cfg.pad_partial_folds << "; "
                 << (g.depthwise ? "depthwise" : "gemm") << " npix " << g.npix << " k " << g.k
                 << " m " << g.m);
    const FoldGrid f = map_gemm(cfg, g);
    MacArrayTimer timer(cfg);
    Cycle latest = 0;
    int64_t macs_slots = 0;
    for (int64_t j = 0; j < f.col_folds; ++j) {
      for (int64_t i = 0; i < f.row_folds; ++i) {
        const FoldShape s = f.fold(i, j);
        if (s.rows_used < 1 || s.rows_used > cfg.rows || s.cols_used < 1 ||
            s.cols_used > cfg.cols || s.vectors < 1) {
          FAIL("fold (" << i << ", " << j << ") is " << s.rows_used << "x" << s.cols_used
                        << " T=" << s.vectors);
        }
        ArraySegment seg;
        seg.rows_used = s.rows_used;
        seg.cols_used = s.cols_used;
        seg.vectors = s.vectors;
        latest = std::max(latest, timer.run(seg, 0).done);
        macs_slots += int64_t{s.rows_used} * s.cols_used * s.vectors;
      }
    }
    REQUIRE(gemm_cycles(cfg, g) == latest);
    // The folds hold every MAC at least once (exactly once for dense GEMMs).
    const int64_t macs = g.npix * g.k * g.m;
    if (g.depthwise) {
      REQUIRE(macs_slots >= macs);
    } else {
      REQUIRE(macs_slots == macs);
    }
  }
}
