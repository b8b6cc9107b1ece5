// NAS-Bench-Macro networks (Su et al., CVPR 2021, the benchmark of their MCT-NAS paper), as the
// benchmark's reference code builds them (xiusu/NAS-Bench-Macro @ 61a2bfc, train/model.py
// `Network`):
// - stem: 3x3 conv, 32 channels, batch norm, ReLU (stride 1: CIFAR-10, 32x32 input);
// - 8 searchable layers in three stages of 2, 3 and 3 layers; the first layer of every stage halves
//   the resolution and doubles the width (64, 128, 256 channels); one digit per layer:
//   0 = identity (a 1x1 conv with stride 2 + batch norm where the stride and width change),
//   1 = inverted bottleneck, 3x3 depthwise, expansion 3, 2 = inverted bottleneck, 5x5, expansion 6
//   (ReLU; residual when stride 1 and widths match);
// - head: 1x1 conv to 1280 + batch norm + ReLU, global average pool, fully connected to 10.
// The benchmark's `flops` are multiply-accumulates of the convolutions and the classifier (its
// train/utils.py `count_FLOPs`, no biases) and its `params` are sum(p.numel()), the conventions of
// ir::analyze, so the numbers compare one to one.
//
// Stages: "stem", "s1", "s2", "s3", "head".
#include <fmt/format.h>

#include "models/zoo/zoo.hpp"
#include "models/zoo/zoo_util.hpp"

namespace nax::zoo {
namespace {

// The most accurate network of the benchmark (93.13% mean CIFAR-10 test accuracy).
constexpr const char* kDefaultArch = "22212220";
constexpr int kStageLayers[] = {2, 3, 3};
constexpr int kLayers = 8;

void check_arch(const std::string& arch) {
  std::string what;
  if (arch.size() != kLayers) {
    what = fmt::format("has {} digit(s)", arch.size());
  } else {
    for (size_t i = 0; i < arch.size(); ++i) {
      if (arch[i] < '0' || arch[i] > '2') {
        what = fmt::format("layer {} is '{}'", i + 1, arch[i]);
        break;
      }
    }
  }
  if (!what.empty()) {
    throw InputError(fmt::format(
        "--model nas-bench-macro: arch = {}: {}; expected 8 digits, one per layer, each 0 "
        "(identity), 1 (inverted bottleneck k3, expansion 3) or 2 (inverted bottleneck k5, "
        "expansion 6), e.g. arch=01220210",
        arch, what));
  }
}

spec::ModelSpec build_macro(const ParamSet& p) {
  const std::string& arch = p.get_string("arch");
  check_arch(arch);
  int64_t c = p.get_int("channels");
  spec::ModelSpec m;
  m.name = "nas-bench-macro";
  m.height = m.width = p.get_int("resolution");
  m.stages.push_back(
      stage("stem", {blk("conv", {{"out", I(c)}, {"kernel", I(3)}, {"act", S("relu")}})}, true));
  size_t layer = 0;
  for (int s = 0; s < 3; ++s) {
    std::vector<spec::BlockSpec> blocks;
    for (int i = 0; i < kStageLayers[s]; ++i, ++layer) {
      const bool first = i == 0;
      const int64_t stride = first ? 2 : 1;
      if (first) c *= 2;
      switch (arch[layer]) {
        case '0':
          blocks.push_back(first ? blk("conv", {{"out", I(c)},
                                                {"kernel", I(1)},
                                                {"stride", I(stride)},
                                                {"act", S("none")}})
                                 : blk("identity", {}));
          break;
        case '1':
          blocks.push_back(blk("ibn", {{"out", I(c)},
                                       {"expansion", F(3)},
                                       {"kernel", I(3)},
                                       {"stride", I(stride)},
                                       {"act", S("relu")}}));
          break;
        default:
          blocks.push_back(blk("ibn", {{"out", I(c)},
                                       {"expansion", F(6)},
                                       {"kernel", I(5)},
                                       {"stride", I(stride)},
                                       {"act", S("relu")}}));
          break;
      }
    }
    m.stages.push_back(stage(fmt::format("s{}", s + 1), std::move(blocks)));
  }
  m.stages.push_back(
      stage("head",
            {blk("conv", {{"out", I(1280)}, {"kernel", I(1)}, {"act", S("relu")}}),
             blk("global_pool", {}), blk("fc", {{"out", I(p.get_int("num_classes"))}})},
            true));
  return m;
}

ZooEntry entry() {
  ZooEntry e;
  e.name = "nas-bench-macro";
  e.description = "NAS-Bench-Macro CIFAR-10 network for an 8-digit arch (nas-bench-macro:arch=...)";
  e.params = {ParamDecl::string("arch", std::string(kDefaultArch),
                                "8 digits, one per layer: 0 identity, 1 IBN k3 e3, 2 IBN k5 e6"),
              ParamDecl::integer("channels", "channels", 32, 1, 4096, "stem channels"),
              ParamDecl::integer("resolution", "px", 32, 8, 4096, "input height and width"),
              ParamDecl::integer("num_classes", "", 10, 1, 1 << 20, "classifier outputs")};
  e.build = build_macro;
  e.reference = Reference{
      85164544, 1985514, 0.0,
      "NAS-Bench-Macro (xiusu/NAS-Bench-Macro @ 61a2bfc, data/nas-bench-macro_cifar10.json), arch "
      "22212220: flops 85,164,544 (conv + linear multiply-accumulates, train/utils.py "
      "count_FLOPs), params 1,985,514"};
  return e;
}

NAX_REGISTER_ZOO(entry());

}  // namespace
}  // namespace nax::zoo
