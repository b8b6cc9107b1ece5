// The SystemC simulator: elaborated once per process, runs program after program, on any chip
// (a chip's parameters are applied per run; the module structure is fixed with up to
// kMaxDmaChannels DMA channels). Results are identical whether a program runs first or after
// others. This header has no SystemC include, so callers stay plain C++.
//
// Time: one cycle of the chip clock is one nanosecond of SystemC time (sc_time resolution 1 ns),
// whatever clock_mhz is; every cycle count below is relative to the start of its run (SystemC time
// keeps growing across runs). latency_ms = cycles / clock_mhz / 1000.
//
// How a run works (hw/sim/controller.cpp): the controller keeps, per unit, the head of its
// in-order queue and the earliest cycle it can issue (all dependencies done and the unit
// accepting); it repeatedly takes the earliest head (ties: MAC array, vector unit, DMA channel
// 0, 1, ...), sleeps until that cycle, and issues it. The unit computes the command's done cycle
// in closed form (hw/timing/) and makes its SRAM/DRAM requests as TLM-2.0 b_transport calls whose
// annotated delay comes from the memories' busy-until state. Shared resources are therefore
// served in global time order, and kernel activations grow with commands, never with cycles.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hw/chip/chip.hpp"
#include "hw/lower/program.hpp"

namespace nax::hw {

constexpr int kMaxDmaChannels = 64;

struct CommandTiming {
  Cycle issue = 0;   // the controller issued it (its SRAM requests arrive here); on the MAC array
                     // a new fold's preload starts here
  Cycle start = 0;   // the unit's main work began: the array's stream start; issue otherwise
  Cycle accept = 0;  // its unit's input is free from here: the array's stream end, the vector
                     // unit's last instruction issued, a DMA channel's transfer done
  Cycle done = 0;    // effects complete (unit done and SRAM requests served)
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
  std::string bound;  // "memory" when dma_busy_cycles > compute_busy_cycles, else "compute"
  int64_t dram_read_bytes = 0;
  int64_t dram_write_bytes = 0;
  int64_t sram_read_bytes = 0;
  int64_t sram_write_bytes = 0;
  double energy_uj = 0;  // dynamic energy of its commands (static energy only in the totals)
  int64_t commands = 0;
  int64_t compute_commands = 0;  // MAC array + vector unit commands (tiles)
  int64_t vector_element_ops = 0;
  Cycle compute_busy_cycles = 0;    // union of its compute commands' [issue, done) spans
  Cycle dma_busy_cycles = 0;        // union of its DMA commands' [issue, done) spans (any channel)
  uint64_t kernel_activations = 0;  // controller wake-ups that issued one of its commands
};

struct UnitResult {
  std::string name;        // "mac_array", "vector_unit", "dma.ch0", ...
  Cycle busy_cycles = 0;   // union of its commands' [issue, done) spans
  double utilization = 0;  // busy / total
  int64_t commands = 0;
};

// One named statistic (STYLE.md 7): hierarchical dotted name from the module tree.
struct Stat {
  std::string name;  // e.g. "npu.dma.ch0.busy_cycles"
  double value = 0;
  std::string unit;  // "cycles", "B", "pJ", ...
  std::string description;
};

struct RunResult {
  Cycle total_cycles = 0;
  double latency_ms = 0;
  int64_t macs = 0;  // graph MACs of the program's layers
  int64_t dram_read_bytes = 0;
  int64_t dram_write_bytes = 0;
  int64_t sram_read_bytes = 0;
  int64_t sram_write_bytes = 0;
  int64_t vector_element_ops = 0;
  double energy_uj = 0;
  struct Energy {
    double mac_uj = 0, sram_uj = 0, dram_uj = 0, vector_uj = 0, static_uj = 0;
  } energy;
  std::vector<LayerResult> layers;      // per Program::layers entry
  std::vector<UnitResult> units;        // MAC array, vector unit, each DMA channel of the chip
  std::vector<CommandTiming> commands;  // per Program::cmds entry
  uint64_t kernel_activations = 0;      // SystemC process activations during the run
  uint64_t delta_cycles = 0;            // SystemC delta cycles during the run (sc_delta_count)
  std::vector<Stat> stats;
};

// Not thread-safe: one run at a time (parallel simulation = worker processes, STYLE.md 4).
class Simulator {
 public:
  // The process-wide simulator (SystemC elaborates one design per process). The first call
  // elaborates it.
  static Simulator& instance();
  // Runs `program` on `chip`. Throws nax::Error when the program is malformed (a dependency on a
  // later command, a DMA channel the chip does not have, a layer index out of range, a program
  // lowered for another chip).
  RunResult run(const Program& program, const ChipParams& chip);

  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

 private:
  Simulator();
  struct Impl;
  Impl* m_impl;
};

// Checks a program against a chip (the checks run() makes); throws nax::Error naming the problem.
void validate_program(const Program& program, const ChipParams& chip);

}  // namespace nax::hw
