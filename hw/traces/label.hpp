// Ground-truth labels for the estimator: a network is lowered and simulated once, and each unit of
// its decomposition (models/estimate/unit.hpp) gets the cycles, traffic and energy of the lowered
// layers it contains. Layers run one after another (the lowering separates them by a barrier), so
// their spans partition the run: the units' cycles add up to the network's exactly, and each
// unit is labelled in its real context (input resident in SRAM or not, output kept or spilled).
#pragma once

#include <cstdint>
#include <vector>

#include "hw/chip/chip.hpp"
#include "models/estimate/unit.hpp"
#include "models/ir/graph.hpp"

namespace nax::hw {

struct UnitLabel {
  est::Unit unit;
  bool input_on_chip = false;   // every input of the unit's first layer was resident in SRAM
  bool output_on_chip = false;  // the unit's last layer kept its output in SRAM
  uint64_t cycles = 0;
  int64_t dram_read_bytes = 0;
  int64_t dram_write_bytes = 0;
  double energy_uj = 0;  // dynamic energy of its commands + static power over its cycles
};

struct NetworkLabel {
  std::string model_hash;
  std::string chip_hash;
  uint64_t total_cycles = 0;
  double energy_uj = 0;
  std::vector<UnitLabel> units;
};

est::DecomposeOptions decompose_options(const ChipParams& chip);

// Lowers and simulates `g` on `chip` (through Simulator::instance()) and labels its units.
NetworkLabel label_network(const ir::Graph& g, const ChipParams& chip);

}  // namespace nax::hw
