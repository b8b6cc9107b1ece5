// Lowering, SRAM residency and the errors of layers that cannot be tiled: an IBN's expanded
// tensor stays on chip when it fits and is spilled (stored, then reloaded chunk by chunk) when the
// SRAM is small; keep_on_chip = false spills everything; a layer whose smallest tile does not fit
// is an error that names it, the bytes it needs and the bytes the chip has.
#include <catch2/catch.hpp>

#include "lower_test_util.hpp"
#include "models/common/error.hpp"

using namespace nax;
using namespace nax::hw;
using namespace nax::lower_test;

namespace {

int64_t dma_bytes(const Program& p, const std::string& layer, const std::string& what) {
  int64_t b = 0;
  for (const Command* c : layer_cmds(p, layer_index(p, layer))) {
    if (c->unit == UnitKind::kDma && c->dma.what == what) b += c->dma.bytes;
  }
  return b;
}

int64_t total_dram(const Program& p) {
  int64_t b = 0;
  for (const auto& L : p.layers) b += L.dram_read_bytes + L.dram_write_bytes;
  return b;
}

}  // namespace

TEST_CASE("an IBN chain stays on chip on the default chip", "[lower][memory]") {
  const Program p = lower(zoo("mobilenet_v2"), load_chip("default"));
  const LayerPlan* expand = find_layer(p, "s2.1.expand");
  const LayerPlan* dw = find_layer(p, "s2.1.dw");
  const LayerPlan* project = find_layer(p, "s2.1.project");
  const LayerPlan* add = find_layer(p, "s2.1.add");
  REQUIRE(expand);
  REQUIRE(dw);
  REQUIRE(project);
  REQUIRE(add);
  CHECK(expand->output_on_chip);
  CHECK(dw->input_on_chip);
  CHECK(dw->output_on_chip);
  CHECK(project->input_on_chip);
  CHECK(add->input_on_chip);  // the residual input too
  // Only weights move.
  CHECK(dw->dram_read_bytes == dma_bytes(p, "s2.1.dw", "weights"));
  CHECK(dw->dram_write_bytes == 0);
  CHECK(dma_bytes(p, "s2.1.expand", "spill") == 0);
}

TEST_CASE("an IBN chain spills on a chip with 64 KiB of SRAM", "[lower][memory]") {
  const ChipParams small = load_chip("default", {"sram.capacity_kib=64"});
  const Program p = lower(zoo("mobilenet_v2"), small);
  const LayerPlan* expand = find_layer(p, "s2.1.expand");
  const LayerPlan* dw = find_layer(p, "s2.1.dw");
  REQUIRE(expand);
  REQUIRE(dw);
  // 144 x 56 x 56 bytes cannot stay in 64 KiB: stored by the expand, reloaded by the dw.
  const int64_t expanded = 144 * 56 * 56;
  CHECK_FALSE(expand->output_on_chip);
  CHECK_FALSE(dw->input_on_chip);
  CHECK(dma_bytes(p, "s2.1.expand", "spill") == expanded);
  CHECK(dma_bytes(p, "s2.1.dw", "reload") >= expanded);  // halo rows reload twice
  for (const auto& L : p.layers) {
    INFO(L.name);
    CHECK(L.sram_peak_bytes <= small.sram_bytes());
  }
  // The default chip moves far fewer bytes.
  const Program big = lower(zoo("mobilenet_v2"), load_chip("default"));
  CHECK(total_dram(p) > 2 * total_dram(big));
}

TEST_CASE("keep_on_chip = false stores every intermediate tensor", "[lower][memory]") {
  LowerOptions opt;
  opt.keep_on_chip = false;
  const Program p = lower(zoo("mobilenet_v2"), load_chip("default"), opt);
  CHECK(dma_bytes(p, "s2.1.expand", "spill") == 144 * 56 * 56);
  CHECK(dma_bytes(p, "s2.1.dw", "reload") >= 144 * 56 * 56);
  for (const auto& L : p.layers) {
    INFO(L.name);
    CHECK_FALSE(L.output_on_chip);
    CHECK(L.resident_bytes == 0);
  }
}

TEST_CASE("weights that fit are loaded once per layer", "[lower][memory]") {
  const Program p = lower(zoo("mobilenet_v2"), load_chip("default"));
  for (const auto& L : p.layers) {
    if (!L.compute) continue;
    INFO(L.name);
    CHECK(dma_bytes(p, L.name, "weights") == L.weight_bytes);
  }
}

TEST_CASE("a layer whose smallest tile does not fit the SRAM is an error naming it",
          "[lower][memory]") {
  // 1x1 conv 16 -> 96 channels on 112 x 112: its smallest tile is one output row and one fold of
  // weights, double-buffered: input 112 x 16 B, weights 16 x 32 B, accumulators 112 x 32 x 4 B.
  const ir::Graph g = single_conv(16, 112, 112, 96, 1);
  const ChipParams chip = load_chip("default", {"sram.capacity_kib=32"});
  const int64_t need = 2 * (112 * 16 + 16 * 32 + 112 * 32 * 4);
  REQUIRE(need == 33280);
  try {
    lower(g, chip);
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()) ==
          "layer 'conv' (Conv2d): its smallest tile needs 33,280 B of SRAM (input 1 row x 112 x "
          "16 ch x 1 B, weights 16 x 32 x 1 B, output 112 px x 32 ch x 4 B, each x2 for double "
          "buffering), the chip has 32,768 B");
  }
  // With 64 KiB it lowers, tiled into rows.
  const Program p = lower(g, load_chip("default", {"sram.capacity_kib=64"}));
  CHECK(p.layers.at(0).sram_peak_bytes <= 64 * 1024);
}

TEST_CASE("with a split SRAM the error names the buffer that is too small", "[lower][memory]") {
  const ir::Graph g = single_conv(16, 1024, 1024, 32, 1);
  try {
    lower(g, load_chip("scalesim-ws-32x32"));
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    const std::string m = e.what();
    CHECK(m.find("layer 'conv' (Conv2d): its smallest tile needs") == 0);
    CHECK(m.find("of the ofmap buffer") != std::string::npos);
    CHECK(m.find("the chip has 65,536 B") != std::string::npos);
  }
}

TEST_CASE("shrinking the SRAM spills more and never overfills it", "[lower][memory]") {
  int64_t prev = -1;
  for (int kib : {4096, 1024, 256, 128}) {
    INFO(kib << " KiB");
    const ChipParams chip = load_chip("default", {"sram.capacity_kib=" + std::to_string(kib)});
    const Program p = lower(zoo("mobilenet_v2"), chip);
    for (const auto& L : p.layers) CHECK(L.sram_peak_bytes <= chip.sram_bytes());
    const int64_t bytes = total_dram(p);
    if (prev >= 0) CHECK(bytes >= prev);
    prev = bytes;
  }
}
