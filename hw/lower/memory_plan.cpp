// SRAM residency: which activation buffers stay on chip between their producer and their last
// consumer, and at which address (hw/lower/lower.cpp explains the greedy).
#include <algorithm>
#include <numeric>

#include "hw/lower/lower_internal.hpp"

namespace nax::hw::lower_detail {

MemoryPlan plan_memory(const Grouping& grouping, const std::vector<int64_t>& reserve,
                       int64_t capacity, bool keep_on_chip) {
  const auto& bufs = grouping.buffers;
  const int nl = static_cast<int>(grouping.layers.size());
  MemoryPlan mp;
  mp.resident_top.assign(static_cast<size_t>(nl), 0);
  mp.resident_bytes.assign(static_cast<size_t>(nl), 0);
  mp.resident.assign(bufs.size(), false);
  mp.address.assign(bufs.size(), 0);
  if (!keep_on_chip || nl == 0) return mp;

  // Candidates: intermediate buffers (graph inputs start in DRAM, graph outputs end there).
  std::vector<int> cand;
  for (size_t i = 0; i < bufs.size(); ++i) {
    const Buffer& b = bufs[i];
    if (b.graph_input || b.graph_output || b.producers.empty() || b.bytes <= 0) continue;
    cand.push_back(static_cast<int>(i));
  }
  // Shortest lifetime first (an IBN's expanded tensor lives one layer, a residual input a few),
  // then earlier producer, then smaller: each finds the lowest address free for its whole
  // lifetime below the working-set reserve of every layer it spans; no room: it spills.
  std::stable_sort(cand.begin(), cand.end(), [&](int a, int b) {
    const Buffer& x = bufs[static_cast<size_t>(a)];
    const Buffer& y = bufs[static_cast<size_t>(b)];
    if (x.last - x.first != y.last - y.first) return x.last - x.first < y.last - y.first;
    if (x.first != y.first) return x.first < y.first;
    return x.bytes < y.bytes;
  });
  std::vector<int> placed;
  struct Iv {
    int64_t lo, hi;
  };
  std::vector<Iv> busy;
  for (int bi : cand) {
    const Buffer& b = bufs[static_cast<size_t>(bi)];
    int64_t limit = capacity;
    for (int l = b.first; l <= b.last; ++l) {
      limit = std::min(limit, capacity - reserve[static_cast<size_t>(l)]);
    }
    if (b.bytes > limit) continue;
    busy.clear();
    for (int pi : placed) {
      const Buffer& p = bufs[static_cast<size_t>(pi)];
      if (p.last < b.first || p.first > b.last) continue;
      const int64_t pa = mp.address[static_cast<size_t>(pi)];
      busy.push_back({pa, pa + p.bytes});
    }
    std::sort(busy.begin(), busy.end(), [](const Iv& a, const Iv& c) { return a.lo < c.lo; });
    int64_t addr = 0;
    for (const Iv& iv : busy) {
      if (addr + b.bytes <= iv.lo) break;
      addr = std::max(addr, iv.hi);
    }
    if (addr + b.bytes > limit) continue;
    mp.resident[static_cast<size_t>(bi)] = true;
    mp.address[static_cast<size_t>(bi)] = addr;
    placed.push_back(bi);
  }
  for (int pi : placed) {
    const Buffer& p = bufs[static_cast<size_t>(pi)];
    for (int l = p.first; l <= p.last; ++l) {
      auto& top = mp.resident_top[static_cast<size_t>(l)];
      top = std::max(top, mp.address[static_cast<size_t>(pi)] + p.bytes);
      mp.resident_bytes[static_cast<size_t>(l)] += p.bytes;
    }
  }
  return mp;
}

}  // namespace nax::hw::lower_detail
