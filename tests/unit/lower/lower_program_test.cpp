// Lowering, program invariants on zoo models x every chip preset: the commands carry exactly the
// graph's MACs (per layer and in total), deps point backwards, DMA channels and SRAM banks exist,
// a fold's segments are contiguous, vector payloads match the timing model, planned DRAM bytes
// match the DMA commands, graph inputs are loaded and graph outputs stored, and no layer's SRAM
// in use (resident tensors + working set) exceeds the chip's SRAM.
#include <catch2/catch.hpp>

#include <string>

#include "lower_test_util.hpp"
#include "models/ir/analysis.hpp"

using namespace nax;
using namespace nax::hw;
using namespace nax::lower_test;

namespace {

void check_program(const ir::Graph& g, const ChipParams& chip, const Program& p) {
  const ir::GraphStats st = ir::analyze(g);
  const int R = chip.mac_array.rows, C = chip.mac_array.cols;
  std::vector<int64_t> layer_macs(p.layers.size(), 0), layer_rd(p.layers.size(), 0),
      layer_wr(p.layers.size(), 0);
  int64_t macs = 0, input_loads = 0, output_stores = 0;
  bool in_fold = false;  // the previous array segment left its fold open
  int prev_r = 0, prev_c = 0, prev_layer = 0;
  for (size_t i = 0; i < p.cmds.size(); ++i) {
    const Command& c = p.cmds[i];
    INFO("command " << i << " layer " << c.layer);
    REQUIRE(c.layer >= prev_layer);  // layers in order
    REQUIRE(c.layer < static_cast<int>(p.layers.size()));
    prev_layer = c.layer;
    for (size_t d = 0; d < c.deps.size(); ++d) {
      REQUIRE(c.deps[d] < i);
      if (d) REQUIRE(c.deps[d] > c.deps[d - 1]);
    }
    REQUIRE(c.sram.start_bank >= 0);
    REQUIRE(c.sram.start_bank < chip.sram.banks);
    switch (c.unit) {
      case UnitKind::kMacArray: {
        const ArraySegment& s = c.array.seg;
        REQUIRE(s.rows_used >= 1);
        REQUIRE(s.rows_used <= R);
        REQUIRE(s.cols_used >= 1);
        REQUIRE(s.cols_used <= C);
        REQUIRE(s.vectors >= 1);
        REQUIRE(c.array.macs >= 1);
        REQUIRE(c.array.macs <= int64_t{s.rows_used} * s.cols_used * s.vectors);
        // A fold's segments follow each other: new_fold exactly when the previous one closed.
        REQUIRE(s.new_fold == !in_fold);
        if (!s.new_fold) {
          REQUIRE(s.rows_used == prev_r);
          REQUIRE(s.cols_used == prev_c);
        }
        in_fold = !s.last_segment;
        prev_r = s.rows_used;
        prev_c = s.cols_used;
        macs += c.array.macs;
        layer_macs[static_cast<size_t>(c.layer)] += c.array.macs;
        break;
      }
      case UnitKind::kVector:
        REQUIRE(c.vector.issues == vector_issues(c.vector.work, chip.vector_unit.lanes));
        REQUIRE(c.vector.element_ops == vector_element_ops(c.vector.work, chip.vector_unit.lanes));
        REQUIRE(c.vector.issues >= 1);
        break;
      case UnitKind::kDma:
        REQUIRE(c.channel >= 0);
        REQUIRE(c.channel < chip.dma.channels);
        REQUIRE(c.dma.bytes >= 1);
        REQUIRE(c.sram.total() == c.dma.bytes);
        (c.dma.store ? layer_wr : layer_rd)[static_cast<size_t>(c.layer)] += c.dma.bytes;
        if (c.dma.what == "input") input_loads += c.dma.bytes;
        if (c.dma.what == "output") output_stores += c.dma.bytes;
        if (c.dma.what != "psum") {  // partial sums go both ways
          REQUIRE((c.dma.what == "input" || c.dma.what == "weights" || c.dma.what == "reload") !=
                  c.dma.store);
        }
        break;
    }
  }
  REQUIRE_FALSE(in_fold);
  CHECK(macs == st.macs);
  const int64_t cap = chip.sram_bytes();
  for (size_t l = 0; l < p.layers.size(); ++l) {
    const LayerPlan& L = p.layers[l];
    INFO("layer " << L.name);
    if (L.unit == UnitKind::kMacArray && L.compute) CHECK(layer_macs[l] == L.macs);
    CHECK(layer_rd[l] == L.dram_read_bytes);
    CHECK(layer_wr[l] == L.dram_write_bytes);
    CHECK(L.sram_peak_bytes == L.working_set_bytes + L.resident_bytes);
    CHECK(L.sram_peak_bytes <= cap);
    if (!L.compute) CHECK(L.tiles == 0);
  }
  int64_t in_bytes = 0, out_bytes = 0;
  for (ir::TensorId t : g.inputs()) in_bytes += ir::numel(g.shape(t)) * chip.activation_bytes();
  for (ir::TensorId t : g.outputs()) out_bytes += ir::numel(g.shape(t)) * chip.activation_bytes();
  CHECK(input_loads >= in_bytes);  // halos may load rows twice
  CHECK(output_stores == out_bytes);
}

void check_model(const std::string& model) {
  const ir::Graph& g = zoo(model);
  for (const std::string& preset : preset_names()) {
    for (bool keep : {true, false}) {
      INFO(model << " on " << preset << (keep ? "" : ", keep_on_chip = false"));
      const ChipParams chip = load_chip(preset);
      LowerOptions opt;
      opt.keep_on_chip = keep;
      Program p;
      try {
        p = lower(g, chip, opt);
      } catch (const InputError& e) {
        // A chip whose vector unit lacks an op class the model needs refuses it, by name.
        CHECK_THAT(e.what(), Catch::Contains("does not list in vector_unit.ops"));
        continue;
      }
      CHECK(p.chip_name == chip.name);
      CHECK(p.chip_hash == chip.hash);
      CHECK(p.dma_channels == chip.dma.channels);
      check_program(g, chip, p);
      if (!keep) {
        for (const auto& L : p.layers) {
          INFO(L.name);
          CHECK_FALSE(L.output_on_chip);
          CHECK_FALSE(L.input_on_chip);
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("lowering mobilenet_v2 keeps every invariant on every preset", "[lower][program]") {
  check_model("mobilenet_v2");
}
TEST_CASE("lowering resnet18 keeps every invariant on every preset", "[lower][program]") {
  check_model("resnet18");
}
TEST_CASE("lowering person_detector keeps every invariant on every preset", "[lower][program]") {
  check_model("person_detector");
}
TEST_CASE("lowering lraspp_mobilenet_v3_large keeps every invariant on every preset",
          "[lower][program]") {
  check_model("lraspp_mobilenet_v3_large");
}
TEST_CASE("lowering efficientnet_b0 keeps every invariant on every preset", "[lower][program]") {
  check_model("efficientnet_b0");
}
TEST_CASE("lowering nb201 keeps every invariant on every preset", "[lower][program]") {
  check_model("nb201");
}

TEST_CASE("grouped convolutions lower one GEMM per group", "[lower][program]") {
  const ir::Graph g = single_conv(64, 14, 14, 128, 3, 1, /*groups=*/4);
  const ChipParams chip = load_chip("default");
  const Program p = lower(g, chip);
  check_program(g, chip, p);
  REQUIRE(p.layers.size() == 1);
  // K = 9 x 16 = 144 -> 5 row folds, M = 32 -> 1 column fold, per group.
  CHECK(p.layers[0].folds % 4 == 0);
  CHECK(p.layers[0].mapping.find("x4 groups") != std::string::npos);
}

TEST_CASE("lowering is deterministic", "[lower][program]") {
  for (const char* preset : {"default", "tiny", "scalesim-os-32x32"}) {
    INFO(preset);
    const ChipParams chip = load_chip(preset);
    const Program a = lower(zoo("mobilenet_v2"), chip);
    const Program b = lower(zoo("mobilenet_v2"), chip);
    REQUIRE(a.cmds.size() == b.cmds.size());
    for (size_t i = 0; i < a.cmds.size(); ++i) {
      const Command& x = a.cmds[i];
      const Command& y = b.cmds[i];
      INFO("command " << i);
      REQUIRE(x.unit == y.unit);
      REQUIRE(x.channel == y.channel);
      REQUIRE(x.layer == y.layer);
      REQUIRE(x.tile == y.tile);
      REQUIRE(x.deps == y.deps);
      REQUIRE(x.array.seg.rows_used == y.array.seg.rows_used);
      REQUIRE(x.array.seg.cols_used == y.array.seg.cols_used);
      REQUIRE(x.array.seg.vectors == y.array.seg.vectors);
      REQUIRE(x.array.seg.new_fold == y.array.seg.new_fold);
      REQUIRE(x.array.seg.last_segment == y.array.seg.last_segment);
      REQUIRE(x.array.macs == y.array.macs);
      REQUIRE(x.vector.issues == y.vector.issues);
      REQUIRE(x.dma.bytes == y.dma.bytes);
      REQUIRE(x.dma.store == y.dma.store);
      REQUIRE(x.dma.what == y.dma.what);
      for (int k = 0; k < 3; ++k) REQUIRE(x.sram.bytes[k] == y.sram.bytes[k]);
      REQUIRE(x.sram.start_bank == y.sram.start_bank);
    }
    REQUIRE(a.layers.size() == b.layers.size());
    for (size_t l = 0; l < a.layers.size(); ++l) {
      CHECK(a.layers[l].mapping == b.layers[l].mapping);
      CHECK(a.layers[l].sram_peak_bytes == b.layers[l].sram_peak_bytes);
      CHECK(a.layers[l].output_on_chip == b.layers[l].output_on_chip);
    }
  }
}
