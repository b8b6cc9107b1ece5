// A program for the machine of hw/MACHINE.md: what the lowering produces and the simulator runs.
// Plain data; no SystemC.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hw/timing/timing.hpp"
#include "models/ir/graph.hpp"

namespace nax::hw {

enum class UnitKind : uint8_t { kMacArray = 0, kVector = 1, kDma = 2 };
const char* unit_kind_name(UnitKind u);

struct ArrayPayload {
  ArraySegment seg;
  int64_t macs = 0;  // useful multiply-accumulates this segment performs (the graph's, no padding)
};

struct VectorPayload {
  VectorWork work;
  int64_t issues = 0;       // vector_issues(work, lanes), filled by the lowering
  int64_t element_ops = 0;  // for energy
};

struct DmaPayload {
  int64_t bytes = 0;
  bool store = false;  // true: SRAM -> DRAM; false: DRAM -> SRAM
  // For the timeline: "input" (a graph input), "weights", "output" (a graph output), "spill" (an
  // intermediate tensor stored because it does not stay in SRAM), "reload" (a spilled tensor
  // read back by a consumer), "psum" (partial sums stored to / reloaded from DRAM).
  std::string what;
};

// The command's SRAM traffic, served at issue (hw/MACHINE.md, SRAM). A unified SRAM serves the
// sum of `bytes` as one request; a split SRAM serves each buffer's bytes on that buffer's banks.
struct SramAccess {
  int64_t bytes[3] = {0, 0, 0};  // by buffer: ifmap, weight, ofmap
  int64_t read_bytes = 0;        // for statistics and energy
  int64_t write_bytes = 0;
  int start_bank = 0;
  int64_t total() const { return bytes[0] + bytes[1] + bytes[2]; }
};

struct Command {
  UnitKind unit = UnitKind::kMacArray;
  int channel = 0;             // DMA channel (kDma only)
  int layer = -1;              // index into Program::layers
  int tile = 0;                // tile index within the layer (timeline labels)
  std::vector<uint32_t> deps;  // earlier commands that must be done before this one issues
  ArrayPayload array;          // kMacArray
  VectorPayload vector;        // kVector
  DmaPayload dma;              // kDma
  SramAccess sram;
};

// One scheduled layer: a compute op and what the lowering fused into it, with its decisions.
struct LayerPlan {
  std::string name;      // the compute op's name
  std::string op;        // "Conv2d", "DepthwiseConv2d", "FullyConnected", "Add", ...
  std::vector<int> ops;  // graph op indices covered (compute op first, then fused ones)
  std::string fused;     // e.g. "Relu6" when an activation is folded into the producer
  UnitKind unit = UnitKind::kMacArray;  // where it computes
  bool compute = true;                  // false for views (reshape, flatten) that move no data
  ir::Shape output_shape;
  int64_t macs = 0;        // graph MACs of the layer
  int64_t vector_ops = 0;  // graph vector work
  int64_t params = 0;
  // Decisions, shown per layer by `nax sim`.
  int64_t tiles = 0;            // compute commands
  int64_t folds = 0;            // MAC array folds (0 on the vector unit)
  std::string mapping;          // e.g. "ws K=144->5x32 M=96->3x32 T=12544 in 4 chunks, fold-outer"
  int64_t dram_read_bytes = 0;  // planned traffic
  int64_t dram_write_bytes = 0;
  int64_t weight_bytes = 0;
  bool input_on_chip = false;   // every input was resident in SRAM
  bool output_on_chip = false;  // the output stays in SRAM (false: spilled/stored to DRAM)
  int64_t sram_peak_bytes = 0;  // SRAM in use while this layer runs (resident + working set)
  // Added by the lowering (additive): the parts of sram_peak_bytes and its own estimate.
  int64_t working_set_bytes = 0;  // the layer's double-buffered tiles, caches and accumulators
  int64_t resident_bytes = 0;     // tensors kept in SRAM across this layer
  uint64_t est_cycles = 0;        // the lowering's cost-model estimate for the layer alone
};

struct Program {
  std::string model_name;
  std::string model_hash;
  std::string chip_name;
  std::string chip_hash;
  int dma_channels = 1;
  std::vector<Command> cmds;
  std::vector<LayerPlan> layers;
};

}  // namespace nax::hw
