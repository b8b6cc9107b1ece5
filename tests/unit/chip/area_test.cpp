// chip_area_mm2: the `area` table's formula, term by term.
#include <catch2/catch.hpp>

#include "hw/chip/area.hpp"

using namespace nax::hw;

TEST_CASE("chip area: each term of the area table", "[unit][chip]") {
  ChipParams c;
  c.mac_array.rows = 32;
  c.mac_array.cols = 16;
  c.vector_unit.lanes = 8;
  c.sram.capacity_kib = 512;
  c.dma.channels = 4;
  REQUIRE(chip_area_mm2(c) == 0.0);

  c.area.pe_um2 = 400;  // 512 PEs x 400 um2 = 0.2048 mm2
  CHECK(chip_area_mm2(c) == Approx(0.2048));
  c.area = {};
  c.area.sram_mm2_per_mib = 2;  // 0.5 MiB x 2
  CHECK(chip_area_mm2(c) == Approx(1.0));
  c.area = {};
  c.area.vector_lane_um2 = 3000;  // 8 lanes x 3000 um2 = 0.024 mm2
  CHECK(chip_area_mm2(c) == Approx(0.024));
  c.area = {};
  c.area.dma_channel_mm2 = 0.02;  // 4 channels
  CHECK(chip_area_mm2(c) == Approx(0.08));
  c.area = {};
  c.area.other_mm2 = 0.5;
  CHECK(chip_area_mm2(c) == Approx(0.5));
}

TEST_CASE("chip area: the default preset, and doubling the array", "[unit][chip]") {
  const ChipParams d = load_chip("default");
  // 32x32 x 400 um2 + 2 MiB x 1 mm2/MiB + 32 x 3000 um2 + 4 x 0.02 mm2 + 0.5 mm2
  const double want = 1024 * 400e-6 + 2.0 * d.area.sram_mm2_per_mib + 32 * 3000e-6 +
                      4 * d.area.dma_channel_mm2 + d.area.other_mm2;
  CHECK(chip_area_mm2(d) == Approx(want));
  const ChipParams big = load_chip("default", {"mac_array.rows=64"});
  CHECK(chip_area_mm2(big) - chip_area_mm2(d) == Approx(1024 * d.area.pe_um2 * 1e-6));
}
