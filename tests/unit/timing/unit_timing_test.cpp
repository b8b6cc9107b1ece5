// Vector unit, SRAM, DRAM and DMA timing (hw/MACHINE.md): hand-checked boundary probes.
#include <catch2/catch.hpp>

#include "hw/chip/chip.hpp"
#include "hw/timing/timing.hpp"

using namespace nax::hw;

TEST_CASE("vector issues: a staircase in the lanes", "[timing][vector]") {
  VectorWork e;
  e.op = VectorOp::kEltwise;
  e.elements = 32;
  CHECK(vector_issues(e, 32) == 1);
  e.elements = 33;
  CHECK(vector_issues(e, 32) == 2);
  CHECK(vector_element_ops(e, 32) == 33);
  // 3x3 pooling to 4x4 over C = L vs L + 1 channels: twice the instructions, half the lanes idle.
  VectorWork p;
  p.op = VectorOp::kPool;
  p.out_h = p.out_w = 4;
  p.kernel_h = p.kernel_w = 3;
  p.channels = 32;
  CHECK(vector_issues(p, 32) == 16 * 9);
  p.channels = 33;
  CHECK(vector_issues(p, 32) == 16 * 9 * 2);
  CHECK(vector_element_ops(p, 32) == 16 * 9 * 33);
  VectorWork g;
  g.op = VectorOp::kGlobalPool;
  g.out_h = g.out_w = 7;
  g.channels = 64;
  CHECK(vector_issues(g, 32) == 49 * 2);
  VectorWork r;
  r.op = VectorOp::kResize;
  r.elements = 100;
  r.taps = 4;
  CHECK(vector_issues(r, 32) == 4 * 4);
  VectorWork s;
  s.op = VectorOp::kSoftmax;
  s.elements = 1000;
  CHECK(vector_issues(s, 32) == 3 * 32);
  CHECK(std::string(vector_op_name(VectorOp::kDepthwise)) == "depthwise");
}

TEST_CASE("vector timer: one issue per cycle, then the pipeline latency", "[timing][vector]") {
  VectorTimer v(32, 4);
  VectorTiming t = v.run(10, 3);
  CHECK(t.start == 3);
  CHECK(t.accept == 13);
  CHECK(t.done == 17);
  t = v.run(5, 0);  // pipelined: issues behind the previous command, before it is done
  CHECK(t.start == 13);
  CHECK(t.done == 22);
  t = v.run(0, 30);  // nothing to do
  CHECK(t.start == 30);
  CHECK(t.done == 30);
  CHECK(v.accepts_at() == 30);
}

TEST_CASE("SRAM beats stripe over the banks from the start bank", "[timing][sram]") {
  SramConfig cfg;
  cfg.banks = 4;
  cfg.ports_per_bank = 1;
  cfg.bank_bytes_per_cycle = 16;
  SramTimer s(cfg);
  CHECK(s.serve({10, 64, 0, 0}) == 11);  // 4 beats, one per bank
  CHECK(s.serve({20, 65, 0, 0}) == 22);  // 5 beats: bank 0 gets 2
  CHECK(s.serve({30, 1, 3, 0}) == 31);   // 1 beat on bank 3
  CHECK(s.serve({30, 16, 3, 0}) == 32);  // the same bank in the same cycle waits one
  CHECK(s.serve({30, 16, 0, 0}) == 31);  // another bank does not
  CHECK(s.serve({31, 48, 2, 0}) == 33);  // banks 2 (free), 3 (busy until 32), 0 (free): 33
  CHECK(s.serve({40, 0, 0, 0}) == 40);   // no bytes, no beats
  CHECK_THROWS_AS(s.serve({39, 16, 0, 0}), std::invalid_argument);  // out of time order

  cfg.ports_per_bank = 2;
  SramTimer two(cfg);
  CHECK(two.serve({0, 16 * 8, 0, 0}) == 1);  // 8 beats over 4 banks x 2 ports
  CHECK(two.serve({0, 16 * 9, 1, 0}) == 3);  // bank 1 has 3 beats, its ports busy until 1
  // Split SRAM: each buffer has its own banks.
  cfg.ports_per_bank = 1;
  cfg.buffers = 3;
  SramTimer split(cfg);
  CHECK(split.serve({0, 64, 0, 0}) == 1);
  CHECK(split.serve({0, 64, 0, 1}) == 1);
  CHECK(split.serve({0, 64, 0, 0}) == 2);
  ChipParams chip;
  chip.sram.organization = SramOrganization::kSplit;
  chip.sram.banks = 8;
  chip.sram.ports_per_bank = 2;
  chip.sram.bank_bytes_per_cycle = 32;
  const SramConfig c = SramConfig::from_chip(chip);
  CHECK(c.buffers == 3);
  CHECK(c.banks == 8);
  CHECK(c.ports_per_bank == 2);
  CHECK(c.bank_bytes_per_cycle == 32);
}

TEST_CASE("DRAM ticks and the resolved DRAM parameters", "[timing][dram]") {
  DramConfig d;
  d.bytes_per_cycle = 16;
  CHECK(d.ticks(64) == 4096);
  d.bytes_per_cycle = 17;
  CHECK(d.ticks(64) == 3856);  // ceil(65536 / 17)
  ChipParams chip;
  chip.clock_mhz = 800;
  chip.dram.bandwidth_gb_per_s = 12.8;  // 16 B/cycle at 800 MHz, exactly
  chip.dram.latency_ns = 100;
  DramConfig c = DramConfig::from_chip(chip);
  CHECK(c.ticks(64) == 4096);
  CHECK(c.latency_cycles == 80);
  chip.dram.latency_ns = 100.1;  // 80.08 cycles -> 81
  CHECK(DramConfig::from_chip(chip).latency_cycles == 81);
  chip.dram.ideal = true;
  CHECK(DramConfig::from_chip(chip).ticks(64) == 0);
}

TEST_CASE("DMA: latency-bound, window-bound and bandwidth-bound transfers", "[timing][dma]") {
  DramConfig dram;
  dram.bytes_per_cycle = 16;  // a 64-byte burst holds the bus 4 cycles
  dram.latency_cycles = 100;
  DmaConfig dma;
  dma.burst_bytes = 64;
  dma.setup_cycles = 16;
  dma.max_outstanding = 8;
  {
    // One burst: setup 16, request at 16, data from 116 for 4 cycles.
    DramBus bus(dram);
    DmaChannelTimer ch(dma);
    const DmaTiming t = ch.run(64, 0, bus);
    CHECK(t.start == 0);
    CHECK(t.first_data == 116);
    CHECK(t.done == 120);
    CHECK(ch.accepts_at() == 120);
  }
  {
    // Window-bound: 8 bursts in flight cover 32 of every 104 cycles; 64 bursts = 8 rounds.
    // Round k's first request at 16 + 104k (when the burst 8 back completed), the round's last
    // burst ends 104 + 28 cycles after the first request of the round... the last at
    // 16 + 7 * 104 + 100 + 32.
    DramBus bus(dram);
    DmaChannelTimer ch(dma);
    CHECK(ch.run(64 * 64, 0, bus).done == 16 + 7 * 104 + 100 + 32);
  }
  {
    // Bandwidth-bound: a window of 32 covers the latency; 100 bursts back to back on the bus.
    dma.max_outstanding = 32;
    dram.latency_cycles = 10;
    DramBus bus(dram);
    DmaChannelTimer ch(dma);
    const DmaTiming t = ch.run(6400, 0, bus);
    CHECK(t.first_data == 26);
    CHECK(t.done == 26 + 100 * 4);
    // A second channel's transfer waits for the bus to finish the first transfer.
    DmaChannelTimer other(dma);
    const DmaTiming u = other.run(64, 1, bus);
    CHECK(u.first_data == 426);
    CHECK(u.done == 430);
    // Transfers must reach the bus in global time order.
    DmaChannelTimer late(dma);
    CHECK_THROWS_AS(late.run(64, 0, bus), std::logic_error);
  }
  {
    // One outstanding burst: each waits for the previous one (latency 10 + 4 on the bus).
    dma.max_outstanding = 1;
    dma.setup_cycles = 0;
    DramBus bus(dram);
    DmaChannelTimer ch(dma);
    CHECK(ch.run(640, 0, bus).done == 10 * 14);
    // The last burst may be short: 16 bytes take one cycle.
    CHECK(ch.run(64 + 16, 0, bus).done == 140 + 14 + 11);
  }
  {
    // Ideal DRAM (SCALE-Sim's stall-free mode): done at issue; 0 bytes are done at issue too.
    DramConfig ideal = dram;
    ideal.ideal = true;
    DramBus bus(ideal);
    DmaChannelTimer ch(dma);
    const DmaTiming t = ch.run(1 << 20, 7, bus);
    CHECK(t.start == 7);
    CHECK(t.done == 7);
    DramBus real(dram);
    CHECK(ch.run(0, 9, real).done == 9);
  }
  ChipParams chip;
  chip.dma.burst_bytes = 128;
  chip.dma.setup_cycles = 3;
  chip.dma.max_outstanding = 5;
  const DmaConfig c = DmaConfig::from_chip(chip);
  CHECK(c.burst_bytes == 128);
  CHECK(c.setup_cycles == 3);
  CHECK(c.max_outstanding == 5);
}

TEST_CASE("the default preset's DRAM and DMA parameters", "[timing][dram][presets]") {
  const ChipParams chip = load_chip("default");  // LPDDR4X 17 GB/s, 100 ns at 1000 MHz
  const DramConfig d = DramConfig::from_chip(chip);
  CHECK_FALSE(d.ideal);
  CHECK(d.bytes_per_cycle == Approx(17.0));
  CHECK(d.latency_cycles == 100);
  CHECK(d.ticks(64) == 3856);
  CHECK(DramConfig::from_chip(load_chip("scalesim-ws-32x32")).ideal);
  const SramConfig s = SramConfig::from_chip(load_chip("scalesim-ws-32x32"));
  CHECK(s.buffers == 3);
  CHECK(SramConfig::from_chip(chip).buffers == 1);
}
