// Test-only, cycle-stepped reference of the DMA channels and the DRAM bus of hw/MACHINE.md.
//
// Each cycle, in this order:
//  1. channels (in channel order): a channel whose transfer is done is free; a free channel issues
//     its next transfer once it is ready (a transfer of 0 bytes, or any transfer on an ideal DRAM,
//     is done at once, and the channel may issue again in the same cycle); an issued transfer
//     joins the DRAM's queue (so the queue is in issue order, ties in channel order);
//  2. requests: after its S setup cycles, a channel requests its next burst if it has not
//     requested one this cycle and fewer than O of its bursts are in flight (requested, not yet
//     completed);
//  3. the bus: this cycle's 1024 ticks go to the transfer at the head of the queue, burst after
//     burst in order; a burst may use the bus from Ld cycles after its request; it holds the bus
//     for its ticks (continuing into the next cycles), completes in the cycle its last tick is
//     used (c = that cycle + 1, when its data is in), and a transfer leaves the queue with its
//     last burst. The bus idles for the rest of a cycle in which the head's next burst is not in.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <stdexcept>
#include <vector>

#include "hw/timing/timing.hpp"

namespace nax::ref {

struct DmaRefTransfer {
  int64_t bytes = 0;
  hw::Cycle ready = 0;
};
struct DmaRefTiming {
  hw::Cycle start = 0, done = 0, first_data = 0;
};

// transfers[ch] = that channel's transfers in order. Returns timings in the same shape.
inline std::vector<std::vector<DmaRefTiming>> run_dma_ref(
    const hw::DmaConfig& dma, const hw::DramConfig& dram,
    const std::vector<std::vector<DmaRefTransfer>>& transfers) {
  constexpr uint64_t K = hw::kTicksPerCycle;
  const size_t channels = transfers.size();
  std::vector<std::vector<DmaRefTiming>> out(channels);
  struct Burst {
    uint64_t ticks = 0;
    bool requested = false;
    hw::Cycle request = 0;
    bool started = false;
    uint64_t remaining = 0;
    bool completed = false;
    hw::Cycle completion = 0;
  };
  struct Active {
    bool busy = false;
    size_t index = 0;  // transfer index on its channel
    hw::Cycle issue = 0;
    std::vector<Burst> bursts;
    size_t next_request = 0;
    bool requested_this_cycle = false;
    bool done = false;
    hw::Cycle done_at = 0;
  };
  std::vector<Active> ch(channels);
  std::vector<size_t> next(channels, 0);
  std::deque<size_t> queue;  // channels whose transfer is queued at the DRAM, in issue order
  size_t total = 0, finished = 0;
  for (const auto& t : transfers) total += t.size();
  for (size_t c = 0; c < channels; ++c) out[c].resize(transfers[c].size());
  uint64_t bus_tick = 0;  // the bus is used up to here

  for (hw::Cycle x = 0; finished < total; ++x) {
    if (x > 50'000'000) throw std::logic_error("DMA reference: no progress");
    // 1. Channels.
    for (size_t c = 0; c < channels; ++c) {
      Active& a = ch[c];
      if (a.busy && a.done && a.done_at <= x) a.busy = false;
      while (!a.busy && next[c] < transfers[c].size() && transfers[c][next[c]].ready <= x) {
        const DmaRefTransfer& tr = transfers[c][next[c]];
        DmaRefTiming& t = out[c][next[c]];
        t.start = t.first_data = x;
        if (tr.bytes == 0 || dram.ideal) {
          t.done = x;
          ++finished;
          ++next[c];
          continue;
        }
        a = Active{};
        a.busy = true;
        a.index = next[c]++;
        a.issue = x;
        for (int64_t left = tr.bytes; left > 0; left -= dma.burst_bytes) {
          Burst b;
          b.ticks = dram.ticks(std::min<int64_t>(left, dma.burst_bytes));
          a.bursts.push_back(b);
        }
        queue.push_back(c);
      }
    }
    // 2. Burst requests.
    for (size_t c = 0; c < channels; ++c) {
      Active& a = ch[c];
      if (!a.busy || a.done) continue;
      if (x < a.issue + static_cast<hw::Cycle>(dma.setup_cycles)) continue;
      if (a.next_request >= a.bursts.size()) continue;
      int in_flight = 0;
      for (size_t j = 0; j < a.next_request; ++j) {
        const Burst& b = a.bursts[j];
        if (!(b.completed && b.completion <= x)) ++in_flight;
      }
      if (in_flight >= dma.max_outstanding) continue;
      Burst& b = a.bursts[a.next_request++];
      b.requested = true;
      b.request = x;
    }
    // 3. The bus, one cycle's ticks.
    uint64_t cursor = std::max(bus_tick, x * K);
    const uint64_t cycle_end = (x + 1) * K;
    while (cursor < cycle_end && !queue.empty()) {
      const size_t c = queue.front();
      Active& a = ch[c];
      size_t i = 0;
      while (a.bursts[i].completed) ++i;
      Burst& b = a.bursts[i];
      if (!b.started) {
        if (!b.requested || b.request + dram.latency_cycles > x) break;  // data not in yet
        b.started = true;
        b.remaining = b.ticks;
        if (i == 0) out[c][a.index].first_data = cursor / K;
      }
      const uint64_t use = std::min(b.remaining, cycle_end - cursor);
      b.remaining -= use;
      cursor += use;
      if (b.remaining == 0) {
        b.completed = true;
        b.completion = x + 1;
        if (i + 1 == a.bursts.size()) {
          a.done = true;
          a.done_at = x + 1;
          out[c][a.index].done = x + 1;
          ++finished;
          queue.pop_front();
        }
      }
    }
    bus_tick = cursor;
  }
  return out;
}

}  // namespace nax::ref
