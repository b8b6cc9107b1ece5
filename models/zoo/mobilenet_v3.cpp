// MobileNetV3 (Howard et al. 2019), as torchvision.models.mobilenet_v3_large / _small.
//
// Blocks are `ibn` with an explicit expanded width (expand_channels), per-block kernel, activation
// (relu or hswish) and squeeze-excite (squeeze = make_divisible(expanded / 4, 8), relu,
// hard-sigmoid gate). Stages follow the feature resolution: "stem" (3x3 conv, stride 2, hswish),
// "s1".."sN" (a new stage at every stride-2 bneck, so `sK.repeats`, `sK.kernel` and `depth` act on
// one resolution), "last" (the 1x1 conv to 6 x the last bneck width) and, for the classifiers,
// "head" (global pool, FC 1280 (1024 for small) + hswish, FC num_classes).
#include <stdexcept>

#include "models/zoo/backbones.hpp"
#include "models/zoo/zoo.hpp"
#include "models/zoo/zoo_util.hpp"

namespace nax::zoo {
namespace {

// One row of Tables 1 and 2 of the MobileNetV3 paper (torchvision's bneck_conf), before width.
struct Bneck {
  int kernel;
  int expanded;
  int out;
  bool se;
  bool hswish;
  int stride;
  bool tail;  // part of the last stage (C4): dilated and reduced by the segmentation variants
};

// torchvision's _mobilenet_v3_conf.
const std::vector<Bneck>& bneck_table(const std::string& arch) {
  static const std::vector<Bneck> large = {
      {3, 16, 16, false, false, 1, false}, {3, 64, 24, false, false, 2, false},
      {3, 72, 24, false, false, 1, false}, {5, 72, 40, true, false, 2, false},
      {5, 120, 40, true, false, 1, false}, {5, 120, 40, true, false, 1, false},
      {3, 240, 80, false, true, 2, false}, {3, 200, 80, false, true, 1, false},
      {3, 184, 80, false, true, 1, false}, {3, 184, 80, false, true, 1, false},
      {3, 480, 112, true, true, 1, false}, {3, 672, 112, true, true, 1, false},
      {5, 672, 160, true, true, 2, true},  {5, 960, 160, true, true, 1, true},
      {5, 960, 160, true, true, 1, true}};
  static const std::vector<Bneck> small = {
      {3, 16, 16, true, false, 2, false},  {3, 72, 24, false, false, 2, false},
      {3, 88, 24, false, false, 1, false}, {5, 96, 40, true, true, 2, false},
      {5, 240, 40, true, true, 1, false},  {5, 240, 40, true, true, 1, false},
      {5, 120, 48, true, true, 1, false},  {5, 144, 48, true, true, 1, false},
      {5, 288, 96, true, true, 2, true},   {5, 576, 96, true, true, 1, true},
      {5, 576, 96, true, true, 1, true}};
  if (arch == "large") return large;
  if (arch == "small") return small;
  throw std::invalid_argument("mobilenet_v3_backbone: arch must be \"large\" or \"small\", got \"" +
                              arch + "\"");
}

}  // namespace

spec::ModelSpec mobilenet_v3_backbone(const std::string& arch, double width, int64_t resolution,
                                      bool dilated, bool reduced_tail) {
  const std::vector<Bneck>& rows = bneck_table(arch);
  const int divider = reduced_tail ? 2 : 1;
  auto adjust = [&](int c) { return static_cast<int64_t>(spec::make_divisible(c * width, 8)); };

  spec::ModelSpec m;
  m.name = "mobilenet_v3_" + arch;
  m.height = m.width = resolution;
  m.stages.push_back(stage(
      "stem",
      {blk("conv",
           {{"out", I(adjust(16))}, {"kernel", I(3)}, {"stride", I(2)}, {"act", S("hswish")}})},
      true));
  int64_t last_out = 0;
  for (const Bneck& r : rows) {
    // reduce_divider halves the tail's widths, except the expansion of its first (stride-2) block.
    const int expanded = r.tail && r.stride == 1 ? r.expanded / divider : r.expanded;
    const int out = r.tail ? r.out / divider : r.out;
    const int64_t e = adjust(expanded);
    last_out = adjust(out);
    // torchvision: a dilated block keeps its configured stride for the residual decision but runs
    // its depthwise conv with stride 1 and dilation 2.
    const bool dilate = dilated && r.tail;
    spec::BlockSpec b = blk("ibn", {{"out", I(last_out)},
                                    {"expand_channels", I(e)},
                                    {"kernel", I(r.kernel)},
                                    {"stride", I(dilate ? 1 : r.stride)},
                                    {"act", S(r.hswish ? "hswish" : "relu")}});
    if (dilate) {
      b.set("dilation", I(2));
      if (r.stride > 1) b.set("residual", B(false));
    }
    if (r.se) {
      b.set("se_channels", I(spec::make_divisible(static_cast<double>(e / 4), 8)));
      b.set("se_act", S("relu"));
      b.set("se_gate", S("hsigmoid"));
    }
    if (r.stride > 1 || m.stages.size() == 1) {
      m.stages.push_back(stage("s" + std::to_string(m.stages.size()), {}));
    }
    m.stages.back().blocks.push_back(std::move(b));
  }
  m.stages.push_back(stage(
      "last", {blk("conv", {{"out", I(6 * last_out)}, {"kernel", I(1)}, {"act", S("hswish")}})},
      true));
  return m;
}

namespace {

spec::ModelSpec build_classifier(const std::string& arch, const ParamSet& p) {
  spec::ModelSpec m =
      mobilenet_v3_backbone(arch, p.get_float("width"), p.get_int("resolution"), false, false);
  const double width = p.get_float("width");
  const int64_t hidden = spec::make_divisible((arch == "large" ? 1280 : 1024) * width, 8);
  m.stages.push_back(
      stage("head",
            {blk("global_pool", {}), blk("fc", {{"out", I(hidden)}, {"act", S("hswish")}}),
             blk("fc", {{"out", I(p.get_int("num_classes"))}})},
            true));
  return m;
}

std::vector<ParamDecl> classifier_params() {
  return {ParamDecl::number("width", "x", 1.0, 0.05, 4, "width multiplier"),
          ParamDecl::integer("resolution", "px", 224, 16, 4096, "input height and width"),
          ParamDecl::integer("num_classes", "", 1000, 1, 1 << 20, "classifier outputs")};
}

ZooEntry large_entry() {
  ZooEntry e;
  e.name = "mobilenet_v3_large";
  e.description = "MobileNetV3-Large (torchvision.models.mobilenet_v3_large)";
  e.params = classifier_params();
  e.build = [](const ParamSet& p) { return build_classifier("large", p); };
  e.reference = Reference{216589760, 5483032, 0.005,
                          "torchvision mobilenet_v3_large docs: 0.22 GFLOPS, 5,483,032 params; "
                          "exact MACs (216,589,760) counted with conv/linear forward hooks on "
                          "torchvision 0.14"};
  return e;
}

ZooEntry small_entry() {
  ZooEntry e;
  e.name = "mobilenet_v3_small";
  e.description = "MobileNetV3-Small (torchvision.models.mobilenet_v3_small)";
  e.params = classifier_params();
  e.build = [](const ParamSet& p) { return build_classifier("small", p); };
  e.reference = Reference{56510400, 2542856, 0.005,
                          "torchvision mobilenet_v3_small docs: 0.06 GFLOPS, 2,542,856 params; "
                          "exact MACs (56,510,400) counted with conv/linear forward hooks on "
                          "torchvision 0.14"};
  return e;
}

NAX_REGISTER_ZOO(large_entry());
NAX_REGISTER_ZOO(small_entry());

}  // namespace
}  // namespace nax::zoo
