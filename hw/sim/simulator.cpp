// The process-wide simulator: elaborates the Top once, then runs program after program with
// repeated sc_start() / sc_pause() (never sc_stop(): a stopped kernel cannot start again).
// Each run rebuilds every unit's and memory's timing state from the chip, so a program gives the
// same result first or after any others; SystemC time keeps growing across runs and every cycle
// count is taken relative to the run's start.
#include "hw/sim/simulator.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <limits>

#include "hw/sim/modules.hpp"
#include "hw/sim/run_stats.hpp"
#include "models/common/error.hpp"

// libsystemc's own main() calls sc_main; every program linking libsystemc must define it, even
// with a main of its own. Any binary that uses the simulator gets this one (weak, so a test or tool
// that defines its own still links).
extern "C" __attribute__((weak)) int sc_main(int, char**) {
  return 0;
}

namespace nax::hw {

namespace sim {

Top::Top(sc_core::sc_module_name name)
    : sc_module(name),
      controller("controller", clock),
      mac_array("mac_array", clock),
      vector_unit("vector_unit", clock),
      dma("dma", clock),
      sram("sram", clock),
      dram("dram", clock) {
  // Unit order = port order = the tie-break order of hw/MACHINE.md.
  controller.units(mac_array.ctrl);
  controller.units(vector_unit.ctrl);
  for (auto& ch : dma.ch) controller.units(ch.ctrl);
  mac_array.sram_port.bind(sram.target);
  vector_unit.sram_port.bind(sram.target);
  for (auto& ch : dma.ch) {
    ch.sram_port.bind(sram.target);
    ch.dram_port.bind(dram.target);
  }
}

void Top::begin_run(const Program& program, const ChipParams& chip) {
  sram.begin_run(chip);
  dram.begin_run(chip);
  mac_array.begin_run(chip, sram);
  vector_unit.begin_run(chip, sram);
  for (auto& ch : dma.ch) ch.begin_run(chip, sram);
  controller.begin_run(program);
}

}  // namespace sim

void validate_program(const Program& program, const ChipParams& chip) {
  if (!program.chip_hash.empty() && program.chip_hash != chip.hash) {
    throw Error(fmt::format("program was lowered for chip {} (hash {}), not {} (hash {})",
                            program.chip_name, program.chip_hash, chip.name, chip.hash));
  }
  const int channels = std::min(chip.dma.channels, kMaxDmaChannels);
  if (chip.dma.channels > kMaxDmaChannels) {
    throw Error(fmt::format("chip {}: dma.channels = {}: the simulator has at most {}", chip.name,
                            chip.dma.channels, kMaxDmaChannels));
  }
  constexpr int64_t kMaxRequestBytes = std::numeric_limits<unsigned>::max();
  for (size_t i = 0; i < program.cmds.size(); ++i) {
    const Command& c = program.cmds[i];
    auto bad = [&](const std::string& what) {
      return Error(fmt::format("program command {}: {}", i, what));
    };
    switch (c.unit) {
      case UnitKind::kMacArray: {
        const ArraySegment& s = c.array.seg;
        if (s.rows_used < 1 || s.rows_used > chip.mac_array.rows || s.cols_used < 1 ||
            s.cols_used > chip.mac_array.cols || s.vectors < 1)
          throw bad(fmt::format("array segment {}x{} T={} does not fit the {}x{} array",
                                s.rows_used, s.cols_used, s.vectors, chip.mac_array.rows,
                                chip.mac_array.cols));
        break;
      }
      case UnitKind::kVector:
        if (c.vector.issues < 0) throw bad("negative vector issue count");
        break;
      case UnitKind::kDma:
        if (c.channel < 0 || c.channel >= channels)
          throw bad(fmt::format("DMA channel {} (chip {} has {})", c.channel, chip.name, channels));
        if (c.dma.bytes < 0 || c.dma.bytes > kMaxRequestBytes)
          throw bad(fmt::format("DMA transfer of {} bytes", c.dma.bytes));
        break;
      default:
        throw bad("unknown unit");
    }
    for (uint32_t d : c.deps)
      if (d >= i) throw bad(fmt::format("depends on command {}, which is not earlier", d));
    if (c.layer < -1 || c.layer >= static_cast<int>(program.layers.size()))
      throw bad(fmt::format("layer {} out of range", c.layer));
    if (c.sram.start_bank < 0) throw bad("negative SRAM start bank");
    for (int64_t b : c.sram.bytes)
      if (b < 0 || b > kMaxRequestBytes) throw bad(fmt::format("SRAM request of {} bytes", b));
    if (chip.sram.organization == SramOrganization::kUnified && c.sram.total() > kMaxRequestBytes)
      throw bad(fmt::format("SRAM request of {} bytes", c.sram.total()));
  }
}

struct Simulator::Impl {
  sim::Top* top = nullptr;
  bool started = false;  // elaboration ended (first sc_start)
};

Simulator& Simulator::instance() {
  static Simulator s;
  return s;
}

Simulator::Simulator() : m_impl(new Impl) {
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO,
                                          sc_core::SC_DO_NOTHING);
  sc_core::sc_set_time_resolution(1, sc_core::SC_NS);  // one cycle = 1 ns of sc_time
  m_impl->top = new sim::Top("npu");                   // lives as long as the process
}

RunResult Simulator::run(const Program& program, const ChipParams& chip) {
  validate_program(program, chip);
  if (!m_impl->started) {
    // End elaboration at the first valid run, not in the constructor: until the kernel first
    // switches to its coroutines, exceptions (rejected programs) keep AddressSanitizer's view of
    // the main stack intact (google/sanitizers#189).
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
    m_impl->started = true;
  }
  sim::Top& top = *m_impl->top;
  top.begin_run(program, chip);
  const uint64_t deltas = sc_core::sc_delta_count();
  top.controller.start.notify(sc_core::SC_ZERO_TIME);
  sc_core::sc_start();  // returns when the controller calls sc_pause()
  if (auto err = top.controller.error()) std::rethrow_exception(err);
  sim::RunTrace trace = top.controller.take_trace();
  sim::MemoryCounters mem;
  mem.sram_requests = top.sram.requests();
  mem.sram_bytes = top.sram.bytes();
  mem.sram_conflict_cycles = top.sram.conflict_cycles();
  mem.dram_transfers = top.dram.transfers();
  mem.dram_bus_ticks = top.dram.bus_ticks();
  RunResult r = sim::summarize(program, chip, std::move(trace), mem, top.name());
  r.delta_cycles = sc_core::sc_delta_count() - deltas;
  return r;
}

}  // namespace nax::hw
