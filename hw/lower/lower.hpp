// Lowering: graph + chip -> program (plain C++, no SystemC). See hw/MACHINE.md for the machine and
// hw/lower/lower.cpp's header comment for the algorithm (grouping, tiling, on-chip residency).
#pragma once

#include "hw/chip/chip.hpp"
#include "hw/lower/program.hpp"
#include "models/ir/graph.hpp"

namespace nax::hw {

struct LowerOptions {
  // Keep intermediate tensors in SRAM when they fit (false: every layer reads its inputs from
  // and writes its output to DRAM, as a layer-by-layer accelerator without on-chip reuse).
  bool keep_on_chip = true;
};

// Throws InputError naming the layer, the bytes its smallest legal tile needs and the bytes
// available when a layer cannot be tiled into the chip's SRAM.
Program lower(const ir::Graph& g, const ChipParams& chip, const LowerOptions& opt = {});

}  // namespace nax::hw
