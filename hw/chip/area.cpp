#include "hw/chip/area.hpp"

namespace nax::hw {

double chip_area_mm2(const ChipParams& chip) {
  constexpr double kMm2PerUm2 = 1e-6;
  const double pes = chip.area.pe_um2 * static_cast<double>(chip.num_pes()) * kMm2PerUm2;
  const double sram =
      chip.area.sram_mm2_per_mib * static_cast<double>(chip.sram.capacity_kib) / 1024.0;
  const double vector = chip.area.vector_lane_um2 * chip.vector_unit.lanes * kMm2PerUm2;
  const double dma = chip.area.dma_channel_mm2 * chip.dma.channels;
  return pes + sram + vector + dma + chip.area.other_mm2;
}

}  // namespace nax::hw
