// NAS-Bench-201 networks (Dong & Yang, "NAS-Bench-201: Extending the Scope of Reproducible Neural
// Architecture Search", ICLR 2020), as the benchmark's reference code builds them
// (D-X-Y/AutoDL-Projects, xautodl/models/cell_infers/tiny_network.py `TinyNetwork`): a 3x3 conv
// stem (C channels) + batch norm; three stages of N cells with C, 2C and 4C channels, separated by
// stride-2 residual blocks (`nb201_resblock`); "lastact" batch norm + ReLU; global average pool;
// a fully connected classifier. Defaults are the benchmark's: C = 16, N = 5, 32x32 CIFAR input,
// 10 classes (100 for CIFAR-100, 120 at 16x16 for ImageNet16-120).
//
// Stages: "stem", "s1", "r1" (residual block), "s2", "r2", "s3", "head"; `sK.repeats` sets the
// number of cells of stage K, `sK.arch=...` replaces that stage's cells.
#include <fmt/format.h>

#include "models/spec/blocks/nb201.hpp"
#include "models/zoo/zoo.hpp"
#include "models/zoo/zoo_util.hpp"

namespace nax::zoo {
namespace {

// The best CIFAR-10 cell of the benchmark (94.37% test accuracy after 200 epochs).
constexpr const char* kDefaultArch =
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~"
    "2|";

spec::ModelSpec build_nb201(const ParamSet& p) {
  // Validate here too, so `--model nb201:arch=...` names the problem before any block is built.
  spec::Nb201Cell cell;
  try {
    cell = spec::parse_nb201_cell(p.get_string("arch"));
  } catch (const InputError& e) {
    throw InputError(std::string("--model nb201: ") + e.what());
  }
  const int64_t c = p.get_int("channels");
  const int n = static_cast<int>(p.get_int("cells"));
  spec::ModelSpec m;
  m.name = "nb201";
  m.height = m.width = p.get_int("resolution");
  m.stages.push_back(
      stage("stem", {blk("conv", {{"out", I(c)}, {"kernel", I(3)}, {"act", S("none")}})}, true));
  const spec::BlockSpec cell_block = blk("nb201_cell", {{"arch", ParamValue(cell.str())}});
  for (int s = 0; s < 3; ++s) {
    if (s > 0) {
      m.stages.push_back(stage(fmt::format("r{}", s),
                               {blk("nb201_resblock", {{"out", I(c << s)}, {"stride", I(2)}})},
                               true));
    }
    m.stages.push_back(stage(fmt::format("s{}", s + 1), repeat(cell_block, n)));
  }
  m.stages.push_back(stage("head",
                           {blk("bn", {{"act", S("relu")}}), blk("global_pool", {}),
                            blk("fc", {{"out", I(p.get_int("num_classes"))}})},
                           true));
  return m;
}

ZooEntry entry() {
  ZooEntry e;
  e.name = "nb201";
  e.description = "NAS-Bench-201 network for a cell string (nb201:arch=|op~0|+|op~0|op~1|+...)";
  e.params = {
      ParamDecl::string("arch", std::string(kDefaultArch),
                        "cell string: 3 nodes separated by '+', node i listing i edges |op~j| with "
                        "op none, skip_connect, nor_conv_1x1, nor_conv_3x3 or avg_pool_3x3"),
      ParamDecl::integer("channels", "channels", 16, 1, 4096, "channels of the first stage (C)"),
      ParamDecl::integer("cells", "", 5, 1, 64, "cells per stage (N)"),
      ParamDecl::integer("resolution", "px", 32, 4, 4096, "input height and width"),
      ParamDecl::integer("num_classes", "", 10, 1, 1 << 20, "classifier outputs")};
  e.build = build_nb201;
  return e;
}

NAX_REGISTER_ZOO(entry());

}  // namespace
}  // namespace nax::zoo
