// Tiling: per layer, candidate tilings and loop orders -> steps (one compute command each) ->
// commands (DMA loads into double-buffer slots, compute, stores) -> an estimate of the layer's
// cycles from the closed-form timers. The best candidate wins (hw/lower/lower.cpp explains the
// search).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "hw/lower/lower_internal.hpp"
#include "models/common/error.hpp"

namespace nax::hw::lower_detail {

namespace {

enum What : uint8_t { kWhatInput, kWhatWeights, kWhatOutput, kWhatSpill, kWhatReload, kWhatPsum };
constexpr const char* kWhatNames[] = {"input", "weights", "output", "spill", "reload", "psum"};

enum class Order : uint8_t { kFoldOuter, kPixelOuter, kChanOuter };
const char* order_name(Order o) {
  switch (o) {
    case Order::kFoldOuter:
      return "fold-outer";
    case Order::kPixelOuter:
      return "pixel-outer";
    case Order::kChanOuter:
      return "channel-outer";
  }
  return "";
}

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// Composes a block key from small fields (mixed radix).
struct Key {
  int64_t v = 0;
  Key& add(int64_t x, int64_t bound) {
    v = v * (bound + 1) + x;
    return *this;
  }
};

struct BlockUse {
  int64_t id = -1;  // -1: the step does not use this operand
  int64_t bytes = 0;
  int64_t offset = 0;  // byte offset in the tensor (addresses of resident tensors)
  // Shape, for messages: input rows x channels, weights K x M, output pixels x channels.
  int64_t d0 = 0, d1 = 0;
};

struct Step {
  UnitKind unit = UnitKind::kMacArray;
  int tile = 0;
  ArraySegment seg;
  int64_t macs = 0;
  VectorWork work;
  int64_t issues = 0, element_ops = 0;
  BlockUse w;
  BlockUse out;  // bytes: SRAM footprint (accumulator width on the array)
  int64_t store_bytes = 0;
  bool accumulate = false;  // adds onto a partial result of this block
  bool final_out = false;   // last step that writes the block
  int64_t sram[3] = {0, 0, 0};
  int64_t sram_read = 0, sram_write = 0;
};

struct Steps {
  int nin = 0;
  std::vector<Step> v;
  std::vector<BlockUse> ins;  // v.size() x nin
  void reset(int n) {
    nin = n;
    v.clear();
    ins.clear();
  }
  Step& add() {
    v.emplace_back();
    for (int k = 0; k < nin; ++k) ins.emplace_back();
    return v.back();
  }
  BlockUse& last_in(int k) { return ins[ins.size() - static_cast<size_t>(nin - k)]; }
  BlockUse& in(size_t s, int k) {
    return ins[s * static_cast<size_t>(nin) + static_cast<size_t>(k)];
  }
  const BlockUse& in(size_t s, int k) const {
    return ins[s * static_cast<size_t>(nin) + static_cast<size_t>(k)];
  }
};

// ------------------------------------------------------------------ array geometry

struct ArrayCtx {
  const Layer* L = nullptr;
  Dataflow df = Dataflow::kWeightStationary;
  int R = 0, C = 0;
  int ab = 1, wb = 1, acc = 4;
  bool dw = false;
  int64_t K = 0, M = 0, G = 1, npix = 0, cin_g = 0, kk = 1, mult = 1;
  int64_t unit = 1, n_units = 1;  // pixel unit (one output row; R pixels on os)
  int64_t chan_chunk = 1;         // channels per tile of the channel-outer order
  int64_t w_extra = 0;            // bias / folded-BN bytes per output channel
  // Units of the streamed (time) dimension that fold-outer chunks: ws output rows, os input
  // channels (of K), is output channels; depthwise os / is folds are not split.
  int64_t fold_time_units() const {
    switch (df) {
      case Dataflow::kWeightStationary:
        return n_units;
      case Dataflow::kOutputStationary:
        return dw ? 1 : cin_g;
      case Dataflow::kInputStationary:
        return dw ? 1 : M;
    }
    return 1;
  }
};

struct FoldDims {
  int r = 0, c = 0;
  int64_t T = 0, macs = 0;
  int64_t k0 = 0, nk = 0;  // reduction range (dw: the kernel slice)
  int64_t m0 = 0, nm = 0;  // output channels, relative to the tile
  int64_t q0 = 0, nq = 0;  // pixels, relative to the tile
  bool last_row = false;   // last row fold of its column fold: the column's outputs are final
};

// The folds of a tile of P pixels and Mt output channels (all of K) as map_gemm lays them out,
// column folds outer and row folds inner (hw/MACHINE.md, "MAC array"), with the part of the GEMM
// each fold covers and its useful MACs.
template <class F>
void for_each_fold(const ArrayCtx& x, const ArrayConfig& cfg, int64_t P, int64_t Mt, F&& f) {
  GemmShape gs;
  gs.npix = P;
  gs.k = x.dw ? x.kk : x.K;
  gs.m = Mt;
  gs.depthwise = x.dw;
  const FoldGrid grid = map_gemm(cfg, gs);
  FoldDims d;
  for (int64_t j = 0; j < grid.col_folds; ++j) {
    for (int64_t i = 0; i < grid.row_folds; ++i) {
      const FoldShape fs = grid.fold(i, j);
      d.last_row = i == grid.row_folds - 1;
      d.r = fs.rows_used;
      d.c = fs.cols_used;
      d.T = fs.vectors;
      d.k0 = 0, d.nk = gs.k, d.m0 = 0, d.nm = Mt, d.q0 = 0, d.nq = P;
      switch (grid.packing) {
        case FoldPacking::kDense:
          if (!x.dw) {
            switch (x.df) {
              case Dataflow::kWeightStationary:
                d.k0 = i * grid.rows_full, d.nk = d.r;
                d.m0 = j * grid.cols_full, d.nm = d.c;
                break;
              case Dataflow::kOutputStationary:
                d.q0 = i * grid.rows_full, d.nq = d.r;
                d.m0 = j * grid.cols_full, d.nm = d.c;
                break;
              case Dataflow::kInputStationary:
                d.k0 = i * grid.rows_full, d.nk = d.r;
                d.q0 = j * grid.cols_full, d.nq = d.c;
                break;
            }
            d.macs = int64_t{d.r} * d.c * d.T;
          } else if (x.df == Dataflow::kOutputStationary) {  // one channel per column fold
            d.q0 = i * grid.rows_full, d.nq = d.r;
            d.m0 = j, d.nm = 1;
            d.macs = int64_t{d.r} * d.T;
          } else {  // ws, kh*kw > R: one channel per column fold, its kernel over row folds
            d.k0 = i * grid.rows_full, d.nk = d.r;
            d.m0 = j, d.nm = 1;
            d.macs = int64_t{d.r} * d.T;
          }
          break;
        case FoldPacking::kDepthwiseColumns:
          d.m0 = j * grid.cols_full, d.nm = d.c;
          d.macs = int64_t{d.r} * d.T;
          break;
        case FoldPacking::kDepthwiseRows:
          d.q0 = j * grid.cols_full, d.nq = d.c;
          d.m0 = i * (grid.rows_full / grid.block), d.nm = d.T;
          d.macs = gs.k * d.c * d.T;
          break;
        case FoldPacking::kDepthwiseSlices:
          d.q0 = j * grid.cols_full, d.nq = d.c;
          d.m0 = i / grid.slices, d.nm = 1;
          d.k0 = (i % grid.slices) * grid.rows_full, d.nk = d.r;
          d.macs = int64_t{d.r} * d.c * d.T;
          break;
      }
      f(d);
    }
  }
}

// ------------------------------------------------------------------ candidates

enum WeightGran : int {
  kWeightsByColumn = 0,  // one column of folds (all of K for some output channels)
  kWeightsByFold = 1,    // one fold
  kWeightsWhole = 2,     // all of the layer's weights in one transfer
};

struct Cand {
  Order order = Order::kPixelOuter;
  int64_t upc = 1;                      // pixel units (array) or output units (vector) per chunk
  int w_gran = kWeightsByColumn;        // weight block granularity
  bool all[3] = {false, false, false};  // cache every block: inputs, weights, output
};

struct OpScan {
  int64_t max_bytes = 0;
  int64_t distinct = 0;
  int64_t distinct_bytes = 0;
  int64_t runs = 0;
  int64_t misses = 0;  // block loads with the double-buffer slots (LRU), as the emitter does
  bool used() const { return distinct > 0; }
  bool reused() const { return runs > distinct; }
};

struct Scan {
  std::vector<OpScan> in;
  OpScan w, out;
  int64_t store_bytes = 0;   // final output bytes
  Cycle compute_cycles = 0;  // the compute unit's time with every operand ready (exact)
};

// Largest block and whether there is more than one (enough for a double-buffered working set).
template <class Get>
OpScan quick_scan_op(size_t n, Get&& get) {
  OpScan o;
  int64_t first = -1;
  for (size_t s = 0; s < n; ++s) {
    const BlockUse& b = get(s);
    if (b.id < 0) continue;
    o.max_bytes = std::max(o.max_bytes, b.bytes);
    if (first < 0) {
      first = b.id;
      o.distinct = 1;
    } else if (b.id != first) {
      o.distinct = 2;
    }
  }
  return o;
}

// Takes steps as gen_array_steps makes them (the interface of Steps) and keeps only what
// quick_scan(Steps) would compute from them, plus the first largest block of each operand, without
// storing the steps: the cheap scans of the tiling search (lowering time), same results.
class QuickScanSink {
 public:
  void reset(int nin) {
    m_nin = nin;
    m_n = 0;
    m_open = false;
    m_ops.assign(static_cast<size_t>(nin + 2), Op{});
    m_in.assign(static_cast<size_t>(nin), BlockUse{});
  }
  Step& add() {
    flush();
    m_open = true;
    ++m_n;
    m_step = Step{};
    for (auto& b : m_in) b = BlockUse{};
    return m_step;
  }
  BlockUse& last_in(int k) { return m_in[static_cast<size_t>(k)]; }
  size_t size() const { return m_n; }
  Scan scan() {
    flush();
    Scan sc;
    for (int k = 0; k < m_nin; ++k) sc.in.push_back(m_ops[static_cast<size_t>(k)].o);
    sc.w = m_ops[static_cast<size_t>(m_nin)].o;
    sc.out = m_ops[static_cast<size_t>(m_nin + 1)].o;
    return sc;
  }
  // The first block of the largest bytes (in step order) of input k, the weights, the output.
  const BlockUse& largest_in(int k) const { return m_ops[static_cast<size_t>(k)].largest; }
  const BlockUse& largest_w() const { return m_ops[static_cast<size_t>(m_nin)].largest; }
  const BlockUse& largest_out() const { return m_ops[static_cast<size_t>(m_nin + 1)].largest; }

 private:
  struct Op {
    OpScan o;
    int64_t first = -1;
    BlockUse largest;
  };
  static void observe(Op& op, const BlockUse& b) {
    if (b.bytes > op.largest.bytes) op.largest = b;
    if (b.id < 0) return;
    op.o.max_bytes = std::max(op.o.max_bytes, b.bytes);
    if (op.first < 0) {
      op.first = b.id;
      op.o.distinct = 1;
    } else if (b.id != op.first) {
      op.o.distinct = 2;
    }
  }
  void flush() {
    if (!m_open) return;
    m_open = false;
    for (int k = 0; k < m_nin; ++k) {
      observe(m_ops[static_cast<size_t>(k)], m_in[static_cast<size_t>(k)]);
    }
    observe(m_ops[static_cast<size_t>(m_nin)], m_step.w);
    observe(m_ops[static_cast<size_t>(m_nin + 1)], m_step.out);
  }

  int m_nin = 0;
  size_t m_n = 0;
  bool m_open = false;
  Step m_step;
  std::vector<BlockUse> m_in;
  std::vector<Op> m_ops;
};

Scan quick_scan(const Steps& S) {
  Scan sc;
  const size_t n = S.v.size();
  for (int k = 0; k < S.nin; ++k) {
    sc.in.push_back(quick_scan_op(n, [&](size_t s) -> const BlockUse& { return S.in(s, k); }));
  }
  sc.w = quick_scan_op(n, [&](size_t s) -> const BlockUse& { return S.v[s].w; });
  sc.out = quick_scan_op(n, [&](size_t s) -> const BlockUse& { return S.v[s].out; });
  return sc;
}

// Open-addressing map block id -> largest bytes, reused across scans.
class BlockSet {
 public:
  void clear(size_t expect) {
    size_t cap = 16;
    while (cap < expect * 2) cap *= 2;
    if (m_keys.size() < cap) {
      m_keys.resize(cap);
      m_vals.resize(cap);
    }
    std::fill(m_keys.begin(), m_keys.begin() + static_cast<std::ptrdiff_t>(cap), kEmpty);
    m_mask = cap - 1;
  }
  // Returns the increase of the sum of largest bytes (new block: its bytes).
  int64_t add(int64_t id, int64_t bytes, bool& is_new) {
    size_t h =
        static_cast<size_t>(static_cast<uint64_t>(id) * 0x9E3779B97F4A7C15ull >> 20) & m_mask;
    while (m_keys[h] != kEmpty && m_keys[h] != id) h = (h + 1) & m_mask;
    if (m_keys[h] == kEmpty) {
      m_keys[h] = id;
      m_vals[h] = bytes;
      is_new = true;
      return bytes;
    }
    is_new = false;
    if (bytes <= m_vals[h]) return 0;
    const int64_t d = bytes - m_vals[h];
    m_vals[h] = bytes;
    return d;
  }

 private:
  static constexpr int64_t kEmpty = std::numeric_limits<int64_t>::min();
  std::vector<int64_t> m_keys;
  std::vector<int64_t> m_vals;
  size_t m_mask = 0;
};

// `done(s)`: step s finishes its block (the emitter frees the block's slot).
template <class Get, class Done>
OpScan scan_op(size_t n, Get&& get, BlockSet& set, int slots, Done&& done) {
  OpScan o;
  set.clear(n);
  int64_t prev = -2;
  int64_t lru[2] = {-2, -2};  // most recent first
  for (size_t s = 0; s < n; ++s) {
    const BlockUse& b = get(s);
    if (b.id < 0) continue;
    o.max_bytes = std::max(o.max_bytes, b.bytes);
    const bool finishes = done(s);
    const bool new_run = b.id != prev;
    if (new_run) {
      ++o.runs;
      prev = b.id;
      if (lru[0] == b.id) {
        // hit
      } else if (slots > 1 && lru[1] == b.id) {
        std::swap(lru[0], lru[1]);
      } else {
        ++o.misses;
        // An empty slot first, else the least recently used.
        if (slots > 1 && lru[0] != -2) lru[1] = lru[0];
        lru[0] = b.id;
      }
      bool is_new = false;
      o.distinct_bytes += set.add(b.id, b.bytes, is_new);
      o.distinct += is_new ? 1 : 0;
    }
    if (finishes) {  // its slot is free again
      if (lru[0] == b.id) {
        lru[0] = lru[1];
        lru[1] = -2;
      } else if (lru[1] == b.id) {
        lru[1] = -2;
      }
      prev = -2;
    }
  }
  return o;
}

// done - stream_end of a segment (hw/MACHINE.md).
Cycle drain_cycles(const ArrayConfig& cfg, int r, int c) {
  const Cycle rp = static_cast<Cycle>(cfg.pad_partial_folds ? cfg.rows : r);
  const Cycle cp = static_cast<Cycle>(cfg.pad_partial_folds ? cfg.cols : c);
  const Cycle lm = static_cast<Cycle>(cfg.mac_latency_cycles);
  if (cfg.dataflow == Dataflow::kOutputStationary) return rp + cp + lm - 3;
  return static_cast<Cycle>(cfg.rows) * lm + cp - 2;
}

Scan scan_steps(const Steps& S, const ArrayConfig& cfg, int vector_latency, int slots) {
  Scan sc;
  static thread_local BlockSet tmp;
  const size_t n = S.v.size();
  for (int k = 0; k < S.nin; ++k) {
    sc.in.push_back(scan_op(
        n, [&](size_t s) -> const BlockUse& { return S.in(s, k); }, tmp, slots,
        [](size_t) { return false; }));
  }
  sc.w = scan_op(
      n, [&](size_t s) -> const BlockUse& { return S.v[s].w; }, tmp, slots,
      [](size_t) { return false; });
  sc.out = scan_op(
      n, [&](size_t s) -> const BlockUse& { return S.v[s].out; }, tmp, slots,
      [&](size_t s) { return S.v[s].final_out; });
  // Compute time with all data ready: fold stream starts advance by the previous fold's stream
  // (and drain without overlap) or the next fold's preload, whichever binds.
  const bool os = cfg.dataflow == Dataflow::kOutputStationary;
  Cycle t = 0, fold_stream = 0, last_drain = 0;
  int64_t issues = 0;
  bool any_fold = false;
  for (const Step& st : S.v) {
    if (st.final_out) sc.store_bytes += st.store_bytes;
    if (st.unit == UnitKind::kVector) {
      issues += st.issues;
      continue;
    }
    if (st.seg.new_fold) {
      const Cycle p =
          os ? 0 : static_cast<Cycle>(cfg.pad_partial_folds ? cfg.rows : st.seg.rows_used);
      if (!any_fold) {
        t = p;
      } else if (cfg.overlap_preload) {
        t += std::max(fold_stream, p);
      } else {
        t += fold_stream + last_drain + p;
      }
      any_fold = true;
      fold_stream = 0;
    }
    fold_stream += static_cast<Cycle>(st.seg.vectors);
    last_drain = drain_cycles(cfg, st.seg.rows_used, st.seg.cols_used);
  }
  if (any_fold) sc.compute_cycles = t + fold_stream + last_drain;
  if (issues > 0) sc.compute_cycles = static_cast<Cycle>(issues + vector_latency);
  return sc;
}

// ------------------------------------------------------------------ cost model

struct DmaModel {
  bool ideal = false;
  double occ = 0;     // bus cycles of one burst
  double period = 0;  // cycles per window of max_outstanding bursts
  int burst = 64;
  int outstanding = 8;
  double setup = 0, latency = 0;

  static DmaModel from_chip(const ChipParams& chip) {
    DmaModel m;
    const DramConfig d = DramConfig::from_chip(chip);
    m.ideal = d.ideal;
    m.burst = chip.dma.burst_bytes;
    m.outstanding = chip.dma.max_outstanding;
    m.setup = chip.dma.setup_cycles;
    m.latency = static_cast<double>(d.latency_cycles);
    m.occ = d.ideal ? 0 : m.burst / d.bytes_per_cycle;
    m.period = std::max(m.outstanding * m.occ, m.occ + m.latency);
    return m;
  }
  // Cycles from the first burst's data to the last's end.
  double duration(int64_t bytes) const {
    const int64_t n = std::max<int64_t>(1, ceil_div(bytes, burst));
    const int64_t windows = ceil_div(n, outstanding);
    return static_cast<double>(windows - 1) * period +
           static_cast<double>(n - (windows - 1) * outstanding) * occ;
  }
};

struct CostModel {
  ArrayConfig array;
  int lanes = 32, vlat = 4;
  int channels = 1;
  DmaModel dma;
};

Cycle estimate_cycles(const CostModel& cm, const std::vector<LocalCmd>& cmds,
                      const std::vector<int>& pool) {
  MacArrayTimer at(cm.array);
  VectorTimer vt(cm.lanes, cm.vlat);
  std::vector<double> chan_free(static_cast<size_t>(cm.channels), 0.0);
  double bus_free = 0;
  std::vector<Cycle> done(cmds.size(), 0);
  Cycle end = 0;
  for (size_t i = 0; i < cmds.size(); ++i) {
    const LocalCmd& c = cmds[i];
    Cycle ready = 0;
    for (int d = c.dep_begin; d < c.dep_begin + c.dep_count; ++d) {
      ready = std::max(ready, done[static_cast<size_t>(pool[static_cast<size_t>(d)])]);
    }
    Cycle t = 0;
    switch (c.unit) {
      case UnitKind::kMacArray:
        t = at.run(c.array.seg, ready).done;
        break;
      case UnitKind::kVector:
        t = vt.run(c.vector.issues, ready).done;
        break;
      case UnitKind::kDma: {
        double& cf = chan_free[static_cast<size_t>(c.channel)];
        const double start = std::max(static_cast<double>(ready), cf);
        if (cm.dma.ideal) {
          t = static_cast<Cycle>(std::ceil(start));
        } else {
          const double data = std::max(start + cm.dma.setup + cm.dma.latency, bus_free);
          const double fin = data + cm.dma.duration(c.dma_bytes);
          bus_free = fin;
          t = static_cast<Cycle>(std::ceil(fin));
        }
        cf = static_cast<double>(t);
        break;
      }
    }
    done[i] = t;
    end = std::max(end, t);
  }
  return end;
}

// ------------------------------------------------------------------ emission

struct OpCfg {
  int buffer = kIfmap;
  bool resident = false;  // the tensor is in SRAM: no loads, addressed in place
  int64_t resident_addr = 0;
  bool unbounded = false;  // one slot per block (cache everything)
  int slots = 2;
  int64_t slot_bytes = 0;
  int64_t base = 0;  // SRAM address of the operand's slots
  uint8_t load_what = kWhatInput;
  uint8_t store_what = kWhatOutput;
};

struct Slot {
  int64_t id = -1;
  int64_t bytes = 0;
  int64_t addr = 0;
  int load = -1;
  int last_use = -1;
  int64_t stamp = -1;
  int pending_store = -1;
};

// Turns steps into the layer's commands (see lower.cpp, "Commands").
class Emitter {
 public:
  Emitter(const ChipParams& chip, const std::vector<OpCfg>& ops, int nin)
      : m_ops(ops),
        m_nin(nin),
        m_slots(ops.size()),
        m_map(ops.size()),
        m_unbounded_used(ops.size(), 0) {
    m_bank_bytes = chip.sram.bank_bytes_per_cycle;
    m_banks = chip.sram.banks;
    for (size_t o = 0; o < ops.size(); ++o) {
      // Resident inputs are read in place; the output always has accumulator slots.
      if ((ops[o].resident && static_cast<int>(o) < nin) || ops[o].unbounded) continue;
      for (int s = 0; s < ops[o].slots; ++s) {
        Slot sl;
        sl.addr = ops[o].base + s * ops[o].slot_bytes;
        m_slots[o].push_back(sl);
      }
    }
  }

  void run(const Steps& S, int channels, std::vector<LocalCmd>& cmds, std::vector<int>& pool) {
    m_cmds.reserve(S.v.size() * 3);
    for (size_t s = 0; s < S.v.size(); ++s) step(S, s);
    // Program order: each command right after the compute step it waits for (loads prefetch as
    // early as their slot is free), computes in step order, stores right after their compute.
    // Counting sort on (anchor, compute first), stable in creation order.
    const size_t nkeys = 2 * (S.v.size() + 1);
    std::vector<int> start(nkeys + 1, 0);
    for (const Meta& m : m_meta) ++start[key(m) + 1];
    for (size_t k = 0; k < nkeys; ++k) start[k + 1] += start[k];
    std::vector<int> pos(m_cmds.size());
    for (size_t i = 0; i < m_cmds.size(); ++i) pos[i] = start[key(m_meta[i])]++;
    std::vector<int> order(m_cmds.size());
    for (size_t i = 0; i < m_cmds.size(); ++i)
      order[static_cast<size_t>(pos[i])] = static_cast<int>(i);
    cmds.clear();
    cmds.reserve(m_cmds.size());
    pool.clear();
    pool.reserve(m_pool.size());
    int rr = 0;
    for (int oi : order) {
      LocalCmd c = m_cmds[static_cast<size_t>(oi)];
      const int b = static_cast<int>(pool.size());
      for (int d = 0; d < c.dep_count; ++d) {
        pool.push_back(pos[static_cast<size_t>(m_pool[static_cast<size_t>(c.dep_begin + d)])]);
      }
      std::sort(pool.begin() + b, pool.end());
      pool.erase(std::unique(pool.begin() + b, pool.end()), pool.end());
      c.dep_begin = b;
      c.dep_count = static_cast<int>(pool.size()) - b;
      if (c.unit == UnitKind::kDma) c.channel = rr++ % channels;
      cmds.push_back(c);
    }
  }

 private:
  struct Meta {
    int anchor = -1;
    int sub = 1;
  };
  static size_t key(const Meta& m) {
    return static_cast<size_t>(m.anchor + 1) * 2 + static_cast<size_t>(m.sub);
  }

  int bank_of(int64_t addr) const { return static_cast<int>((addr / m_bank_bytes) % m_banks); }

  int add(LocalCmd& c, const int* deps, int n, int anchor, int sub) {
    c.dep_begin = static_cast<int>(m_pool.size());
    for (int i = 0; i < n; ++i) {
      if (deps[i] >= 0) m_pool.push_back(deps[i]);
    }
    c.dep_count = static_cast<int>(m_pool.size()) - c.dep_begin;
    m_cmds.push_back(c);
    m_meta.push_back({anchor, sub});
    return static_cast<int>(m_cmds.size()) - 1;
  }
  int anchor_of(const int* deps, int n) const {
    int a = -1;
    for (int i = 0; i < n; ++i) {
      if (deps[i] >= 0) a = std::max(a, m_meta[static_cast<size_t>(deps[i])].anchor);
    }
    return a;
  }

  int dma(int64_t bytes, bool store, uint8_t what, int buffer, int64_t addr, int tile, int dep0,
          int dep1 = -1) {
    LocalCmd c;
    c.unit = UnitKind::kDma;
    c.tile = tile;
    c.dma_bytes = bytes;
    c.store = store;
    c.what = what;
    c.sram.bytes[buffer] = bytes;
    (store ? c.sram.read_bytes : c.sram.write_bytes) = bytes;
    c.sram.start_bank = bank_of(addr);
    const int deps[2] = {dep0, dep1};
    return add(c, deps, 2, anchor_of(deps, 2), 1);
  }

  // The slot to reuse: the least recently used (an empty one on a tie). Not simply "an empty
  // one first": a slot freed by the previous step still waits for its store, and reusing it
  // would serialise the steps that double buffering overlaps.
  int victim(size_t o) {
    auto& sl = m_slots[o];
    int best = -1;
    for (size_t i = 0; i < sl.size(); ++i) {
      if (best < 0) {
        best = static_cast<int>(i);
        continue;
      }
      const Slot& b = sl[static_cast<size_t>(best)];
      if (sl[i].stamp < b.stamp || (sl[i].stamp == b.stamp && sl[i].id < 0 && b.id >= 0)) {
        best = static_cast<int>(i);
      }
    }
    return best;
  }

  int lookup(size_t o, int64_t id) {
    if (m_ops[o].unbounded) {
      auto it = m_map[o].find(id);
      return it == m_map[o].end() ? -1 : it->second;
    }
    const auto& sl = m_slots[o];
    for (size_t i = 0; i < sl.size(); ++i) {
      if (sl[i].id == id) return static_cast<int>(i);
    }
    return -1;
  }

  int new_unbounded_slot(size_t o, const BlockUse& b) {
    Slot sl;
    sl.addr = m_ops[o].base + m_unbounded_used[o];
    m_unbounded_used[o] += b.bytes;
    m_slots[o].push_back(sl);
    const int i = static_cast<int>(m_slots[o].size()) - 1;
    m_map[o].emplace(b.id, i);
    return i;
  }

  // Slot index of block `b` of an input or the weights, loading it if needed (its load is
  // added to m_deps).
  int fetch(size_t o, const BlockUse& b, int s, int tile) {
    const OpCfg& cfg = m_ops[o];
    int i = lookup(o, b.id);
    if (i < 0) {
      i = cfg.unbounded ? new_unbounded_slot(o, b) : victim(o);
      Slot& sl = m_slots[o][static_cast<size_t>(i)];
      sl.load = dma(b.bytes, false, cfg.load_what, cfg.buffer, sl.addr, tile, sl.last_use);
      sl.id = b.id;
      sl.bytes = b.bytes;
    }
    Slot& sl = m_slots[o][static_cast<size_t>(i)];
    m_deps.push_back(sl.load);
    sl.stamp = s;
    return i;
  }

  void step(const Steps& S, size_t s) {
    const Step& st = S.v[s];
    const int si = static_cast<int>(s);
    m_deps.clear();
    m_used.clear();
    int64_t first_addr = -1;
    for (int k = 0; k < m_nin; ++k) {
      const BlockUse& b = S.in(s, k);
      if (b.id < 0) continue;
      const OpCfg& cfg = m_ops[static_cast<size_t>(k)];
      if (cfg.resident) {
        if (first_addr < 0) first_addr = cfg.resident_addr + b.offset;
        continue;
      }
      const int i = fetch(static_cast<size_t>(k), b, si, st.tile);
      if (first_addr < 0) first_addr = m_slots[static_cast<size_t>(k)][static_cast<size_t>(i)].addr;
      m_used.emplace_back(static_cast<size_t>(k), i);
    }
    const size_t wo = static_cast<size_t>(m_nin);
    if (st.w.id >= 0) {
      const int i = fetch(wo, st.w, si, st.tile);
      if (first_addr < 0) first_addr = m_slots[wo][static_cast<size_t>(i)].addr;
      m_used.emplace_back(wo, i);
    }
    // Output (accumulator) slot.
    const size_t oo = wo + 1;
    const OpCfg& ocfg = m_ops[oo];
    int oi = lookup(oo, st.out.id);
    if (oi < 0) {
      oi = ocfg.unbounded ? new_unbounded_slot(oo, st.out) : victim(oo);
      Slot& sl = m_slots[oo][static_cast<size_t>(oi)];
      if (sl.id >= 0) {  // an unfinished block leaves: its partial sums go to DRAM
        const int ps = dma(sl.bytes, true, kWhatPsum, ocfg.buffer, sl.addr, st.tile, sl.last_use);
        m_psum_store[sl.id] = ps;
        sl.pending_store = ps;
      }
      m_deps.push_back(sl.pending_store);
      auto it = m_psum_store.find(st.out.id);
      if (it != m_psum_store.end()) {
        m_deps.push_back(dma(st.out.bytes, false, kWhatPsum, ocfg.buffer, sl.addr, st.tile,
                             it->second, sl.pending_store));
        m_psum_store.erase(it);
      }
      sl.id = st.out.id;
      sl.bytes = st.out.bytes;
    }
    {
      Slot& sl = m_slots[oo][static_cast<size_t>(oi)];
      sl.stamp = si;
      if (first_addr < 0) first_addr = sl.addr;
    }
    m_used.emplace_back(oo, oi);

    LocalCmd c;
    c.unit = st.unit;
    c.tile = st.tile;
    if (st.unit == UnitKind::kMacArray) {
      c.array.seg = st.seg;
      c.array.macs = st.macs;
    } else {
      c.vector.work = st.work;
      c.vector.issues = st.issues;
      c.vector.element_ops = st.element_ops;
    }
    for (int b = 0; b < 3; ++b) c.sram.bytes[b] = st.sram[b];
    c.sram.read_bytes = st.sram_read;
    c.sram.write_bytes = st.sram_write;
    c.sram.start_bank = bank_of(std::max<int64_t>(0, first_addr));
    const int ci = add(c, m_deps.data(), static_cast<int>(m_deps.size()), si, 0);
    for (const auto& u : m_used) m_slots[u.first][static_cast<size_t>(u.second)].last_use = ci;

    if (st.final_out) {
      Slot& sl = m_slots[oo][static_cast<size_t>(oi)];
      sl.pending_store = -1;
      if (!ocfg.resident) {
        sl.pending_store =
            dma(st.store_bytes, true, ocfg.store_what, ocfg.buffer, sl.addr, st.tile, ci);
      }
      sl.id = -1;
      if (ocfg.unbounded) m_map[oo].erase(st.out.id);
    }
  }

  const std::vector<OpCfg>& m_ops;
  int m_nin;
  int64_t m_bank_bytes = 16;
  int m_banks = 16;
  std::vector<std::vector<Slot>> m_slots;
  std::vector<std::unordered_map<int64_t, int>> m_map;
  std::vector<int64_t> m_unbounded_used;
  std::unordered_map<int64_t, int> m_psum_store;
  std::vector<LocalCmd> m_cmds;
  std::vector<Meta> m_meta;
  std::vector<int> m_pool;
  std::vector<int> m_deps;
  std::vector<std::pair<size_t, int>> m_used;
};

}  // namespace

const char* what_name(uint8_t what) {
  return kWhatNames[what < 6 ? what : 0];
}

std::string bytes_str(int64_t b) {
  std::string s = std::to_string(b < 0 ? -b : b);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return (b < 0 ? "-" : "") + s + " B";
}

// ------------------------------------------------------------------ Tiler

namespace {

ArrayCtx array_ctx(const ChipParams& chip, const Layer& L) {
  ArrayCtx x;
  x.L = &L;
  x.df = chip.mac_array.dataflow;
  x.R = chip.mac_array.rows;
  x.C = chip.mac_array.cols;
  x.ab = chip.activation_bytes();
  x.wb = chip.weight_bytes();
  x.acc = chip.accumulator_bytes();
  const ConvGeom& g = L.conv;
  x.dw = g.depthwise;
  x.K = g.k();
  x.M = g.m();
  x.G = g.groups;
  x.npix = g.npix();
  x.cin_g = g.cin_g();
  x.kk = g.kk();
  x.mult = g.depthwise ? std::max<int64_t>(1, g.cout / g.cin) : 1;
  x.unit = x.df == Dataflow::kOutputStationary ? x.R : g.out_w;
  x.n_units = ceil_div(x.npix, x.unit);
  if (x.dw) {
    const int64_t gch = std::min<int64_t>(x.R / x.kk, x.C);
    x.chan_chunk = (x.df == Dataflow::kOutputStationary || gch < 1) ? x.C : gch;
  } else {
    x.chan_chunk = x.C;
  }
  x.w_extra = L.weight_extra_per_ch;
  return x;
}

// Input channels (of the group) that output channels [oc0, oc1) of a depthwise conv read.
void dw_in_channels(const ArrayCtx& x, int64_t oc0, int64_t oc1, int64_t& c0, int64_t& c1) {
  c0 = oc0 / x.mult;
  c1 = (oc1 - 1) / x.mult + 1;
}

// Sink: Steps (every step stored) or QuickScanSink (only the quick scan kept).
template <class Sink>
void gen_array_steps(const ArrayCtx& x, const ArrayConfig& cfg, const Cand& cd, Sink& S) {
  const Layer& L = *x.L;
  const ConvGeom& g = L.conv;
  S.reset(1);
  const int64_t np =
      ceil_div(cd.order == Order::kFoldOuter ? x.fold_time_units() : x.n_units, cd.upc);
  const int64_t chunk_pix = cd.upc * x.unit;
  const int64_t kw_total = x.dw ? x.kk : x.K;
  const int64_t cout = g.cout;

  // Input rows (with halo) and first input row of each pixel chunk.
  static thread_local std::vector<int64_t> rows, row0;
  const bool pixel_chunks = cd.order != Order::kFoldOuter || x.df == Dataflow::kWeightStationary;
  rows.resize(static_cast<size_t>(np));
  row0.resize(static_cast<size_t>(np));
  for (int64_t p = 0; pixel_chunks && p < np; ++p) {
    const int64_t q0 = p * chunk_pix, q1 = std::min(x.npix, q0 + chunk_pix);
    rows[static_cast<size_t>(p)] = g.input_rows(q0, q1);
    row0[static_cast<size_t>(p)] = g.input_row_of(q0);
  }
  auto input_block = [&](int64_t gr, int64_t p, int64_t, int64_t, int64_t ch0, int64_t ch1) {
    BlockUse b;
    b.id = Key().add(gr, x.G).add(p, np).add(ch0, x.cin_g).add(ch1, x.cin_g).v;
    b.bytes = rows[static_cast<size_t>(p)] * g.in_w * (ch1 - ch0) * x.ab;
    b.d0 = rows[static_cast<size_t>(p)];
    b.d1 = ch1 - ch0;
    b.offset = (row0[static_cast<size_t>(p)] * g.in_w * g.cin + gr * x.cin_g + ch0) * x.ab;
    return b;
  };
  // The input a fold of pixels [q0, q1) reads (os / is fold-outer).
  auto pixel_input_block = [&](int64_t gr, int64_t q0, int64_t q1, int64_t ch0, int64_t ch1) {
    BlockUse b;
    b.id = Key().add(gr, x.G).add(q0, x.npix).add(ch0, x.cin_g).add(ch1, x.cin_g).v;
    b.bytes = g.input_rows(q0, q1) * g.in_w * (ch1 - ch0) * x.ab;
    b.d0 = g.input_rows(q0, q1);
    b.d1 = ch1 - ch0;
    b.offset = (g.input_row_of(q0) * g.in_w * g.cin + gr * x.cin_g + ch0) * x.ab;
    return b;
  };
  auto weight_block = [&](int64_t gr, int64_t m_abs, const FoldDims& d) {
    BlockUse b;
    if (cd.w_gran == kWeightsWhole) {
      b.id = 0;
      b.bytes = L.weight_bytes;
      b.d0 = kw_total;
      b.d1 = x.M * x.G;
    } else if (cd.w_gran == kWeightsByFold) {
      b.id = Key().add(gr, x.G).add(m_abs, x.M).add(d.k0, kw_total).v;
      b.bytes = d.nk * d.nm * x.wb + (d.k0 == 0 ? d.nm * x.w_extra : 0);
      b.d0 = d.nk;
      b.d1 = d.nm;
    } else {
      b.id = Key().add(gr, x.G).add(m_abs, x.M).add(kw_total, kw_total).v;
      b.bytes = kw_total * d.nm * x.wb + d.nm * x.w_extra;
      b.d0 = kw_total;
      b.d1 = d.nm;
    }
    b.offset = 0;
    return b;
  };
  auto sram_of = [&](Step& st, const FoldDims& d, bool last_k) {
    const int64_t ob = last_k ? x.ab : x.acc;
    switch (x.df) {
      case Dataflow::kWeightStationary:
        st.sram[kIfmap] = st.seg.vectors * d.r * x.ab;
        st.sram[kWeight] = st.seg.new_fold ? int64_t{d.r} * d.c * x.wb : 0;
        st.sram_write = st.seg.vectors * d.c * ob;
        break;
      case Dataflow::kOutputStationary:
        st.sram[kIfmap] = st.seg.vectors * d.r * x.ab;
        st.sram[kWeight] = st.seg.vectors * d.c * x.wb;
        st.sram_write = st.seg.last_segment ? int64_t{d.r} * d.c * x.ab : 0;
        break;
      case Dataflow::kInputStationary:
        st.sram[kIfmap] = st.seg.new_fold ? int64_t{d.r} * d.c * x.ab : 0;
        st.sram[kWeight] = st.seg.vectors * d.r * x.wb;
        st.sram_write = st.seg.vectors * d.c * ob;
        break;
    }
    const int64_t psum_read = st.accumulate && ob > 0 ? st.sram_write / ob * x.acc : 0;
    st.sram[kOfmap] = st.sram_write + psum_read;
    st.sram_read = st.sram[kIfmap] + st.sram[kWeight] + psum_read;
  };

  for (int64_t gr = 0; gr < x.G; ++gr) {
    if (cd.order == Order::kFoldOuter) {
      // Every fold streams its vectors in chunks, as segments of the same fold: ws pixel rows,
      // os input channels of K, is output channels.
      const int64_t nt = np;
      int tile = 0;
      for_each_fold(x, cfg, x.npix, x.M, [&](const FoldDims& d) {
        const bool last_k = d.k0 + d.nk == kw_total;
        for (int64_t t = 0; t < nt; ++t) {
          const int64_t u0 = t * cd.upc, u1 = std::min(x.fold_time_units(), u0 + cd.upc);
          Step& st = S.add();
          BlockUse& in = S.last_in(0);
          st.tile = tile++;
          st.seg.rows_used = d.r;
          st.seg.cols_used = d.c;
          st.seg.new_fold = t == 0;
          st.seg.last_segment = t == nt - 1;
          st.final_out = d.last_row;
          int64_t ch0 = 0, ch1 = x.cin_g;
          if (x.dw) {
            dw_in_channels(x, d.m0, d.m0 + d.nm, ch0, ch1);
          } else {
            ch0 = d.k0 / x.kk;
            ch1 = (d.k0 + d.nk - 1) / x.kk + 1;
          }
          switch (x.df) {
            case Dataflow::kWeightStationary: {
              const int64_t q0 = u0 * x.unit, q1 = std::min(x.npix, u1 * x.unit);
              st.seg.vectors = q1 - q0;
              in = input_block(gr, t, q0, q1, ch0, ch1);
              st.w = weight_block(gr, d.m0, d);
              st.out.id = Key().add(gr, x.G).add(t, np).add(d.m0, x.M).v;
              st.out.bytes = (q1 - q0) * d.nm * x.acc;
              st.out.d0 = q1 - q0, st.out.d1 = d.nm;
              st.out.offset = (q0 * cout + gr * x.M + d.m0) * x.ab;
              st.store_bytes = (q1 - q0) * d.nm * x.ab;
              st.accumulate = d.k0 > 0;
              break;
            }
            case Dataflow::kOutputStationary: {
              // K split by input channels [u0, u1) (dense); depthwise folds are not split.
              FoldDims dk = d;
              if (!x.dw) {
                ch0 = u0, ch1 = u1;
                dk.k0 = u0 * x.kk, dk.nk = (u1 - u0) * x.kk;
              }
              st.seg.vectors = x.dw ? d.T : dk.nk;
              in = pixel_input_block(gr, d.q0, d.q0 + d.nq, ch0, ch1);
              st.w = weight_block(gr, d.m0, dk);
              st.out.id = Key().add(gr, x.G).add(d.q0, x.npix).add(d.m0, x.M).v;
              st.out.bytes = d.nq * d.nm * x.acc;
              st.out.d0 = d.nq, st.out.d1 = d.nm;
              st.out.offset = (d.q0 * cout + gr * x.M + d.m0) * x.ab;
              st.store_bytes = d.nq * d.nm * x.ab;
              st.accumulate = false;
              st.final_out = d.last_row && t == nt - 1;
              break;
            }
            case Dataflow::kInputStationary: {
              // M split into output channels [u0, u1) (dense); depthwise folds are not split.
              FoldDims dm = d;
              if (!x.dw) dm.m0 = u0, dm.nm = u1 - u0;
              st.seg.vectors = x.dw ? d.T : dm.nm;
              in = pixel_input_block(gr, d.q0, d.q0 + d.nq, ch0, ch1);
              BlockUse wbk;
              wbk.id = Key().add(gr, x.G).add(dm.m0, x.M).add(d.k0, kw_total).v;
              wbk.bytes = d.nk * dm.nm * x.wb + (d.k0 == 0 ? dm.nm * x.w_extra : 0);
              wbk.d0 = d.nk;
              wbk.d1 = dm.nm;
              st.w = wbk;
              st.out.id = Key().add(gr, x.G).add(d.q0, x.npix).add(dm.m0, x.M).v;
              st.out.bytes = d.nq * dm.nm * x.acc;
              st.out.d0 = d.nq, st.out.d1 = dm.nm;
              st.out.offset = (d.q0 * cout + gr * x.M + dm.m0) * x.ab;
              st.store_bytes = d.nq * dm.nm * x.ab;
              st.accumulate = d.k0 > 0;
              break;
            }
          }
          st.macs = d.macs / d.T * st.seg.vectors;
          sram_of(st, d, last_k);
        }
      });
      continue;
    }
    const int64_t mchunk = cd.order == Order::kPixelOuter ? x.M : std::min(x.M, x.chan_chunk);
    const int64_t nmc = ceil_div(x.M, mchunk);
    const int64_t n_outer = cd.order == Order::kPixelOuter ? np : nmc;
    const int64_t n_inner = cd.order == Order::kPixelOuter ? nmc : np;
    int tile = 0;
    for (int64_t a = 0; a < n_outer; ++a) {
      for (int64_t b = 0; b < n_inner; ++b) {
        const int64_t p = cd.order == Order::kPixelOuter ? a : b;
        const int64_t mc = cd.order == Order::kPixelOuter ? b : a;
        const int64_t q0 = p * chunk_pix, q1 = std::min(x.npix, q0 + chunk_pix);
        const int64_t P = q1 - q0;
        const int64_t m_base = mc * mchunk;
        const int64_t Mt = std::min(mchunk, x.M - m_base);
        int64_t ch0 = 0, ch1 = x.cin_g;
        if (x.dw) dw_in_channels(x, m_base, m_base + Mt, ch0, ch1);
        const BlockUse in = input_block(gr, p, q0, q1, ch0, ch1);
        for_each_fold(x, cfg, P, Mt, [&](const FoldDims& d) {
          Step& st = S.add();
          st.tile = tile;
          st.seg.rows_used = d.r;
          st.seg.cols_used = d.c;
          st.seg.vectors = d.T;
          st.seg.new_fold = true;
          st.seg.last_segment = true;
          st.macs = d.macs;
          S.last_in(0) = in;
          st.w = weight_block(gr, m_base + d.m0, d);
          if (x.df == Dataflow::kInputStationary) {
            st.out.id = Key().add(gr, x.G).add(p, np).add(mc, nmc).add(d.q0, chunk_pix).v;
            st.out.bytes = d.nq * Mt * x.acc;
            st.out.d0 = d.nq, st.out.d1 = Mt;
            st.out.offset = ((q0 + d.q0) * cout + gr * x.M + m_base) * x.ab;
            st.store_bytes = d.nq * Mt * x.ab;
          } else {
            st.out.id = Key().add(gr, x.G).add(p, np).add(m_base + d.m0, x.M).v;
            st.out.bytes = P * d.nm * x.acc;
            st.out.d0 = P, st.out.d1 = d.nm;
            st.out.offset = (q0 * cout + gr * x.M + m_base + d.m0) * x.ab;
            st.store_bytes = P * d.nm * x.ab;
          }
          st.accumulate = x.df != Dataflow::kOutputStationary && d.k0 > 0;
          st.final_out = d.last_row;
          sram_of(st, d, d.k0 + d.nk == kw_total);
        });
        ++tile;
      }
    }
  }
}

// Input rows of a resize for output rows [u0, u1) (global over images).
int64_t resize_rows(const ConvGeom& g, int taps, int64_t u0, int64_t u1) {
  const int64_t extra = taps >= 16 ? 2 : taps >= 4 ? 1 : 0;
  int64_t rows = 0;
  while (u0 < u1) {
    const int64_t img = u0 / g.out_h;
    const int64_t end = std::min(u1, (img + 1) * g.out_h);
    const int64_t r0 = u0 - img * g.out_h, r1 = end - 1 - img * g.out_h;
    const int64_t lo = std::max<int64_t>(0, r0 * g.in_h / g.out_h - (extra > 1 ? 1 : 0));
    const int64_t hi = std::min<int64_t>(g.in_h - 1, r1 * g.in_h / g.out_h + extra);
    rows += hi - lo + 1;
    u0 = end;
  }
  return rows;
}

void gen_vector_steps(const ChipParams& chip, const Layer& L, const Cand& cd, Steps& S) {
  const VectorGeom& vg = L.vec;
  const int nin = static_cast<int>(L.inputs.size());
  S.reset(nin);
  const int ab = chip.activation_bytes();
  const int acc = chip.accumulator_bytes();
  const int lanes = chip.vector_unit.lanes;
  const int64_t np = ceil_div(vg.units, cd.upc);
  const bool global = vg.op == VectorOp::kGlobalPool;
  for (int64_t p = 0; p < np; ++p) {
    const int64_t u0 = p * cd.upc, u1 = std::min(vg.units, u0 + cd.upc);
    Step& st = S.add();
    const size_t si = S.v.size() - 1;
    st.unit = UnitKind::kVector;
    st.tile = static_cast<int>(p);
    st.work = vg.work(u0, u1);
    st.issues = vector_issues(st.work, lanes);
    st.element_ops = vector_element_ops(st.work, lanes);
    int64_t in_read = 0;
    for (int k = 0; k < nin; ++k) {
      const LayerInput& in = L.inputs[static_cast<size_t>(k)];
      BlockUse b;
      if (!in.follows_output) {
        b.id = 0;
        b.bytes = in.bytes;
      } else {
        b.id = p;
        const ConvGeom& g = vg.conv;
        switch (vg.op) {
          case VectorOp::kPool:
          case VectorOp::kDepthwise:
            b.bytes = g.input_rows(u0 * g.out_w, u1 * g.out_w) * g.in_w * g.cin * ab;
            b.offset = g.input_row_of(u0 * g.out_w) * g.in_w * g.cin * ab;
            break;
          case VectorOp::kGlobalPool:
            b.bytes = (u1 - u0) * g.cin * ab;
            b.offset = u0 * g.cin * ab;
            break;
          case VectorOp::kResize:
            b.bytes = resize_rows(g, vg.taps, u0, u1) * g.in_w * g.cin * ab;
            b.offset = u0 * g.in_h / std::max<int64_t>(1, g.out_h) * g.in_w * g.cin * ab;
            break;
          default:
            b.bytes = ceil_div(in.bytes * (u1 - u0), vg.units);
            b.offset = in.bytes * u0 / vg.units;
            break;
        }
      }
      in_read += b.bytes;
      S.in(si, k) = b;
    }
    if (L.weight_bytes > 0) {
      st.w.id = 0;
      st.w.bytes = L.weight_bytes;
    }
    if (global) {
      st.out.id = 0;
      st.out.bytes = L.out_bytes / ab * acc;
      st.store_bytes = L.out_bytes;
      st.accumulate = p > 0;
      st.final_out = p == np - 1;
    } else {
      st.out.id = p;
      st.out.bytes = vg.elements(u0, u1) * ab;
      st.out.offset = u0 * vg.unit_elements * ab;
      st.store_bytes = st.out.bytes;
      st.final_out = true;
    }
    st.sram[kIfmap] = in_read;
    st.sram[kWeight] = st.w.bytes;
    const int64_t out_w = global ? (p == np - 1 ? L.out_bytes : st.out.bytes) : st.out.bytes;
    const int64_t psum = st.accumulate ? st.out.bytes : 0;
    st.sram[kOfmap] = out_w + psum;
    st.sram_read = in_read + st.w.bytes + psum;
    st.sram_write = out_w;
  }
}

}  // namespace

Tiler::Tiler(const ChipParams& chip, const Grouping& grouping)
    : m_chip(chip),
      m_grouping(grouping),
      m_array(ArrayConfig::from_chip(chip)),
      m_split(chip.sram.organization == SramOrganization::kSplit) {}

namespace {

struct Evaluated {
  Cand cand;
  TilePlan plan;
};

int64_t slots_of(bool dbl) {
  return dbl ? 2 : 1;
}

// Bounded search: candidates are estimated (emitted and timed) in order of their lower bound, at
// most this many per layer, plus a few for the lean working set of the memory plan.
constexpr int kMaxEstimates = 8;
constexpr int kMaxLeanEstimates = 3;
// A layer of more steps than this tries two chunk counts per order, and stops estimating once it
// has emitted kEstimateStepFactor x the steps of its first candidate.
constexpr int64_t kBigLayerSteps = 20000;
constexpr int64_t kEstimateStepFactor = 4;

// Working set of a candidate given its scan: per buffer.
void working_set(const Scan& sc, const Cand& cd, const Placement& where, bool dbl, int64_t ws[3]) {
  ws[0] = ws[1] = ws[2] = 0;
  for (size_t k = 0; k < sc.in.size(); ++k) {
    const OpScan& o = sc.in[k];
    if (!o.used() || where.input_resident[k]) continue;
    ws[kIfmap] += cd.all[0] ? o.distinct_bytes : std::min(o.distinct, slots_of(dbl)) * o.max_bytes;
  }
  if (sc.w.used()) {
    ws[kWeight] +=
        cd.all[1] ? sc.w.distinct_bytes : std::min(sc.w.distinct, slots_of(dbl)) * sc.w.max_bytes;
  }
  if (sc.out.used()) {
    ws[kOfmap] += cd.all[2] ? sc.out.distinct_bytes
                            : std::min(sc.out.distinct, slots_of(dbl)) * sc.out.max_bytes;
  }
}

bool fits(const int64_t ws[3], const Budget& b, bool split) {
  if (!split) return ws[0] + ws[1] + ws[2] <= b.bytes[0];
  return ws[0] <= b.bytes[0] && ws[1] <= b.bytes[1] && ws[2] <= b.bytes[2];
}

// Chunk counts to try: the smallest that fits and a few larger ones (more chunks overlap DMA
// with compute better but cost transfers and, pixel-outer, folds). With every activation on chip
// only DMA-free choices differ, mostly in working set.
std::vector<int64_t> chunk_options(int64_t n_units, int64_t min_chunks, bool all_on_chip) {
  std::vector<int64_t> nps;
  auto push = [&](int64_t n) {
    n = std::max<int64_t>(1, std::min(n, n_units));
    if (std::find(nps.begin(), nps.end(), n) == nps.end()) nps.push_back(n);
  };
  if (all_on_chip) {
    for (int64_t f = 1; f <= 16; f *= 4) push(min_chunks * f);
    return nps;
  }
  for (int64_t f = 1; f <= 8; f *= 2) push(min_chunks * f);
  push(std::max<int64_t>(min_chunks, 16));
  return nps;
}

}  // namespace

SmallestTile Tiler::smallest_tile(const Layer& L) const {
  SmallestTile t;
  if (L.cls == LayerClass::kView) return t;
  const bool dbl = m_chip.sram.double_buffering;
  const int ab = m_chip.activation_bytes(), wb = m_chip.weight_bytes();
  const int acc = m_chip.accumulator_bytes();
  Placement dram;
  dram.input_resident.assign(L.inputs.size(), false);
  if (L.cls == LayerClass::kVector) {
    static thread_local Steps S;
    Cand cd;
    cd.upc = 1;
    gen_vector_steps(m_chip, L, cd, S);
    const Scan sc = quick_scan(S);
    working_set(sc, cd, dram, dbl, t.bytes);
    t.text =
        fmt::format("input {}, output {}", bytes_str(t.bytes[kIfmap]), bytes_str(t.bytes[kOfmap]));
    if (t.bytes[kWeight]) t.text += ", weights " + bytes_str(t.bytes[kWeight]);
    if (dbl) t.text += ", each x2 for double buffering";
    return t;
  }
  // One chunk unit, one fold of weights, in every loop order; the smallest wins (fits first
  // with a split SRAM).
  const ArrayCtx x = array_ctx(m_chip, L);
  const int64_t cap[3] = {m_split ? m_chip.sram.ifmap_kib * 1024 : m_chip.sram_bytes(),
                          m_split ? m_chip.sram.weight_kib * 1024 : 0,
                          m_split ? m_chip.sram.ofmap_kib * 1024 : 0};
  bool have = false, have_fit = false;
  static thread_local QuickScanSink S;
  for (Order o : {Order::kFoldOuter, Order::kPixelOuter, Order::kChanOuter}) {
    Cand cd;
    cd.order = o;
    cd.upc = 1;
    cd.w_gran = kWeightsByFold;
    gen_array_steps(x, m_array, cd, S);
    const Scan sc = S.scan();
    int64_t ws[3];
    working_set(sc, cd, dram, dbl, ws);
    const bool fit = m_split ? ws[0] <= cap[0] && ws[1] <= cap[1] && ws[2] <= cap[2]
                             : ws[0] + ws[1] + ws[2] <= cap[0];
    const bool better =
        !have || (fit && !have_fit) || (fit == have_fit && ws[0] + ws[1] + ws[2] < t.total());
    if (!better) continue;
    have = true;
    have_fit = fit;
    for (int b = 0; b < 3; ++b) t.bytes[b] = ws[b];
    // Describe its largest blocks.
    const BlockUse in_b = S.largest_in(0), w_b = S.largest_w(), o_b = S.largest_out();
    const int64_t extra = w_b.bytes - w_b.d0 * w_b.d1 * wb;
    t.text = fmt::format(
        "input {} row{} x {} x {} ch x {} B, weights {} x {} x {} B{}, output {} px x {} ch x {} "
        "B{}",
        in_b.d0, in_b.d0 == 1 ? "" : "s", L.conv.in_w, in_b.d1, ab, w_b.d0, w_b.d1, wb,
        extra > 0 ? fmt::format(" + {} B bias", extra) : "", o_b.d0, o_b.d1, acc,
        dbl ? ", each x2 for double buffering" : "");
  }
  return t;
}

TilePlan Tiler::replan(const Layer& L, const TilePlan::Choice& choice,
                       const Placement& where) const {
  Budget unlimited;
  for (int b = 0; b < 3; ++b) unlimited.bytes[b] = std::numeric_limits<int64_t>::max() / 4;
  return plan_impl(L, unlimited, where, true, &choice);
}

TilePlan Tiler::plan(const Layer& L, const Budget& budget, const Placement& where,
                     bool keep_cmds) const {
  return plan_impl(L, budget, where, keep_cmds, nullptr);
}

TilePlan Tiler::plan_impl(const Layer& L, const Budget& budget, const Placement& where,
                          bool keep_cmds, const TilePlan::Choice* forced) const {
  TilePlan best;
  if (L.cls == LayerClass::kView) {
    best.ok = true;
    return best;
  }
  const bool dbl = m_chip.sram.double_buffering;
  const int vlat = m_chip.vector_unit.pipeline_latency_cycles;
  CostModel cm;
  cm.array = m_array;
  cm.lanes = m_chip.vector_unit.lanes;
  cm.vlat = vlat;
  cm.channels = m_chip.dma.channels;
  cm.dma = DmaModel::from_chip(m_chip);
  // DMA time per byte at the steady state (one transfer holds the bus; max_outstanding bursts
  // in flight per latency).
  const double dma_cycles_per_byte =
      cm.dma.ideal ? 0.0 : cm.dma.period / (cm.dma.outstanding * static_cast<double>(cm.dma.burst));

  const int nin = static_cast<int>(L.inputs.size());
  const bool is_array = L.cls == LayerClass::kArray;
  ArrayCtx x;
  if (is_array) x = array_ctx(m_chip, L);
  // Chunkable units of a loop order: pixel units (output rows; R pixels on os), or the
  // streamed dimension's units for fold-outer; vector layers: output units.
  auto units_of = [&](Order o) -> int64_t {
    if (!is_array) return L.vec.units;
    return o == Order::kFoldOuter ? x.fold_time_units() : x.n_units;
  };

  std::vector<Order> orders;
  if (is_array) {
    orders.push_back(Order::kFoldOuter);
    orders.push_back(Order::kPixelOuter);
    orders.push_back(Order::kChanOuter);
  } else {
    orders.push_back(Order::kPixelOuter);
  }

  Steps S;
  static thread_local QuickScanSink quick;
  int64_t last_steps = 0;  // steps of the latest candidate generated
  auto gen = [&](const Cand& cd, bool full_scan) {
    if (is_array && !full_scan) {
      gen_array_steps(x, m_array, cd, quick);
      last_steps = static_cast<int64_t>(quick.size());
      return quick.scan();
    }
    if (is_array) {
      gen_array_steps(x, m_array, cd, S);
    } else {
      gen_vector_steps(m_chip, L, cd, S);
    }
    last_steps = static_cast<int64_t>(S.v.size());
    return full_scan ? scan_steps(S, m_array, vlat, m_chip.sram.double_buffering ? 2 : 1)
                     : quick_scan(S);
  };

  // Operand configuration for the emitter.
  auto op_cfgs = [&](const Scan& sc, const Cand& cd) {
    std::vector<OpCfg> ops(static_cast<size_t>(nin + 2));
    const Buffer& ob = m_grouping.buffers[static_cast<size_t>(L.out_buffer)];
    int64_t cursor[3] = {where.ws_base[0], where.ws_base[1], where.ws_base[2]};
    auto place = [&](OpCfg& c, const OpScan& o, bool all) {
      c.unbounded = all;
      c.slots =
          static_cast<int>(std::min<int64_t>(std::max<int64_t>(1, o.distinct), slots_of(dbl)));
      c.slot_bytes = o.max_bytes;
      const int b = m_split ? c.buffer : 0;
      c.base = cursor[b];
      cursor[b] += all ? o.distinct_bytes : c.slots * o.max_bytes;
    };
    for (int k = 0; k < nin; ++k) {
      OpCfg& c = ops[static_cast<size_t>(k)];
      const LayerInput& in = L.inputs[static_cast<size_t>(k)];
      const Buffer& B = m_grouping.buffers[static_cast<size_t>(in.buffer)];
      c.buffer = kIfmap;
      c.resident = where.input_resident[static_cast<size_t>(k)];
      c.resident_addr = where.input_address[static_cast<size_t>(k)];
      c.load_what = B.graph_input ? kWhatInput : kWhatReload;
      if (!c.resident) place(c, sc.in[static_cast<size_t>(k)], cd.all[0]);
    }
    OpCfg& w = ops[static_cast<size_t>(nin)];
    w.buffer = kWeight;
    w.load_what = kWhatWeights;
    place(w, sc.w, cd.all[1]);
    OpCfg& o = ops[static_cast<size_t>(nin + 1)];
    o.buffer = kOfmap;
    o.store_what = ob.graph_output ? kWhatOutput : kWhatSpill;
    place(o, sc.out, cd.all[2]);
    o.resident = where.output_resident;
    o.resident_addr = where.output_address;
    return ops;
  };

  // 1. Candidates with their working sets and lower bounds (no commands yet).
  struct Pending {
    Cand cand;
    int64_t ws[3];
    Cycle bound;
    int64_t bytes_lb;  // DRAM bytes it moves at least
    int64_t steps;     // compute commands
    int index;
  };
  std::vector<Pending> pend;
  if (forced) {
    Pending pd;
    pd.cand.order = static_cast<Order>(forced->order);
    pd.cand.upc = forced->upc;
    pd.cand.w_gran = forced->w_gran;
    for (int b = 0; b < 3; ++b) pd.cand.all[b] = forced->all[b];
    const Scan sc = gen(pd.cand, true);
    working_set(sc, pd.cand, where, dbl, pd.ws);
    pd.bound = 0;
    pd.bytes_lb = 0;
    pd.steps = static_cast<int64_t>(S.v.size());
    pd.index = 0;
    pend.push_back(pd);
    orders.clear();
  }
  for (Order order : orders) {
    const int64_t n_units = units_of(order);
    Cand cd;
    Scan sc;
    int64_t ws[3];
    auto base_fits = [&](int64_t np, int w_gran, bool full_scan = false) {
      cd = Cand{};
      cd.order = order;
      cd.upc = ceil_div(n_units, np);
      cd.w_gran = w_gran;
      sc = gen(cd, full_scan);
      working_set(sc, cd, where, dbl, ws);
      return fits(ws, budget, m_split);
    };
    // The smallest chunk count whose double-buffered working set fits (weights by column of
    // folds, else by fold).
    int64_t min_np = -1;
    int w_gran = kWeightsByColumn;
    for (int pass = 0; pass < (is_array ? 2 : 1) && min_np < 0; ++pass) {
      w_gran = pass == 1 ? kWeightsByFold : kWeightsByColumn;
      for (int64_t np = 1;; np = std::min(n_units, np * 2)) {
        if (base_fits(np, w_gran)) {
          min_np = np;
          break;
        }
        if (np >= n_units) break;
      }
      if (min_np > 1) {
        int64_t lo = min_np / 2 + 1, hi = min_np;
        while (lo < hi) {
          const int64_t mid = (lo + hi) / 2;
          if (base_fits(mid, w_gran)) {
            hi = mid;
          } else {
            lo = mid + 1;
          }
        }
        min_np = hi;
      }
    }
    if (min_np < 0) continue;
    bool all_on_chip = where.output_resident;
    for (bool r : where.input_resident) all_on_chip = all_on_chip && r;
    // Layers of very many steps try fewer chunk counts (bounded lowering time).
    std::vector<int64_t> nps = chunk_options(n_units, min_np, all_on_chip);
    if (last_steps > kBigLayerSteps && nps.size() > 2) nps.resize(2);
    for (int64_t np : nps) {
      // Channel-outer is pixel-outer when there is one channel chunk, or (dense) one pixel chunk.
      if (order == Order::kChanOuter &&
          (x.M <= x.chan_chunk || (!x.dw && ceil_div(n_units, ceil_div(n_units, np)) == 1))) {
        continue;
      }
      if (!base_fits(np, w_gran, true)) continue;
      // Variants: double-buffered slots only, then caching operands the loop order revisits
      // (greedily, in two priority orders).
      std::vector<Cand> variants{cd};
      const int prio[2][3] = {{0, 1, 2}, {1, 0, 2}};
      for (const auto& pr : prio) {
        Cand v = cd;
        for (int op : pr) {
          const bool reused = op == 0   ? (nin > 0 && !where.input_resident[0] && sc.in[0].reused())
                              : op == 1 ? sc.w.reused()
                                        : sc.out.reused();
          if (!reused) continue;
          Cand t = v;
          t.all[op] = true;
          int64_t tws[3];
          working_set(sc, t, where, dbl, tws);
          if (fits(tws, budget, m_split)) v = t;
        }
        bool dup = false;
        for (const Cand& c : variants) {
          dup = dup || (c.all[0] == v.all[0] && c.all[1] == v.all[1] && c.all[2] == v.all[2]);
        }
        if (!dup) variants.push_back(v);
      }
      // All weights in one transfer (small layers: no per-fold transfer latency).
      if (is_array && sc.w.distinct > 1) {
        Cand v = cd;
        v.w_gran = kWeightsWhole;
        int64_t vws[3];
        working_set(sc, v, where, dbl, vws);
        vws[kWeight] = L.weight_bytes;
        if (fits(vws, budget, m_split)) variants.push_back(v);
      }
      for (const Cand& v : variants) {
        Pending pd;
        pd.cand = v;
        working_set(sc, v, where, dbl, pd.ws);
        const bool whole = v.w_gran == kWeightsWhole;
        if (whole) pd.ws[kWeight] = L.weight_bytes;
        // Lower bound: the compute unit's time, and the DMA time of the bytes that move: every
        // distinct block of a DRAM operand and every final output once, plus the blocks its
        // slots must load again (partial sums go out and come back).
        auto revisits = [&](const OpScan& o, bool all) -> int64_t {
          if (all || o.misses <= o.distinct) return 0;
          return (o.misses - o.distinct) * (o.distinct_bytes / o.distinct);
        };
        int64_t bytes = v.w_gran == kWeightsWhole ? L.weight_bytes
                                                  : sc.w.distinct_bytes + revisits(sc.w, v.all[1]);
        for (int k = 0; k < nin; ++k) {
          if (!where.input_resident[static_cast<size_t>(k)]) {
            const OpScan& o = sc.in[static_cast<size_t>(k)];
            bytes += o.distinct_bytes + revisits(o, v.all[0]);
          }
        }
        bytes += 2 * revisits(sc.out, v.all[2]);
        if (!where.output_resident) bytes += sc.store_bytes;
        // The first compute waits for its blocks to arrive, the last store follows the last
        // compute.
        auto transfer = [&](int64_t b) -> Cycle {
          if (cm.dma.ideal || b <= 0) return 0;
          return static_cast<Cycle>(std::ceil(cm.dma.setup + cm.dma.latency + cm.dma.duration(b)));
        };
        int64_t first_block = whole ? L.weight_bytes : S.v.front().w.bytes;
        for (int k = 0; k < nin; ++k) {
          if (!where.input_resident[static_cast<size_t>(k)]) {
            first_block = std::max(first_block, S.in(0, k).bytes);
          }
        }
        const Cycle last_store = where.output_resident ? 0 : transfer(S.v.back().store_bytes);
        const Cycle dma_lb =
            bytes > 0 && !cm.dma.ideal
                ? static_cast<Cycle>(cm.dma.setup + cm.dma.latency +
                                     static_cast<double>(bytes) * dma_cycles_per_byte)
                : 0;
        pd.bound = std::max(transfer(first_block) + sc.compute_cycles + last_store, dma_lb);
        pd.bytes_lb = bytes;
        pd.steps = static_cast<int64_t>(S.v.size());
        pd.index = static_cast<int>(pend.size());
        pend.push_back(pd);
      }
    }
  }
  if (pend.empty()) return best;
  std::stable_sort(pend.begin(), pend.end(), [](const Pending& a, const Pending& b) {
    if (a.bound != b.bound) return a.bound < b.bound;
    if (a.bytes_lb != b.bytes_lb) return a.bytes_lb < b.bytes_lb;
    return a.steps < b.steps;
  });

  // 2. Emit and estimate candidates in bound order while they can still win.
  bool have = false;
  int64_t best_dram = 0;
  std::vector<LocalCmd> cmds;
  std::vector<int> pool;
  std::vector<Cycle> actual(pend.size(), 0);
  std::vector<bool> done(pend.size(), false);
  auto evaluate = [&](size_t pi) {
    const Pending& pd = pend[pi];
    const Cand& cd = pd.cand;
    const Scan sc = gen(cd, true);
    const std::vector<OpCfg> ops = op_cfgs(sc, cd);
    Emitter em(m_chip, ops, nin);
    em.run(S, cm.channels, cmds, pool);
    const Cycle cyc = estimate_cycles(cm, cmds, pool);
    actual[pi] = cyc;
    done[pi] = true;
    int64_t rd = 0, wr = 0, psum = 0, wload = 0;
    for (const LocalCmd& c : cmds) {
      if (c.unit != UnitKind::kDma) continue;
      (c.store ? wr : rd) += c.dma_bytes;
      if (c.what == kWhatPsum) psum += c.dma_bytes;
      if (c.what == kWhatWeights) wload += c.dma_bytes;
    }
    // Ties: fewer DRAM bytes, then fewer commands, then the smaller working set.
    const int64_t ncmd = static_cast<int64_t>(cmds.size());
    const int64_t best_ncmd = static_cast<int64_t>(best.cmds.size());
    const int64_t wst = pd.ws[0] + pd.ws[1] + pd.ws[2];
    const bool better = !have || cyc < best.cycles ||
                        (cyc == best.cycles &&
                         (rd + wr < best_dram ||
                          (rd + wr == best_dram &&
                           (ncmd < best_ncmd || (ncmd == best_ncmd && wst < best.ws_total())))));
    if (!better) return;
    have = true;
    best.ok = true;
    best.cycles = cyc;
    best.dram_read = rd;
    best.dram_write = wr;
    best_dram = rd + wr;
    for (int b = 0; b < 3; ++b) best.ws[b] = pd.ws[b];
    best.tiles = static_cast<int64_t>(S.v.size());
    best.folds = 0;
    for (const Step& st : S.v) best.folds += is_array && st.seg.new_fold ? 1 : 0;
    const int64_t np = ceil_div(units_of(cd.order), cd.upc);
    std::string m;
    if (is_array) {
      const char* df = dataflow_name(x.df);
      if (x.dw) {
        m = fmt::format("{} dw {} ch k{}x{} Npix={} -> {} folds", df, x.M, L.conv.kh, L.conv.kw,
                        x.npix, best.folds);
      } else {
        m = fmt::format("{} K={}->{}x{} M={}->{}x{} Npix={}", df, x.K, ceil_div(x.K, x.R), x.R, x.M,
                        ceil_div(x.M, x.C), x.C, x.npix);
        if (x.G > 1) m += fmt::format(" x{} groups", x.G);
      }
      m += fmt::format(" in {} chunk{}, {}", np, np == 1 ? "" : "s", order_name(cd.order));
      if (cd.all[0] && sc.in[0].reused()) m += ", input cached";
      if (cd.all[1] && sc.w.reused()) m += ", weights cached";
      if (cd.w_gran == kWeightsWhole) m += ", weights in one transfer";
      if (wload > sc.w.distinct_bytes) {
        m += fmt::format(", weights re-streamed x{:.1f}",
                         static_cast<double>(wload) / static_cast<double>(sc.w.distinct_bytes));
      }
      if (psum > 0) m += ", partial sums spilled " + bytes_str(psum);
    } else {
      m = fmt::format("{} in {} chunk{}", vector_op_name(L.vec.op), np, np == 1 ? "" : "s");
    }
    best.mapping = m;
    best.choice.order = static_cast<int>(cd.order);
    best.choice.upc = cd.upc;
    best.choice.w_gran = cd.w_gran;
    for (int b = 0; b < 3; ++b) best.choice.all[b] = cd.all[b];
    best.cmds.swap(cmds);
    best.dep_pool.swap(pool);
  };
  int evaluated = 0;
  int64_t emitted_steps = 0, first_steps = 0;
  for (size_t pi = 0; pi < pend.size() && evaluated < kMaxEstimates; ++pi) {
    const Pending& pd = pend[pi];
    if (have && first_steps > kBigLayerSteps / 4 &&
        emitted_steps + pd.steps > kEstimateStepFactor * first_steps) {
      break;
    }
    if (have) {
      if (pd.bound > best.cycles) break;
      const bool may_win = pd.bound < best.cycles || pd.bytes_lb < best_dram ||
                           (pd.bytes_lb == best_dram && pd.steps < best.tiles);
      if (!may_win) continue;
    }
    evaluate(pi);
    ++evaluated;
    emitted_steps += pd.steps;
    if (evaluated == 1) first_steps = pd.steps;
  }

  // 3. The lean working set (what the memory plan reserves): the smallest among the candidates
  // within kLeanSlack of the best, tried in order of working set.
  auto ws_key = [&](const int64_t ws[3]) { return m_split ? ws[kIfmap] : ws[0] + ws[1] + ws[2]; };
  for (int b = 0; b < 3; ++b) best.lean_ws[b] = best.ws[b];
  if (!keep_cmds) {
    const double limit = static_cast<double>(best.cycles) * kLeanSlack;
    std::vector<size_t> lean;
    for (size_t pi = 0; pi < pend.size(); ++pi) {
      if (static_cast<double>(pend[pi].bound) <= limit &&
          ws_key(pend[pi].ws) < ws_key(best.lean_ws)) {
        lean.push_back(pi);
      }
    }
    std::stable_sort(lean.begin(), lean.end(),
                     [&](size_t a, size_t b) { return ws_key(pend[a].ws) < ws_key(pend[b].ws); });
    int tries = 0;
    for (size_t pi : lean) {
      if (!done[pi]) {
        if (++tries > kMaxLeanEstimates) break;
        evaluate(pi);  // (cannot beat the best: step 2 tried all that could)
      }
      if (static_cast<double>(actual[pi]) <= limit) {
        for (int b = 0; b < 3; ++b) best.lean_ws[b] = pend[pi].ws[b];
        break;
      }
    }
    best.cmds.clear();
    best.dep_pool.clear();
  }
  return best;
}

}  // namespace nax::hw::lower_detail
