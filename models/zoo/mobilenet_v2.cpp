// MobileNetV2 (Sandler et al. 2018), as torchvision.models.mobilenet_v2.
#include "models/zoo/backbones.hpp"
#include "models/zoo/zoo.hpp"
#include "models/zoo/zoo_util.hpp"

namespace nax::zoo {

spec::ModelSpec mobilenet_v2_backbone(double width, int64_t resolution) {
  spec::ModelSpec m;
  m.name = "mobilenet_v2";
  m.height = m.width = resolution;
  const int64_t first = spec::make_divisible(32 * width, 8);
  const int64_t last = spec::make_divisible(1280 * std::max(1.0, width), 8);
  m.stages.push_back(stage(
      "stem",
      {blk("conv", {{"out", I(first)}, {"kernel", I(3)}, {"stride", I(2)}, {"act", S("relu6")}})},
      true));
  struct Row {
    double t;
    int c, n, s;
  };
  const Row rows[] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                      {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  int i = 1;
  for (const Row& r : rows) {
    const int64_t c = spec::make_divisible(r.c * width, 8);
    m.stages.push_back(stage("s" + std::to_string(i++), repeat(blk("ibn", {{"out", I(c)},
                                                                           {"expansion", F(r.t)},
                                                                           {"kernel", I(3)},
                                                                           {"stride", I(r.s)},
                                                                           {"act", S("relu6")}}),
                                                               r.n)));
  }
  m.stages.push_back(stage(
      "head", {blk("conv", {{"out", I(last)}, {"kernel", I(1)}, {"act", S("relu6")}})}, true));
  return m;
}

namespace {

spec::ModelSpec build_mobilenet_v2(const ParamSet& p) {
  spec::ModelSpec m = mobilenet_v2_backbone(p.get_float("width"), p.get_int("resolution"));
  auto& head = m.stages.back().blocks;
  head.push_back(blk("global_pool", {}));
  head.push_back(blk("fc", {{"out", I(p.get_int("num_classes"))}}));
  return m;
}

ZooEntry entry() {
  ZooEntry e;
  e.name = "mobilenet_v2";
  e.description = "MobileNetV2 (torchvision.models.mobilenet_v2)";
  e.params = {ParamDecl::number("width", "x", 1.0, 0.05, 4, "width multiplier"),
              ParamDecl::integer("resolution", "px", 224, 16, 4096, "input height and width"),
              ParamDecl::integer("num_classes", "", 1000, 1, 1 << 20, "classifier outputs")};
  e.build = build_mobilenet_v2;
  e.reference =
      Reference{300774272, 3504872, 0.005,
                "torchvision mobilenet_v2: 0.30 GFLOPS (300.77 M MACs), 3,504,872 params"};
  return e;
}

NAX_REGISTER_ZOO(entry());

}  // namespace
}  // namespace nax::zoo
