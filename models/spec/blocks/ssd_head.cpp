// SSD heads (Liu et al. 2016) in their SSDLite form (Sandler et al. 2018, MobileNetV2 section 6.2),
// as the TensorFlow object detection API builds them (ssd_mobilenet_v2_feature_extractor.py with
// use_depthwise, feature_map_generators.multi_resolution_feature_maps,
// convolutional_box_predictor.py with use_depthwise):
// - `ssd_extra`: one extra feature map: 1x1 conv to `mid` channels, then a KxK depthwise conv
//   with stride 2 and a 1x1 conv to `out` (separable, SSDLite) or a KxK conv to `out` (SSD); every
//   conv with batch norm and the activation.
// - `ssd_predictor`: one predictor (box encodings or class scores) over several feature maps: per
//   map a KxK depthwise conv + batch norm + activation and a 1x1 conv with bias to
//   anchors x outputs_per_anchor channels (separable), or one KxK conv with bias (SSD); then the
//   map is put in anchor order (NCHW -> NHWC transpose, reshape to [batch, H*W*anchors,
//   outputs_per_anchor]) and the maps are concatenated along the anchors.
#include <fmt/format.h>

#include "models/spec/block_params.hpp"

namespace nax::spec {
namespace {

ir::ConvAttrs bn_conv(int out, int kernel, int stride = 1, int groups = 1) {
  ir::ConvAttrs c = ir::ConvAttrs::make(out, kernel, stride, groups);
  c.bn = true;
  return c;
}

void check_kernel(const BlockArgs& a) {
  if (a.in("kernel") % 2 == 0) a.fail("kernel", "expected an odd kernel size");
}

BlockType extra_type() {
  BlockType t;
  t.name = "ssd_extra";
  t.description =
      "SSD extra feature layer: 1x1 conv to mid, KxK (depthwise + 1x1, or full) conv with stride "
      "to out; batch norm and activation after each";
  t.params = {bp::out(),
              ParamDecl::integer("mid", "channels", 0, 0, 1 << 20,
                                 "channels of the 1x1 conv; 0 for out / 2"),
              bp::kernel(3),
              bp::stride(2),
              ParamDecl::boolean("separable", true,
                                 "depthwise KxK + 1x1 (SSDLite) instead of a full KxK conv (SSD)"),
              bp::act("relu6")};
  t.build = [](const BlockArgs& a, BuildContext& ctx) {
    check_kernel(a);
    const ir::TensorId x = ctx.input(a);
    const int out = a.in("out");
    const int mid = a.in("mid") > 0 ? a.in("mid") : std::max(1, out / 2);
    const int k = a.in("kernel"), s = a.in("stride");
    const std::string& act = a.s("act");
    ir::TensorId y = ctx.conv(a, x, bn_conv(mid, 1), "reduce", act);
    if (a.b("separable")) {
      y = ctx.conv(a, y, bn_conv(mid, k, s, mid), "dw", act);
      return ctx.conv(a, y, bn_conv(out, 1), "project", act);
    }
    return ctx.conv(a, y, bn_conv(out, k, s), "conv", act);
  };
  return t;
}

BlockType predictor_type() {
  BlockType t;
  t.name = "ssd_predictor";
  t.description =
      "SSD box or class predictor over several feature maps: per map (depthwise KxK + BN + act) "
      "and 1x1 conv with bias to anchors x outputs_per_anchor, reshaped to [batch, anchors, "
      "outputs_per_anchor] and concatenated";
  t.params = {bp::inputs(),
              ParamDecl::int_list("anchors", "", std::nullopt, 1, 1024,
                                  "anchors per location of each input map"),
              ParamDecl::integer("outputs_per_anchor", "", std::nullopt, 1, 1 << 20,
                                 "4 for box encodings, the number of classes for class scores"),
              bp::kernel(3),
              ParamDecl::boolean("separable", true,
                                 "depthwise KxK + 1x1 (SSDLite) instead of a KxK conv (SSD)"),
              bp::act("relu6")};
  t.build = [](const BlockArgs& a, BuildContext& ctx) {
    check_kernel(a);
    const std::vector<ir::TensorId> maps = ctx.inputs(a);
    const std::vector<int64_t>& anchors = a.ilist("anchors");
    if (anchors.size() != maps.size()) {
      a.fail("anchors", fmt::format("gives {} anchor count(s) for {} input map(s)", anchors.size(),
                                    maps.size()));
    }
    const int per_anchor = a.in("outputs_per_anchor");
    const int k = a.in("kernel");
    std::vector<ir::TensorId> parts;
    for (size_t i = 0; i < maps.size(); ++i) {
      const std::string m = fmt::format("m{}", i);
      ir::TensorId x = maps[i];
      const auto& shape = ctx.graph().shape(x);
      if (shape.size() != 4) a.fail("inputs", "expected feature maps with NCHW outputs");
      const int c = static_cast<int>(shape[1]);
      ir::ConvAttrs pred =
          ir::ConvAttrs::make(static_cast<int>(anchors[i]) * per_anchor, a.b("separable") ? 1 : k);
      pred.bias = true;
      if (a.b("separable")) x = ctx.conv(a, x, bn_conv(c, k, 1, c), m + ".dw", a.s("act"));
      x = ctx.conv(a, x, pred, m + ".conv");
      ir::TransposeAttrs nhwc;
      nhwc.perm = {0, 2, 3, 1};
      x = ctx.op(a, ir::OpKind::kTranspose, {x}, m + ".nhwc", nhwc);
      ir::ReshapeAttrs r;
      r.shape = {0, -1, per_anchor};
      parts.push_back(ctx.op(a, ir::OpKind::kReshape, {x}, m + ".reshape", r));
    }
    if (parts.size() == 1) return parts[0];
    return ctx.op(a, ir::OpKind::kConcat, parts, "concat", ir::AxisAttrs{1});
  };
  return t;
}

NAX_REGISTER_BLOCK(extra_type());
NAX_REGISTER_BLOCK(predictor_type());

}  // namespace
}  // namespace nax::spec
