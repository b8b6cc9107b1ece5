// Closed-form timing of the SRAM banks, the DRAM bus and the DMA channels (hw/MACHINE.md).
//
// SRAM: a request's beats are striped over the banks, so bank b gets floor(beats / B) beats plus
// one for the first beats mod B banks after the start bank; on each bank the beats go, in order,
// to the earliest-free port (water-filling over its p <= 4 ports, kept sorted). A request that
// finds its buffer idle needs no per-bank state at all: it is kept lazily and materialised only
// when a later request arrives before it is finished.
//
// DMA: bursts follow the recurrences of hw/MACHINE.md one by one, but the loop stops early, and
// exactly, in the two steady states a long transfer settles into:
//  - bandwidth-bound: every burst starts when the previous one leaves the bus. Once O - 1
//    consecutive bursts did, with a burst taking at least a cycle on the bus (d >= 1024 ticks) and
//    (O - 1) d >= (Ld + 1) 1024 - 1 (the window covers the latency), every later burst does too:
//    its request is at most one cycle after the previous one's, and the burst O back completed
//    at most ceil(.) - . < 1 cycle after it left the bus, (O - 1) d ticks before the bus frees.
//  - periodic: the burst schedule is a shift-invariant map of the state (last request, last bus
//    end, last O completions). When O consecutive bursts each moved exactly delta cycles from the
//    burst O earlier (request, completion, and bus end by delta x 1024 ticks), the state repeats
//    shifted by delta, and so does every later burst: burst j is burst j - kO plus k delta.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "hw/timing/timing.hpp"

namespace nax::hw {

namespace {

inline Cycle cmax(Cycle a, Cycle b) {
  return a > b ? a : b;
}

// ceil(x) of a nonnegative double that should be an integer when the decimal inputs say so: a
// value within a relative 1e-9 of a positive integer is that integer.
uint64_t snapped_ceil(double x) {
  const double r = std::nearbyint(x);
  if (r > 0 && std::fabs(x - r) <= 1e-9 * r) return static_cast<uint64_t>(r);
  return static_cast<uint64_t>(std::ceil(x));
}

}  // namespace

// ---------------------------------------------------------------- SRAM

SramConfig SramConfig::from_chip(const ChipParams& chip) {
  SramConfig c;
  c.banks = chip.sram.banks;
  c.ports_per_bank = chip.sram.ports_per_bank;
  c.bank_bytes_per_cycle = chip.sram.bank_bytes_per_cycle;
  c.buffers = chip.sram.organization == SramOrganization::kSplit ? 3 : 1;
  c.ideal = chip.sram.ideal;
  return c;
}

SramTimer::SramTimer(const SramConfig& cfg) : m_cfg(cfg) {
  if (cfg.banks < 1 || cfg.ports_per_bank < 1 || cfg.bank_bytes_per_cycle < 1 || cfg.buffers < 1) {
    throw std::invalid_argument("SramConfig: banks, ports, bytes per cycle and buffers >= 1");
  }
  reset();
}

void SramTimer::reset() {
  m_port_free.assign(static_cast<size_t>(m_cfg.buffers) * static_cast<size_t>(m_cfg.banks) *
                         static_cast<size_t>(m_cfg.ports_per_bank),
                     0);
  m_state.assign(static_cast<size_t>(m_cfg.buffers), BufferState{});
  m_last_arrival = 0;
}

namespace {

// Assigns n >= 1 beats arriving at `a` to a bank's ports (free times f[0..p), sorted ascending),
// each to the earliest-free one; keeps f sorted; returns the cycle the last beat is done.
Cycle fill_ports(Cycle* f, int p, Cycle a, Cycle n) {
  if (p == 1) {
    f[0] = cmax(a, f[0]) + n;
    return f[0];
  }
  for (int i = 0; i < p; ++i) f[i] = cmax(a, f[i]);
  // The first k ports are raised to a common level (water-filling); port k joins only when the
  // beats left would lift the first k above its free time.
  int k = 1;
  Cycle sum = f[0];
  while (k < p && n > f[k] * static_cast<Cycle>(k) - sum) sum += f[k++];
  const Cycle total = n + sum;
  const Cycle h = total / static_cast<Cycle>(k);
  const int extra = static_cast<int>(total % static_cast<Cycle>(k));
  for (int i = 0; i < k - extra; ++i) f[i] = h;
  for (int i = k - extra; i < k; ++i) f[i] = h + 1;
  return extra > 0 ? h + 1 : h;
}

}  // namespace

void SramTimer::materialize(int buffer) {
  BufferState& st = m_state[static_cast<size_t>(buffer)];
  if (!st.lazy) return;
  const int B = m_cfg.banks, p = m_cfg.ports_per_bank;
  Cycle* base =
      &m_port_free[static_cast<size_t>(buffer) * static_cast<size_t>(B) * static_cast<size_t>(p)];
  for (int b = 0; b < B; ++b) {
    const int rel = (b - st.lazy_start + B) % B;
    const Cycle n = static_cast<Cycle>(st.lazy_full + (rel < st.lazy_rem ? 1 : 0));
    const Cycle h = st.lazy_arrival + n / static_cast<Cycle>(p);
    const int extra = static_cast<int>(n % static_cast<Cycle>(p));
    Cycle* f = base + static_cast<size_t>(b) * static_cast<size_t>(p);
    for (int i = 0; i < p - extra; ++i) f[i] = h;
    for (int i = p - extra; i < p; ++i) f[i] = h + 1;
  }
  st.lazy = false;
}

Cycle SramTimer::serve(const SramRequest& req) {
  if (req.buffer < 0 || req.buffer >= m_cfg.buffers || req.start_bank < 0 ||
      req.start_bank >= m_cfg.banks || req.bytes < 0) {
    throw std::invalid_argument("SramTimer::serve: buffer " + std::to_string(req.buffer) +
                                ", start bank " + std::to_string(req.start_bank) + ", bytes " +
                                std::to_string(req.bytes) + " out of range");
  }
  if (req.arrival < m_last_arrival) {
    throw std::invalid_argument("SramTimer::serve: arrival " + std::to_string(req.arrival) +
                                " before the previous request's " + std::to_string(m_last_arrival) +
                                " (requests in time order)");
  }
  m_last_arrival = req.arrival;
  if (req.bytes == 0 || m_cfg.ideal) return req.arrival;
  const int B = m_cfg.banks, p = m_cfg.ports_per_bank;
  const int64_t w = m_cfg.bank_bytes_per_cycle;
  const int64_t beats = (req.bytes + w - 1) / w;
  const int64_t full = beats / B, rem = beats % B;
  BufferState& st = m_state[static_cast<size_t>(req.buffer)];
  const Cycle a = req.arrival;
  if (a >= st.max_free) {
    // Every port is free: the busiest bank (full + 1 beats if any got one more) decides.
    const Cycle most = static_cast<Cycle>(full + (rem > 0 ? 1 : 0));
    const Cycle done = a + (most + static_cast<Cycle>(p) - 1) / static_cast<Cycle>(p);
    st.lazy = true;
    st.lazy_arrival = a;
    st.lazy_full = full;
    st.lazy_rem = rem;
    st.lazy_start = req.start_bank;
    st.max_free = done;
    return done;
  }
  materialize(req.buffer);
  Cycle* base = &m_port_free[static_cast<size_t>(req.buffer) * static_cast<size_t>(B) *
                             static_cast<size_t>(p)];
  const int64_t touched = std::min<int64_t>(beats, B);
  Cycle done = a;
  int bank = req.start_bank;
  for (int64_t j = 0; j < touched; ++j) {
    const Cycle n = static_cast<Cycle>(full + (j < rem ? 1 : 0));
    done =
        cmax(done, fill_ports(base + static_cast<size_t>(bank) * static_cast<size_t>(p), p, a, n));
    if (++bank == B) bank = 0;
  }
  st.max_free = cmax(st.max_free, done);
  return done;
}

// ---------------------------------------------------------------- DRAM

DramConfig DramConfig::from_chip(const ChipParams& chip) {
  DramConfig c;
  c.ideal = chip.dram.ideal;
  c.bytes_per_cycle = chip.dram.bandwidth_gb_per_s * 1000.0 / chip.clock_mhz;
  c.latency_cycles = snapped_ceil(chip.dram.latency_ns * chip.clock_mhz / 1000.0);
  return c;
}

uint64_t DramConfig::ticks(int64_t bytes) const {
  if (ideal || bytes <= 0) return 0;
  return snapped_ceil(static_cast<double>(bytes) * static_cast<double>(kTicksPerCycle) /
                      bytes_per_cycle);
}

DmaConfig DmaConfig::from_chip(const ChipParams& chip) {
  DmaConfig c;
  c.burst_bytes = chip.dma.burst_bytes;
  c.setup_cycles = chip.dma.setup_cycles;
  c.max_outstanding = chip.dma.max_outstanding;
  return c;
}

void DramBus::begin_transfer(Cycle issue) {
  if (issue < m_last_issue) {
    throw std::logic_error("DramBus: transfer issued at cycle " + std::to_string(issue) +
                           " after one issued at " + std::to_string(m_last_issue) +
                           " (transfers must start in global time order)");
  }
  m_last_issue = issue;
}

// ---------------------------------------------------------------- DMA channel

DmaChannelTimer::DmaChannelTimer(const DmaConfig& cfg) : m_cfg(cfg) {
  if (cfg.burst_bytes < 1 || cfg.setup_cycles < 0 || cfg.max_outstanding < 1) {
    throw std::invalid_argument(
        "DmaConfig: burst_bytes >= 1, setup_cycles >= 0, "
        "max_outstanding >= 1");
  }
  const size_t o = static_cast<size_t>(cfg.max_outstanding);
  m_burst_done.assign(o, 0);
  m_burst_request.assign(o, 0);
  m_burst_end.assign(o, 0);
}

DmaTiming DmaChannelTimer::run(int64_t bytes, Cycle ready, DramBus& bus) {
  if (bytes < 0) throw std::invalid_argument("DmaChannelTimer::run: negative byte count");
  DmaTiming r;
  const Cycle t = cmax(ready, m_free);
  r.start = r.first_data = r.done = t;
  if (bytes == 0 || bus.config().ideal) {
    m_free = t;
    return r;
  }
  const DramConfig& dram = bus.config();
  if (!(dram.bytes_per_cycle > 0)) {
    throw std::invalid_argument("DmaChannelTimer::run: DRAM bandwidth must be positive");
  }
  bus.begin_transfer(t);
  constexpr uint64_t K = kTicksPerCycle;
  const int64_t burst = m_cfg.burst_bytes;
  const int64_t n = (bytes + burst - 1) / burst;
  const uint64_t d = dram.ticks(burst);
  const uint64_t d_last = dram.ticks(bytes - (n - 1) * burst);
  const Cycle ld = dram.latency_cycles;
  const int64_t O = m_cfg.max_outstanding;
  const Cycle first_request = t + static_cast<Cycle>(m_cfg.setup_cycles);
  // The bandwidth-bound steady state can only hold when each burst needs >= 1 cycle of bus and
  // the window covers the latency (see the top of this file).
  const bool bw_steady_possible = d >= K && static_cast<uint64_t>(O - 1) * d + 1 >= (ld + 1) * K;

  uint64_t prev_end = bus.free_tick();
  Cycle prev_q = 0;
  int64_t bw_run = 0;      // consecutive bursts (ending at i) that started when the bus freed
  int64_t period_run = 0;  // consecutive bursts (ending at i) that moved by `delta` from i - O
  Cycle delta = 0;
  for (int64_t i = 0; i < n; ++i) {
    const size_t slot = static_cast<size_t>(i % O);
    Cycle q = i == 0 ? first_request : prev_q + 1;
    if (i >= O) q = cmax(q, m_burst_done[slot]);  // c_{i-O}
    const uint64_t avail = (q + ld) * K;
    const uint64_t start = std::max(avail, prev_end);
    const bool last = i == n - 1;
    const uint64_t end = start + (last ? d_last : d);
    const Cycle c = (end + K - 1) / K;
    if (i == 0) r.first_data = start / K;
    if (!last) {
      bw_run = start == prev_end ? bw_run + 1 : 0;
      if (i >= O) {
        const Cycle dc = c - m_burst_done[slot];
        const bool ok = end - m_burst_end[slot] == dc * K && q - m_burst_request[slot] == dc;
        if (!ok) {
          period_run = 0;
        } else if (period_run > 0 && dc == delta) {
          ++period_run;
        } else {
          delta = dc;
          period_run = 1;
        }
      }
    }
    m_burst_done[slot] = c;
    m_burst_request[slot] = q;
    m_burst_end[slot] = end;
    prev_end = end;
    prev_q = q;
    if (i + 2 >= n) continue;  // no full burst left to skip
    if (bw_steady_possible && bw_run >= std::max<int64_t>(O - 1, 1)) {
      prev_end = end + static_cast<uint64_t>(n - 2 - i) * d + d_last;
      break;
    }
    if (period_run >= O) {
      // Burst j > i is burst j - kO (in the window (i - O, i]) shifted by k delta.
      auto shift = [&](int64_t j, const std::vector<Cycle>& ring, Cycle per) {
        const int64_t k = j > i ? (j - i + O - 1) / O : 0;
        return ring[static_cast<size_t>((j - k * O) % O)] + static_cast<Cycle>(k) * per;
      };
      const Cycle q_prev = shift(n - 2, m_burst_request, delta);
      const uint64_t end_prev = shift(n - 2, m_burst_end, delta * K);
      const Cycle c_window = shift(n - 1 - O, m_burst_done, delta);
      const Cycle q_last = cmax(q_prev + 1, c_window);
      prev_end = std::max((q_last + ld) * K, end_prev) + d_last;
      break;
    }
  }
  bus.occupy_until(prev_end);
  r.done = (prev_end + K - 1) / K;
  m_free = r.done;
  return r;
}

}  // namespace nax::hw
