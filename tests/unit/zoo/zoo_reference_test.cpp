// Every registered zoo model, so later models are covered automatically:
// - with a Reference, its MACs and parameters at default parameters (counted on the built graph)
//   are within Reference::tolerance of the published numbers;
// - its block-level description survives write_model_yaml -> read_model_yaml unchanged (same
//   graph hash, and writing again gives the same text).
#include <catch2/catch.hpp>

#include <cmath>

#include "models/ir/analysis.hpp"
#include "models/spec/model_spec.hpp"
#include "models/zoo/zoo.hpp"

using namespace nax;

namespace {

double rel_diff(int64_t got, int64_t want) {
  return want == 0 ? (got == 0 ? 0.0 : 1.0)
                   : std::abs(static_cast<double>(got - want)) / static_cast<double>(want);
}

}  // namespace

TEST_CASE("the zoo registers the classification builders", "[zoo]") {
  const auto names = zoo::ZooRegistry::instance().names();
  for (const char* n :
       {"mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small", "efficientnet_b0",
        "efficientnet_lite0", "efficientnet_edgetpu_s", "mnasnet1_0", "resnet18", "resnet50"}) {
    INFO(n);
    CHECK(zoo::ZooRegistry::instance().find(n) != nullptr);
  }
}

TEST_CASE("zoo models match the MACs and params of their reference implementations", "[zoo]") {
  int checked = 0;
  for (const auto& name : zoo::ZooRegistry::instance().names()) {
    const zoo::ZooEntry* e = zoo::ZooRegistry::instance().find(name);
    REQUIRE(e != nullptr);
    if (!e->reference) continue;
    const zoo::Reference& ref = *e->reference;
    const ir::GraphStats st = ir::analyze(spec::build_graph(zoo::build(name)));
    INFO(name << ": MACs " << st.macs << " vs " << ref.macs << ", params " << st.params << " vs "
              << ref.params << " (" << ref.source << ")");
    CHECK(!ref.source.empty());
    CHECK(ref.tolerance >= 0);
    CHECK(rel_diff(st.macs, ref.macs) <= ref.tolerance);
    CHECK(rel_diff(st.params, ref.params) <= ref.tolerance);
    ++checked;
  }
  CHECK(checked >= 9);
}

TEST_CASE("zoo models round-trip through the YAML model format", "[zoo]") {
  for (const auto& name : zoo::ZooRegistry::instance().names()) {
    INFO(name);
    const spec::ModelSpec built = zoo::build(name);
    const std::string hash = ir::graph_hash(spec::build_graph(built));
    const std::string text = spec::write_model_yaml(built);
    const spec::ModelSpec read = spec::read_model_yaml(text, name + ".yaml");
    CHECK(ir::graph_hash(spec::build_graph(read)) == hash);
    CHECK(spec::write_model_yaml(read) == text);
    CHECK(read.num_blocks() == built.num_blocks());
    CHECK(read.name == built.name);
  }
}
