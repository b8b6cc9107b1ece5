// The dataset sampler: a pure function of (seed, index), every sample builds, and a few hundred
// samples cover every unit type, aligned and unaligned channels, kernels, strides and both
// families.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "models/estimate/sampler.hpp"
#include "models/estimate/unit.hpp"
#include "models/ir/analysis.hpp"
#include "models/spec/model_spec.hpp"

using namespace nax;
using namespace nax::est;

TEST_CASE("SplitMix64 gives the reference sequence", "[sampler]") {
  // The first outputs of SplitMix64 from state 0 (Vigna's reference splitmix64.c): a change of
  // the generator would silently change every dataset.
  SplitMix64 r(0);
  CHECK(r.next() == 0xE220A8397B1DCDAFull);
  CHECK(r.next() == 0x6E789E6AA1B965F4ull);
  CHECK(r.next() == 0x06C45D188009454Full);
  SplitMix64 u(42);
  for (int i = 0; i < 1000; ++i) {
    const int64_t v = u.uniform_int(-3, 5);
    REQUIRE(v >= -3);
    REQUIRE(v <= 5);
    const double d = u.uniform01();
    REQUIRE(d >= 0.0);
    REQUIRE(d < 1.0);
  }
  CHECK(SplitMix64(7).uniform_int(4, 4) == 4);
}

TEST_CASE("sample i of seed S is a pure function of (S, i)", "[sampler]") {
  for (int64_t i : {0, 1, 17, 1000003}) {
    const Sample a = sample_network(5, i);
    const Sample b = sample_network(5, i);
    CHECK(a.family == b.family);
    CHECK(a.description == b.description);
    CHECK(spec::write_model_yaml(a.spec) == spec::write_model_yaml(b.spec));
    CHECK(ir::graph_hash(a.graph) == ir::graph_hash(b.graph));
  }
  // Independent of what was drawn before.
  sample_network(5, 3);
  CHECK(ir::graph_hash(sample_network(5, 2).graph) == ir::graph_hash(sample_network(5, 2).graph));
  // Seeds and indices give different networks.
  std::set<std::string> hashes;
  for (uint64_t seed : {1u, 2u}) {
    for (int64_t i = 0; i < 20; ++i) hashes.insert(ir::graph_hash(sample_network(seed, i).graph));
  }
  CHECK(hashes.size() >= 38);
  CHECK(sample_source(3, 14) == "sample seed=3 index=14");
  CHECK_THROWS_AS(sample_network(1, -1), InputError);
}

TEST_CASE("the spec YAML a sample records rebuilds the same network", "[sampler]") {
  for (int64_t i = 0; i < 30; ++i) {
    const Sample s = sample_network(11, i);
    INFO(s.description);
    const spec::ModelSpec back = spec::read_model_yaml(spec::write_model_yaml(s.spec), "sample");
    CHECK(ir::graph_hash(spec::build_graph(back)) == ir::graph_hash(s.graph));
  }
}

TEST_CASE("a few hundred samples build and cover the unit types and channel alignments",
          "[sampler]") {
  std::map<std::string, int> types, families;
  int aligned = 0, unaligned = 0, chain_big = 0;
  std::set<int> kernels, strides, resolutions;
  std::set<int64_t> expansions_seen;
  bool fused_override = false;
  for (int64_t i = 0; i < 300; ++i) {
    const Sample s = sample_network(1, i);  // throws if it does not build
    ++families[s.family];
    if (s.family == "zoo" && s.description.find(".type=fused_ibn") != std::string::npos) {
      fused_override = true;
    }
    if (s.family == "chain" && ir::analyze(s.graph).macs > 600000000) ++chain_big;
    resolutions.insert(static_cast<int>(s.spec.height));
    for (const auto& u : decompose(s.graph)) {
      ++types[unit_type_name(u.type)];
      const int64_t cout = u.out_shape.size() > 1 ? u.out_shape[1] : 0;
      if (u.type == UnitType::kIbn || u.type == UnitType::kFusedIbn || u.type == UnitType::kConv) {
        (cout % 8 == 0 ? aligned : unaligned) += 1;
        if (u.kernel) kernels.insert(u.kernel);
        strides.insert(u.stride);
        if (u.cin > 0 && u.hidden % u.cin == 0) expansions_seen.insert(u.hidden / u.cin);
      }
    }
  }
  for (const char* t : {"conv", "dwconv", "fc", "ibn", "fused_ibn", "basic", "bottleneck", "pool",
                        "global_pool", "eltwise", "activation", "resize", "concat", "softmax"}) {
    INFO(t);
    CHECK(types[t] > 0);
  }
  CHECK(families["chain"] > 150);
  CHECK(families["zoo"] > 50);
  CHECK(fused_override);
  CHECK(aligned > 200);
  CHECK(unaligned > 200);
  CHECK(kernels.count(3) == 1);
  CHECK(kernels.count(5) == 1);
  CHECK(kernels.count(7) == 1);
  CHECK(strides.count(1) == 1);
  CHECK(strides.count(2) == 1);
  for (int64_t e : {1, 2, 3, 4, 6}) {
    INFO(e);
    CHECK(expansions_seen.count(e) == 1);
  }
  CHECK(resolutions.size() > 8);  // the 32-px grid and arbitrary values
  CHECK(chain_big < 5);           // chains above 0.6 G MACs are redrawn
}
