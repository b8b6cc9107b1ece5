// Closed-form timing of the MAC array and the vector unit (hw/MACHINE.md). See timing.hpp.
//
// gemm_cycles in O(1): with every fold one segment and all data ready at cycle 0, the stream start
// of fold f is the previous fold's plus an increment that depends only on the two folds
// (delta(prev, next) below), and a fold's done is its stream start plus T + drain. A fold sequence
// is summarised by {first fold, last fold, stream-start span, latest done relative to its first
// stream start}; summaries concatenate and repeat in O(1), and the fold order (row folds inner,
// column folds outer) is a few nested repetitions.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "hw/timing/timing.hpp"

namespace nax::hw {

namespace {

inline Cycle cmax(Cycle a, Cycle b) {
  return a > b ? a : b;
}

inline int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

bool is_os(const ArrayConfig& cfg) {
  return cfg.dataflow == Dataflow::kOutputStationary;
}

void check_config(const ArrayConfig& cfg) {
  if (cfg.rows < 1 || cfg.cols < 1 || cfg.mac_latency_cycles < 1) {
    throw std::invalid_argument("ArrayConfig: rows, cols and mac_latency_cycles must be >= 1");
  }
}

// r' and c' of hw/MACHINE.md.
inline Cycle eff_rows(const ArrayConfig& cfg, int r) {
  return static_cast<Cycle>(cfg.pad_partial_folds ? cfg.rows : r);
}
inline Cycle eff_cols(const ArrayConfig& cfg, int c) {
  return static_cast<Cycle>(cfg.pad_partial_folds ? cfg.cols : c);
}

// done - stream_end.
inline Cycle drain(const ArrayConfig& cfg, int r, int c) {
  const Cycle lm = static_cast<Cycle>(cfg.mac_latency_cycles);
  if (is_os(cfg)) return eff_rows(cfg, r) + eff_cols(cfg, c) + lm - 3;
  return static_cast<Cycle>(cfg.rows) * lm + eff_cols(cfg, c) - 2;
}

}  // namespace

ArrayConfig ArrayConfig::from_chip(const ChipParams& chip) {
  ArrayConfig c;
  c.rows = chip.mac_array.rows;
  c.cols = chip.mac_array.cols;
  c.dataflow = chip.mac_array.dataflow;
  c.mac_latency_cycles = chip.mac_array.mac_latency_cycles;
  c.overlap_preload = chip.mac_array.overlap_preload;
  c.pad_partial_folds = chip.mac_array.pad_partial_folds;
  return c;
}

// ---------------------------------------------------------------- MacArrayTimer

MacArrayTimer::MacArrayTimer(const ArrayConfig& cfg) : m_cfg(cfg) {
  check_config(cfg);
}

void MacArrayTimer::reset() {
  m_stream_free = m_preload_free = m_last_done = m_fold_stream_start = m_last_issue = 0;
}

Cycle MacArrayTimer::accepts_at() const {
  return m_stream_free;
}

Cycle MacArrayTimer::accepts_at(const ArraySegment& next) const {
  if (!next.new_fold) return m_stream_free;
  if (is_os(m_cfg)) {
    return m_cfg.overlap_preload ? m_stream_free : cmax(m_stream_free, m_last_done);
  }
  // ws / is: the new fold's preload starts once the shadow registers are free (overlap) or the
  // array has drained (no overlap), never before the previous command issued (in order).
  return m_cfg.overlap_preload ? cmax(m_preload_free, m_last_issue) : m_last_done;
}

ArrayTiming MacArrayTimer::run(const ArraySegment& seg, Cycle ready) {
  if (seg.rows_used < 1 || seg.rows_used > m_cfg.rows || seg.cols_used < 1 ||
      seg.cols_used > m_cfg.cols || seg.vectors < 1) {
    throw std::invalid_argument("MacArrayTimer::run: segment " + std::to_string(seg.rows_used) +
                                "x" + std::to_string(seg.cols_used) +
                                " T=" + std::to_string(seg.vectors) + " does not fit a " +
                                std::to_string(m_cfg.rows) + "x" + std::to_string(m_cfg.cols) +
                                " array (need 1 <= r <= rows, 1 <= c <= cols, T >= 1)");
  }
  ArrayTiming t;
  t.issue = cmax(ready, accepts_at(seg));
  if (seg.new_fold && !is_os(m_cfg)) {
    t.stream_start = cmax(t.issue + eff_rows(m_cfg, seg.rows_used), m_stream_free);
  } else {
    t.stream_start = t.issue;
  }
  t.stream_end = t.stream_start + static_cast<Cycle>(seg.vectors);
  t.done = t.stream_end + drain(m_cfg, seg.rows_used, seg.cols_used);
  if (seg.new_fold) {
    m_fold_stream_start = t.stream_start;
    if (m_cfg.overlap_preload) m_preload_free = t.stream_start;
  }
  m_stream_free = t.stream_end;
  m_last_done = t.done;
  m_last_issue = t.issue;
  if (!m_cfg.overlap_preload) m_preload_free = m_last_done;
  return t;
}

ArrayTiming MacArrayTimer::run_repeated(const ArraySegment& seg, int64_t count, Cycle ready) {
  if (count < 1) throw std::invalid_argument("MacArrayTimer::run_repeated: count must be >= 1");
  ArrayTiming t = run(seg, ready);
  if (count == 1) return t;
  // Every later copy is ready before the previous one started, so only the unit binds: each
  // starts a constant step after the previous one.
  const Cycle n = static_cast<Cycle>(count - 1);
  const Cycle tv = static_cast<Cycle>(seg.vectors);
  const Cycle d = t.done - t.stream_end;
  Cycle step = tv;
  bool preloads = false;
  Cycle p = 0;
  if (seg.new_fold) {
    const bool overlap = m_cfg.overlap_preload;
    if (is_os(m_cfg)) {
      step = overlap ? tv : tv + d;
    } else {
      preloads = true;
      p = eff_rows(m_cfg, seg.rows_used);
      step = overlap ? std::max(tv, p) : tv + d + p;
    }
  }
  t.stream_start += n * step;
  // A later copy issues at its preload: the previous copy's stream start (overlap) or done (no
  // overlap, = its own stream start - P); otherwise at its stream start.
  if (!preloads) {
    t.issue = t.stream_start;
  } else {
    t.issue = m_cfg.overlap_preload ? t.stream_start - step : t.stream_start - p;
  }
  t.stream_end += n * step;
  t.done += n * step;
  if (seg.new_fold) {
    m_fold_stream_start = t.stream_start;
    if (m_cfg.overlap_preload) m_preload_free = t.stream_start;
  }
  m_stream_free = t.stream_end;
  m_last_done = t.done;
  m_last_issue = t.issue;
  if (!m_cfg.overlap_preload) m_preload_free = m_last_done;
  return t;
}

// ---------------------------------------------------------------- map_gemm

FoldShape FoldGrid::fold(int64_t i, int64_t j) const {
  FoldShape f;
  f.cols_used = j == col_folds - 1 ? cols_last : cols_full;
  f.vectors = vectors;
  switch (packing) {
    case FoldPacking::kDense:
      f.rows_used = i == row_folds - 1 ? rows_last : rows_full;
      break;
    case FoldPacking::kDepthwiseColumns:
      f.rows_used = f.cols_used * block;
      break;
    case FoldPacking::kDepthwiseRows:
      f.rows_used = i == row_folds - 1 ? rows_last : rows_full;
      f.vectors = f.rows_used / block;
      break;
    case FoldPacking::kDepthwiseSlices:
      f.rows_used = i % slices == slices - 1 ? rows_last : rows_full;
      f.vectors = 1;
      break;
  }
  return f;
}

namespace {

// Splits `n` (> 0) into folds of at most `size`: count, full size, last size.
void split(int64_t n, int64_t size, int64_t& count, int& full, int& last) {
  count = ceil_div(n, size);
  full = static_cast<int>(std::min(n, size));
  last = static_cast<int>(n - (count - 1) * size);
}

}  // namespace

FoldGrid map_gemm(const ArrayConfig& cfg, const GemmShape& g) {
  check_config(cfg);
  if (g.npix < 0 || g.k < 0 || g.m < 0) {
    throw std::invalid_argument("map_gemm: negative GEMM dimension");
  }
  FoldGrid f;
  if (g.npix == 0 || g.k == 0 || g.m == 0) return f;  // no folds
  const int64_t R = cfg.rows, C = cfg.cols;
  if (!g.depthwise) {
    int64_t rows = 0, cols = 0;
    switch (cfg.dataflow) {
      case Dataflow::kWeightStationary:
        rows = g.k, cols = g.m, f.vectors = g.npix;
        break;
      case Dataflow::kInputStationary:
        rows = g.k, cols = g.npix, f.vectors = g.m;
        break;
      case Dataflow::kOutputStationary:
        rows = g.npix, cols = g.m, f.vectors = g.k;
        break;
    }
    split(rows, R, f.row_folds, f.rows_full, f.rows_last);
    split(cols, C, f.col_folds, f.cols_full, f.cols_last);
    return f;
  }
  // Depthwise: m channels, each a reduction of k = kh*kw over its own inputs.
  const int64_t k = g.k;
  switch (cfg.dataflow) {
    case Dataflow::kOutputStationary:
      // One channel (one column) per fold: a row's input is shared by all columns.
      split(g.npix, R, f.row_folds, f.rows_full, f.rows_last);
      f.col_folds = g.m;
      f.cols_full = f.cols_last = 1;
      f.vectors = k;
      f.block = static_cast<int>(k);
      return f;
    case Dataflow::kWeightStationary:
      f.vectors = g.npix;
      if (k > R) {  // one channel per fold, its reduction split over row folds
        split(k, R, f.row_folds, f.rows_full, f.rows_last);
        f.col_folds = g.m;
        f.cols_full = f.cols_last = 1;
        f.block = static_cast<int>(k);
        return f;
      }
      {
        const int64_t per = std::min(R / k, C);
        f.channels_per_fold = static_cast<int>(per);
        f.packing = FoldPacking::kDepthwiseColumns;
        f.block = static_cast<int>(k);
        f.row_folds = 1;
        split(g.m, per, f.col_folds, f.cols_full, f.cols_last);
        f.rows_full = f.cols_full * f.block;
        f.rows_last = f.rows_full;
      }
      return f;
    case Dataflow::kInputStationary:
      split(g.npix, C, f.col_folds, f.cols_full, f.cols_last);
      f.block = static_cast<int>(k);
      if (k > R) {
        f.packing = FoldPacking::kDepthwiseSlices;
        int64_t slices = 0;
        split(k, R, slices, f.rows_full, f.rows_last);
        f.slices = slices;
        f.row_folds = slices * g.m;
        f.vectors = 1;
        return f;
      }
      {
        const int64_t per = R / k;
        f.channels_per_fold = static_cast<int>(std::min(per, g.m));
        f.packing = FoldPacking::kDepthwiseRows;
        int full = 0, last = 0;
        split(g.m, per, f.row_folds, full, last);
        f.rows_full = full * f.block;
        f.rows_last = last * f.block;
        f.vectors = full;
      }
      return f;
  }
  return f;
}

// ---------------------------------------------------------------- gemm_cycles

namespace {

// A summary of a run of single-segment folds on an array with all data ready (see the top).
struct FoldSeq {
  FoldShape first, last;
  Cycle span = 0;      // stream start of the last fold - stream start of the first
  Cycle max_done = 0;  // latest done - stream start of the first
};

class SeqAlgebra {
 public:
  explicit SeqAlgebra(const ArrayConfig& cfg) : m_cfg(cfg) {}

  // Stream start of `next` - stream start of `prev`, folds back to back, data ready.
  Cycle delta(const FoldShape& prev, const FoldShape& next) const {
    const Cycle t = static_cast<Cycle>(prev.vectors);
    const bool overlap = m_cfg.overlap_preload;
    if (is_os(m_cfg)) return overlap ? t : t + drain(m_cfg, prev.rows_used, prev.cols_used);
    const Cycle p = eff_rows(m_cfg, next.rows_used);
    return overlap ? std::max(t, p) : t + drain(m_cfg, prev.rows_used, prev.cols_used) + p;
  }
  Cycle tail(const FoldShape& f) const {
    return static_cast<Cycle>(f.vectors) + drain(m_cfg, f.rows_used, f.cols_used);
  }
  FoldSeq single(const FoldShape& f) const { return FoldSeq{f, f, 0, tail(f)}; }
  FoldSeq concat(const FoldSeq& a, const FoldSeq& b) const {
    const Cycle off = a.span + delta(a.last, b.first);
    return FoldSeq{a.first, b.last, off + b.span, std::max(a.max_done, off + b.max_done)};
  }
  // `a` n >= 1 times; increments are nonnegative, so the last copy holds the latest done.
  FoldSeq repeat(const FoldSeq& a, int64_t n) const {
    if (n <= 1) return a;
    const Cycle period = a.span + delta(a.last, a.first);
    const Cycle k = static_cast<Cycle>(n - 1);
    return FoldSeq{a.first, a.last, k * period + a.span, k * period + a.max_done};
  }
  // `first` n - 1 times then `last` (a fold dimension cut into full folds and a last one).
  FoldSeq full_then_last(const FoldShape& full, const FoldShape& last, int64_t n) const {
    if (n <= 1) return single(last);
    return concat(repeat(single(full), n - 1), single(last));
  }

 private:
  const ArrayConfig& m_cfg;
};

}  // namespace

Cycle gemm_cycles(const ArrayConfig& cfg, const GemmShape& g) {
  const FoldGrid f = map_gemm(cfg, g);
  if (f.folds() == 0) return 0;
  const SeqAlgebra a(cfg);
  // The column block of column fold j: its row folds in order.
  auto column_block = [&](int64_t j) {
    if (f.packing == FoldPacking::kDepthwiseSlices) {
      const FoldSeq channel = a.full_then_last(f.fold(0, j), f.fold(f.slices - 1, j), f.slices);
      return a.repeat(channel, f.row_folds / f.slices);
    }
    return a.full_then_last(f.fold(0, j), f.fold(f.row_folds - 1, j), f.row_folds);
  };
  FoldSeq all = column_block(f.col_folds - 1);
  if (f.col_folds > 1) all = a.concat(a.repeat(column_block(0), f.col_folds - 1), all);
  // The first fold on a fresh array: os streams at 0, ws/is after preloading it.
  const Cycle s0 = is_os(cfg) ? 0 : eff_rows(cfg, all.first.rows_used);
  return s0 + all.max_done;
}

// ---------------------------------------------------------------- vector unit

const char* vector_op_name(VectorOp op) {
  switch (op) {
    case VectorOp::kEltwise:
      return "eltwise";
    case VectorOp::kActivation:
      return "activation";
    case VectorOp::kPool:
      return "pool";
    case VectorOp::kGlobalPool:
      return "global_pool";
    case VectorOp::kDepthwise:
      return "depthwise";
    case VectorOp::kResize:
      return "resize";
    case VectorOp::kSoftmax:
      return "softmax";
  }
  return "?";
}

int64_t vector_issues(const VectorWork& w, int lanes) {
  if (lanes < 1) throw std::invalid_argument("vector_issues: lanes must be >= 1");
  const int64_t L = lanes;
  switch (w.op) {
    case VectorOp::kEltwise:
    case VectorOp::kActivation:
      return ceil_div(w.elements, L);
    case VectorOp::kPool:
    case VectorOp::kDepthwise:
      return w.out_h * w.out_w * ceil_div(w.channels, L) * w.kernel_h * w.kernel_w;
    case VectorOp::kGlobalPool:
      return w.out_h * w.out_w * ceil_div(w.channels, L);
    case VectorOp::kResize:
      return ceil_div(w.elements, L) * w.taps;
    case VectorOp::kSoftmax:
      return 3 * ceil_div(w.elements, L);
  }
  return 0;
}

int64_t vector_element_ops(const VectorWork& w, int lanes) {
  if (lanes < 1) throw std::invalid_argument("vector_element_ops: lanes must be >= 1");
  switch (w.op) {
    case VectorOp::kEltwise:
    case VectorOp::kActivation:
      return w.elements;
    case VectorOp::kPool:
    case VectorOp::kDepthwise:
      return w.out_h * w.out_w * w.channels * w.kernel_h * w.kernel_w;
    case VectorOp::kGlobalPool:
      return w.out_h * w.out_w * w.channels;
    case VectorOp::kResize:
      return w.elements * w.taps;
    case VectorOp::kSoftmax:
      return 3 * w.elements;
  }
  return 0;
}

VectorTimer::VectorTimer(int lanes, int pipeline_latency_cycles)
    : m_lanes(lanes), m_latency(pipeline_latency_cycles) {
  if (lanes < 1 || pipeline_latency_cycles < 0) {
    throw std::invalid_argument("VectorTimer: lanes must be >= 1 and latency >= 0");
  }
}

VectorTiming VectorTimer::run(int64_t issues, Cycle ready) {
  if (issues < 0) throw std::invalid_argument("VectorTimer::run: negative issue count");
  VectorTiming t;
  t.start = cmax(ready, m_issue_free);
  t.accept = t.start + static_cast<Cycle>(issues);
  t.done = issues == 0 ? t.start : t.accept + static_cast<Cycle>(m_latency);
  m_issue_free = t.accept;
  return t;
}

}  // namespace nax::hw
