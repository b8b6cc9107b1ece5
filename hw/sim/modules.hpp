// The SystemC modules of the simulator (private to hw/sim/; simulator.hpp is the public API).
//
//   npu (Top)
//   |-- controller    Controller: SC_THREAD sequencer, one in-order queue per unit; issues the
//   |                 earliest issuable head in global time order (hw/sim/controller.cpp)
//   |-- mac_array     MacArray:   MacArrayTimer; SRAM requests through `sram_port`
//   |-- vector_unit   VectorUnit: VectorTimer;   SRAM requests through `sram_port`
//   |-- dma           DmaEngine:  kMaxDmaChannels DmaChannel modules `ch0`, `ch1`, ...; each
//   |                 transfer is one request on `sram_port` and one on `dram_port`
//   |-- sram          Sram: TLM-2.0 target, SramTimer (banks, ports, bytes per cycle)
//   `-- dram          Dram: TLM-2.0 target, DramBus (bandwidth, latency)
//
// No unit has a process and nothing runs per cycle: the controller is the only process. It wakes
// when the next command can issue, calls the unit through its UnitIf export; the unit computes
// the command's accept and done cycles in closed form (hw/timing/) and its memory requests are
// b_transport calls at the current simulated time whose annotated delay, computed by the target
// from its busy-until state, says when the request is done. Because every request is made at its
// issue time and the controller issues in global time order (issue cycle, then unit order), the
// shared SRAM and DRAM see their requests in exactly that order: contention is resolved without
// temporal decoupling.
//
// Sockets: every unit has simple_initiator_sockets; the SRAM and the DRAM have one
// multi_passthrough_target_socket each, since 66 initiators (the array, the vector unit, 64 DMA
// channels) bind to the SRAM and 64 to the DRAM (a simple_target_socket takes exactly one).
//
// Payloads are timing-only (no data; the data pointer is null). SRAM address = (buffer << 40) |
// (start_bank x bank_bytes_per_cycle): the SRAM interleaves banks every bank_bytes_per_cycle bytes,
// and buffer selects ifmap/weight/ofmap with a split organisation (0 with a unified one).
#pragma once

#include <systemc>
#include <tlm>

#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/simple_initiator_socket.h>

#include <cstdint>
#include <exception>
#include <optional>
#include <vector>

#include "hw/chip/chip.hpp"
#include "hw/lower/program.hpp"
#include "hw/sim/run_stats.hpp"
#include "hw/sim/simulator.hpp"
#include "hw/timing/timing.hpp"

namespace nax::hw::sim {

// Cycles of the current run <-> SystemC time. One cycle is one nanosecond of sc_time (the time
// resolution, set once before elaboration), so a cycle count is an sc_time value.
class RunClock {
 public:
  void start() { m_t0 = cycles(sc_core::sc_time_stamp()); }
  Cycle now() const { return cycles(sc_core::sc_time_stamp()) - m_t0; }
  static sc_core::sc_time span(Cycle c) { return sc_core::sc_time::from_value(c); }
  static Cycle cycles(const sc_core::sc_time& t) { return static_cast<Cycle>(t.value()); }

 private:
  Cycle m_t0 = 0;
};

constexpr int kSramBufferShift = 40;

// What the controller sees of a unit.
struct Issued {
  Cycle start = 0;   // main work began (the array's stream start)
  Cycle accept = 0;  // the unit's input is free (CommandTiming::accept)
  Cycle done = 0;    // the command's effects are complete
};

class UnitIf : public virtual sc_core::sc_interface {
 public:
  // Issues `cmd` now (the controller's current cycle); `ready` is the cycle its dependencies were
  // all done (<= now).
  virtual Issued issue(const Command& cmd, Cycle ready) = 0;
  // Earliest cycle the unit accepts `next` (the head of its queue).
  virtual Cycle accepts_at(const Command& next) const = 0;
};

// ------------------------------------------------------------------ memories (TLM-2.0 targets)

class Sram : public sc_core::sc_module {
 public:
  tlm_utils::multi_passthrough_target_socket<Sram> target;

  Sram(sc_core::sc_module_name name, const RunClock& clock);
  void begin_run(const ChipParams& chip);
  int buffers() const { return m_cfg.buffers; }
  int bank_bytes_per_cycle() const { return m_cfg.bank_bytes_per_cycle; }
  uint64_t requests() const { return m_requests; }
  uint64_t bytes() const { return m_bytes; }
  // Cycles requests waited beyond their contention-free time (port conflicts).
  uint64_t conflict_cycles() const { return m_conflict_cycles; }

 private:
  void b_transport(int initiator, tlm::tlm_generic_payload& p, sc_core::sc_time& delay);

  const RunClock& m_clock;
  SramConfig m_cfg;
  std::optional<SramTimer> m_timer;
  uint64_t m_requests = 0, m_bytes = 0, m_conflict_cycles = 0;
};

// A DRAM transfer carries the burst engine of the DMA channel that makes it: bursts are requested
// by the channel (setup, outstanding window) and timed by the bus burst by burst (hw/MACHINE.md),
// so the DRAM runs the channel's schedule against its bus, holding the bus for the whole transfer.
struct DmaTransferExt : tlm::tlm_extension<DmaTransferExt> {
  DmaChannelTimer* engine = nullptr;
  DmaTiming timing;
  tlm::tlm_extension_base* clone() const override { return new DmaTransferExt(*this); }
  void copy_from(const tlm::tlm_extension_base& e) override {
    *this = static_cast<const DmaTransferExt&>(e);
  }
};

class Dram : public sc_core::sc_module {
 public:
  tlm_utils::multi_passthrough_target_socket<Dram> target;

  Dram(sc_core::sc_module_name name, const RunClock& clock);
  void begin_run(const ChipParams& chip);
  uint64_t transfers() const { return m_transfers; }
  uint64_t read_bytes() const { return m_read_bytes; }
  uint64_t write_bytes() const { return m_write_bytes; }
  uint64_t bus_ticks() const { return m_bus_ticks; }  // data bus occupancy, 1/1024 cycle

 private:
  void b_transport(int initiator, tlm::tlm_generic_payload& p, sc_core::sc_time& delay);

  const RunClock& m_clock;
  std::optional<DramBus> m_bus;
  uint64_t m_transfers = 0, m_read_bytes = 0, m_write_bytes = 0, m_bus_ticks = 0;
};

// ------------------------------------------------------------------ units

// A unit's SRAM side: one timing-only request per buffer the command touches, all at the
// current cycle. Returns the cycle the last is done (now when there is none).
class SramRequester {
 public:
  SramRequester() { m_payload.set_data_ptr(nullptr); }
  void begin_run(int buffers, int bank_bytes_per_cycle) {
    m_buffers = buffers;
    m_bank_bytes = bank_bytes_per_cycle;
  }
  template <class Socket>
  Cycle request(Socket& socket, const SramAccess& a, Cycle now);

 private:
  tlm::tlm_generic_payload m_payload;
  int m_buffers = 1;
  int m_bank_bytes = 1;
};

class MacArray : public sc_core::sc_module, public UnitIf {
 public:
  sc_core::sc_export<UnitIf> ctrl;
  tlm_utils::simple_initiator_socket<MacArray> sram_port;

  MacArray(sc_core::sc_module_name name, const RunClock& clock);
  void begin_run(const ChipParams& chip, const Sram& sram);
  Issued issue(const Command& cmd, Cycle ready) override;
  // A new fold is accepted while the current one streams (its preload overlaps).
  Cycle accepts_at(const Command& next) const override {
    return m_timer->accepts_at(next.array.seg);
  }

 private:
  const RunClock& m_clock;
  std::optional<MacArrayTimer> m_timer;
  SramRequester m_sram;
};

class VectorUnit : public sc_core::sc_module, public UnitIf {
 public:
  sc_core::sc_export<UnitIf> ctrl;
  tlm_utils::simple_initiator_socket<VectorUnit> sram_port;

  VectorUnit(sc_core::sc_module_name name, const RunClock& clock);
  void begin_run(const ChipParams& chip, const Sram& sram);
  Issued issue(const Command& cmd, Cycle ready) override;
  Cycle accepts_at(const Command&) const override { return m_timer->accepts_at(); }

 private:
  const RunClock& m_clock;
  std::optional<VectorTimer> m_timer;
  SramRequester m_sram;
};

class DmaChannel : public sc_core::sc_module, public UnitIf {
 public:
  sc_core::sc_export<UnitIf> ctrl;
  tlm_utils::simple_initiator_socket<DmaChannel> sram_port;
  tlm_utils::simple_initiator_socket<DmaChannel> dram_port;

  DmaChannel(sc_core::sc_module_name name, const RunClock& clock);
  void begin_run(const ChipParams& chip, const Sram& sram);
  Issued issue(const Command& cmd, Cycle ready) override;
  // The channel runs one transfer at a time: free once the last is done (bursts landed and its
  // SRAM request served).
  Cycle accepts_at(const Command&) const override { return m_free; }

 private:
  const RunClock& m_clock;
  std::optional<DmaChannelTimer> m_engine;
  SramRequester m_sram;
  tlm::tlm_generic_payload m_payload;
  DmaTransferExt m_ext;
  Cycle m_free = 0;
};

class DmaEngine : public sc_core::sc_module {
 public:
  sc_core::sc_vector<DmaChannel> ch;

  DmaEngine(sc_core::sc_module_name name, const RunClock& clock);
};

// ------------------------------------------------------------------ controller and top

class Controller : public sc_core::sc_module {
 public:
  // Bound in unit order: MAC array, vector unit, DMA channel 0, 1, ... (the tie-break order).
  sc_core::sc_port<UnitIf, 0> units;

  SC_HAS_PROCESS(Controller);
  Controller(sc_core::sc_module_name name, RunClock& clock);

  // Arms the next run; the thread runs it once `start` fires and calls sc_pause() when done.
  void begin_run(const Program& program);
  sc_core::sc_event start;
  RunTrace take_trace() { return std::move(m_trace); }
  // An exception thrown while running (rethrown by Simulator::run).
  std::exception_ptr error() const { return m_error; }

 private:
  void main();
  void execute();

  RunClock& m_clock;
  const Program* m_program = nullptr;
  RunTrace m_trace;
  std::exception_ptr m_error;
};

class Top : public sc_core::sc_module {
 public:
  RunClock clock;
  Controller controller;
  MacArray mac_array;
  VectorUnit vector_unit;
  DmaEngine dma;
  Sram sram;
  Dram dram;

  explicit Top(sc_core::sc_module_name name);
  void begin_run(const Program& program, const ChipParams& chip);
};

}  // namespace nax::hw::sim
