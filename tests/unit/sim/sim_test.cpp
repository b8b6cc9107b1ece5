// The SystemC simulator on hand-built programs: exact cycles worked out by hand from
// hw/MACHINE.md, global time order on the shared SRAM and DRAM, statistics, determinism, runs
// after other runs, and kernel activations that grow with commands, not cycles.
// Each TEST_CASE runs in its own process (catch_discover_tests); within one, the simulator is
// elaborated once and runs every program of the test.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "hw/chip/chip.hpp"
#include "hw/sim/simulator.hpp"
#include "models/common/error.hpp"

using namespace nax;
using namespace nax::hw;

namespace {

ChipParams chip(const std::vector<std::string>& overrides = {}) {
  return load_chip("default", overrides);
}

// DRAM at 16 B/cycle (16 GB/s at 1 GHz): a 64-byte burst occupies the bus for exactly 4 cycles;
// latency 100 cycles, setup 16, 8 bursts outstanding (the defaults).
// 16 B/cycle, 64 B bursts, 8 outstanding: windows and bus times easy to check by hand.
ChipParams dram16() {
  return chip({"dram.bandwidth_gb_per_s=16", "dma.max_outstanding=8"});
}

Command array_cmd(int r, int c, int64_t T, std::vector<uint32_t> deps = {}, int layer = -1) {
  Command k;
  k.unit = UnitKind::kMacArray;
  k.array.seg.rows_used = r;
  k.array.seg.cols_used = c;
  k.array.seg.vectors = T;
  k.array.seg.new_fold = true;
  k.array.seg.last_segment = true;
  k.array.macs = int64_t{r} * c * T;
  k.deps = std::move(deps);
  k.layer = layer;
  return k;
}

Command vector_cmd(int64_t issues, std::vector<uint32_t> deps = {}, int layer = -1) {
  Command k;
  k.unit = UnitKind::kVector;
  k.vector.issues = issues;
  k.vector.element_ops = issues * 32;
  k.deps = std::move(deps);
  k.layer = layer;
  return k;
}

Command dma_cmd(int channel, int64_t bytes, bool store, std::vector<uint32_t> deps = {},
                int layer = -1) {
  Command k;
  k.unit = UnitKind::kDma;
  k.channel = channel;
  k.dma.bytes = bytes;
  k.dma.store = store;
  k.deps = std::move(deps);
  k.layer = layer;
  return k;
}

Program program(std::vector<Command> cmds, int channels = 4) {
  Program p;
  p.dma_channels = channels;
  p.cmds = std::move(cmds);
  return p;
}

RunResult run(const Program& p, const ChipParams& c) {
  return Simulator::instance().run(p, c);
}

const Stat* find_stat(const RunResult& r, const std::string& name) {
  for (const auto& s : r.stats)
    if (s.name == name) return &s;
  return nullptr;
}

void check_same(const RunResult& a, const RunResult& b) {
  CHECK(a.total_cycles == b.total_cycles);
  REQUIRE(a.commands.size() == b.commands.size());
  for (size_t i = 0; i < a.commands.size(); ++i) {
    INFO("command " << i);
    CHECK(a.commands[i].issue == b.commands[i].issue);
    CHECK(a.commands[i].accept == b.commands[i].accept);
    CHECK(a.commands[i].done == b.commands[i].done);
  }
  CHECK(a.kernel_activations == b.kernel_activations);
  CHECK(a.energy_uj == b.energy_uj);
  REQUIRE(a.stats.size() == b.stats.size());
  for (size_t i = 0; i < a.stats.size(); ++i) {
    CHECK(a.stats[i].name == b.stats[i].name);
    CHECK(a.stats[i].value == b.stats[i].value);
  }
}

}  // namespace

TEST_CASE("one MAC array command: preload then stream then drain", "[sim]") {
  // ws 32x32, Lm 1, overlap_preload: preload r = 32 cycles, stream T = 100, then the last
  // partial sum crosses R = 32 rows and c - 1 = 31 columns: done = 32 + 100 + 32 + 32 - 2.
  auto r = run(program({array_cmd(32, 32, 100)}), chip());
  REQUIRE(r.commands.size() == 1);
  CHECK(r.commands[0].issue == 0);
  CHECK(r.commands[0].accept == 132);
  CHECK(r.commands[0].done == 194);
  CHECK(r.total_cycles == 194);
  CHECK(r.latency_ms == Approx(194e-6));

  // A partial fold: preload 16 rows, drain R*Lm + c - 2 = 32 + 8 - 2.
  r = run(program({array_cmd(16, 8, 10)}), chip());
  CHECK(r.commands[0].done == 16 + 10 + 38);

  // Output stationary: no preload; drain r + c + Lm - 3.
  r = run(program({array_cmd(32, 32, 100)}), chip({"mac_array.dataflow=os"}));
  CHECK(r.commands[0].done == 100 + 32 + 32 + 1 - 3);

  // mac_latency_cycles 2 on ws: drain R*Lm + c - 2 = 64 + 30.
  r = run(program({array_cmd(32, 32, 100)}), chip({"mac_array.mac_latency_cycles=2"}));
  CHECK(r.commands[0].done == 32 + 100 + 64 + 30);
}

TEST_CASE("folds back to back: the preload overlaps the stream or waits for the drain", "[sim]") {
  const Program p = program({array_cmd(32, 32, 100), array_cmd(32, 32, 100)});
  // Overlap: fold 2 preloads during fold 1's stream and streams right after it.
  auto r = run(p, chip());
  CHECK(r.commands[1].issue == 32);  // preload starts when fold 1 starts streaming
  CHECK(r.commands[1].start == 132);
  CHECK(r.commands[1].done == 232 + 62);
  CHECK(r.total_cycles == 294);
  // No overlap: each fold costs 2R + C + T - 2 = 194 (hw/MACHINE.md).
  r = run(p, chip({"mac_array.overlap_preload=false"}));
  CHECK(r.total_cycles == 2 * 194);
}

TEST_CASE("vector commands issue one instruction per cycle then drain the pipeline", "[sim]") {
  auto r = run(program({vector_cmd(50), vector_cmd(7)}), chip());
  CHECK(r.commands[0].issue == 0);
  CHECK(r.commands[0].accept == 50);
  CHECK(r.commands[0].done == 54);
  CHECK(r.commands[1].issue == 50);
  CHECK(r.commands[1].done == 61);
  CHECK(r.total_cycles == 61);
  r = run(program({vector_cmd(50)}), chip({"vector_unit.pipeline_latency_cycles=9"}));
  CHECK(r.commands[0].done == 59);
}

TEST_CASE("a DMA transfer: setup and bursts and latency and the outstanding window", "[sim]") {
  // 512 B = 8 bursts: burst i requested at 16 + i, data from max(q + 100, bus free), 4 cycles
  // each: the last lands at 116 + 8 x 4.
  auto r = run(program({dma_cmd(0, 512, false)}), dram16());
  CHECK(r.commands[0].done == 148);
  CHECK(r.dram_read_bytes == 512);
  // 1024 B = 16 bursts: burst 8 waits for burst 0 (8 outstanding): requested at 120, data at 220.
  r = run(program({dma_cmd(0, 1024, true)}), dram16());
  CHECK(r.commands[0].done == 252);
  CHECK(r.dram_write_bytes == 1024);
  CHECK(r.dram_read_bytes == 0);
  // Ideal DRAM: done at issue.
  r = run(program({dma_cmd(0, 1 << 20, false)}), chip({"dram.ideal=true"}));
  CHECK(r.commands[0].done == 0);
  // A channel runs one transfer at a time.
  r = run(program({dma_cmd(0, 512, false), dma_cmd(0, 512, false)}), dram16());
  CHECK(r.commands[1].issue == 148);
  CHECK(r.commands[1].done == 296);
}

TEST_CASE("two DMA channels contend for the DRAM bus in global time order", "[sim]") {
  // Both ready at 0: channel 0 first (unit order), channel 1's bursts wait for the bus.
  auto r = run(program({dma_cmd(1, 512, false), dma_cmd(0, 512, false)}), dram16());
  CHECK(r.commands[1].done == 148);  // channel 0
  CHECK(r.commands[0].done == 180);  // channel 1: bus free at 148, 8 bursts of 4
  // Channel 0's transfer is ready later (after a 10-cycle vector command): channel 1 goes first.
  Command v = vector_cmd(6);  // done at 10
  r = run(program({v, dma_cmd(0, 512, false, {0}), dma_cmd(1, 512, false)}), dram16());
  CHECK(r.commands[2].issue == 0);
  CHECK(r.commands[2].done == 148);
  CHECK(r.commands[1].issue == 10);
  CHECK(r.commands[1].done == 180);
  const Stat* bus = find_stat(r, "npu.dram.bus_busy_cycles");
  REQUIRE(bus);
  CHECK(bus->value == 64);
}

TEST_CASE("SRAM bank contention between compute and DMA is served in global time order", "[sim]") {
  // 4096 B = 256 beats of 16 B over 16 banks x 1 port: 16 cycles alone. DRAM ideal, so the DMA
  // transfer's time is its SRAM request's.
  const std::vector<std::string> ideal = {"dram.ideal=true"};
  Command v = vector_cmd(1);
  v.sram.bytes[0] = 4096;
  v.sram.read_bytes = 4096;
  Command d = dma_cmd(0, 4096, false);
  d.sram.bytes[0] = 4096;
  d.sram.write_bytes = 4096;

  auto r = run(program({d}), chip(ideal));
  CHECK(r.commands[0].done == 16);
  // Both at cycle 0: the vector unit comes first in unit order; the DMA waits for the banks.
  r = run(program({d, v}), chip(ideal));
  CHECK(r.commands[1].done == 16);
  CHECK(r.commands[0].done == 32);
  CHECK(r.sram_read_bytes == 4096);
  CHECK(r.sram_write_bytes == 4096);
  // The MAC array too, and it still overlaps its own stream.
  Command a = array_cmd(32, 32, 4);
  a.sram.bytes[0] = 4096;
  r = run(program({d, a}), chip(ideal));
  CHECK(r.commands[0].done == 32);
  // Two ports per bank: twice the beats per cycle for both.
  r = run(program({d, v}), chip({"dram.ideal=true", "sram.ports_per_bank=2"}));
  CHECK(r.commands[1].done == 8);
  CHECK(r.commands[0].done == 16);
  // Different start banks still share the 16 banks.
  d.sram.start_bank = 5;
  r = run(program({d, v}), chip(ideal));
  CHECK(r.commands[0].done == 32);
  // Split SRAM: ifmap and weight buffers have their own banks.
  v.sram.bytes[0] = 4096;
  d.sram.bytes[0] = 0;
  d.sram.bytes[1] = 4096;
  r = run(program({d, v}), chip({"dram.ideal=true", "sram.organization=split", "sram.ifmap_kib=512",
                                 "sram.weight_kib=1024", "sram.ofmap_kib=512"}));
  CHECK(r.commands[0].done == 16);
  CHECK(r.commands[1].done == 16);
}

TEST_CASE("a DMA -> MAC array -> DMA chain waits for each dependency", "[sim]") {
  const Program p =
      program({dma_cmd(0, 512, false), array_cmd(32, 32, 100, {0}), dma_cmd(1, 512, true, {1})});
  const auto r = run(p, dram16());
  CHECK(r.commands[0].done == 148);
  CHECK(r.commands[1].issue == 148);
  CHECK(r.commands[1].done == 148 + 194);
  CHECK(r.commands[2].issue == 342);
  CHECK(r.commands[2].done == 342 + 148);
  CHECK(r.total_cycles == 490);
}

TEST_CASE("per-layer and per-unit statistics and energy", "[sim]") {
  ChipParams c = dram16();
  Program p = program({dma_cmd(0, 512, false, {}, 0), array_cmd(32, 32, 100, {0}, 0),
                       dma_cmd(1, 512, true, {1}, 0), vector_cmd(50, {1}, 2)});
  p.cmds[1].sram.bytes[0] = 1000;
  p.cmds[1].sram.read_bytes = 1000;
  p.layers.resize(3);
  p.layers[0].name = "conv";
  p.layers[0].op = "Conv2d";
  p.layers[0].macs = 32 * 32 * 100;
  p.layers[1].name = "flatten";  // a view: no commands
  p.layers[1].compute = false;
  p.layers[2].name = "relu";
  p.layers[2].op = "Relu";
  p.layers[2].unit = UnitKind::kVector;
  const auto r = run(p, c);
  REQUIRE(r.layers.size() == 3);
  const LayerResult& conv = r.layers[0];
  CHECK(conv.name == "conv");
  CHECK(conv.start_cycle == 0);
  CHECK(conv.end_cycle == 490);
  CHECK(conv.cycles == 490);
  CHECK(conv.macs == 102400);
  CHECK(conv.utilization == Approx(102400.0 / (490.0 * 1024)));
  CHECK(conv.compute_busy_cycles == 194);
  CHECK(conv.dma_busy_cycles == 296);
  CHECK(conv.bound == "memory");
  CHECK(conv.dram_read_bytes == 512);
  CHECK(conv.dram_write_bytes == 512);
  CHECK(conv.sram_read_bytes == 1000);
  CHECK(conv.commands == 3);
  CHECK(conv.compute_commands == 1);
  CHECK(conv.energy_uj == Approx(1e-6 * (102400 * 0.15 + 1000 * 1.5 + 1024 * 40.0)));
  CHECK(r.layers[1].cycles == 0);
  const LayerResult& relu = r.layers[2];
  CHECK(relu.start_cycle == 342);
  CHECK(relu.cycles == 54);
  CHECK(relu.bound == "compute");
  CHECK(relu.utilization == Approx(1600.0 / (54.0 * 32)));
  // Wake-ups: the run's start (no layer), 148 (conv's array command), 342 (relu first in unit
  // order; conv's store issues in the same wake-up), 490 (the end, no layer).
  CHECK(conv.kernel_activations == 1);
  CHECK(relu.kernel_activations == 1);
  CHECK(r.kernel_activations == 4);

  CHECK(r.macs == 102400);
  CHECK(r.total_cycles == 490);
  CHECK(r.energy.mac_uj == Approx(102400 * 0.15e-6));
  CHECK(r.energy.dram_uj == Approx(1024 * 40e-6));
  CHECK(r.energy.sram_uj == Approx(1000 * 1.5e-6));
  CHECK(r.energy.vector_uj == Approx(1600 * 0.5e-6));
  CHECK(r.energy.static_uj == Approx(20.0 * 490e-6));
  CHECK(r.energy_uj == Approx(r.energy.mac_uj + r.energy.dram_uj + r.energy.sram_uj +
                              r.energy.vector_uj + r.energy.static_uj));
  REQUIRE(r.units.size() == 2 + 4);
  CHECK(r.units[0].name == "mac_array");
  CHECK(r.units[0].busy_cycles == 194);
  CHECK(r.units[1].name == "vector_unit");
  CHECK(r.units[1].busy_cycles == 54);
  CHECK(r.units[2].name == "dma.ch0");
  CHECK(r.units[2].busy_cycles == 148);
  CHECK(r.units[2].utilization == Approx(148.0 / 490));
  CHECK(r.units[3].busy_cycles == 148);
  CHECK(r.units[5].busy_cycles == 0);
  const Stat* s = find_stat(r, "npu.dma.ch1.busy_cycles");
  REQUIRE(s);
  CHECK(s->value == 148);
  CHECK(s->unit == "cycles");
  REQUIRE(find_stat(r, "npu.mac_array.macs"));
  CHECK(find_stat(r, "npu.mac_array.macs")->value == 102400);
}

namespace {

// A deterministic mixed program: `layers` layers of load -> compute segments -> store, with
// compute on the array and the vector unit and loads spread over the channels.
Program mixed_program(int layers, int channels, int rows = 32) {
  Program p;
  p.dma_channels = channels;
  uint32_t prev_compute = 0;
  bool have_prev = false;
  for (int l = 0; l < layers; ++l) {
    LayerPlan plan;
    plan.name = "layer" + std::to_string(l);
    plan.op = l % 3 == 2 ? "Add" : "Conv2d";
    plan.unit = l % 3 == 2 ? UnitKind::kVector : UnitKind::kMacArray;
    p.layers.push_back(plan);
    const auto load = static_cast<uint32_t>(p.cmds.size());
    Command ld = dma_cmd(l % channels, 256 + 64 * (l % 7), false, {}, l);
    ld.sram.bytes[0] = ld.dma.bytes;
    ld.sram.write_bytes = ld.dma.bytes;
    ld.sram.start_bank = l % 16;
    p.cmds.push_back(ld);
    for (int s = 0; s < 3; ++s) {
      std::vector<uint32_t> deps = {load};
      if (have_prev) deps.push_back(prev_compute);
      Command c = plan.unit == UnitKind::kVector
                      ? vector_cmd(20 + s, deps, l)
                      : array_cmd(rows - l % 5, 16 + l % 17, 40 + 10 * s, deps, l);
      c.array.seg.new_fold = s == 0;
      c.sram.bytes[0] = 512 + 32 * s;
      c.sram.read_bytes = c.sram.bytes[0];
      c.tile = s;
      prev_compute = static_cast<uint32_t>(p.cmds.size());
      have_prev = true;
      p.cmds.push_back(c);
    }
    Command st = dma_cmd((l + 1) % channels, 128, true, {prev_compute}, l);
    st.sram.bytes[0] = 128;
    st.sram.read_bytes = 128;
    p.cmds.push_back(st);
  }
  return p;
}

}  // namespace

TEST_CASE("a program after others gives the same result as first (A then B then A)", "[sim]") {
  const ChipParams ca = chip();
  const ChipParams cb = chip({"mac_array.rows=16", "dma.channels=2", "sram.banks=8"});
  const Program a = mixed_program(30, 4);
  const Program b = mixed_program(17, 2, 16);
  const RunResult a1 = run(a, ca);
  const RunResult b1 = run(b, cb);
  const RunResult a2 = run(a, ca);
  check_same(a1, a2);
  const RunResult b2 = run(b, cb);
  check_same(b1, b2);
  CHECK(a1.total_cycles != b1.total_cycles);
}

TEST_CASE("the schedule keeps every rule of the machine", "[sim]") {
  const Program p = mixed_program(40, 4);
  const RunResult r = run(p, chip());
  std::vector<Cycle> last_issue(6, 0), last_accept(6, 0);
  Cycle max_done = 0;
  for (size_t i = 0; i < p.cmds.size(); ++i) {
    const Command& c = p.cmds[i];
    const CommandTiming& t = r.commands[i];
    INFO("command " << i);
    for (uint32_t d : c.deps) CHECK(t.issue >= r.commands[d].done);
    const size_t u = c.unit == UnitKind::kMacArray ? 0
                     : c.unit == UnitKind::kVector ? 1
                                                   : 2 + c.channel;
    CHECK(t.issue >= last_issue[u]);   // in order per unit
    CHECK(t.start >= last_accept[u]);  // the unit's input was free
    CHECK(t.start >= t.issue);
    CHECK(t.accept >= t.start);
    CHECK(t.done >= t.issue);
    last_issue[u] = t.issue;
    last_accept[u] = t.accept;
    max_done = std::max(max_done, t.done);
  }
  CHECK(r.total_cycles == max_done);
  // Same inputs, same result, in the same process.
  check_same(r, run(p, chip()));
}

TEST_CASE("kernel activations grow with commands and not with cycles", "[sim]") {
  // Array folds of a million vectors each: a billion cycles for 1000 commands.
  auto folds = [](int n) {
    Program p = program({});
    for (int i = 0; i < n; ++i) p.cmds.push_back(array_cmd(32, 32, 1000000));
    return p;
  };
  const RunResult small = run(folds(10), chip());
  const RunResult large = run(folds(1000), chip());
  CHECK(large.total_cycles > 1000000000);
  CHECK(small.kernel_activations <= 10 + 2);
  CHECK(large.kernel_activations <= 1000 + 2);
  CHECK(large.kernel_activations >= 1000);
  CHECK(large.delta_cycles <= 2 * 1000 + 4);
  // Many commands at the same cycle share a wake-up.
  Program same = program({});
  for (int i = 0; i < 100; ++i) same.cmds.push_back(dma_cmd(i % 4, 64, false));
  const RunResult r = run(same, chip({"dram.ideal=true"}));
  CHECK(r.total_cycles == 0);
  CHECK(r.kernel_activations == 1);
}

TEST_CASE("empty programs and malformed programs", "[sim]") {
  // The rejections come first: once SystemC has switched to its coroutines, AddressSanitizer
  // loses the main stack's bounds and reports false stack overflows after any exception
  // (google/sanitizers#189). Programs are validated before the kernel runs, so this is only an
  // ordering matter for the sanitizer build.
  CHECK_THROWS_AS(run(program({array_cmd(1, 1, 1, {0})}), chip()), nax::Error);
  CHECK_THROWS_AS(run(program({array_cmd(1, 1, 1), array_cmd(1, 1, 1, {5})}), chip()), nax::Error);
  CHECK_THROWS_AS(run(program({dma_cmd(4, 64, false)}), chip()), nax::Error);
  CHECK_THROWS_AS(run(program({array_cmd(1, 1, 1, {}, 3)}), chip()), nax::Error);
  Program other = program({});
  other.chip_hash = "0123456789abcdef";
  CHECK_THROWS_AS(run(other, chip()), nax::Error);
  const RunResult r = run(program({}), chip());
  CHECK(r.total_cycles == 0);
  CHECK(r.energy_uj == 0);
  CHECK(r.units.size() == 6);
  // The simulator still works after a rejected program.
  CHECK(run(program({vector_cmd(50)}), chip()).total_cycles == 54);
}
