// The fused-IBN MobileNet family (MobileDets, Xiong et al. 2021; EfficientNet-EdgeTPU, Gupta & Akin
// 2020): inverted bottlenecks whose 1x1 expand + KxK depthwise pair may be replaced by one KxK full
// convolution (`fused_ibn`), which runs better on accelerators with a large MAC array than a
// depthwise conv does, at the price of more MACs.
//
// efficientnet_edgetpu_s is EfficientNet-EdgeTPU-S as timm's `efficientnet_es` builds it
// (_gen_efficientnet_edge): "stem" (3x3 conv 32, stride 2, ReLU), "s1".."s6" (fused_ibn in s1-s3,
// ibn in s4-s6, expansion 8 except the first block: expanded width 4 x 24 = 96, no residual),
// "head" (1x1 conv 1280, global pool, FC), ReLU throughout, no squeeze-excite.
//
// Switching blocks between the two types:
// - per stage with the builder parameter `fused`, one letter per stage s1..s6, `f` = fused_ibn,
//   `i` = ibn: `efficientnet_edgetpu_s:fused=iiiiii` is the all-IBN baseline (MobileNetV2-like),
//   `fused=ffffff` fuses everything;
// - per stage or per block with model overrides, which work for every zoo model:
//   `efficientnet_edgetpu_s:s4.type=fused_ibn`, `efficientnet_edgetpu_s:s4.2.type=fused_ibn`,
//   `mobilenet_v2:s2.type=fused_ibn`, `efficientnet_b0:s3.0.type=fused_ibn`.
// Both block types share their parameters (expansion, expand_channels, kernel, stride, act, SE), so
// a switch keeps the block's widths, kernel and stride.
#include <fmt/format.h>

#include "models/zoo/zoo.hpp"
#include "models/zoo/zoo_util.hpp"

namespace nax::zoo {
namespace {

constexpr int kStages = 6;

spec::ModelSpec build_edgetpu_s(const ParamSet& p) {
  const std::string& fused = p.get_string("fused");
  if (fused.size() != kStages || fused.find_first_not_of("fi") != std::string::npos) {
    throw InputError(std::vector<Diagnostic>{Diagnostic{
        {},
        "fused",
        fused,
        fmt::format("expected {} letters, one per stage s1..s{}: f (fused_ibn) or i (ibn), e.g. "
                    "fffiii",
                    kStages, kStages)}});
  }
  const double width = p.get_float("width");
  // timm's round_chs_fn: make_divisible(c x width, 8).
  auto adjust = [&](int c) { return static_cast<int64_t>(spec::make_divisible(c * width, 8)); };
  spec::ModelSpec m;
  m.name = "efficientnet_edgetpu_s";
  m.height = m.width = p.get_int("resolution");
  m.stages.push_back(
      stage("stem",
            {blk("conv",
                 {{"out", I(adjust(32))}, {"kernel", I(3)}, {"stride", I(2)}, {"act", S("relu")}})},
            true));
  struct Row {
    int kernel, stride;
    double expansion;
    int out, repeats;
  };
  // timm arch_def: er_r1_k3_s1_e4_c24_fc24_noskip, er_r2_k3_s2_e8_c32, er_r4_k3_s2_e8_c48,
  // ir_r5_k5_s2_e8_c96, ir_r4_k5_s1_e8_c144, ir_r2_k5_s2_e8_c192.
  const Row rows[kStages] = {{3, 1, 4, 24, 1}, {3, 2, 8, 32, 2},  {3, 2, 8, 48, 4},
                             {5, 2, 8, 96, 5}, {5, 1, 8, 144, 4}, {5, 2, 8, 192, 2}};
  for (int i = 0; i < kStages; ++i) {
    const Row& r = rows[i];
    spec::BlockSpec b = blk(fused[i] == 'f' ? "fused_ibn" : "ibn", {{"out", I(adjust(r.out))},
                                                                    {"expansion", F(r.expansion)},
                                                                    {"kernel", I(r.kernel)},
                                                                    {"stride", I(r.stride)},
                                                                    {"act", S("relu")}});
    if (i == 0) {
      // `fc24_noskip`: the expansion applies to 24 channels, not the stem's 32; no residual.
      b.params.erase("expansion");
      b.set("expand_channels", I(spec::make_divisible(adjust(24) * r.expansion, 8)));
      b.set("residual", B(false));
    }
    m.stages.push_back(stage("s" + std::to_string(i + 1), repeat(b, r.repeats)));
  }
  const int64_t head = adjust(1280);
  m.stages.push_back(
      stage("head",
            {blk("conv", {{"out", I(head)}, {"kernel", I(1)}, {"act", S("relu")}}),
             blk("global_pool", {}), blk("fc", {{"out", I(p.get_int("num_classes"))}})},
            true));
  return m;
}

ZooEntry entry() {
  ZooEntry e;
  e.name = "efficientnet_edgetpu_s";
  e.description =
      "EfficientNet-EdgeTPU-S (timm efficientnet_es): fused-IBN early stages, IBN later; `fused` "
      "picks the block type per stage";
  e.params = {
      ParamDecl::number("width", "x", 1.0, 0.05, 4, "width multiplier"),
      ParamDecl::integer("resolution", "px", 224, 16, 4096, "input height and width"),
      ParamDecl::integer("num_classes", "", 1000, 1, 1 << 20, "classifier outputs"),
      ParamDecl::string("fused", std::string("fffiii"),
                        "block type per stage s1..s6: f = fused_ibn, i = ibn (iiiiii: all-IBN)")};
  e.build = build_edgetpu_s;
  e.reference = Reference{
      1788731008, 5438392, 0.005,
      "params 5,438,392: keras-hub preset efficientnet_es_ra_imagenet (timm efficientnet_es "
      "weights); timm model card efficientnet_es.ra_in1k: 5.4 M params, 1.8 GMACs at 224. Exact "
      "MACs (1,788,731,008) computed by us from a PyTorch re-implementation of timm's "
      "_gen_efficientnet_edge arch_def (its parameter count equals the 5,438,392 above), "
      "conv/linear forward hooks"};
  return e;
}

NAX_REGISTER_ZOO(entry());

}  // namespace
}  // namespace nax::zoo
