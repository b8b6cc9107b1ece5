// Small structural blocks: pooling, fully connected, flatten, identity, add, concat, resize,
// activation and softmax.
#include <cmath>

#include "models/spec/block_params.hpp"

namespace nax::spec {
namespace {

using ir::OpKind;

BlockType pool_type(const std::string& name, OpKind kind) {
  BlockType t;
  t.name = name;
  t.description = name == "maxpool" ? "max pooling" : "average pooling";
  t.params = {bp::kernel(3),
              ParamDecl::integer("stride", "px", 0, 0, 64, "stride; 0 for the kernel size"),
              ParamDecl::integer("padding", "px", 0, 0, 64, "padding on each side"),
              ParamDecl::boolean("ceil_mode", false, "round the output size up"),
              ParamDecl::boolean("count_include_pad", false,
                                 "average pooling: padded zeros count in the average")};
  t.build = [kind](const BlockArgs& a, BuildContext& ctx) {
    ir::PoolAttrs p;
    p.kernel_h = p.kernel_w = a.in("kernel");
    p.stride_h = p.stride_w = a.in("stride") > 0 ? a.in("stride") : a.in("kernel");
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = a.in("padding");
    p.ceil_mode = a.b("ceil_mode");
    p.count_include_pad = a.b("count_include_pad");
    return ctx.op(a, kind, {ctx.input(a)}, "pool", p);
  };
  return t;
}

BlockType global_pool_type() {
  BlockType t;
  t.name = "global_pool";
  t.description = "global average (or max) pooling to 1x1";
  t.params = {ParamDecl::enumeration("mode", {"avg", "max"}, std::string("avg"), "pooling mode")};
  t.build = [](const BlockArgs& a, BuildContext& ctx) {
    return ctx.op(a, a.s("mode") == "avg" ? OpKind::kGlobalAvgPool : OpKind::kGlobalMaxPool,
                  {ctx.input(a)}, "pool");
  };
  return t;
}

BlockType fc_type() {
  BlockType t;
  t.name = "fc";
  t.description = "fully connected layer (flattens an NCHW input first) + activation";
  t.params = {bp::out(), ParamDecl::boolean("bias", true, "the layer has a bias"), bp::act("none")};
  t.build = [](const BlockArgs& a, BuildContext& ctx) {
    ir::TensorId x = ctx.input(a);
    if (ctx.graph().shape(x).size() != 2)
      x = ctx.op(a, OpKind::kFlatten, {x}, "flatten", ir::AxisAttrs{1});
    ir::FcAttrs f;
    f.out_features = a.in("out");
    f.bias = a.b("bias");
    return ctx.act(a, ctx.op(a, OpKind::kFullyConnected, {x}, "fc", f), a.s("act"), "act");
  };
  return t;
}

BlockType flatten_type() {
  BlockType t;
  t.name = "flatten";
  t.description = "flatten to [batch, features]";
  t.build = [](const BlockArgs& a, BuildContext& ctx) {
    return ctx.op(a, OpKind::kFlatten, {ctx.input(a)}, "flatten", ir::AxisAttrs{1});
  };
  return t;
}

BlockType identity_type() {
  BlockType t;
  t.name = "identity";
  t.description = "passes its input through (a skipped layer in a search space)";
  t.build = [](const BlockArgs& a, BuildContext& ctx) { return ctx.input(a); };
  return t;
}

BlockType act_type() {
  BlockType t;
  t.name = "act";
  t.description = "a standalone activation";
  t.params = {bp::act("relu")};
  t.build = [](const BlockArgs& a, BuildContext& ctx) {
    return ctx.act(a, ctx.input(a), a.s("act"), "act");
  };
  return t;
}

BlockType add_type() {
  BlockType t;
  t.name = "add";
  t.description = "element-wise sum of several blocks' outputs + activation";
  t.params = {bp::inputs(), bp::act("none")};
  t.build = [](const BlockArgs& a, BuildContext& ctx) {
    const auto ins = ctx.inputs(a);
    ir::TensorId y = ins[0];
    for (size_t i = 1; i < ins.size(); ++i) {
      y = ctx.op(a, OpKind::kAdd, {y, ins[i]}, i == 1 ? "add" : "add" + std::to_string(i));
    }
    return ctx.act(a, y, a.s("act"), "act");
  };
  return t;
}

BlockType concat_type() {
  BlockType t;
  t.name = "concat";
  t.description = "concatenation of several blocks' outputs along channels";
  t.params = {bp::inputs()};
  t.build = [](const BlockArgs& a, BuildContext& ctx) {
    return ctx.op(a, OpKind::kConcat, ctx.inputs(a), "concat", ir::AxisAttrs{1});
  };
  return t;
}

BlockType resize_type() {
  BlockType t;
  t.name = "resize";
  t.description = "resize (upsample) by a scale, to a size, or to the size of another block";
  t.params = {
      ParamDecl::number("scale", "x", 0.0, 0, 64, "scale factor; 0 when size or like is given"),
      ParamDecl::int_list("size", "px", std::vector<int64_t>{}, 1, 1 << 20,
                          "output [height, width]"),
      ParamDecl::string("like", std::string(), "block whose height and width to match"),
      ParamDecl::enumeration("mode", {"nearest", "linear", "cubic"}, std::string("linear"),
                             "interpolation")};
  t.build = [](const BlockArgs& a, BuildContext& ctx) {
    const ir::TensorId x = ctx.input(a);
    const auto& s = ctx.graph().shape(x);
    ir::ResizeAttrs r;
    r.mode = a.s("mode");
    if (!a.s("like").empty()) {
      const auto& o = ctx.graph().shape(ctx.tap(a, a.s("like"), "like"));
      if (o.size() != 4) a.fail("like", "expected a block with an NCHW output");
      r.out_h = o[2];
      r.out_w = o[3];
    } else if (!a.ilist("size").empty()) {
      if (a.ilist("size").size() != 2) a.fail("size", "expected [height, width]");
      r.out_h = a.ilist("size")[0];
      r.out_w = a.ilist("size")[1];
    } else if (a.f("scale") > 0) {
      r.out_h = static_cast<int64_t>(std::floor(s[2] * a.f("scale")));
      r.out_w = static_cast<int64_t>(std::floor(s[3] * a.f("scale")));
    } else {
      a.fail("scale", "give one of scale, size or like");
    }
    return ctx.op(a, OpKind::kResize, {x}, "resize", r);
  };
  return t;
}

BlockType softmax_type() {
  BlockType t;
  t.name = "softmax";
  t.description = "softmax over an axis";
  t.params = {ParamDecl::integer("axis", "", -1, -8, 7, "axis; negative counts from the end")};
  t.build = [](const BlockArgs& a, BuildContext& ctx) {
    return ctx.op(a, OpKind::kSoftmax, {ctx.input(a)}, "softmax", ir::AxisAttrs{a.in("axis")});
  };
  return t;
}

NAX_REGISTER_BLOCK(pool_type("maxpool", OpKind::kMaxPool));
NAX_REGISTER_BLOCK(pool_type("avgpool", OpKind::kAvgPool));
NAX_REGISTER_BLOCK(global_pool_type());
NAX_REGISTER_BLOCK(fc_type());
NAX_REGISTER_BLOCK(flatten_type());
NAX_REGISTER_BLOCK(identity_type());
NAX_REGISTER_BLOCK(act_type());
NAX_REGISTER_BLOCK(add_type());
NAX_REGISTER_BLOCK(concat_type());
NAX_REGISTER_BLOCK(resize_type());
NAX_REGISTER_BLOCK(softmax_type());

}  // namespace
}  // namespace nax::spec
