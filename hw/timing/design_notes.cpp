#include <fmt/format.h>

#include "hw/timing/timing.hpp"

namespace nax::hw {

double dma_channel_bytes_per_cycle(const ChipParams& chip) {
  const DramConfig dram = DramConfig::from_chip(chip);
  if (dram.ideal) return 0;
  // Steady state: the difference between a 2 MiB and a 1 MiB transfer (setup and latency cancel).
  auto cycles = [&](int64_t bytes) {
    DramBus bus(dram);
    DmaChannelTimer ch(DmaConfig::from_chip(chip));
    return ch.run(bytes, 0, bus).done;
  };
  constexpr int64_t kBytes = 1 << 20;
  const Cycle extra = cycles(2 * kBytes) - cycles(kBytes);
  return extra > 0 ? static_cast<double>(kBytes) / static_cast<double>(extra) : 0;
}

std::vector<std::string> design_notes(const ChipParams& chip) {
  std::vector<std::string> notes;
  const DramConfig dram = DramConfig::from_chip(chip);
  if (!dram.ideal) {
    const double channel = dma_channel_bytes_per_cycle(chip);
    if (channel < 0.95 * dram.bytes_per_cycle) {
      const double window = static_cast<double>(chip.dma.burst_bytes) * chip.dma.max_outstanding;
      const double bdp = dram.bytes_per_cycle * static_cast<double>(dram.latency_cycles);
      const double ghz = chip.clock_mhz / 1000.0;
      notes.push_back(fmt::format(
          "one DMA transfer sustains {:.3g} GB/s of the DRAM's {:.3g} GB/s (limits: a window of "
          "dma.burst_bytes x dma.max_outstanding = {:.0f} B against a bandwidth-delay product of "
          "{:.0f} B, and one burst request per cycle = {:.3g} GB/s); transfers hold the bus one "
          "at a time, so more channels do not help",
          channel * ghz, chip.dram.bandwidth_gb_per_s, window, bdp, chip.dma.burst_bytes * ghz));
    }
  }
  return notes;
}

}  // namespace nax::hw
