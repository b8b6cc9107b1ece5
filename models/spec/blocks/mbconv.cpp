// Inverted bottlenecks: `ibn` (1x1 expand, KxK depthwise, [squeeze-excite], 1x1 project) as in
// MobileNetV2/V3, EfficientNet and MnasNet, and `fused_ibn` (KxK full conv replacing the expand and
// depthwise convs, [squeeze-excite], 1x1 project) as in MobileDets and EfficientNet-EdgeTPU.
// Both skip the expansion when the expanded width equals the input width, and add a residual
// when the stride is 1 and input and output widths match. The squeeze-excite width is either
// explicit (se_channels, MobileNetV3) or a ratio of the block input (se_ratio, EfficientNet), so
// repeated or re-widened blocks keep the reference rule.
#include <cmath>

#include "models/spec/block_params.hpp"

namespace nax::spec {
namespace {

std::vector<ParamDecl> mbconv_params(double default_expansion) {
  return {bp::out(),
          bp::expansion(default_expansion),
          bp::expand_channels(),
          bp::kernel(3),
          bp::stride(),
          bp::dilation(),
          bp::act("relu6"),
          bp::se_channels(),
          ParamDecl::number("se_ratio", "x", 0.0, 0, 1,
                            "squeeze-excite bottleneck = max(1, int(block input channels x "
                            "se_ratio)) when se_channels is 0 (EfficientNet); 0 for none"),
          bp::se_act(),
          bp::se_gate(),
          bp::residual()};
}

int expanded_width(const BlockArgs& a, int in) {
  if (a.in("expand_channels") > 0) return a.in("expand_channels");
  // Round half to even, like Python's round() in the reference implementations.
  return std::max(1, static_cast<int>(std::nearbyint(in * a.f("expansion"))));
}

void check_kernel(const BlockArgs& a) {
  if (a.in("kernel") % 2 == 0) a.fail("kernel", "expected an odd kernel size");
}

// Squeeze-excite, the 1x1 projection (when `project`) and the residual.
ir::TensorId finish(const BlockArgs& a, BuildContext& ctx, ir::TensorId x, ir::TensorId y,
                    bool project) {
  const int in = static_cast<int>(ctx.graph().shape(x)[1]);
  int se = a.in("se_channels");
  if (se == 0 && a.f("se_ratio") > 0) se = std::max(1, static_cast<int>(in * a.f("se_ratio")));
  if (se > 0) y = ctx.squeeze_excite(a, y, se, a.s("se_act"), a.s("se_gate"));
  const int out = a.in("out");
  if (project) {
    ir::ConvAttrs p = ir::ConvAttrs::make(out, 1);
    p.bn = true;
    y = ctx.conv(a, y, p, "project");
  }
  if (a.b("residual") && a.in("stride") == 1 && in == out) {
    y = ctx.op(a, ir::OpKind::kAdd, {x, y}, "add");
  }
  return y;
}

BlockType ibn_type() {
  BlockType t;
  t.name = "ibn";
  t.description = "inverted bottleneck: 1x1 expand, KxK depthwise, [squeeze-excite], 1x1 project";
  t.params = mbconv_params(6);
  t.build = [](const BlockArgs& a, BuildContext& ctx) {
    check_kernel(a);
    const ir::TensorId x = ctx.input(a);
    const int in = static_cast<int>(ctx.graph().shape(x)[1]);
    const int hidden = expanded_width(a, in);
    ir::TensorId y = x;
    if (hidden != in) {
      ir::ConvAttrs expand = ir::ConvAttrs::make(hidden, 1);
      expand.bn = true;
      y = ctx.conv(a, y, expand, "expand", a.s("act"));
      ctx.publish(a.name() + "/expand", y);
    }
    ir::ConvAttrs dw =
        ir::ConvAttrs::make(hidden, a.in("kernel"), a.in("stride"), hidden, a.in("dilation"));
    dw.bn = true;
    y = ctx.conv(a, y, dw, "dw", a.s("act"));
    return finish(a, ctx, x, y, true);
  };
  return t;
}

BlockType fused_ibn_type() {
  BlockType t;
  t.name = "fused_ibn";
  t.description =
      "fused inverted bottleneck: KxK full conv (expand), [squeeze-excite], 1x1 project; with "
      "expansion 1 a single KxK conv";
  t.params = mbconv_params(4);
  t.build = [](const BlockArgs& a, BuildContext& ctx) {
    check_kernel(a);
    const ir::TensorId x = ctx.input(a);
    const int in = static_cast<int>(ctx.graph().shape(x)[1]);
    const int hidden = expanded_width(a, in);
    if (hidden == in && a.in("expand_channels") == 0 && a.f("expansion") == 1.0) {
      // EfficientNetV2's Fused-MBConv1: one KxK conv straight to the output width.
      ir::ConvAttrs c =
          ir::ConvAttrs::make(a.in("out"), a.in("kernel"), a.in("stride"), 1, a.in("dilation"));
      c.bn = true;
      return finish(a, ctx, x, ctx.conv(a, x, c, "fused", a.s("act")), false);
    }
    ir::ConvAttrs fused =
        ir::ConvAttrs::make(hidden, a.in("kernel"), a.in("stride"), 1, a.in("dilation"));
    fused.bn = true;
    ir::TensorId y = ctx.conv(a, x, fused, "fused", a.s("act"));
    ctx.publish(a.name() + "/expand", y);
    return finish(a, ctx, x, y, true);
  };
  return t;
}

NAX_REGISTER_BLOCK(ibn_type());
NAX_REGISTER_BLOCK(fused_ibn_type());

}  // namespace
}  // namespace nax::spec
