// NAS-Bench-Macro (`nas-bench-macro` zoo builder): the published params and FLOPs of all 6,561
// networks (tests/fixtures/zoo/README.md). The benchmark's FLOPs are conv + linear
// multiply-accumulates without biases (its train/utils.py count_FLOPs) and its params are
// sum(p.numel()), nax's conventions, so both must match exactly.
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "models/ir/analysis.hpp"
#include "models/zoo/zoo.hpp"

using namespace nax;

namespace {

std::string build_error(const std::string& arg) {
  try {
    spec::build_graph(zoo::build(arg));
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("nas-bench-macro matches the published params and FLOPs of all 6,561 networks",
          "[zoo][nas-bench-macro]") {
  std::ifstream in(std::string(NAX_FIXTURES) + "/zoo/nas_bench_macro_flops_params.csv");
  REQUIRE(in.good());
  std::string line;
  std::getline(in, line);
  REQUIRE(line == "arch,params,flops");
  int n = 0, params_exact = 0, macs_exact = 0;
  double max_err = 0;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string arch, params, flops;
    std::getline(ss, arch, ',');
    std::getline(ss, params, ',');
    std::getline(ss, flops, ',');
    const ir::GraphStats st =
        ir::analyze(spec::build_graph(zoo::build("nas-bench-macro:arch=" + arch)));
    INFO(arch);
    CHECK(st.params == std::stoll(params));
    CHECK(st.macs == std::stoll(flops));
    ++n;
    params_exact += st.params == std::stoll(params);
    macs_exact += st.macs == std::stoll(flops);
    max_err = std::max({max_err, std::abs(1.0 - st.params / std::stod(params)),
                        std::abs(1.0 - st.macs / std::stod(flops))});
  }
  CHECK(n == 6561);
  WARN(
      fmt::format("nas-bench-macro: {} networks, params exact {}, MACs exact {}, max relative "
                  "error {:.3g}",
                  n, params_exact, macs_exact, max_err));
}

TEST_CASE("nas-bench-macro layers: identity, downsampling identity, IBN",
          "[zoo][nas-bench-macro]") {
  const spec::ModelSpec m = zoo::build("nas-bench-macro:arch=01220210");
  REQUIRE(m.stages.size() == 5);
  // Layer 1 is an identity where the stride and width change: a strided 1x1 conv + BN.
  const spec::BlockSpec& l1 = m.stages[1].blocks[0];
  CHECK(l1.type == "conv");
  CHECK(std::get<int64_t>(l1.params.at("stride")) == 2);
  CHECK(m.stages[3].blocks[2].type == "identity");  // layer 8
  CHECK(m.stages[2].blocks[1].type == "ibn");       // layer 4: IBN k5 e6
  CHECK(std::get<int64_t>(m.stages[2].blocks[1].params.at("kernel")) == 5);

  const ir::Graph g = spec::build_graph(m);
  CHECK(g.shape(g.outputs()[0]) == ir::Shape{1, 10});
  for (const auto& op : g.ops()) {
    if (op.name == "head.0.conv") CHECK(g.shape(op.output) == ir::Shape{1, 1280, 4, 4});
  }
  // Moving stride-1 identities to the end of a stage changes nothing (the benchmark stores such
  // networks once).
  CHECK(ir::graph_hash(spec::build_graph(zoo::build("nas-bench-macro:arch=10201020"))) ==
        ir::graph_hash(spec::build_graph(zoo::build("nas-bench-macro:arch=10210020"))));
}

TEST_CASE("nas-bench-macro rejects bad arch strings", "[zoo][nas-bench-macro]") {
  CHECK_THAT(build_error("nas-bench-macro:arch=0122021"), Catch::Contains("has 7 digit(s)"));
  CHECK_THAT(build_error("nas-bench-macro:arch=012202103"), Catch::Contains("has 9 digit(s)"));
  CHECK_THAT(build_error("nas-bench-macro:arch=01320210"), Catch::Contains("layer 3 is '3'"));
  CHECK_THAT(build_error("nas-bench-macro:arch=0122021x"),
             Catch::Contains("expected 8 digits, one per layer"));
  CHECK_THAT(build_error("nas-bench-macro:arhc=01220210"), Catch::Contains("did you mean arch"));
}
