// Semantic segmentation with a MobileNetV3-Large backbone, as torchvision 0.14 builds them
// (torchvision/models/segmentation/lraspp.py and deeplabv3.py, models/mobilenetv3.py):
// - backbone: mobilenet_v3_backbone("large", width, resolution, dilated=true, reduced_tail=false):
//   the last stage runs at output stride 16 with dilation 2;
// - feature taps as torchvision's `stage_indices` (the stem, every block configured with a
//   stride > 1 (the dilated one included), the last conv): "low" is the 4th from the end (the first
//   40-channel block, output stride 8), "high"/"out" the last 1x1 conv (960 channels, stride 16);
// - `lraspp_mobilenet_v3_large` (Howard et al. 2019, Lite R-ASPP): `lraspp_head` over [low, high]
//   with 128 inter channels, then a bilinear resize to the input size;
// - `deeplabv3_mobilenet_v3_large` (Chen et al. 2017, DeepLabV3; aux_loss off): `aspp` (rates 12,
//   24, 36, 256 channels, image pooling), 3x3 conv 256 + BN + ReLU, 1x1 classifier conv with bias,
//   bilinear resize to the input size.
// Defaults: 21 classes (Pascal VOC), 512x512 input (torchvision's docs quote 520).
//
// Stages: the backbone's ("stem", "s1".."s5", "last") and "head" (the decoder; fixed depth).
#include <stdexcept>

#include "models/zoo/backbones.hpp"
#include "models/zoo/zoo.hpp"
#include "models/zoo/zoo_util.hpp"

namespace nax::zoo {
namespace {

int64_t int_param(const spec::BlockSpec& b, const char* key, int64_t def) {
  auto it = b.params.find(key);
  return it == b.params.end() ? def : std::get<int64_t>(it->second);
}

// torchvision's stage_indices as block names: the stem, each stage-opening block with a configured
// stride > 1 (dilated blocks run with stride 1 and dilation > 1), and the last conv.
std::vector<std::string> stage_taps(const spec::ModelSpec& m) {
  std::vector<std::string> taps;
  for (const auto& st : m.stages) {
    if (st.blocks.empty()) continue;
    const spec::BlockSpec& b = st.blocks.front();
    const bool strided = int_param(b, "stride", 1) > 1 || int_param(b, "dilation", 1) > 1;
    if (&st == &m.stages.front() || &st == &m.stages.back() || strided) taps.push_back(b.name);
  }
  if (taps.size() < 4) throw std::logic_error("segmentation: backbone has too few stages");
  return taps;
}

spec::ModelSpec backbone(const std::string& name, const ParamSet& p) {
  spec::ModelSpec m =
      mobilenet_v3_backbone("large", p.get_float("width"), p.get_int("resolution"), true, false);
  m.name = name;
  m.assign_names();
  return m;
}

spec::BlockSpec upsample_to_input() {
  return blk("resize", {{"like", S("input")}, {"mode", S("linear")}});
}

spec::ModelSpec build_lraspp(const ParamSet& p) {
  spec::ModelSpec m = backbone("lraspp_mobilenet_v3_large", p);
  const std::vector<std::string> taps = stage_taps(m);
  const std::vector<std::string> inputs = {taps[taps.size() - 4], taps.back()};
  m.stages.push_back(stage("head",
                           {blk("lraspp_head", {{"inputs", ParamValue(inputs)},
                                                {"inter", I(128)},
                                                {"num_classes", I(p.get_int("num_classes"))}}),
                            upsample_to_input()},
                           true));
  return m;
}

spec::ModelSpec build_deeplabv3(const ParamSet& p) {
  spec::ModelSpec m = backbone("deeplabv3_mobilenet_v3_large", p);
  const std::vector<std::string> taps = stage_taps(m);
  spec::BlockSpec aspp =
      blk("aspp", {{"out", I(256)}, {"rates", ParamValue(std::vector<int64_t>{12, 24, 36})}});
  aspp.set("input", ParamValue(taps.back()));
  m.stages.push_back(
      stage("head",
            {aspp, blk("conv", {{"out", I(256)}, {"kernel", I(3)}, {"act", S("relu")}}),
             blk("conv", {{"out", I(p.get_int("num_classes"))},
                          {"kernel", I(1)},
                          {"bn", B(false)},
                          {"bias", B(true)},
                          {"act", S("none")}}),
             upsample_to_input()},
            true));
  return m;
}

std::vector<ParamDecl> seg_params() {
  return {ParamDecl::number("width", "x", 1.0, 0.05, 4, "width multiplier of the backbone"),
          ParamDecl::integer("resolution", "px", 512, 32, 4096, "input height and width"),
          ParamDecl::integer("num_classes", "", 21, 1, 1 << 20, "classes (21: Pascal VOC)")};
}

ZooEntry lraspp_entry() {
  ZooEntry e;
  e.name = "lraspp_mobilenet_v3_large";
  e.description = "Lite R-ASPP + MobileNetV3-Large (torchvision lraspp_mobilenet_v3_large)";
  e.params = seg_params();
  e.build = build_lraspp;
  e.reference = Reference{1974665088, 3221538, 0.0,
                          "torchvision 0.14 lraspp_mobilenet_v3_large(num_classes=21) at 512x512: "
                          "conv/linear MACs by forward hooks 1,974,665,088, sum(p.numel()) "
                          "3,221,538 (the docs' num_params)"};
  return e;
}

ZooEntry deeplabv3_entry() {
  ZooEntry e;
  e.name = "deeplabv3_mobilenet_v3_large";
  e.description = "DeepLabV3 + MobileNetV3-Large (torchvision deeplabv3_mobilenet_v3_large)";
  e.params = seg_params();
  e.build = build_deeplabv3;
  e.reference = Reference{9825968000, 11025477, 0.0,
                          "torchvision 0.14 deeplabv3_mobilenet_v3_large(num_classes=21, "
                          "aux_loss=False) at 512x512: conv/linear MACs by forward hooks "
                          "9,825,968,000 (10,436,350,688 at the docs' 520x520), sum(p.numel()) "
                          "11,025,477"};
  return e;
}

NAX_REGISTER_ZOO(lraspp_entry());
NAX_REGISTER_ZOO(deeplabv3_entry());

}  // namespace
}  // namespace nax::zoo
