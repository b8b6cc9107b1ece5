// Statistics of a run from its per-command timing (plain C++, no SystemC): per layer, per unit,
// energy (hw/MACHINE.md) and the hierarchical stats dump.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hw/chip/chip.hpp"
#include "hw/lower/program.hpp"
#include "hw/sim/simulator.hpp"

namespace nax::hw::sim {

// Unit order index of a command: 0 MAC array, 1 vector unit, 2 + c DMA channel c.
inline int unit_index(const Command& c) {
  switch (c.unit) {
    case UnitKind::kMacArray:
      return 0;
    case UnitKind::kVector:
      return 1;
    case UnitKind::kDma:
      return 2 + c.channel;
  }
  return 0;
}

// What one run of the controller produced.
struct RunTrace {
  std::vector<CommandTiming> commands;      // per Program::cmds entry
  std::vector<uint64_t> layer_activations;  // per Program::layers entry
  uint64_t activations = 0;                 // every resumption of the controller during the run
  Cycle end = 0;                            // last done
};

// Counters the memories keep during a run.
struct MemoryCounters {
  uint64_t sram_requests = 0;
  uint64_t sram_bytes = 0;
  uint64_t sram_conflict_cycles = 0;
  uint64_t dram_transfers = 0;
  uint64_t dram_bus_ticks = 0;
};

// `top` is the name of the top module ("npu"), the root of the stats names.
RunResult summarize(const Program& program, const ChipParams& chip, RunTrace trace,
                    const MemoryCounters& mem, const std::string& top);

// Cycles covered by the union of spans [first, second) (sorted in place).
Cycle union_cycles(std::vector<std::pair<Cycle, Cycle>>& spans);

}  // namespace nax::hw::sim
