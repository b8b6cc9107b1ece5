// Classification zoo builders: per-model spot checks against torchvision / timm (numbers computed
// with /usr/bin/python3, torch 1.13 / torchvision 0.14: conv + linear MACs by forward hooks,
// parameters as sum(p.numel())), backbones, width multipliers and overrides.
#include <catch2/catch.hpp>

#include <string>

#include "models/ir/analysis.hpp"
#include "models/zoo/backbones.hpp"
#include "models/zoo/zoo.hpp"

using namespace nax;

namespace {

struct Counts {
  int64_t macs = 0;
  int64_t params = 0;
};

Counts count(const spec::ModelSpec& s) {
  const ir::GraphStats st = ir::analyze(spec::build_graph(s));
  return {st.macs, st.params};
}

Counts count(const std::string& arg) {
  return count(zoo::build(arg));
}

ir::Shape output_shape(const std::string& arg) {
  const ir::Graph g = spec::build_graph(zoo::build(arg));
  REQUIRE(g.outputs().size() == 1);
  return g.shape(g.outputs()[0]);
}

spec::ModelSpec named(spec::ModelSpec s) {
  s.assign_names();
  return s;
}

const char* const kClassifiers[] = {
    "mobilenet_v3_large",     "mobilenet_v3_small", "efficientnet_b0", "efficientnet_lite0",
    "efficientnet_edgetpu_s", "mnasnet1_0",         "resnet18",        "resnet50"};

std::string error_of(const std::string& arg) {
  try {
    spec::build_graph(zoo::build(arg));
  } catch (const InputError& e) {
    return e.what();
  }
  return {};
}

int64_t conv_out_channels(const ir::Graph& g, const std::string& op_name) {
  for (const auto& op : g.ops()) {
    if (op.name == op_name) return g.shape(op.output)[1];
  }
  FAIL("no op " << op_name);
  return 0;
}

}  // namespace

TEST_CASE("mobilenet_v3_backbone matches torchvision's features", "[zoo][mobilenet_v3]") {
  // torchvision.models.mobilenet_v3_large(dilated=True).features and variants.
  struct Case {
    const char* arch;
    bool dilated, reduced_tail;
    int64_t resolution, macs, params;
  };
  const Case cases[] = {
      {"large", true, false, 224, 352308000, 2971952},
      {"large", true, false, 520, 1937374688, 2971952},
      {"large", true, true, 224, 223479840, 1620512},
      {"small", true, true, 224, 58472096, 438704},
      {"large", false, false, 224, 214080960, 2971952},
      {"small", false, false, 224, 54896576, 927008},
      {"small", true, false, 224, 104895392, 927008},
  };
  for (const Case& c : cases) {
    INFO(c.arch << " dilated=" << c.dilated << " reduced_tail=" << c.reduced_tail << " @"
                << c.resolution);
    const Counts n = count(
        named(zoo::mobilenet_v3_backbone(c.arch, 1.0, c.resolution, c.dilated, c.reduced_tail)));
    CHECK(n.macs == c.macs);
    CHECK(n.params == c.params);
  }
  // width_mult=0.5, dilated=True
  const Counts half = count(named(zoo::mobilenet_v3_backbone("large", 0.5, 224, true, false)));
  CHECK(half.macs == 100953152);
  CHECK(half.params == 785736);
  const spec::ModelSpec s = zoo::mobilenet_v3_backbone("large", 1.0, 224, true, false);
  REQUIRE(s.stages.front().name == "stem");
  REQUIRE(s.stages.back().name == "last");
  CHECK(s.stages.front().fixed_depth);
  CHECK(s.stages.back().fixed_depth);
  CHECK(s.stages.size() == 7);  // stem, s1..s5, last
  CHECK_THROWS(zoo::mobilenet_v3_backbone("medium", 1.0, 224, false, false));
}

TEST_CASE("classifiers output one score per class", "[zoo]") {
  for (const char* name : kClassifiers) {
    INFO(name);
    CHECK(output_shape(name) == ir::Shape{1, 1000});
    CHECK(output_shape(std::string(name) + ":num_classes=10,resolution=160") == ir::Shape{1, 10});
  }
}

TEST_CASE("classifiers have the blocks of their reference", "[zoo]") {
  struct Case {
    const char* name;
    size_t blocks, stages;
  };
  // stem + blocks + head (+ last for MobileNetV3)
  const Case cases[] = {{"mobilenet_v3_large", 1 + 15 + 1 + 3, 8},
                        {"mobilenet_v3_small", 1 + 11 + 1 + 3, 7},
                        {"efficientnet_b0", 1 + 16 + 3, 9},
                        {"efficientnet_lite0", 1 + 16 + 3, 9},
                        {"efficientnet_edgetpu_s", 1 + 18 + 3, 8},
                        {"mnasnet1_0", 1 + 1 + 16 + 3, 9},
                        {"resnet18", 2 + 8 + 2, 6},
                        {"resnet50", 2 + 16 + 2, 6}};
  for (const Case& c : cases) {
    INFO(c.name);
    const spec::ModelSpec s = zoo::build(c.name);
    CHECK(s.num_blocks() == c.blocks);
    CHECK(s.stages.size() == c.stages);
    CHECK(s.stages.front().name == "stem");
    CHECK(s.stages.front().fixed_depth);
    CHECK(s.stages.back().name == "head");
    CHECK(s.stages.back().fixed_depth);
  }
  // MobileNetV3 stages start at each stride-2 bneck.
  spec::ModelSpec large = zoo::build("mobilenet_v3_large");
  CHECK(large.find_stage("s4")->blocks.size() == 6);
  CHECK(large.find_stage("last") != nullptr);
}

TEST_CASE("width, depth and resolution follow the reference implementations", "[zoo]") {
  // torchvision / timm at non-default settings, counted with forward hooks.
  struct Case {
    const char* arg;
    const char* reference;
    int64_t macs, params;
  };
  const Case cases[] = {
      {"mobilenet_v3_large:width=0.75", "mobilenet_v3_large(width_mult=0.75)", 140033816, 3377576},
      {"mobilenet_v3_small:width=0.75", "mobilenet_v3_small(width_mult=0.75)", 39115576, 1653920},
      {"mnasnet1_0:width=0.5", "mnasnet0_5", 104455968, 2218512},
      {"mnasnet1_0:width=1.3", "mnasnet1_3", 526362432, 6282256},
      {"efficientnet_b0:resolution=240", "efficientnet_b0 at 240", 462528080, 5288548},
      {"efficientnet_b0:depth=1.1,resolution=240", "efficientnet_b1", 686802832, 7794184},
      {"efficientnet_b0:width=1.1,depth=1.2,resolution=260", "efficientnet_b2", 993561872, 9109994},
      {"resnet18:num_classes=10,resolution=160", "resnet18(num_classes=10) at 160", 925291520,
       11181642},
      {"resnet18:s1.repeats=3,s2.repeats=4,s3.repeats=6,s4.repeats=3", "resnet34", 3663761408,
       21797672},
      {"resnet50:s3.repeats=23", "resnet101", 7801405440, 44549160},
      {"efficientnet_edgetpu_s:width=0.75", "timm-style efficientnet_es width 0.75", 1225455104,
       3523136},
      {"efficientnet_edgetpu_s:fused=iiiiii", "efficientnet_es, all IBN", 857163392, 4824984},
      {"efficientnet_edgetpu_s:fused=ffffff", "efficientnet_es, all fused", 6416281600, 37451320},
  };
  for (const Case& c : cases) {
    INFO(c.arg << " vs " << c.reference);
    const Counts n = count(c.arg);
    CHECK(n.macs == c.macs);
    CHECK(n.params == c.params);
  }
  // Width changes channels as torchvision's make_divisible does.
  const ir::Graph g = spec::build_graph(zoo::build("mobilenet_v3_large:width=0.75"));
  CHECK(conv_out_channels(g, "stem.0.conv") == 16);   // make_divisible(12, 8)
  CHECK(conv_out_channels(g, "s2.0.expand") == 48);   // make_divisible(64 x 0.75, 8)
  CHECK(conv_out_channels(g, "last.0.conv") == 720);  // 6 x make_divisible(120, 8)
  // Lite keeps its stem and head at any width.
  const ir::Graph lite = spec::build_graph(zoo::build("efficientnet_lite0:width=1.4"));
  CHECK(conv_out_channels(lite, "stem.0.conv") == 32);
  CHECK(conv_out_channels(lite, "head.0.conv") == 1280);
  CHECK(conv_out_channels(lite, "s7.0.project") == 448);
}

TEST_CASE("overrides change the classifiers as asked", "[zoo]") {
  SECTION("a fused stage costs more MACs") {
    const Counts base = count("efficientnet_b0");
    const Counts fused = count("efficientnet_b0:s2.type=fused_ibn");
    CHECK(fused.macs > base.macs);
    CHECK(fused.params > base.params);
    spec::ModelSpec s = zoo::build("efficientnet_b0:s2.type=fused_ibn");
    for (const auto& b : s.find_stage("s2")->blocks) CHECK(b.type == "fused_ibn");
    CHECK(s.find_stage("s3")->blocks[0].type == "ibn");
    // One block only.
    const spec::ModelSpec one = zoo::build("efficientnet_edgetpu_s:s4.2.type=fused_ibn");
    CHECK(one.find_block("s4.2")->type == "fused_ibn");
    CHECK(one.find_block("s4.1")->type == "ibn");
    CHECK(count("efficientnet_edgetpu_s:s4.2.type=fused_ibn").macs >
          count("efficientnet_edgetpu_s").macs);
  }
  SECTION("the fused pattern and the type override agree") {
    CHECK(
        ir::graph_hash(spec::build_graph(zoo::build("efficientnet_edgetpu_s:fused=ffffii"))) ==
        ir::graph_hash(spec::build_graph(zoo::build("efficientnet_edgetpu_s:s4.type=fused_ibn"))));
    CHECK_THAT(error_of("efficientnet_edgetpu_s:fused=ffx"),
               Catch::Contains("one per stage s1..s6"));
  }
  SECTION("depth doubles the blocks of non-fixed stages") {
    const spec::ModelSpec base = zoo::build("resnet18");
    const spec::ModelSpec deep = zoo::build("resnet18:depth=2");
    for (size_t i = 0; i < base.stages.size(); ++i) {
      INFO(base.stages[i].name);
      const size_t want = base.stages[i].fixed_depth ? base.stages[i].blocks.size()
                                                     : 2 * base.stages[i].blocks.size();
      CHECK(deep.stages[i].blocks.size() == want);
    }
    CHECK(deep.num_blocks() == 2 + 16 + 2);
    CHECK(count("resnet18:depth=2").macs > count("resnet18").macs);
    // Lite keeps its first and last stages (TF lite's fix_first_last).
    spec::ModelSpec lite = zoo::build("efficientnet_lite0:depth=2");
    CHECK(lite.find_stage("s1")->blocks.size() == 1);
    CHECK(lite.find_stage("s7")->blocks.size() == 1);
    CHECK(lite.find_stage("s6")->blocks.size() == 8);
  }
  SECTION("bad keys are input errors with a hint") {
    CHECK_THAT(error_of("efficientnet_b0:s2.kernal=5"), Catch::Contains("did you mean kernel?"));
    CHECK_THAT(error_of("mobilenet_v3_large:widht=0.5"), Catch::Contains("did you mean width?"));
    CHECK_THAT(error_of("resnet18:s2.0.typ=bottleneck"), Catch::Contains("did you mean"));
    CHECK_THAT(error_of("resnet50:s3.type=ibnn"), Catch::Contains("did you mean ibn?"));
    CHECK_THAT(error_of("resnett18"), Catch::Contains("did you mean resnet18?"));
  }
}

TEST_CASE("exported model descriptions load and equal the zoo builders", "[zoo]") {
  for (const char* name : kClassifiers) {
    INFO(name);
    const std::string path = std::string(NAX_SOURCE_DIR) + "/configs/models/" + name + ".yaml";
    const spec::ModelSpec file = spec::load_model_yaml(path);
    const spec::ModelSpec built = zoo::build(name);
    CHECK(ir::graph_hash(spec::build_graph(file)) == ir::graph_hash(spec::build_graph(built)));
    CHECK(spec::write_model_yaml(file) == spec::write_model_yaml(built));
  }
}
