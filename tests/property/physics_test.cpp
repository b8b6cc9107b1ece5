// The physics users must see, from the simulated hardware (lowering + SystemC simulator), never
// from rules. Each test would fail if latency were proportional to MACs.
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <algorithm>

#include "hw/lower/lower.hpp"
#include "hw/sim/simulator.hpp"
#include "models/ir/analysis.hpp"
#include "models/spec/model_spec.hpp"
#include "models/zoo/zoo.hpp"

using namespace nax;

namespace {

hw::RunResult simulate(const ir::Graph& g, const hw::ChipParams& chip) {
  return hw::Simulator::instance().run(hw::lower(g, chip), chip);
}

const hw::LayerResult& layer(const hw::RunResult& r, const std::string& name) {
  for (const auto& l : r.layers) {
    if (l.name == name) return l;
  }
  FAIL("no layer " << name);
  throw;
}

// input -> 1x1 conv "a" (cin -> mid) -> 1x1 conv "b" (mid -> cout) -> global pool: b reads and
// writes on chip, so its cycles are its compute.
ir::Graph pointwise_pair(int64_t hw_size, int cin, int mid, int cout) {
  const std::string yaml = fmt::format(R"(name: pair
input: {{channels: {}, height: {}, width: {}}}
stages:
  - name: s
    blocks:
      - {{type: conv, name: a, out: {}, kernel: 1, act: none}}
      - {{type: conv, name: b, out: {}, kernel: 1, act: none}}
      - {{type: global_pool}}
)",
                                       cin, hw_size, hw_size, mid, cout);
  return spec::build_graph(spec::read_model_yaml(yaml, "pair.yaml"));
}

hw::Cycle conv_b_cycles(int cin_b, int cout_b) {
  static const hw::ChipParams chip = hw::load_chip("default");
  return layer(simulate(pointwise_pair(56, 64, cin_b, cout_b), chip), "b.conv").cycles;
}

}  // namespace

TEST_CASE("a 1x1 conv's latency is a staircase in output channels", "[physics]") {
  // The array's 32 columns take 32 output channels per fold: 33..64 channels cost two folds.
  std::vector<hw::Cycle> c(97);
  for (int m : {1, 8, 16, 31, 32, 33, 40, 48, 63, 64, 65, 80, 96}) c[m] = conv_b_cycles(64, m);
  for (int m : {1, 8, 16, 31}) CHECK(c[m] <= c[32]);
  CHECK(c[33] > 1.6 * c[32]);  // +3% MACs, +60% or more cycles: a step
  for (int m : {40, 48, 63, 64}) CHECK(c[m] < 1.05 * c[33]);  // flat within the step
  CHECK(c[65] > 1.3 * c[64]);
  for (int m : {80, 96}) CHECK(c[m] < 1.05 * c[65]);
}

TEST_CASE("a 1x1 conv's latency is a staircase in input channels", "[physics]") {
  // The array's 32 rows take 32 input channels per fold.
  std::vector<hw::Cycle> c(97);
  for (int k : {16, 31, 32, 33, 48, 64, 65, 96}) c[k] = conv_b_cycles(k, 64);
  CHECK(c[16] <= c[32]);
  CHECK(c[33] > 1.6 * c[32]);
  for (int k : {48, 64}) CHECK(c[k] < 1.05 * c[33]);
  CHECK(c[65] > 1.3 * c[64]);
  CHECK(c[96] < 1.05 * c[65]);
}

TEST_CASE("depthwise convs use the MAC array far worse than dense convs", "[physics]") {
  const hw::ChipParams chip = hw::load_chip("default");
  // Depthwise 3x3 over 96 channels at 112x112 (10.8 M MACs) vs a dense 3x3 conv 16 -> 32 at
  // 56x56 (14.5 M MACs), each between an on-chip producer and consumer.
  const char* yaml = R"(name: dw_vs_dense
input: {channels: 16, height: 112, width: 112}
stages:
  - name: s
    blocks:
      - {type: conv, name: expand, out: 96, kernel: 1}
      - {type: dwconv, name: dw, kernel: 3}
      - {type: conv, name: shrink, out: 16, kernel: 1, stride: 2}
      - {type: conv, name: dense, out: 32, kernel: 3}
      - {type: global_pool}
)";
  const ir::Graph g = spec::build_graph(spec::read_model_yaml(yaml, "m.yaml"));
  const hw::RunResult r = simulate(g, chip);
  const auto& dw = layer(r, "dw.dw");
  const auto& dense = layer(r, "dense.conv");
  INFO("depthwise " << dw.utilization << ", dense " << dense.utilization);
  CHECK(dw.macs == 112 * 112 * 96 * 9);
  CHECK(dense.macs == 56 * 56 * 32 * 16 * 9);
  CHECK(dw.utilization < 0.1 * dense.utilization);
  CHECK(dw.cycles > 2 * dense.cycles);  // fewer MACs, more cycles
}

namespace {

struct BlockRun {
  int64_t macs;
  hw::Cycle cycles;
};

BlockRun run_block(const std::string& type, int res, int channels, const hw::ChipParams& chip) {
  const std::string yaml =
      fmt::format(R"(name: block
input: {{channels: {c}, height: {r}, width: {r}}}
stages:
  - name: s
    blocks:
      - {{type: {t}, out: {c}, expansion: 6, kernel: 3}}
)",
                  fmt::arg("c", channels), fmt::arg("r", res), fmt::arg("t", type));
  const ir::Graph g = spec::build_graph(spec::read_model_yaml(yaml, "block.yaml"));
  return {ir::analyze(g).macs, simulate(g, chip).total_cycles};
}

}  // namespace

TEST_CASE("fused-IBN beats IBN early and loses late on the default chip", "[physics]") {
  const hw::ChipParams chip = hw::load_chip("default");
  for (auto [res, ch] : {std::pair{112, 16}, std::pair{56, 24}, std::pair{56, 32}}) {
    const BlockRun ibn = run_block("ibn", res, ch, chip);
    const BlockRun fused = run_block("fused_ibn", res, ch, chip);
    INFO(fmt::format("early {}x{}x{}: IBN {} MACs {} cycles, fused {} MACs {} cycles", res, res, ch,
                     ibn.macs, ibn.cycles, fused.macs, fused.cycles));
    CHECK(fused.macs > ibn.macs);
    CHECK(fused.cycles < ibn.cycles);
  }
  for (auto [res, ch] : {std::pair{14, 160}, std::pair{7, 160}, std::pair{7, 320}}) {
    const BlockRun ibn = run_block("ibn", res, ch, chip);
    const BlockRun fused = run_block("fused_ibn", res, ch, chip);
    INFO(fmt::format("late {}x{}x{}: IBN {} MACs {} cycles, fused {} MACs {} cycles", res, res, ch,
                     ibn.macs, ibn.cycles, fused.macs, fused.cycles));
    CHECK(fused.macs > ibn.macs);
    CHECK(fused.cycles > ibn.cycles);
  }
}

TEST_CASE("a working set that exceeds SRAM costs DRAM time", "[physics]") {
  const ir::Graph g = spec::build_graph(zoo::build("mobilenet_v2"));
  hw::Cycle prev_cycles = 0;
  int64_t prev_dram = 0;
  for (int kib : {4096, 1024, 256, 128}) {
    const hw::ChipParams chip =
        hw::load_chip("default", {fmt::format("sram.capacity_kib={}", kib)});
    const hw::RunResult r = simulate(g, chip);
    const int64_t dram = r.dram_read_bytes + r.dram_write_bytes;
    INFO(kib << " KiB: " << r.total_cycles << " cycles, " << dram << " DRAM bytes");
    CHECK(r.total_cycles >= prev_cycles);
    CHECK(dram >= prev_dram);
    prev_cycles = r.total_cycles;
    prev_dram = dram;
  }
  const hw::RunResult big = simulate(g, hw::load_chip("default"));
  CHECK(prev_cycles > 1.3 * big.total_cycles);  // 128 KiB spills most activations
}
