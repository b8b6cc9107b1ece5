// Plain convolutions: `conv` (dense or grouped, + batch norm + activation) and `dwconv`.
#include "models/spec/block_params.hpp"

namespace nax::spec {
namespace {

ir::ConvAttrs conv_attrs(const BlockArgs& a, int out, int groups) {
  const int k = a.in("kernel");
  ir::ConvAttrs c = ir::ConvAttrs::make(out, k, a.in("stride"), groups, a.in("dilation"));
  const int pad = a.in("padding");
  if (pad >= 0)
    c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = pad;
  else if (k % 2 == 0)
    a.fail("kernel", "an even kernel needs an explicit padding");
  c.bn = a.b("bn");
  c.bias = a.b("bias");
  return c;
}

std::vector<ParamDecl> common_params() {
  return {bp::kernel(3),
          bp::stride(),
          bp::dilation(),
          ParamDecl::integer("padding", "px", -1, -1, 64,
                             "padding on each side; -1 for (kernel-1)/2 x dilation"),
          ParamDecl::boolean("bn", true, "batch norm after the convolution (folded at inference)"),
          ParamDecl::boolean("bias", false, "the convolution has a bias")};
}

BlockType conv_type() {
  BlockType t;
  t.name = "conv";
  t.description = "convolution (dense or grouped) + batch norm + activation";
  t.params = {bp::out(), ParamDecl::integer("groups", "", 1, 1, 1 << 20, "convolution groups"),
              bp::act("relu")};
  for (auto& d : common_params()) t.params.push_back(d);
  t.build = [](const BlockArgs& a, BuildContext& ctx) {
    const ir::TensorId x = ctx.input(a);
    return ctx.conv(a, x, conv_attrs(a, a.in("out"), a.in("groups")), "conv", a.s("act"));
  };
  return t;
}

BlockType dwconv_type() {
  BlockType t;
  t.name = "dwconv";
  t.description = "depthwise convolution (groups = channels) + batch norm + activation";
  t.params = {ParamDecl::integer("multiplier", "x", 1, 1, 64, "output channels per input channel"),
              bp::act("relu")};
  for (auto& d : common_params()) t.params.push_back(d);
  t.build = [](const BlockArgs& a, BuildContext& ctx) {
    const ir::TensorId x = ctx.input(a);
    const int c = static_cast<int>(ctx.graph().shape(x)[1]);
    return ctx.conv(a, x, conv_attrs(a, c * a.in("multiplier"), c), "dw", a.s("act"));
  };
  return t;
}

NAX_REGISTER_BLOCK(conv_type());
NAX_REGISTER_BLOCK(dwconv_type());

}  // namespace
}  // namespace nax::spec
