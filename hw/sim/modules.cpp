// The units and memories of the simulator (see modules.hpp for the structure).
#include "hw/sim/modules.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace nax::hw::sim {

using sc_core::sc_module_name;
using sc_core::sc_time;

// ------------------------------------------------------------------ SRAM

Sram::Sram(sc_module_name name, const RunClock& clock)
    : sc_module(name), target("target"), m_clock(clock) {
  target.register_b_transport(this, &Sram::b_transport);
}

void Sram::begin_run(const ChipParams& chip) {
  m_cfg = SramConfig::from_chip(chip);
  m_timer.emplace(m_cfg);
  m_requests = m_bytes = m_conflict_cycles = 0;
}

void Sram::b_transport(int, tlm::tlm_generic_payload& p, sc_time& delay) {
  const Cycle now = m_clock.now();
  const uint64_t addr = p.get_address();
  SramRequest req;
  req.arrival = now + RunClock::cycles(delay);
  req.bytes = p.get_data_length();
  req.buffer = static_cast<int>(addr >> kSramBufferShift);
  const uint64_t offset = addr & ((uint64_t{1} << kSramBufferShift) - 1);
  req.start_bank = static_cast<int>((offset / static_cast<uint64_t>(m_cfg.bank_bytes_per_cycle)) %
                                    static_cast<uint64_t>(m_cfg.banks));
  const Cycle done = m_timer->serve(req);
  // Without conflicts, the beats spread over the banks' ports one per port per cycle.
  const int64_t w = m_cfg.bank_bytes_per_cycle;
  const int64_t beats = (req.bytes + w - 1) / w;
  const int64_t lanes = int64_t{m_cfg.banks} * m_cfg.ports_per_bank;
  const Cycle free_done = req.arrival + static_cast<Cycle>((beats + lanes - 1) / lanes);
  if (done > free_done) m_conflict_cycles += done - free_done;
  ++m_requests;
  m_bytes += static_cast<uint64_t>(req.bytes);
  delay = RunClock::span(done - now);
  p.set_response_status(tlm::TLM_OK_RESPONSE);
}

template <class Socket>
Cycle SramRequester::request(Socket& socket, const SramAccess& a, Cycle now) {
  Cycle done = now;
  auto one = [&](int buffer, int64_t bytes) {
    if (bytes <= 0) return;
    m_payload.set_command(a.write_bytes > a.read_bytes ? tlm::TLM_WRITE_COMMAND
                                                       : tlm::TLM_READ_COMMAND);
    m_payload.set_address((static_cast<uint64_t>(buffer) << kSramBufferShift) |
                          static_cast<uint64_t>(a.start_bank) *
                              static_cast<uint64_t>(m_bank_bytes));
    m_payload.set_data_length(static_cast<unsigned>(bytes));
    m_payload.set_streaming_width(static_cast<unsigned>(bytes));
    m_payload.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_time delay = sc_core::SC_ZERO_TIME;  // the request arrives now
    socket->b_transport(m_payload, delay);
    done = std::max(done, now + RunClock::cycles(delay));
  };
  if (m_buffers == 1) {
    one(0, a.total());
  } else {
    for (int b = 0; b < 3; ++b) one(b, a.bytes[b]);
  }
  return done;
}

// ------------------------------------------------------------------ DRAM

Dram::Dram(sc_module_name name, const RunClock& clock)
    : sc_module(name), target("target"), m_clock(clock) {
  target.register_b_transport(this, &Dram::b_transport);
}

void Dram::begin_run(const ChipParams& chip) {
  m_bus.emplace(DramConfig::from_chip(chip));
  m_transfers = m_read_bytes = m_write_bytes = m_bus_ticks = 0;
}

void Dram::b_transport(int, tlm::tlm_generic_payload& p, sc_time& delay) {
  const Cycle now = m_clock.now();
  DmaTransferExt* ext = nullptr;
  p.get_extension(ext);
  const int64_t bytes = p.get_data_length();
  const Cycle arrival = now + RunClock::cycles(delay);
  ext->timing = ext->engine->run(bytes, arrival, *m_bus);
  ++m_transfers;
  (p.is_write() ? m_write_bytes : m_read_bytes) += static_cast<uint64_t>(bytes);
  m_bus_ticks += m_bus->config().ticks(bytes);
  delay = RunClock::span(std::max(ext->timing.done, arrival) - now);
  p.set_response_status(tlm::TLM_OK_RESPONSE);
}

// ------------------------------------------------------------------ MAC array

MacArray::MacArray(sc_module_name name, const RunClock& clock)
    : sc_module(name), ctrl("ctrl"), sram_port("sram_port"), m_clock(clock) {
  ctrl.bind(*this);
}

void MacArray::begin_run(const ChipParams& chip, const Sram& sram) {
  m_timer.emplace(ArrayConfig::from_chip(chip));
  m_sram.begin_run(sram.buffers(), sram.bank_bytes_per_cycle());
}

Issued MacArray::issue(const Command& cmd, Cycle ready) {
  const Cycle now = m_clock.now();
  const ArrayTiming t = m_timer->run(cmd.array.seg, ready);
  if (t.issue != now) throw std::logic_error("mac_array: issued at a cycle the array rejects");
  const Cycle sram_done = m_sram.request(sram_port, cmd.sram, now);
  return {t.stream_start, t.stream_end, std::max(t.done, sram_done)};
}

// ------------------------------------------------------------------ vector unit

VectorUnit::VectorUnit(sc_module_name name, const RunClock& clock)
    : sc_module(name), ctrl("ctrl"), sram_port("sram_port"), m_clock(clock) {
  ctrl.bind(*this);
}

void VectorUnit::begin_run(const ChipParams& chip, const Sram& sram) {
  m_timer.emplace(chip.vector_unit.lanes, chip.vector_unit.pipeline_latency_cycles);
  m_sram.begin_run(sram.buffers(), sram.bank_bytes_per_cycle());
}

Issued VectorUnit::issue(const Command& cmd, Cycle ready) {
  const Cycle now = m_clock.now();
  const VectorTiming t = m_timer->run(cmd.vector.issues, ready);
  if (t.start != now) throw std::logic_error("vector_unit: issued while busy");
  const Cycle sram_done = m_sram.request(sram_port, cmd.sram, now);
  return {t.start, t.accept, std::max(t.done, sram_done)};
}

// ------------------------------------------------------------------ DMA

DmaChannel::DmaChannel(sc_module_name name, const RunClock& clock)
    : sc_module(name),
      ctrl("ctrl"),
      sram_port("sram_port"),
      dram_port("dram_port"),
      m_clock(clock) {
  ctrl.bind(*this);
  m_payload.set_data_ptr(nullptr);
  m_payload.set_extension(&m_ext);
}

void DmaChannel::begin_run(const ChipParams& chip, const Sram& sram) {
  m_engine.emplace(DmaConfig::from_chip(chip));
  m_ext.engine = &*m_engine;
  m_sram.begin_run(sram.buffers(), sram.bank_bytes_per_cycle());
  m_free = 0;
}

Issued DmaChannel::issue(const Command& cmd, Cycle ready) {
  (void)ready;  // the transfer starts now: the controller issues it once the channel is free
  const Cycle now = m_clock.now();
  const Cycle sram_done = m_sram.request(sram_port, cmd.sram, now);
  m_payload.set_command(cmd.dma.store ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
  m_payload.set_address(0);
  m_payload.set_data_length(static_cast<unsigned>(cmd.dma.bytes));
  m_payload.set_streaming_width(static_cast<unsigned>(cmd.dma.bytes));
  m_payload.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  sc_time delay = sc_core::SC_ZERO_TIME;
  dram_port->b_transport(m_payload, delay);
  const Cycle done = std::max(now + RunClock::cycles(delay), sram_done);
  m_free = done;
  return {now, done, done};
}

DmaEngine::DmaEngine(sc_module_name name, const RunClock& clock) : sc_module(name), ch("ch") {
  ch.init(kMaxDmaChannels, [&clock](const char*, size_t i) {
    return new DmaChannel(("ch" + std::to_string(i)).c_str(), clock);
  });
}

}  // namespace nax::hw::sim
