// Segmentation zoo models (`lraspp_mobilenet_v3_large`, `deeplabv3_mobilenet_v3_large`) against
// torchvision 0.14, counted with /usr/bin/python3: conv + linear MACs by forward hooks (output
// elements x in_channels / groups x kh x kw) and sum(p.numel()), weights=None,
// weights_backbone=None (aux_loss=False for DeepLabV3).
#include <catch2/catch.hpp>

#include "models/ir/analysis.hpp"
#include "models/zoo/zoo.hpp"

using namespace nax;

namespace {

ir::Graph graph(const std::string& arg) {
  return spec::build_graph(zoo::build(arg));
}

const ir::Op* find_op(const ir::Graph& g, const std::string& name) {
  for (const auto& op : g.ops()) {
    if (op.name == name) return &op;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("segmentation models match torchvision exactly", "[zoo][segmentation]") {
  struct Case {
    const char* arg;
    int64_t macs, params;
  };
  const Case cases[] = {
      {"lraspp_mobilenet_v3_large", 1974665088, 3221538},
      {"lraspp_mobilenet_v3_large:resolution=520", 2086219688, 3221538},
      {"lraspp_mobilenet_v3_large:resolution=513", 2081283536, 3221538},
      {"lraspp_mobilenet_v3_large:resolution=256,num_classes=2", 491620224, 3218308},
      {"deeplabv3_mobilenet_v3_large", 9825968000, 11025477},
      {"deeplabv3_mobilenet_v3_large:resolution=520", 10436350688, 11025477},
      {"deeplabv3_mobilenet_v3_large:resolution=513", 10431414536, 11025477},
  };
  for (const Case& c : cases) {
    INFO(c.arg);
    const ir::GraphStats st = ir::analyze(graph(c.arg));
    CHECK(st.macs == c.macs);
    CHECK(st.params == c.params);
  }
}

TEST_CASE("segmentation outputs are at the input resolution", "[zoo][segmentation]") {
  struct Case {
    const char* arg;
    int64_t classes, resolution;
  };
  const Case cases[] = {{"lraspp_mobilenet_v3_large", 21, 512},
                        {"deeplabv3_mobilenet_v3_large", 21, 512},
                        {"lraspp_mobilenet_v3_large:resolution=513,num_classes=2", 2, 513},
                        {"deeplabv3_mobilenet_v3_large:resolution=520,num_classes=5", 5, 520}};
  for (const Case& c : cases) {
    INFO(c.arg);
    const ir::Graph g = graph(c.arg);
    REQUIRE(g.outputs().size() == 1);
    CHECK(g.shape(g.outputs()[0]) == ir::Shape{1, c.classes, c.resolution, c.resolution});
  }
}

TEST_CASE("lraspp takes torchvision's low and high features", "[zoo][segmentation]") {
  const ir::Graph g = graph("lraspp_mobilenet_v3_large");
  // low: the first 40-channel block (features[4], output stride 8); high: the 960-channel last
  // conv at output stride 16 (dilated last stage).
  const ir::Op* low = find_op(g, "head.0.low_classifier");
  const ir::Op* cbr = find_op(g, "head.0.cbr");
  const ir::Op* gate = find_op(g, "head.0.scale.conv");
  REQUIRE(low);
  REQUIRE(cbr);
  REQUIRE(gate);
  CHECK(g.shape(low->inputs[0]) == ir::Shape{1, 40, 64, 64});
  CHECK(g.op(g.tensor(low->inputs[0]).producer).meta.block == "s3.0");
  CHECK(g.shape(cbr->inputs[0]) == ir::Shape{1, 960, 32, 32});
  CHECK(g.shape(cbr->output) == ir::Shape{1, 128, 32, 32});
  CHECK(g.shape(gate->output) == ir::Shape{1, 128, 1, 1});
  const ir::Op* resize = find_op(g, "head.0.resize");
  REQUIRE(resize);
  CHECK(g.shape(resize->output) == ir::Shape{1, 128, 64, 64});
}

TEST_CASE("deeplabv3 ASPP: rates 12, 24, 36, image pooling, 256 channels", "[zoo][segmentation]") {
  const ir::Graph g = graph("deeplabv3_mobilenet_v3_large");
  const int dilations[] = {12, 24, 36};
  for (int i = 0; i < 3; ++i) {
    const ir::Op* b = find_op(g, "head.0.b" + std::to_string(i + 1));
    REQUIRE(b);
    CHECK(b->attr<ir::ConvAttrs>().dilation_h == dilations[i]);
    CHECK(g.shape(b->output) == ir::Shape{1, 256, 32, 32});
  }
  const ir::Op* cat = find_op(g, "head.0.concat");
  REQUIRE(cat);
  CHECK(g.shape(cat->output) == ir::Shape{1, 5 * 256, 32, 32});
  const ir::Op* pool = find_op(g, "head.0.pool.conv");
  REQUIRE(pool);
  CHECK(g.shape(pool->output) == ir::Shape{1, 256, 1, 1});
  CHECK(g.shape(find_op(g, "head.0.project")->output) == ir::Shape{1, 256, 32, 32});
}

TEST_CASE("segmentation backbones take overrides", "[zoo][segmentation]") {
  const int64_t base = ir::analyze(graph("lraspp_mobilenet_v3_large")).macs;
  CHECK(ir::analyze(graph("lraspp_mobilenet_v3_large:s4.kernel=5")).macs > base);
  CHECK(ir::analyze(graph("lraspp_mobilenet_v3_large:depth=0.5")).macs < base);
  CHECK(ir::analyze(graph("lraspp_mobilenet_v3_large:width=0.5")).macs < base);
  CHECK(ir::analyze(graph("deeplabv3_mobilenet_v3_large:s3.type=fused_ibn")).macs >
        ir::analyze(graph("deeplabv3_mobilenet_v3_large")).macs);
}
