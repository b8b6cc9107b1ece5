// `lraspp_head`: the Lite R-ASPP segmentation head (Howard et al., "Searching for MobileNetV3",
// ICCV 2019, section 6.3), as torchvision.models.segmentation.lraspp.LRASPPHead builds it:
//   high branch: 1x1 conv (no bias) + BN + ReLU to `inter` channels, multiplied by a gate from
//   global average pooling, 1x1 conv (no bias) and sigmoid (torchvision's AdaptiveAvgPool2d(1); the
//   paper uses a large-stride pooling), bilinearly resized to the low feature map, 1x1 classifier
//   conv with bias;
//   low branch: a 1x1 classifier conv with bias;
//   output: the sum of both classifiers, at the low feature map's resolution.
// inputs: [low, high].
#include "models/spec/block_params.hpp"

namespace nax::spec {
namespace {

BlockType lraspp_type() {
  BlockType t;
  t.name = "lraspp_head";
  t.description =
      "Lite R-ASPP head over [low, high] features: 1x1 conv+BN+ReLU gated by pool+1x1+sigmoid, "
      "resized to low, classifier convs on both, summed";
  t.params = {
      bp::inputs(),
      ParamDecl::integer("inter", "channels", 128, 1, 1 << 20, "channels of the high branch"),
      ParamDecl::integer("num_classes", "", std::nullopt, 1, 1 << 20, "output channels (classes)"),
      ParamDecl::enumeration("mode", {"nearest", "linear", "cubic"}, std::string("linear"),
                             "interpolation of the high branch")};
  t.build = [](const BlockArgs& a, BuildContext& ctx) {
    const std::vector<ir::TensorId> in = ctx.inputs(a);
    if (in.size() != 2) a.fail("inputs", "expected two inputs: [low, high]");
    const ir::TensorId low = in[0], high = in[1];
    const ir::Shape low_shape = ctx.graph().shape(low);
    if (low_shape.size() != 4 || ctx.graph().shape(high).size() != 4)
      a.fail("inputs", "expected feature maps with NCHW outputs");
    const int inter = a.in("inter"), classes = a.in("num_classes");

    ir::ConvAttrs cbr = ir::ConvAttrs::make(inter, 1);
    cbr.bn = true;
    ir::TensorId x = ctx.conv(a, high, cbr, "cbr", "relu");
    ir::TensorId s = ctx.op(a, ir::OpKind::kGlobalAvgPool, {high}, "scale.pool");
    s = ctx.conv(a, s, ir::ConvAttrs::make(inter, 1), "scale.conv", "sigmoid");
    x = ctx.op(a, ir::OpKind::kMul, {x, s}, "scale.mul");
    ir::ResizeAttrs r;
    r.out_h = low_shape[2];
    r.out_w = low_shape[3];
    r.mode = a.s("mode");
    x = ctx.op(a, ir::OpKind::kResize, {x}, "resize", r);

    ir::ConvAttrs cls = ir::ConvAttrs::make(classes, 1);
    cls.bias = true;
    const ir::TensorId lo = ctx.conv(a, low, cls, "low_classifier");
    const ir::TensorId hi = ctx.conv(a, x, cls, "high_classifier");
    return ctx.op(a, ir::OpKind::kAdd, {lo, hi}, "add");
  };
  return t;
}

NAX_REGISTER_BLOCK(lraspp_type());

}  // namespace
}  // namespace nax::spec
