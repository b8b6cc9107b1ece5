// Chip area from the chip's `area` table: the area axis of co-design sweeps (nax sweep).
#pragma once

#include "hw/chip/chip.hpp"

namespace nax::hw {

// Silicon area in mm^2, the sum of
//   area.pe_um2 x mac_array.rows x mac_array.cols           (PEs, um^2 -> mm^2)
//   area.sram_mm2_per_mib x sram.capacity_kib / 1024        (on-chip SRAM)
//   area.vector_lane_um2 x vector_unit.lanes                (vector unit, um^2 -> mm^2)
//   area.dma_channel_mm2 x dma.channels
//   area.other_mm2                                          (control, interconnect, I/O)
// DRAM is off chip and has no area here; its bandwidth and latency cost no silicon in this model.
double chip_area_mm2(const ChipParams& chip);

}  // namespace nax::hw
