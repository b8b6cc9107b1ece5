// SSDLite + MobileNetV2 (`ssdlite_mobilenet_v2`, `person_detector`): feature maps, anchors and
// prediction shapes as the TF object detection API's ssdlite_mobilenet_v2, the paper's cost, and
// overrides of the backbone.
#include <catch2/catch.hpp>

#include "models/ir/analysis.hpp"
#include "models/zoo/zoo.hpp"

using namespace nax;

namespace {

ir::Graph graph(const std::string& arg) {
  return spec::build_graph(zoo::build(arg));
}

ir::GraphStats stats(const std::string& arg) {
  return ir::analyze(graph(arg));
}

// Shapes of the feature maps a predictor block reads (the inputs of its per-map convs).
std::vector<ir::Shape> predictor_maps(const ir::Graph& g, const std::string& block) {
  std::vector<ir::Shape> out;
  for (const auto& op : g.ops()) {
    if (op.meta.block == block && op.meta.role.size() > 3 &&
        op.meta.role.compare(op.meta.role.size() - 3, 3, ".dw") == 0) {
      out.push_back(g.shape(op.inputs[0]));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("ssdlite_mobilenet_v2: six feature maps, 2034 anchors, box and class outputs",
          "[zoo][ssdlite]") {
  const ir::Graph g = graph("ssdlite_mobilenet_v2");
  const std::vector<ir::Shape> maps = {{1, 576, 20, 20}, {1, 1280, 10, 10}, {1, 512, 5, 5},
                                       {1, 256, 3, 3},   {1, 256, 2, 2},    {1, 128, 1, 1}};
  CHECK(predictor_maps(g, "boxes") == maps);
  CHECK(predictor_maps(g, "classes") == maps);
  // 20x20x3 + (10x10 + 5x5 + 3x3 + 2x2 + 1x1) x 6 = 1200 + 834.
  REQUIRE(g.outputs().size() == 2);
  CHECK(g.shape(g.outputs()[0]) == ir::Shape{1, 2034, 4});
  CHECK(g.shape(g.outputs()[1]) == ir::Shape{1, 2034, 91});
  // Per-map predictor widths: anchors x 4 and anchors x classes.
  for (const auto& op : g.ops()) {
    if (op.name == "boxes.m0.conv") CHECK(g.shape(op.output) == ir::Shape{1, 12, 20, 20});
    if (op.name == "classes.m1.conv") CHECK(g.shape(op.output) == ir::Shape{1, 546, 10, 10});
    if (op.name == "extras.0.dw") CHECK(g.shape(op.output) == ir::Shape{1, 256, 5, 5});
  }
  // The first map is the expansion of the first 160-channel block, before its stride.
  const spec::ModelSpec m = zoo::build("ssdlite_mobilenet_v2");
  CHECK(std::get<int64_t>(m.find_block("s6.0")->params.at("out")) == 160);

  // SSD300's well-known 1917 anchors (maps 19, 10, 5, 3, 2, 1).
  const ir::Graph g300 = graph("ssdlite_mobilenet_v2:resolution=300");
  CHECK(g300.shape(g300.outputs()[0]) == ir::Shape{1, 1917, 4});
}

TEST_CASE("ssdlite_mobilenet_v2 cost is the paper's SSDLite", "[zoo][ssdlite]") {
  // MobileNetV2 paper, Table 6: 4.3M params, 0.8B MAdds (see Reference.source).
  const zoo::ZooEntry* e = zoo::ZooRegistry::instance().find("ssdlite_mobilenet_v2");
  REQUIRE(e);
  REQUIRE(e->reference);
  const ir::GraphStats st = stats("ssdlite_mobilenet_v2");
  CHECK(std::abs(static_cast<double>(st.macs) / e->reference->macs - 1) <= 0.01);
  CHECK(std::abs(static_cast<double>(st.params) / e->reference->params - 1) <=
        e->reference->tolerance);
  // Backbone without classifier = torchvision mobilenet_v2 minus its 1280 x 1000 + 1000 classifier.
  const ir::GraphStats cls = stats("mobilenet_v2:resolution=320");
  int64_t backbone_params = 0;
  const ir::Graph g = graph("ssdlite_mobilenet_v2");
  const ir::GraphStats full = ir::analyze(g);
  for (const auto& L : full.layers) {
    const std::string& b = g.op(L.op).meta.block;
    if (b.rfind("extras", 0) != 0 && b != "boxes" && b != "classes") backbone_params += L.params;
  }
  CHECK(backbone_params == cls.params - (1280 * 1000 + 1000));
}

TEST_CASE("person_detector is ssdlite_mobilenet_v2 with two classes", "[zoo][ssdlite]") {
  const ir::Graph p = graph("person_detector");
  CHECK(ir::graph_hash(p) == ir::graph_hash(graph("ssdlite_mobilenet_v2:num_classes=2")));
  CHECK(p.shape(p.outputs()[1]) == ir::Shape{1, 2034, 2});
  CHECK(p.shape(p.inputs()[0]) == ir::Shape{1, 3, 320, 320});
  CHECK(zoo::build("person_detector").name == "person_detector");
}

TEST_CASE("person_detector backbone takes block overrides and depth multipliers",
          "[zoo][ssdlite]") {
  const ir::GraphStats base = stats("person_detector");
  // Fused IBNs (MobileDets/EdgeTPU style) in stage 3: a 3x3 full conv replaces 1x1 + depthwise.
  const ir::Graph fused = graph("person_detector:s3.type=fused_ibn");
  const ir::GraphStats f = ir::analyze(fused);
  CHECK(f.macs > base.macs);
  int fused_ops = 0;
  for (const auto& op : fused.ops()) fused_ops += op.meta.block_type == "fused_ibn";
  CHECK(fused_ops > 0);
  // The first map's tap follows a fused first block of stage 6 too.
  CHECK(stats("person_detector:s6.0.type=fused_ibn").macs > base.macs);
  CHECK(stats("person_detector:s6.0.kernel=5").macs > base.macs);
  // Depth: fewer blocks, same heads and outputs.
  const ir::Graph shallow = graph("person_detector:depth=0.5");
  CHECK(ir::analyze(shallow).macs < base.macs);
  CHECK(shallow.shape(shallow.outputs()[0]) == ir::Shape{1, 2034, 4});
  CHECK(stats("person_detector:s4.repeats=2").macs < base.macs);
  // Width and resolution.
  CHECK(stats("person_detector:width=0.5").macs < base.macs);
  const ir::Graph r256 = graph("person_detector:resolution=256");
  CHECK(r256.shape(r256.outputs()[0]) == ir::Shape{1, 16 * 16 * 3 + (64 + 16 + 4 + 1 + 1) * 6, 4});
}
