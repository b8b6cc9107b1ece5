// ResNet blocks as in torchvision (v1.5: the stride sits on the 3x3 conv of a bottleneck).
// The shortcut is a 1x1 conv + batch norm when the stride or the width changes.
#include "models/spec/block_params.hpp"

namespace nax::spec {
namespace {

ir::TensorId shortcut(const BlockArgs& a, BuildContext& ctx, ir::TensorId x, int out, int stride) {
  const int in = static_cast<int>(ctx.graph().shape(x)[1]);
  if (stride == 1 && in == out) return x;
  ir::ConvAttrs c = ir::ConvAttrs::make(out, 1, stride);
  c.bn = true;
  return ctx.conv(a, x, c, "downsample");
}

ir::ConvAttrs bn_conv(int out, int k, int stride = 1, int groups = 1, int dilation = 1) {
  ir::ConvAttrs c = ir::ConvAttrs::make(out, k, stride, groups, dilation);
  c.bn = true;
  return c;
}

BlockType basic_type() {
  BlockType t;
  t.name = "basic";
  t.description = "ResNet basic block: 3x3 conv, 3x3 conv, shortcut add, activation";
  t.params = {bp::out(), bp::stride(), bp::dilation(), bp::act("relu")};
  t.build = [](const BlockArgs& a, BuildContext& ctx) {
    const ir::TensorId x = ctx.input(a);
    const int out = a.in("out"), s = a.in("stride"), d = a.in("dilation");
    ir::TensorId y = ctx.conv(a, x, bn_conv(out, 3, s, 1, d), "conv1", a.s("act"));
    y = ctx.conv(a, y, bn_conv(out, 3, 1, 1, d), "conv2");
    y = ctx.op(a, ir::OpKind::kAdd, {y, shortcut(a, ctx, x, out, s)}, "add");
    return ctx.act(a, y, a.s("act"), "add.act");
  };
  return t;
}

BlockType bottleneck_type() {
  BlockType t;
  t.name = "bottleneck";
  t.description = "ResNet bottleneck: 1x1 reduce, 3x3 conv (stride), 1x1 expand, shortcut add";
  t.params = {bp::out(),
              ParamDecl::integer("width", "channels", 0, 0, 1 << 20,
                                 "channels of the 3x3 conv; 0 for out / 4"),
              ParamDecl::integer("groups", "", 1, 1, 1 << 16, "groups of the 3x3 conv (ResNeXt)"),
              bp::stride(),
              bp::dilation(),
              bp::act("relu")};
  t.build = [](const BlockArgs& a, BuildContext& ctx) {
    const ir::TensorId x = ctx.input(a);
    const int out = a.in("out"), s = a.in("stride");
    const int width = a.in("width") > 0 ? a.in("width") : std::max(1, out / 4);
    ir::TensorId y = ctx.conv(a, x, bn_conv(width, 1), "conv1", a.s("act"));
    y = ctx.conv(a, y, bn_conv(width, 3, s, a.in("groups"), a.in("dilation")), "conv2", a.s("act"));
    y = ctx.conv(a, y, bn_conv(out, 1), "conv3");
    y = ctx.op(a, ir::OpKind::kAdd, {y, shortcut(a, ctx, x, out, s)}, "add");
    return ctx.act(a, y, a.s("act"), "add.act");
  };
  return t;
}

NAX_REGISTER_BLOCK(basic_type());
NAX_REGISTER_BLOCK(bottleneck_type());

}  // namespace
}  // namespace nax::spec
