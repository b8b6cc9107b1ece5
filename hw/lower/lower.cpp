// Lowering: graph + chip -> program for the machine of hw/MACHINE.md (plain C++, no SystemC).
//
// The algorithm, in four passes (grouping.cpp, tiling.cpp, memory_plan.cpp, this file):
//
// 1. Grouping (group_layers). Ops become layers in graph order; every op belongs to exactly one.
//    - Conv2d and FullyConnected run on the MAC array; a depthwise conv (groups == input channels)
//      runs on the array or, with `depthwise_on: vector_unit`, on the vector unit. With
//      `mac_array.fused_activations` the layer absorbs the chain of BatchNorm / activation ops
//      that follows it (each the only consumer of its input, not a graph output) and lists them
//      in LayerPlan::fused; otherwise they are vector layers of their own.
//    - Pooling, global pooling, element-wise ops (with broadcast: an SE gate's scale is loaded
//      whole), standalone activations / batch norms, Resize, Softmax, Transpose and Pad run on
//      the vector unit (VectorWork classes of timing.hpp). An op class missing from the chip's
//      vector_unit.ops is an InputError naming the layer, the class and the chip.
//    - Reshape, Flatten and Zeros are views: no data moves (compute = false, no commands); their
//      output shares their input's storage. A Concat is a view too when every input is written
//      only for it by a computing op (through views at most): the producers write into slices of
//      one buffer. Otherwise it is a vector copy.
//    Activations are stored channels-last, so a chunk of whole output rows is contiguous.
//
// 2. Tiling (Tiler::plan), per layer. A conv is a GEMM per group (grouped convs: one GEMM per
//    group, run one after another; depthwise convs: one GEMM whose channels map_gemm packs
//    block-diagonally) with Npix = batch x Hout x Wout (FC: rows), K = kh*kw*cin/groups, M. The
//    folds come from map_gemm (column folds outer, row folds inner, as SCALE-Sim). Loop orders:
//      - fold-outer: every fold streams its vectors in chunks, as segments of the SAME fold
//        (new_fold on the first, last_segment on the last), so a fold costs one preload + T +
//        drain whatever the chunking: ws chunks the pixels (whole output rows) and slices the
//        input to the fold's channels (re-read once per column fold; partial sums of row folds
//        wait in SRAM or spill to DRAM), os chunks K by input channels, is chunks M;
//      - pixel-outer: load a chunk of pixels (whole output rows; R pixels on os, so chunks are
//        fold-aligned) with all its input channels, run all its folds; weights stay in SRAM when
//        they all fit, else they are re-streamed per chunk;
//      - channel-outer: one column of folds' output channels at a time, all pixel chunks under it.
//    Weights move per column of folds (all of K for C output channels), per fold (when a column
//    does not fit) or, as a variant, all in one transfer (small layers: no per-fold latency).
//    A candidate = order x chunk count (the smallest count whose double-buffered working set
//    fits, then x2, x4, x8 and 16; two counts for layers of very many folds) x variants (an
//    operand that the loop order revisits - input, weights, partial sums - kept whole in SRAM
//    when it fits, greedily in two priority orders; weights in one transfer). Every candidate
//    becomes steps (one compute command each, with the input / weight / output block it uses);
//    a lower bound (the compute unit's exact time with data ready; the DMA time of the bytes that
//    must move, counting the re-loads its slots cannot avoid, simulated as LRU; the first load
//    and last store) orders them, and the most promising (at most 8, fewer for huge layers) are
//    emitted as commands (below) and estimated by running those commands through the
//    closed-form timers (MacArrayTimer, VectorTimer; DMA: setup + latency + bursts limited by
//    max_outstanding on one bus held per transfer). The lowest estimate wins, then fewer DRAM
//    bytes, then fewer commands, then the smaller working set. Vector layers are chunked along
//    output rows (input halos for pooling / depthwise / resize), element-wise ones in vector
//    instructions' worth of elements, global pooling in input pixels.
//    Working sets: each operand has its own slots (2 with sram.double_buffering, else 1; one
//    per block when cached), sized by its largest block; the output slots hold accumulators
//    (accumulator width). With a split SRAM inputs go to the ifmap buffer, weights to the weight
//    buffer, accumulators to the ofmap buffer, each checked against its own capacity; resident
//    tensors live in the ifmap buffer. A layer whose smallest legal tile (one chunk unit, one
//    fold of weights, double-buffered, inputs and output in DRAM; the smallest of the loop
//    orders) does not fit the empty SRAM is an InputError naming the layer, the bytes needed
//    and the bytes the chip has.
//
// 3. Residency (plan_memory). Each layer is planned with every activation on chip and the whole
//    SRAM; it reserves either the smallest working set among its candidates within 5% of its
//    best estimate (lean) or its best's (strict), and at least its smallest tile with its
//    activations in DRAM, so a layer always fits whatever is decided. Intermediate buffers (not
//    graph inputs, which start in DRAM, nor graph outputs, which end there) are then placed
//    shortest lifetime first (an IBN's expanded tensor, then a residual input, ...), each at the
//    lowest SRAM address that is free over its whole lifetime and below the reserve of every
//    layer it spans (first fit); a buffer that finds no room spills: its producer stores it
//    chunk by chunk, every consumer reloads it chunk by chunk. The lean, the strict and the
//    nothing-on-chip memory plans are each costed by the sum of their layers' estimates (plans
//    memoized by layer, residency and free SRAM; a policy stops once it cannot win) and the
//    cheapest is kept, so keeping tensors on chip never makes the estimate worse than spilling
//    them all. `keep_on_chip = false` spills every buffer.
//
// 4. Commands. Each layer's winning candidate is emitted at its final addresses: per step, loads
//    of the blocks it uses that are not in their slots yet (into the least recently used slot,
//    after the compute that last used it: double buffering), the compute command (after its
//    loads and after the store that emptied its output slot; partial sums of an evicted
//    unfinished block are stored and reloaded), and a store of each finished output block that
//    is not resident (after its compute). Commands are placed in program order right after the
//    compute they wait for, so loads prefetch as early as their slot is free; DMA commands go
//    round-robin over the channels. SRAM start banks follow the addresses (resident tensors at
//    their place, working-set slots above the highest resident tensor). Layers are separated by
//    a barrier: the first command of a layer on each unit depends on every MAC array command and
//    on the last command of every other unit of the previous computing layer, which orders
//    producers before consumers (transitively) and frees the previous layer's working set (so
//    the next layer's weights do not prefetch during this one). All deps point backwards. Same
//    graph and chip: the same program, command for command.
#include "hw/lower/lower.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "hw/lower/lower_internal.hpp"
#include "models/common/error.hpp"
#include "models/ir/analysis.hpp"

namespace nax::hw {

const char* unit_kind_name(UnitKind u) {
  switch (u) {
    case UnitKind::kMacArray:
      return "mac_array";
    case UnitKind::kVector:
      return "vector_unit";
    case UnitKind::kDma:
      return "dma";
  }
  return "?";
}

using namespace lower_detail;

namespace {

const char* buffer_name(int b) {
  return b == kIfmap ? "ifmap" : b == kWeight ? "weight" : "ofmap";
}

}  // namespace

namespace {

// Plans per layer under a memory plan, memoized by (layer, residency, budget).
class LayerPlanner {
 public:
  LayerPlanner(const Grouping& g, const Tiler& tiler, const int64_t cap[3])
      : m_g(g), m_tiler(tiler) {
    for (int b = 0; b < 3; ++b) m_cap[b] = cap[b];
  }

  Placement placement(size_t li, const MemoryPlan& mp) const {
    const Layer& L = m_g.layers[li];
    Placement where;
    for (const LayerInput& in : L.inputs) {
      where.input_resident.push_back(mp.resident[static_cast<size_t>(in.buffer)]);
      where.input_address.push_back(mp.address[static_cast<size_t>(in.buffer)]);
    }
    if (L.out_buffer >= 0) {
      where.output_resident = mp.resident[static_cast<size_t>(L.out_buffer)];
      where.output_address = mp.address[static_cast<size_t>(L.out_buffer)];
    }
    where.ws_base[0] = mp.resident_top[li];
    return where;
  }
  Budget budget(size_t li, const MemoryPlan& mp) const {
    Budget b;
    for (int k = 0; k < 3; ++k) b.bytes[k] = m_cap[k];
    b.bytes[0] = m_cap[0] - mp.resident_top[li];
    return b;
  }
  const TilePlan& plan(size_t li, const Budget& b, const Placement& where) {
    auto key = std::make_tuple(li, where.input_resident, where.output_resident, b.bytes[0]);
    auto it = m_memo.find(key);
    if (it != m_memo.end()) return it->second;
    // A plan found with a larger budget and the same residency stays the best when its working
    // set still fits (the candidates are then a subset of those it beat).
    auto full =
        m_memo.find(std::make_tuple(li, where.input_resident, where.output_resident, m_cap[0]));
    if (full != m_memo.end() && fits(full->second, b)) {
      return m_memo.emplace(key, full->second).first->second;
    }
    TilePlan tp = m_tiler.plan(m_g.layers[li], b, where, false);
    if (!tp.ok) {
      const Layer& L = m_g.layers[li];
      throw Error(
          fmt::format("lowering: layer '{}' ({}) does not fit the SRAM left by resident "
                      "tensors ({} of {})",
                      L.plan.name, L.plan.op, bytes_str(b.bytes[0]), bytes_str(m_cap[0])));
    }
    return m_memo.emplace(key, std::move(tp)).first->second;
  }

 private:
  bool fits(const TilePlan& tp, const Budget& b) const {
    if (m_tiler.split()) {
      return tp.ws[0] <= b.bytes[0] && tp.ws[1] <= b.bytes[1] && tp.ws[2] <= b.bytes[2];
    }
    return tp.ws_total() <= b.bytes[0];
  }

  const Grouping& m_g;
  const Tiler& m_tiler;
  int64_t m_cap[3] = {0, 0, 0};
  std::map<std::tuple<size_t, std::vector<bool>, bool, int64_t>, TilePlan> m_memo;
};

}  // namespace

Program lower(const ir::Graph& g, const ChipParams& chip, const LowerOptions& opt) {
  const Grouping G = group_layers(g, chip);
  const Tiler tiler(chip, G);
  const bool split = chip.sram.organization == SramOrganization::kSplit;
  const int64_t cap[3] = {split ? chip.sram.ifmap_kib * 1024 : chip.sram_bytes(),
                          split ? chip.sram.weight_kib * 1024 : 0,
                          split ? chip.sram.ofmap_kib * 1024 : 0};
  LayerPlanner planner(G, tiler, cap);
  Budget full;
  for (int b = 0; b < 3; ++b) full.bytes[b] = cap[b];
  const size_t nl = G.layers.size();

  // 1-2. Smallest tiles (errors) and working-set reserves with every activation on chip: lean
  // (the smallest working set within kLeanSlack of the best estimate) and strict (the best's).
  std::vector<int64_t> reserve_lean(nl, 0), reserve_strict(nl, 0);
  std::vector<uint64_t> optimistic(nl, 0);  // estimate with everything on chip and all SRAM
  for (size_t li = 0; li < nl; ++li) {
    const Layer& L = G.layers[li];
    if (L.cls == LayerClass::kView) continue;
    const SmallestTile st = tiler.smallest_tile(L);
    const std::string what = fmt::format("layer '{}' ({})", L.plan.name, L.plan.op);
    if (!split) {
      if (st.total() > cap[0]) {
        throw InputError(fmt::format("{}: its smallest tile needs {} of SRAM ({}), the chip has {}",
                                     what, bytes_str(st.total()), st.text, bytes_str(cap[0])));
      }
    } else {
      for (int b = 0; b < 3; ++b) {
        if (st.bytes[b] > cap[b]) {
          throw InputError(fmt::format(
              "{}: its smallest tile needs {} of the {} buffer ({}), the chip has {}", what,
              bytes_str(st.bytes[b]), buffer_name(b), st.text, bytes_str(cap[b])));
        }
      }
    }
    if (!opt.keep_on_chip) continue;
    Placement on_chip;
    for (const LayerInput& in : L.inputs) {
      on_chip.input_resident.push_back(!G.buffers[static_cast<size_t>(in.buffer)].graph_input);
      on_chip.input_address.push_back(0);
    }
    on_chip.output_resident = !G.buffers[static_cast<size_t>(L.out_buffer)].graph_output;
    const TilePlan& tp = planner.plan(li, full, on_chip);
    auto key = [&](const int64_t ws[3]) { return split ? ws[kIfmap] : ws[0] + ws[1] + ws[2]; };
    const int64_t small = split ? st.bytes[kIfmap] : st.total();
    reserve_lean[li] = std::max(key(tp.lean_ws), small);
    reserve_strict[li] = std::max(key(tp.ws), small);
    optimistic[li] = tp.cycles;
  }
  std::vector<uint64_t> optimistic_rest(nl + 1, 0);  // sum over layers li..
  for (size_t li = nl; li-- > 0;) optimistic_rest[li] = optimistic_rest[li + 1] + optimistic[li];

  // 3. Residency: the memory plan of each reserve policy (lean, strict, nothing on chip), costed
  // by the sum of its layers' estimates; the cheapest wins (ties: the first).
  std::vector<MemoryPlan> options;
  if (opt.keep_on_chip) {
    options.push_back(plan_memory(G, reserve_lean, cap[0], true));
    options.push_back(plan_memory(G, reserve_strict, cap[0], true));
  }
  options.push_back(plan_memory(G, reserve_lean, cap[0], false));
  size_t pick = 0;
  uint64_t best_total = 0;
  for (size_t oi = 0; oi < options.size(); ++oi) {
    if (oi > 0 && options[oi].resident == options[oi - 1].resident &&
        options[oi].resident_top == options[oi - 1].resident_top) {
      continue;
    }
    uint64_t total = 0;
    bool worse = false;
    for (size_t li = 0; li < nl && !worse; ++li) {
      if (G.layers[li].cls == LayerClass::kView) continue;
      const MemoryPlan& m = options[oi];
      total += planner.plan(li, planner.budget(li, m), planner.placement(li, m)).cycles;
      // Stop once it cannot win (the rest costs at least its all-on-chip estimates).
      worse = oi > 0 && total + optimistic_rest[li + 1] >= best_total;
    }
    if (worse) continue;
    if (oi == 0 || total < best_total) {
      best_total = total;
      pick = oi;
    }
  }
  const MemoryPlan& mp = options[pick];

  // 4. Commands.
  Program prog;
  prog.model_name = g.name;
  prog.model_hash = ir::graph_hash(g);
  prog.chip_name = chip.name;
  prog.chip_hash = chip.hash;
  prog.dma_channels = chip.dma.channels;
  std::vector<uint32_t> barrier;
  for (size_t li = 0; li < nl; ++li) {
    const Layer& L = G.layers[li];
    LayerPlan plan = L.plan;
    const Placement where = planner.placement(li, mp);
    bool all_in = !L.inputs.empty();
    for (bool r : where.input_resident) all_in = all_in && r;
    if (L.cls == LayerClass::kView) {
      // A view: its storage is its input's.
      const ir::Op& op = g.op(L.plan.ops[0]);
      const int b = G.tensor_buffer[static_cast<size_t>(op.output)];
      plan.input_on_chip = plan.output_on_chip = mp.resident[static_cast<size_t>(b)];
      plan.resident_bytes = plan.sram_peak_bytes = mp.resident_bytes[li];
      plan.mapping = "view (no data moves)";
      prog.layers.push_back(std::move(plan));
      continue;
    }
    const TilePlan& chosen = planner.plan(li, planner.budget(li, mp), where);
    TilePlan tp = tiler.replan(L, chosen.choice, where);
    plan.tiles = tp.tiles;
    plan.folds = tp.folds;
    plan.mapping = tp.mapping;
    plan.dram_read_bytes = tp.dram_read;
    plan.dram_write_bytes = tp.dram_write;
    plan.input_on_chip = all_in;
    plan.output_on_chip = where.output_resident;
    plan.working_set_bytes = tp.ws_total();
    plan.resident_bytes = mp.resident_bytes[li];
    plan.sram_peak_bytes = plan.working_set_bytes + plan.resident_bytes;
    plan.est_cycles = tp.cycles;
    // Append the commands: local deps -> global, barrier on the first command of each unit.
    const uint32_t base = static_cast<uint32_t>(prog.cmds.size());
    const int layer_index = static_cast<int>(prog.layers.size());
    std::vector<bool> first_seen(static_cast<size_t>(2 + chip.dma.channels), false);
    std::vector<uint32_t> next_barrier;
    std::vector<int64_t> last_on_unit(static_cast<size_t>(2 + chip.dma.channels), -1);
    for (size_t i = 0; i < tp.cmds.size(); ++i) {
      LocalCmd& lc = tp.cmds[i];
      Command c;
      c.unit = lc.unit;
      c.channel = lc.unit == UnitKind::kDma ? lc.channel : 0;
      c.layer = layer_index;
      c.tile = lc.tile;
      const size_t ukey = lc.unit == UnitKind::kMacArray ? 0
                          : lc.unit == UnitKind::kVector ? 1
                                                         : 2 + static_cast<size_t>(lc.channel);
      if (!first_seen[ukey]) {
        first_seen[ukey] = true;
        c.deps = barrier;
      }
      for (int d = lc.dep_begin; d < lc.dep_begin + lc.dep_count; ++d) {
        c.deps.push_back(base + static_cast<uint32_t>(tp.dep_pool[static_cast<size_t>(d)]));
      }
      std::sort(c.deps.begin(), c.deps.end());
      c.deps.erase(std::unique(c.deps.begin(), c.deps.end()), c.deps.end());
      c.array = lc.array;
      c.vector = lc.vector;
      c.dma.bytes = lc.dma_bytes;
      c.dma.store = lc.store;
      c.dma.what = what_name(lc.what);
      c.sram = lc.sram;
      const uint32_t idx = static_cast<uint32_t>(prog.cmds.size());
      if (lc.unit == UnitKind::kMacArray) next_barrier.push_back(idx);
      last_on_unit[ukey] = idx;
      prog.cmds.push_back(std::move(c));
    }
    for (size_t u = 1; u < last_on_unit.size(); ++u) {
      if (last_on_unit[u] >= 0) next_barrier.push_back(static_cast<uint32_t>(last_on_unit[u]));
    }
    if (!tp.cmds.empty()) {
      std::sort(next_barrier.begin(), next_barrier.end());
      barrier = std::move(next_barrier);
    }
    prog.layers.push_back(std::move(plan));
  }
  return prog;
}

}  // namespace nax::hw
