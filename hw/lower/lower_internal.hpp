// Internals of the lowering (hw/lower/*.cpp), shared by grouping, tiling and the memory plan. Not
// part of the public interface: lower.hpp and program.hpp are. See lower.cpp for the algorithm.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "hw/chip/chip.hpp"
#include "hw/lower/program.hpp"
#include "hw/timing/timing.hpp"
#include "models/ir/graph.hpp"

namespace nax::hw::lower_detail {

// SRAM buffers (program.hpp SramAccess::bytes index). A unified SRAM has one address space; the
// lowering still classifies every byte by operand so that a split SRAM can serve each part.
enum Buf : int { kIfmap = 0, kWeight = 1, kOfmap = 2 };

enum class LayerClass { kArray, kVector, kView };

// The geometry the tiler works with. Activations are stored channels-last (NHWC) on the
// accelerator and in DRAM, so a chunk of whole output rows is contiguous; conv and FC work is
// split along "pixel units" (output pixels of the GEMM).
struct ConvGeom {
  int64_t n = 1;
  int64_t cin = 0, in_h = 1, in_w = 1;
  int64_t cout = 0, out_h = 1, out_w = 1;
  int kh = 1, kw = 1;
  int stride_h = 1, dilation_h = 1, pad_top = 0;
  int64_t groups = 1;      // GEMMs (dense: 1; grouped: groups; depthwise: 1 with depthwise=true)
  bool depthwise = false;  // groups == cin > 1: channels packed block-diagonally
  int64_t kk() const { return int64_t{kh} * kw; }
  int64_t k() const { return depthwise ? kk() : kk() * (cin / groups); }  // reduction per GEMM
  int64_t m() const { return depthwise ? cout : cout / groups; }          // outputs per GEMM
  int64_t cin_g() const { return depthwise ? cin : cin / groups; }        // input ch per GEMM
  int64_t npix() const { return n * out_h * out_w; }
  // Input rows (summed over images) the output pixels [q0, q1) read, halo included.
  int64_t input_rows(int64_t q0, int64_t q1) const;
  // First input row (global over images, n*in_h rows) of output pixel q.
  int64_t input_row_of(int64_t q) const;
};

// A vector-unit layer's work and how it splits into row chunks.
struct VectorGeom {
  VectorOp op = VectorOp::kEltwise;
  int64_t units = 1;           // chunkable units of the output (rows of NHWC, or outer rows)
  int64_t unit_elements = 1;   // output elements per unit
  int64_t total_elements = 0;  // output elements (the last unit may be partial)
  // Pooling / depthwise / global pooling / resize: spatial geometry (rank-4 tensors).
  ConvGeom conv;
  int taps = 1;  // resize
  // Work of output units [u0, u1).
  VectorWork work(int64_t u0, int64_t u1) const;
  // Output elements of units [u0, u1).
  int64_t elements(int64_t u0, int64_t u1) const {
    return std::min(u1 * unit_elements, total_elements) - u0 * unit_elements;
  }
};

struct LayerInput {
  int buffer = -1;  // Buffer index
  ir::TensorId tensor = ir::kNoTensor;
  int64_t bytes = 0;           // whole tensor
  bool follows_output = true;  // chunked with the output units (false: loaded whole, e.g. a
                               // broadcast SE scale)
};

struct Layer {
  LayerPlan plan;  // name, op, ops, fused, unit, compute, output_shape, macs, vector_ops, params
  LayerClass cls = LayerClass::kView;
  std::vector<LayerInput> inputs;
  int out_buffer = -1;
  ir::TensorId out_tensor = ir::kNoTensor;
  int64_t out_bytes = 0;
  ConvGeom conv;                    // kArray
  VectorGeom vec;                   // kVector
  int64_t weight_bytes = 0;         // parameters (and constant operands) loaded from DRAM
  int64_t weight_extra_per_ch = 0;  // array layers: bias / folded-BN bytes per output channel
};

// An activation buffer: one or more tensors that share storage (views alias their input; a
// concatenation's inputs are written into slices of its output).
struct Buffer {
  int64_t bytes = 0;
  std::vector<int> producers;  // layer indices (compute layers)
  std::vector<int> consumers;  // compute layers reading it, ascending, unique
  bool graph_input = false;
  bool graph_output = false;
  int first = 0, last = 0;  // layers it is live at (producer .. last consumer)
};

struct Grouping {
  std::vector<Layer> layers;  // schedule order
  std::vector<Buffer> buffers;
  std::vector<int> tensor_buffer;  // buffer of each graph tensor (-1: none)
};

Grouping group_layers(const ir::Graph& g, const ChipParams& chip);

// ------------------------------------------------------------------ tiling

struct Budget {
  int64_t bytes[3] = {0, 0, 0};  // free bytes per buffer; unified: only bytes[0] (everything)
};

struct Placement {
  std::vector<bool> input_resident;  // per Layer::inputs entry
  std::vector<int64_t> input_address;
  bool output_resident = false;
  int64_t output_address = 0;
  int64_t ws_base[3] = {0, 0, 0};  // where the working set starts, per buffer
};

// One command of a layer before it is placed in the program. Its deps are layer-local command
// indices, TilePlan::dep_pool[dep_begin, dep_begin + dep_count).
struct LocalCmd {
  UnitKind unit = UnitKind::kMacArray;
  int channel = 0;  // DMA channel
  int tile = 0;
  ArrayPayload array;
  VectorPayload vector;
  int64_t dma_bytes = 0;
  bool store = false;
  uint8_t what = 0;  // index into what_name()
  SramAccess sram;
  int dep_begin = 0;
  int dep_count = 0;
};
const char* what_name(uint8_t what);

struct TilePlan {
  bool ok = false;
  std::string mapping;
  int64_t tiles = 0;
  int64_t folds = 0;
  int64_t dram_read = 0;
  int64_t dram_write = 0;
  int64_t ws[3] = {0, 0, 0};   // working set per buffer
  Cycle cycles = 0;            // estimate (the layer alone, inputs ready at 0)
  std::vector<LocalCmd> cmds;  // in program order
  std::vector<int> dep_pool;
  // The smallest working set among the candidates within kLeanSlack of the best estimate: what
  // the memory plan reserves for this layer (per buffer).
  int64_t lean_ws[3] = {0, 0, 0};
  // The winning candidate (Tiler::replan emits it again for another placement).
  struct Choice {
    int order = 0;
    int64_t upc = 0;
    int w_gran = 0;
    bool all[3] = {false, false, false};
  } choice;
  int64_t ws_total() const { return ws[0] + ws[1] + ws[2]; }
};
constexpr double kLeanSlack = 1.05;

struct SmallestTile {
  int64_t bytes[3] = {0, 0, 0};
  std::string text;  // "input 3 rows x 112 x 16 x 1 B, weights ..., x2 for double buffering"
  int64_t total() const { return bytes[0] + bytes[1] + bytes[2]; }
};

class Tiler {
 public:
  Tiler(const ChipParams& chip, const Grouping& grouping);
  // The working set of the layer's smallest legal tile with every input and the output in DRAM.
  SmallestTile smallest_tile(const Layer& L) const;
  // Best plan for the layer under the budget and placement; `keep_cmds` = false skips building
  // the commands of the winner (planning-only queries). ok = false if nothing fits.
  TilePlan plan(const Layer& L, const Budget& budget, const Placement& where, bool keep_cmds) const;
  // Emits `choice` (from an earlier plan() of the same layer with the same operands resident)
  // at another placement.
  TilePlan replan(const Layer& L, const TilePlan::Choice& choice, const Placement& where) const;
  bool split() const { return m_split; }

 private:
  TilePlan plan_impl(const Layer& L, const Budget& budget, const Placement& where, bool keep_cmds,
                     const TilePlan::Choice* forced) const;
  const ChipParams& m_chip;
  const Grouping& m_grouping;
  ArrayConfig m_array;
  bool m_split;
};

// ------------------------------------------------------------------ memory plan

struct MemoryPlan {
  std::vector<int64_t> resident_top;    // per layer: end of the highest resident buffer (bytes)
  std::vector<int64_t> resident_bytes;  // per layer: bytes of resident buffers live there
  std::vector<bool> resident;           // per buffer: stays in SRAM over its lifetime
  std::vector<int64_t> address;         // per buffer: SRAM byte address (ifmap buffer if split)
};

// Decides which buffers stay in SRAM and where. `reserve` is the per-layer working-set reserve
// (ifmap/unified space) that resident buffers must leave free.
MemoryPlan plan_memory(const Grouping& grouping, const std::vector<int64_t>& reserve,
                       int64_t capacity, bool keep_on_chip);

// "70,144 B"
std::string bytes_str(int64_t b);

}  // namespace nax::hw::lower_detail
