// DmaChannelTimer + DramBus == the cycle-stepped DMA channels and DRAM bus reference, on random
// transfers over 1-4 channels with random (fractional) bandwidths, latencies, bursts, setups and
// windows (fixed seed).
#include <catch2/catch.hpp>

#include <random>
#include <sstream>

#include "hw/timing/timing.hpp"
#include "tests/reference/dma_dram_ref.hpp"

using namespace nax;
using namespace nax::hw;

namespace {

constexpr int kCases = 2000;

int uni(std::mt19937_64& rng, int lo, int hi) {
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

struct Case {
  DmaConfig dma;
  DramConfig dram;
  std::vector<std::vector<ref::DmaRefTransfer>> transfers;
};

Case random_case(std::mt19937_64& rng) {
  Case c;
  c.dma.burst_bytes = 1 << uni(rng, 2, 6);
  c.dma.setup_cycles = uni(rng, 0, 3) == 0 ? 0 : uni(rng, 0, 20);
  c.dma.max_outstanding = uni(rng, 0, 3) == 0 ? uni(rng, 1, 2) : uni(rng, 1, 10);
  c.dram.ideal = uni(rng, 0, 14) == 0;
  // Bandwidth from well below one burst per cycle to several bursts per cycle, often fractional.
  switch (uni(rng, 0, 3)) {
    case 0:
      c.dram.bytes_per_cycle = uni(rng, 1, 64);
      break;
    case 1:
      c.dram.bytes_per_cycle = uni(rng, 1, 400) / 10.0;
      break;
    case 2:
      c.dram.bytes_per_cycle = 17.0 * 1000 / uni(rng, 300, 2000);  // 17 GB/s at 300-2000 MHz
      break;
    default:
      c.dram.bytes_per_cycle = std::uniform_real_distribution<double>(0.3, 200.0)(rng);
  }
  c.dram.latency_cycles = static_cast<Cycle>(uni(rng, 0, 3) == 0 ? 0 : uni(rng, 0, 40));
  c.transfers.resize(static_cast<size_t>(uni(rng, 1, 4)));
  for (auto& ch : c.transfers) {
    const int n = uni(rng, 1, 4);
    int64_t t = uni(rng, 0, 30);
    for (int i = 0; i < n; ++i) {
      ref::DmaRefTransfer tr;
      const int size = uni(rng, 0, 9);
      tr.bytes = size == 0 ? 0 : size < 3 ? uni(rng, 1, 100) : uni(rng, 1, 2500);
      t = uni(rng, 0, 2) == 0 ? std::max<int64_t>(0, t - uni(rng, 0, 50)) : t + uni(rng, 0, 150);
      tr.ready = static_cast<Cycle>(t);
      ch.push_back(tr);
    }
  }
  return c;
}

std::string describe(const Case& c) {
  std::ostringstream s;
  s.precision(17);
  s << "burst " << c.dma.burst_bytes << " setup " << c.dma.setup_cycles << " window "
    << c.dma.max_outstanding << "; dram ideal " << c.dram.ideal << " bytes/cycle "
    << c.dram.bytes_per_cycle << " latency " << c.dram.latency_cycles << "\n";
  for (size_t ch = 0; ch < c.transfers.size(); ++ch) {
    s << "  ch" << ch << ":";
    for (const auto& t : c.transfers[ch]) s << " " << t.bytes << "B@" << t.ready;
    s << "\n";
  }
  return s.str();
}

}  // namespace

TEST_CASE("DMA channel timers and DRAM bus equal the cycle-stepped reference", "[property][dma]") {
  std::mt19937_64 rng(0x5eed0301);
  int64_t transfers = 0;
  for (int n = 0; n < kCases; ++n) {
    const Case c = random_case(rng);
    INFO("case " << n << ": " << describe(c));
    const auto slow = ref::run_dma_ref(c.dma, c.dram, c.transfers);
    // The timers, called in global issue order (issue cycle, then channel).
    DramBus bus(c.dram);
    std::vector<DmaChannelTimer> chans(c.transfers.size(), DmaChannelTimer(c.dma));
    std::vector<size_t> next(c.transfers.size(), 0);
    for (;;) {
      int best = -1;
      Cycle best_t = 0;
      for (size_t ch = 0; ch < chans.size(); ++ch) {
        if (next[ch] == c.transfers[ch].size()) continue;
        const Cycle t = std::max(c.transfers[ch][next[ch]].ready, chans[ch].accepts_at());
        if (best < 0 || t < best_t) {
          best = static_cast<int>(ch);
          best_t = t;
        }
      }
      if (best < 0) break;
      const size_t ch = static_cast<size_t>(best);
      const size_t i = next[ch]++;
      const DmaTiming fast = chans[ch].run(c.transfers[ch][i].bytes, c.transfers[ch][i].ready, bus);
      INFO("channel " << ch << " transfer " << i);
      REQUIRE(fast.start == slow[ch][i].start);
      REQUIRE(fast.first_data == slow[ch][i].first_data);
      REQUIRE(fast.done == slow[ch][i].done);
      ++transfers;
    }
  }
  CHECK(transfers > kCases);
}
