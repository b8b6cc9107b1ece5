// Design notes: observations on valid chips (not errors).
#include <catch2/catch.hpp>

#include "hw/timing/timing.hpp"

using namespace nax::hw;

TEST_CASE("a DMA window below the bandwidth-delay product is noted with its effect", "[timing]") {
  CHECK(design_notes(load_chip("default")).empty());
  CHECK(dma_channel_bytes_per_cycle(load_chip("default")) == Approx(17.0).epsilon(0.01));
  const ChipParams narrow = load_chip("default", {"dma.max_outstanding=8"});
  const auto notes = design_notes(narrow);
  REQUIRE(notes.size() == 1);
  // 8 bursts of 64 B per 100-cycle latency + bus time: about 4.9 B/cycle.
  CHECK(notes[0].rfind("one DMA transfer sustains 4.92 GB/s of the DRAM's 17 GB/s", 0) == 0);
  CHECK(design_notes(load_chip("scalesim-ws-32x32")).empty());  // ideal memory
}
