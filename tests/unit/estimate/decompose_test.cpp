// Subgraph decomposition: units follow the blocks and the lowering's layer grouping.
#include <catch2/catch.hpp>

#include <map>

#include "models/estimate/unit.hpp"
#include "models/ir/analysis.hpp"
#include "models/onnx/onnx_import.hpp"
#include "models/spec/model_spec.hpp"
#include "models/zoo/zoo.hpp"

using namespace nax;
using namespace nax::est;

namespace {

std::map<std::string, int> type_counts(const std::vector<Unit>& units) {
  std::map<std::string, int> m;
  for (const auto& u : units) ++m[unit_type_name(u.type)];
  return m;
}

ir::Graph zoo_graph(const std::string& name) {
  return spec::build_graph(zoo::build(name));
}

}  // namespace

TEST_CASE("mobilenet_v2 decomposes into its blocks", "[decompose]") {
  const ir::Graph g = zoo_graph("mobilenet_v2");
  const auto units = decompose(g);
  const auto counts = type_counts(units);
  CHECK(counts.at("ibn") == 17);
  CHECK(counts.at("conv") == 2);  // stem, head 1x1
  CHECK(counts.at("global_pool") == 1);
  CHECK(counts.at("fc") == 1);
  // Every op in exactly one unit; MACs add up.
  std::vector<int> seen(g.ops().size(), 0);
  int64_t macs = 0;
  for (const auto& u : units) {
    for (int o : u.ops) ++seen[static_cast<size_t>(o)];
    macs += u.macs;
  }
  for (int s : seen) CHECK(s == 1);
  CHECK(macs == ir::analyze(g).macs);
  // s2.0: 16 -> 96 -> 24, k3, stride 2, no residual; s2.1 has one.
  const Unit* s20 = nullptr;
  const Unit* s21 = nullptr;
  for (const auto& u : units) {
    if (u.name == "s2.0") s20 = &u;
    if (u.name == "s2.1") s21 = &u;
  }
  REQUIRE(s20);
  REQUIRE(s21);
  CHECK(s20->cin == 16);
  CHECK(s20->hidden == 96);
  CHECK(s20->cout == 24);
  CHECK(s20->kernel == 3);
  CHECK(s20->stride == 2);
  CHECK_FALSE(s20->residual);
  CHECK(s21->residual);
  CHECK(s21->hash.size() == 16);
  CHECK(s21->hash != s20->hash);
}

TEST_CASE("the same block in two places has the same hash", "[decompose]") {
  const auto units = decompose(zoo_graph("mobilenet_v2"));
  std::map<std::string, std::string> h;
  for (const auto& u : units) h[u.name] = u.hash;
  CHECK(h.at("s3.1") == h.at("s3.2"));  // 32 -> 192 -> 32 at 28x28, twice
  CHECK(h.at("s3.0") != h.at("s3.1"));
}

TEST_CASE("an ONNX mobilenet_v2 finds the same inverted bottlenecks", "[decompose]") {
  const ir::Graph g = onnx::import_onnx_file(std::string(NAX_FIXTURES) + "/onnx/mobilenet_v2.onnx");
  const auto counts = type_counts(decompose(g));
  CHECK(counts.at("ibn") == 17);
}

TEST_CASE("squeeze-excite and fused blocks stay whole; unfused activations are units",
          "[decompose]") {
  const auto units = decompose(zoo_graph("efficientnet_edgetpu_s"));
  const auto counts = type_counts(units);
  CHECK(counts.at("fused_ibn") == 7);
  CHECK(counts.at("ibn") == 11);
  const auto v3 = type_counts(decompose(zoo_graph("mobilenet_v3_large")));
  CHECK(v3.at("ibn") == 15);
  DecomposeOptions unfused;
  unfused.fuse_activations = false;
  const auto r = type_counts(decompose(zoo_graph("resnet18"), unfused));
  CHECK(r.at("basic") == 8);
  CHECK(r.at("activation") == 1);  // the stem's ReLU is a layer of its own
}

#include "hw/traces/label.hpp"

TEST_CASE("unit labels partition a simulated network", "[decompose][label]") {
  for (const char* m : {"mobilenet_v2", "resnet18", "person_detector"}) {
    for (const char* c : {"default", "tiny"}) {
      INFO(m << " on " << c);
      const ir::Graph g = zoo_graph(m);
      const hw::NetworkLabel n = hw::label_network(g, hw::load_chip(c));
      uint64_t sum = 0;
      double energy = 0;
      for (const auto& u : n.units) {
        sum += u.cycles;
        energy += u.energy_uj;
      }
      CHECK(sum == n.total_cycles);
      CHECK(energy == Approx(n.energy_uj).epsilon(1e-6));
    }
  }
}

#include "models/estimate/unit_json.hpp"

TEST_CASE("units round-trip through JSON", "[decompose]") {
  for (const auto& u : decompose(zoo_graph("efficientnet_b0"))) {
    const Unit back = unit_from_json(unit_to_json(u));
    CHECK(unit_to_json(back) == unit_to_json(u));
  }
  CHECK_THROWS_AS(unit_from_json(nlohmann::json{{"type", "ibm"}}), nax::InputError);
  CHECK_THROWS_AS(unit_from_json(nlohmann::json::object()), nax::InputError);
}
