// The SystemC simulator: elaborated once per process, runs program after program, on any chip
// (a chip's parameters are applied per run; the module structure is fixed with up to
// kMaxDmaChannels DMA channels). Results are identical whether a program runs first or after
// others. This header has no SystemC include, so callers stay plain C++.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hw/chip/chip.hpp"
#include "hw/lower/program.hpp"

namespace nax::hw {

constexpr int kMaxDmaChannels = 64;

struct CommandTiming {
  Cycle issue = 0;
  Cycle done = 0;
};

struct LayerResult {
  std::string name;
  std::string op;
  Cycle start_cycle = 0;  // first command of the layer issued
  Cycle end_cycle = 0;    // last command of the layer done
  Cycle cycles = 0;       // end - start
  int64_t macs = 0;
  double utilization =
      0;  // MACs / (cycles x rows x cols); vector layers: element ops / (cycles x lanes)
  std::string bound;  // "compute" or "memory"
  int64_t dram_read_bytes = 0;
  int64_t dram_write_bytes = 0;
  int64_t sram_read_bytes = 0;
  int64_t sram_write_bytes = 0;
  double energy_uj = 0;
};

struct UnitResult {
  std::string name;  // "mac_array", "vector_unit", "dma.ch0", ...
  Cycle busy_cycles = 0;
  double utilization = 0;  // busy / total
};

struct RunResult {
  Cycle total_cycles = 0;
  double latency_ms = 0;
  int64_t macs = 0;
  int64_t dram_read_bytes = 0;
  int64_t dram_write_bytes = 0;
  int64_t sram_read_bytes = 0;
  int64_t sram_write_bytes = 0;
  double energy_uj = 0;
  struct Energy {
    double mac_uj = 0, sram_uj = 0, dram_uj = 0, vector_uj = 0, static_uj = 0;
  } energy;
  std::vector<LayerResult> layers;
  std::vector<UnitResult> units;
  std::vector<CommandTiming> commands;  // per Program::cmds entry
  uint64_t kernel_activations = 0;      // SystemC process activations during the run
};

class Simulator {
 public:
  // The process-wide simulator (SystemC elaborates one design per process).
  static Simulator& instance();
  RunResult run(const Program& program, const ChipParams& chip);

 private:
  Simulator();
  struct Impl;
  Impl* m_impl;
};

}  // namespace nax::hw
