// `bn`: a standalone (unfolded) batch norm + activation, for networks whose normalisation does not
// follow a convolution, such as NAS-Bench-201's final "lastact" (BN + ReLU before pooling).
#include "models/spec/block_params.hpp"

namespace nax::spec {
namespace {

BlockType bn_type() {
  BlockType t;
  t.name = "bn";
  t.description = "standalone batch norm (per-channel scale and shift) + activation";
  t.params = {bp::act("none")};
  t.build = [](const BlockArgs& a, BuildContext& ctx) {
    const ir::TensorId y = ctx.op(a, ir::OpKind::kBatchNorm, {ctx.input(a)}, "bn");
    return ctx.act(a, y, a.s("act"), "act");
  };
  return t;
}

NAX_REGISTER_BLOCK(bn_type());

}  // namespace
}  // namespace nax::spec
