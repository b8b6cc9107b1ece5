// Test-only, cycle-stepped reference of the SRAM of hw/MACHINE.md: B banks per buffer, p ports per
// bank, w bytes per beat. A request's beats are queued on their banks when it arrives; every
// cycle each bank's ports serve its oldest pending beats (requests in arrival order, ties in
// requester order = the order of the list), one beat per port; a beat served in cycle x is done
// at x + 1, a request when its last beat is (at its arrival if it has no beats).
#pragma once

#include <cstdint>
#include <deque>
#include <stdexcept>
#include <vector>

#include "hw/timing/timing.hpp"

namespace nax::ref {

// `reqs` in requester order (arrivals nondecreasing). Returns each request's done cycle.
inline std::vector<hw::Cycle> run_sram_ref(const hw::SramConfig& cfg,
                                           const std::vector<hw::SramRequest>& reqs) {
  const int B = cfg.banks;
  std::vector<std::deque<size_t>> queue(static_cast<size_t>(cfg.buffers) * B);  // request ids
  std::vector<int64_t> beats_left(reqs.size());
  std::vector<hw::Cycle> done(reqs.size(), 0);
  size_t next = 0, finished = 0;
  for (hw::Cycle x = 0; finished < reqs.size(); ++x) {
    if (x > 100'000'000) throw std::logic_error("SRAM reference: no progress");
    // Arrivals of this cycle, in requester order: beat j to bank (b0 + j) mod B.
    for (; next < reqs.size() && reqs[next].arrival == x; ++next) {
      const hw::SramRequest& r = reqs[next];
      const int64_t beats = (r.bytes + cfg.bank_bytes_per_cycle - 1) / cfg.bank_bytes_per_cycle;
      beats_left[next] = beats;
      if (beats == 0) {
        done[next] = x;
        ++finished;
      }
      for (int64_t j = 0; j < beats; ++j) {
        const int bank = static_cast<int>((r.start_bank + j) % B);
        queue[static_cast<size_t>(r.buffer) * B + bank].push_back(next);
      }
    }
    if (next < reqs.size() && reqs[next].arrival < x) {
      throw std::logic_error("SRAM reference: arrivals out of order");
    }
    // Each bank: its p ports take the p oldest beats.
    for (auto& q : queue) {
      for (int port = 0; port < cfg.ports_per_bank && !q.empty(); ++port) {
        const size_t id = q.front();
        q.pop_front();
        if (--beats_left[id] == 0) {
          done[id] = x + 1;
          ++finished;
        }
      }
    }
  }
  return done;
}

}  // namespace nax::ref
