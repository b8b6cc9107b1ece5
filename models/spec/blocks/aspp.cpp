// `aspp`: atrous spatial pyramid pooling (Chen et al., "Rethinking Atrous Convolution for Semantic
// Image Segmentation", 2017: DeepLabV3), as torchvision.models.segmentation.deeplabv3.ASPP builds
// it: parallel branches on the input (a 1x1 conv, one 3x3 conv per atrous rate with that dilation,
// and image pooling: global average pool, 1x1 conv, resized back bilinearly), each conv without
// bias + BN + activation, concatenated and projected by a 1x1 conv + BN + activation. (The
// projection's dropout is a no-op at inference.)
#include <fmt/format.h>

#include "models/spec/block_params.hpp"

namespace nax::spec {
namespace {

BlockType aspp_type() {
  BlockType t;
  t.name = "aspp";
  t.description =
      "atrous spatial pyramid pooling: 1x1 conv, a dilated 3x3 conv per rate and image pooling, "
      "concatenated and projected by a 1x1 conv";
  t.params = {bp::out(256),
              ParamDecl::int_list("rates", "px", std::vector<int64_t>{12, 24, 36}, 1, 256,
                                  "dilation of each 3x3 branch"),
              ParamDecl::boolean("pooling", true, "add the image-pooling branch"), bp::act("relu")};
  t.build = [](const BlockArgs& a, BuildContext& ctx) {
    const ir::TensorId x = ctx.input(a);
    const ir::Shape shape = ctx.graph().shape(x);
    if (shape.size() != 4) a.fail("input", "expected a feature map with an NCHW output");
    const int out = a.in("out");
    const std::string& act = a.s("act");
    auto bn_conv = [&](int k, int dilation) {
      ir::ConvAttrs c = ir::ConvAttrs::make(out, k, 1, 1, dilation);
      c.bn = true;
      return c;
    };
    std::vector<ir::TensorId> branches = {ctx.conv(a, x, bn_conv(1, 1), "b0", act)};
    int i = 1;
    for (int64_t rate : a.ilist("rates")) {
      branches.push_back(
          ctx.conv(a, x, bn_conv(3, static_cast<int>(rate)), fmt::format("b{}", i++), act));
    }
    if (a.b("pooling")) {
      ir::TensorId p = ctx.op(a, ir::OpKind::kGlobalAvgPool, {x}, "pool");
      p = ctx.conv(a, p, bn_conv(1, 1), "pool.conv", act);
      ir::ResizeAttrs r;
      r.out_h = shape[2];
      r.out_w = shape[3];
      r.mode = "linear";
      branches.push_back(ctx.op(a, ir::OpKind::kResize, {p}, "pool.resize", r));
    }
    const ir::TensorId cat =
        branches.size() == 1 ? branches[0]
                             : ctx.op(a, ir::OpKind::kConcat, branches, "concat", ir::AxisAttrs{1});
    ir::ConvAttrs project = ir::ConvAttrs::make(out, 1);
    project.bn = true;
    return ctx.conv(a, cat, project, "project", act);
  };
  return t;
}

NAX_REGISTER_BLOCK(aspp_type());

}  // namespace
}  // namespace nax::spec
