// Hardware-aware features: the fold grid's ceil-divisions (channel staircases), depthwise
// packing, vector lanes, context, and the lean graph path agreeing with the Unit path.
#include <catch2/catch.hpp>

#include <cmath>

#include "hw/chip/chip.hpp"
#include "hw/traces/chip_features.hpp"
#include "hw/traces/label.hpp"
#include "models/estimate/fast_units.hpp"
#include "models/estimate/features.hpp"
#include "models/estimate/ibn_space.hpp"
#include "models/estimate/unit.hpp"
#include "models/model_source.hpp"
#include "models/onnx/onnx_import.hpp"
#include "models/spec/model_spec.hpp"
#include "models/zoo/zoo.hpp"

using namespace nax;
using namespace nax::est;

namespace {

// A 32x32 ws chip with ideal memories: only the array's fold grid matters.
ChipFeatures ideal_chip(DataflowKind df = DataflowKind::kWs) {
  ChipFeatures c;
  c.rows = 32;
  c.cols = 32;
  c.dataflow = df;
  c.overlap_preload = false;
  c.dram_ideal = true;
  c.sram_ideal = true;
  return c;
}

// A single conv layer as a unit geometry.
struct OneLayer {
  LayerGeom l;
  UnitGeom u;
  OneLayer(int64_t cin, int64_t cout, int64_t hw, int k = 1, bool depthwise = false) {
    l.kind = ir::OpKind::kConv2d;
    l.depthwise = depthwise;
    l.kh = l.kw = k;
    l.groups = depthwise ? static_cast<int>(cin) : 1;
    l.cin = cin, l.cout = cout, l.ih = l.iw = l.oh = l.ow = hw;
    l.macs = hw * hw * cout * k * k * (depthwise ? 1 : cin);
    l.params = cout * k * k * (depthwise ? 1 : cin);
    l.reads_input = true;
    u.type = depthwise ? UnitType::kDwConv : UnitType::kConv;
    u.layers = &l;
    u.num_layers = 1;
    u.in_elems = cin * hw * hw;
    u.out_elems = cout * hw * hw;
    u.macs = l.macs;
    u.params = l.params;
  }
  double f(const ChipFeatures& chip, int which, Context ctx = {true, true}) const {
    double x[kNumHwFeatures];
    hw_features(u, ctx, chip, x);
    return x[which];
  }
};

}  // namespace

TEST_CASE("array cycles follow the fold grid: ws without overlap is F x (2R + C + T - 2)",
          "[features]") {
  // hw/MACHINE.md: overlap_preload = false, pad_partial_folds = true, ideal memory:
  // F folds of T vectors take exactly F x (2R + C + T - 2) cycles on ws.
  ChipFeatures c = ideal_chip();
  c.pad_partial_folds = true;
  for (int64_t cin : {16, 32, 33, 64, 100}) {
    for (int64_t cout : {8, 32, 40, 96}) {
      const OneLayer one(cin, cout, 7);
      const int64_t folds = ((cin + 31) / 32) * ((cout + 31) / 32);
      CHECK(one.f(c, kFArrayCycles) == Approx(folds * (2 * 32 + 32 + 49 - 2)));
    }
  }
}

TEST_CASE("output channels make a staircase: 32 and 33 differ by a column fold", "[features]") {
  ChipFeatures c = ideal_chip();
  c.overlap_preload = true;
  const double at31 = OneLayer(64, 31, 14).f(c, kFArrayCycles);
  const double at32 = OneLayer(64, 32, 14).f(c, kFArrayCycles);
  const double at33 = OneLayer(64, 33, 14).f(c, kFArrayCycles);
  const double at64 = OneLayer(64, 64, 14).f(c, kFArrayCycles);
  // Within a fold, one more channel costs one drain cycle at most; one fold more costs a fold.
  CHECK(at32 - at31 <= 1);
  CHECK(at33 - at32 >= 2 * 196 - 32);  // a fold more; the last column fold drains 31 less
  CHECK(at64 - at33 <= 31);
  CHECK(OneLayer(64, 33, 14).f(c, kFColFolds) == 2);
  CHECK(OneLayer(64, 32, 14).f(c, kFColFolds) == 1);
  // Input channels: rows of the array (ws), row folds.
  CHECK(OneLayer(32, 32, 14).f(c, kFRowFolds) == 1);
  CHECK(OneLayer(33, 32, 14).f(c, kFRowFolds) == 2);
}

TEST_CASE("depthwise convs pack floor(R / k^2) channels per fold on ws", "[features]") {
  ChipFeatures c = ideal_chip();
  c.pad_partial_folds = true;
  // k = 3: 3 channels per fold (27 of 32 rows): 96 channels = 32 folds of 196 vectors.
  const OneLayer dw(96, 96, 14, 3, true);
  CHECK(dw.f(c, kFArrayCycles) == Approx(32 * (2 * 32 + 32 + 196 - 2)));
  // On the vector unit instead: Hout x Wout x ceil(C / L) x k x k issues + latency.
  c.depthwise_on_vector = true;
  c.lanes = 32;
  c.vector_latency_cycles = 4;
  CHECK(dw.f(c, kFArrayCycles) == 0);
  CHECK(dw.f(c, kFVectorCycles) == 196 * 3 * 9 + 4);
  // Lanes staircase: 97 channels take one more lane group.
  const OneLayer dw97(97, 97, 14, 3, true);
  CHECK(dw97.f(c, kFVectorCycles) == 196 * 4 * 9 + 4);
}

TEST_CASE("the context moves bytes between SRAM and DRAM", "[features]") {
  ChipFeatures c;  // default-like
  const OneLayer one(64, 64, 28);
  const double on = one.f(c, kFInputDram, {true, true});
  const double off = one.f(c, kFInputDram, {false, true});
  CHECK(on == 0);
  CHECK(off == Approx(64.0 * 28 * 28 / c.dma_bytes_per_cycle()));
  CHECK(one.f(c, kFOutputDram, {true, false}) > 0);
  CHECK(one.f(c, kFOutputDram, {true, true}) == 0);
  CHECK(one.f(c, kFRoofline, {false, false}) > one.f(c, kFRoofline, {true, true}));
  CHECK(one.f(c, kFInputOnChip, {true, false}) == 1);
  CHECK(one.f(c, kFOutputOnChip, {true, false}) == 0);
}

TEST_CASE("ChipFeatures from a chip round-trip through JSON; bad JSON is an InputError",
          "[features]") {
  const hw::ChipParams chip = hw::load_chip("edgetpu-like");
  const ChipFeatures c = hw::chip_features(chip);
  CHECK(c.hash == chip.hash);
  CHECK(c.rows == chip.mac_array.rows);
  CHECK(c.sram_bytes == chip.sram_bytes());
  const ChipFeatures back = chip_features_from_json(chip_features_to_json(c));
  CHECK(chip_features_to_json(back) == chip_features_to_json(c));
  auto j = chip_features_to_json(c);
  j.erase("rows");
  CHECK_THROWS_AS(chip_features_from_json(j), InputError);
  j = chip_features_to_json(c);
  j["dataflow"] = "xs";
  CHECK_THROWS_AS(chip_features_from_json(j), InputError);
  j = chip_features_to_json(c);
  j["lanes"] = 0;
  CHECK_THROWS_AS(chip_features_from_json(j), InputError);
  double v[kNumChipVector];
  chip_vector(c, v);
  CHECK(chip_vector_names().size() == static_cast<size_t>(kNumChipVector));
  CHECK(hw_feature_names().size() == static_cast<size_t>(kNumHwFeatures));
  CHECK(raw_feature_names().size() == static_cast<size_t>(kNumRawFeatures));
}

TEST_CASE("the lean graph path groups units as decompose does, with identical features",
          "[features]") {
  const ChipFeatures chip = hw::chip_features(hw::load_chip("default"));
  std::vector<ir::Graph> graphs;
  for (const auto& name : zoo::ZooRegistry::instance().names())
    graphs.push_back(load_model(name).graph);
  for (int i = 0; i < 10; ++i) graphs.push_back(spec::build_graph(ibn_space_network(3, i)));
  // ONNX: no block metadata, decompose's pattern search.
  graphs.push_back(onnx::import_onnx_file(std::string(NAX_FIXTURES) + "/onnx/mobilenet_v2.onnx"));
  GraphScanner scanner;
  std::vector<LayerGeom> storage;
  int checked = 0;
  for (const auto& g : graphs) {
    const std::vector<Unit> units = decompose(g);
    scanner.scan(g, chip);
    REQUIRE(scanner.units().size() == units.size());
    for (size_t i = 0; i < units.size(); ++i) {
      const ScannedUnit& s = scanner.units()[i];
      INFO(g.name << " unit " << units[i].name);
      REQUIRE(s.type == units[i].type);
      CHECK(*s.name == units[i].name);
      const UnitGeom ug = unit_geom(units[i], storage, resize_taps(g, units[i]));
      for (Context ctx : {Context{false, false}, Context{true, true}, s.context}) {
        double a[kNumHwFeatures], b[kNumHwFeatures];
        hw_features(ug, ctx, chip, a);
        hw_features(s.geom, ctx, chip, b);
        for (int k = 0; k < kNumHwFeatures; ++k) {
          INFO(hw_feature_names()[static_cast<size_t>(k)]);
          REQUIRE(a[k] == b[k]);
        }
        double ra[kNumRawFeatures], rb[kNumRawFeatures];
        raw_features(ug, ctx, ra);
        raw_features(s.geom, ctx, rb);
        for (int k = 0; k < kNumRawFeatures; ++k) REQUIRE(ra[k] == rb[k]);
      }
      ++checked;
    }
  }
  CHECK(checked > 500);
  // The ONNX graph went through decompose.
  scanner.scan(graphs.back(), chip);
  CHECK(scanner.used_decompose());
  scanner.scan(graphs.front(), chip);
  CHECK_FALSE(scanner.used_decompose());
}

TEST_CASE("predicted contexts match the lowering's on the zoo", "[features]") {
  const hw::ChipParams chip = hw::load_chip("default");
  const ChipFeatures cf = hw::chip_features(chip);
  GraphScanner scanner;
  int64_t n = 0, right = 0;
  for (const char* name :
       {"mobilenet_v2", "resnet18", "efficientnet_b0", "person_detector", "mobilenet_v3_small"}) {
    const ir::Graph g = load_model(name).graph;
    const hw::NetworkLabel label = hw::label_network(g, chip);
    scanner.scan(g, cf);
    REQUIRE(scanner.units().size() == label.units.size());
    for (size_t i = 0; i < label.units.size(); ++i) {
      ++n;
      right += scanner.units()[i].context.input_on_chip == label.units[i].input_on_chip &&
               scanner.units()[i].context.output_on_chip == label.units[i].output_on_chip;
    }
    // Graph inputs start in DRAM, graph outputs end there.
    CHECK_FALSE(scanner.units().front().context.input_on_chip);
    CHECK_FALSE(scanner.units().back().context.output_on_chip);
  }
  CHECK(static_cast<double>(right) / static_cast<double>(n) >= 0.98);
}

TEST_CASE("resize taps come from the mode; unit records leave them unknown", "[features]") {
  CHECK(resize_taps("nearest") == 1);
  CHECK(resize_taps("linear") == 4);
  CHECK(resize_taps("cubic") == 16);
  LayerGeom l;
  l.kind = ir::OpKind::kResize;
  l.cin = l.cout = 64;
  l.ih = l.iw = 8;
  l.oh = l.ow = 16;
  UnitGeom u;
  u.type = UnitType::kResize;
  u.layers = &l;
  u.num_layers = 1;
  ChipFeatures c;
  double a[kNumHwFeatures], b[kNumHwFeatures];
  hw_features(u, {true, true}, c, a);
  l.taps = 4;
  hw_features(u, {true, true}, c, b);
  CHECK(b[kFVectorCycles] - c.vector_latency_cycles ==
        Approx(4 * (a[kFVectorCycles] - c.vector_latency_cycles)));
}
