// MnasNet-B1 (Tan et al. 2019) as torchvision.models.mnasnet1_0 (mnasnet0_5 / 0_75 / 1_3 are its
// `width` 0.5 / 0.75 / 1.3).
//
// Stages: "stem" (3x3 conv, stride 2, ReLU), "s1" (the separable conv: 3x3 depthwise + 1x1 linear
// projection to 16, an `ibn` with expansion 1), "s2".."s7" (`ibn` stacks, ReLU, no squeeze-excite),
// "head" (1x1 conv 1280, not scaled by width, global pool, FC).
#include "models/zoo/zoo.hpp"
#include "models/zoo/zoo_util.hpp"

namespace nax::zoo {
namespace {

spec::ModelSpec build_mnasnet(const ParamSet& p) {
  const double alpha = p.get_float("width");
  // torchvision's _get_depths: _round_to_multiple_of(depth x alpha, 8), i.e. make_divisible.
  auto depth = [&](int c) { return static_cast<int64_t>(spec::make_divisible(c * alpha, 8)); };
  spec::ModelSpec m;
  m.name = "mnasnet1_0";
  m.height = m.width = p.get_int("resolution");
  m.stages.push_back(
      stage("stem",
            {blk("conv",
                 {{"out", I(depth(32))}, {"kernel", I(3)}, {"stride", I(2)}, {"act", S("relu")}})},
            true));
  m.stages.push_back(stage(
      "s1",
      {blk("ibn",
           {{"out", I(depth(16))}, {"expansion", F(1)}, {"kernel", I(3)}, {"act", S("relu")}})}));
  struct Row {
    int out, kernel, stride, expansion, repeats;
  };
  const Row rows[] = {{24, 3, 2, 3, 3}, {40, 5, 2, 3, 3},  {80, 5, 2, 6, 3},
                      {96, 3, 1, 6, 2}, {192, 5, 2, 6, 4}, {320, 3, 1, 6, 1}};
  int i = 2;
  for (const Row& r : rows) {
    m.stages.push_back(
        stage("s" + std::to_string(i++), repeat(blk("ibn", {{"out", I(depth(r.out))},
                                                            {"expansion", F(r.expansion)},
                                                            {"kernel", I(r.kernel)},
                                                            {"stride", I(r.stride)},
                                                            {"act", S("relu")}}),
                                                r.repeats)));
  }
  m.stages.push_back(
      stage("head",
            {blk("conv", {{"out", I(1280)}, {"kernel", I(1)}, {"act", S("relu")}}),
             blk("global_pool", {}), blk("fc", {{"out", I(p.get_int("num_classes"))}})},
            true));
  return m;
}

ZooEntry entry() {
  ZooEntry e;
  e.name = "mnasnet1_0";
  e.description = "MnasNet-B1 1.0 (torchvision.models.mnasnet1_0)";
  e.params = {ParamDecl::number("width", "x", 1.0, 0.05, 4,
                                "width multiplier (torchvision's alpha: 0.5, 0.75, 1.0, 1.3)"),
              ParamDecl::integer("resolution", "px", 224, 16, 4096, "input height and width"),
              ParamDecl::integer("num_classes", "", 1000, 1, 1 << 20, "classifier outputs")};
  e.build = build_mnasnet;
  e.reference =
      Reference{314415872, 4383312, 0.005,
                "torchvision mnasnet1_0 docs: 0.31 GFLOPS, 4,383,312 params; exact MACs "
                "(314,415,872) counted with conv/linear forward hooks on torchvision 0.14"};
  return e;
}

NAX_REGISTER_ZOO(entry());

}  // namespace
}  // namespace nax::zoo
