// ResNet-18 and ResNet-50 (He et al. 2016) as torchvision.models.resnet18 / resnet50 (v1.5: the
// stride of a bottleneck sits on its 3x3 conv).
//
// Stages: "stem" (7x7 conv 64, stride 2, ReLU, 3x3 max pool, stride 2), "s1".."s4" (torchvision's
// layer1..layer4 of `basic` or `bottleneck` blocks; the first block of s2..s4 has stride 2 and a
// 1x1 downsample shortcut), "head" (global pool, FC). resnet34 / resnet101 / resnet152 are the
// same builders with other stage depths (`s3.repeats=6`, ...).
#include "models/zoo/zoo.hpp"
#include "models/zoo/zoo_util.hpp"

namespace nax::zoo {
namespace {

spec::ModelSpec build_resnet(const ParamSet& p, const std::string& name, const std::string& block,
                             const int (&depths)[4], int expansion) {
  spec::ModelSpec m;
  m.name = name;
  m.height = m.width = p.get_int("resolution");
  m.stages.push_back(
      stage("stem",
            {blk("conv", {{"out", I(64)}, {"kernel", I(7)}, {"stride", I(2)}, {"act", S("relu")}}),
             blk("maxpool", {{"kernel", I(3)}, {"stride", I(2)}, {"padding", I(1)}})},
            true));
  const int planes[4] = {64, 128, 256, 512};
  for (int i = 0; i < 4; ++i) {
    m.stages.push_back(
        stage("s" + std::to_string(i + 1),
              repeat(blk(block, {{"out", I(planes[i] * expansion)}, {"stride", I(i == 0 ? 1 : 2)}}),
                     depths[i])));
  }
  m.stages.push_back(stage(
      "head", {blk("global_pool", {}), blk("fc", {{"out", I(p.get_int("num_classes"))}})}, true));
  return m;
}

std::vector<ParamDecl> params() {
  return {ParamDecl::integer("resolution", "px", 224, 32, 4096, "input height and width"),
          ParamDecl::integer("num_classes", "", 1000, 1, 1 << 20, "classifier outputs")};
}

ZooEntry resnet18_entry() {
  ZooEntry e;
  e.name = "resnet18";
  e.description = "ResNet-18 (torchvision.models.resnet18)";
  e.params = params();
  e.build = [](const ParamSet& p) { return build_resnet(p, "resnet18", "basic", {2, 2, 2, 2}, 1); };
  e.reference = Reference{1814073344, 11689512, 0.005,
                          "torchvision resnet18 docs: 1.81 GFLOPS, 11,689,512 params; exact MACs "
                          "(1,814,073,344) counted with conv/linear forward hooks on "
                          "torchvision 0.14"};
  return e;
}

ZooEntry resnet50_entry() {
  ZooEntry e;
  e.name = "resnet50";
  e.description = "ResNet-50 v1.5 (torchvision.models.resnet50)";
  e.params = params();
  e.build = [](const ParamSet& p) {
    return build_resnet(p, "resnet50", "bottleneck", {3, 4, 6, 3}, 4);
  };
  e.reference = Reference{4089184256, 25557032, 0.005,
                          "torchvision resnet50 docs: 4.09 GFLOPS, 25,557,032 params; exact MACs "
                          "(4,089,184,256) counted with conv/linear forward hooks on "
                          "torchvision 0.14"};
  return e;
}

NAX_REGISTER_ZOO(resnet18_entry());
NAX_REGISTER_ZOO(resnet50_entry());

}  // namespace
}  // namespace nax::zoo
