// EfficientNet-B0 (Tan & Le 2019) as torchvision.models.efficientnet_b0, and EfficientNet-Lite0
// as the TF efficientnet/lite reference and timm's `efficientnet_lite0` build it.
//
// Stages: "stem" (3x3 conv 32, stride 2), "s1".."s7" (the seven MBConv rows of the paper's Table 1,
// `ibn` blocks), "head" (1x1 conv 1280, global pool, FC). The other B-variants are width/depth/
// resolution settings of B0: efficientnet_b1 = efficientnet_b0:depth=1.1,resolution=240,
// b2 = width=1.1,depth=1.2,resolution=260 (torchvision's depth rounding, ceil(n x depth), is the
// registry's). Lite differs from B0 in: no squeeze-excite, ReLU6, stem (32) and head (1280) not
// scaled by width, and the first and last stages not scaled by depth (fixed_depth).
#include "models/zoo/zoo.hpp"
#include "models/zoo/zoo_util.hpp"

namespace nax::zoo {
namespace {

struct Row {
  double expansion;
  int kernel, stride, out, repeats;
};

// torchvision's _efficientnet_conf("efficientnet_b0") / timm's arch_def for both variants.
const Row kRows[] = {{1, 3, 1, 16, 1},  {6, 3, 2, 24, 2},  {6, 5, 2, 40, 2}, {6, 3, 2, 80, 3},
                     {6, 5, 1, 112, 3}, {6, 5, 2, 192, 4}, {6, 3, 1, 320, 1}};

spec::ModelSpec build_efficientnet(const ParamSet& p, bool lite) {
  const double width = p.get_float("width");
  auto adjust = [&](int c) { return static_cast<int64_t>(spec::make_divisible(c * width, 8)); };
  const char* act = lite ? "relu6" : "silu";
  spec::ModelSpec m;
  m.name = lite ? "efficientnet_lite0" : "efficientnet_b0";
  m.height = m.width = p.get_int("resolution");
  const int64_t stem = lite ? 32 : adjust(32);
  m.stages.push_back(
      stage("stem",
            {blk("conv", {{"out", I(stem)}, {"kernel", I(3)}, {"stride", I(2)}, {"act", S(act)}})},
            true));
  int i = 1;
  for (const Row& r : kRows) {
    spec::BlockSpec b = blk("ibn", {{"out", I(adjust(r.out))},
                                    {"expansion", F(r.expansion)},
                                    {"kernel", I(r.kernel)},
                                    {"stride", I(r.stride)},
                                    {"act", S(act)}});
    if (!lite) {
      // torchvision MBConv: squeeze = max(1, block input channels / 4), SiLU, sigmoid gate.
      b.set("se_ratio", F(0.25));
      b.set("se_act", S("silu"));
      b.set("se_gate", S("sigmoid"));
    }
    const bool fixed = lite && (i == 1 || i == 7);  // TF lite: fix_first_last
    m.stages.push_back(stage("s" + std::to_string(i++), repeat(b, r.repeats), fixed));
  }
  const int64_t last = lite ? 1280 : 4 * adjust(kRows[6].out);
  m.stages.push_back(
      stage("head",
            {blk("conv", {{"out", I(last)}, {"kernel", I(1)}, {"act", S(act)}}),
             blk("global_pool", {}), blk("fc", {{"out", I(p.get_int("num_classes"))}})},
            true));
  return m;
}

std::vector<ParamDecl> params() {
  return {ParamDecl::number("width", "x", 1.0, 0.05, 4, "width multiplier"),
          ParamDecl::integer("resolution", "px", 224, 16, 4096, "input height and width"),
          ParamDecl::integer("num_classes", "", 1000, 1, 1 << 20, "classifier outputs")};
}

ZooEntry b0_entry() {
  ZooEntry e;
  e.name = "efficientnet_b0";
  e.description = "EfficientNet-B0 (torchvision.models.efficientnet_b0)";
  e.params = params();
  e.build = [](const ParamSet& p) { return build_efficientnet(p, false); };
  e.reference = Reference{385814752, 5288548, 0.005,
                          "torchvision efficientnet_b0 docs: 0.39 GFLOPS, 5,288,548 params; exact "
                          "MACs (385,814,752) counted with conv/linear forward hooks on "
                          "torchvision 0.14"};
  return e;
}

ZooEntry lite0_entry() {
  ZooEntry e;
  e.name = "efficientnet_lite0";
  e.description =
      "EfficientNet-Lite0 (TF efficientnet/lite, timm efficientnet_lite0): B0 without "
      "squeeze-excite, ReLU6, fixed stem and head";
  e.params = params();
  e.build = [](const ParamSet& p) { return build_efficientnet(p, true); };
  e.reference = Reference{
      385187552, 4652008, 0.005,
      "params 4,652,008: keras-hub preset efficientnet_lite0_ra_imagenet (timm "
      "efficientnet_lite0 weights); timm model card tf_efficientnet_lite0.in1k: 4.7 M params, "
      "0.4 GMACs. Exact MACs (385,187,552) computed by us: torchvision efficientnet_b0 with its "
      "squeeze-excite layers removed (same convs as timm's lite0), conv/linear forward hooks"};
  return e;
}

NAX_REGISTER_ZOO(b0_entry());
NAX_REGISTER_ZOO(lite0_entry());

}  // namespace
}  // namespace nax::zoo
