// The expert advisor's rules (nas/search/advise.hpp) on small models: align gives multiples of the
// parallelism factor, even gives even widths, standard_conv leaves no depthwise op, depth removes
// blocks, fuse suggests exactly the stages where the oracle's latency drops, apply writes a model
// that builds and is faster, transfer maps fused stages by relative resolution.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "hw/chip/chip.hpp"
#include "hw/lower/lower.hpp"
#include "hw/sim/simulator.hpp"
#include "hw/traces/chip_features.hpp"
#include "models/common/error.hpp"
#include "models/model_source.hpp"
#include "models/spec/model_spec.hpp"
#include "nas/search/advise.hpp"

using namespace nax;
using search::Suggestion;

namespace {

// 96x96 input; odd or unaligned channel counts; three IBN stages at 1/2, 1/4 and 1/8; a
// classifier with 11 classes (the task's output: never rounded).
const char* kTiny = R"(
name: tiny_ibn
input: {channels: 3, height: 96, width: 96}
stages:
  - name: stem
    fixed_depth: true
    blocks:
      - {type: conv, out: 15, kernel: 3, stride: 2}
  - name: s1
    blocks:
      - {type: ibn, out: 17, expansion: 3, stride: 1, repeats: 2}
  - name: s2
    blocks:
      - {type: ibn, out: 40, expansion: 2.5, stride: 2, repeats: 2}
  - name: s3
    blocks:
      - {type: ibn, out: 97, stride: 2, repeats: 4}
  - name: head
    fixed_depth: true
    blocks:
      - {type: conv, out: 127, kernel: 1}
      - {type: global_pool}
      - {type: fc, out: 11}
      - {type: softmax}
)";

spec::ModelSpec tiny() {
  return spec::read_model_yaml(kTiny, "tiny.yaml");
}

// The simulator as an oracle (what tools/nax/oracles.cpp gives the CLI), counting its runs.
class SimOracle : public search::LatencyOracle {
 public:
  SimOracle() : m_chip(hw::load_chip("default", {})) {}
  std::string id() const override { return "simulator:test"; }
  std::string chip_hash() const override { return m_chip.hash; }
  double latency_ms(const ir::Graph& g) override {
    ++runs;
    return hw::Simulator::instance().run(hw::lower(g, m_chip), m_chip).latency_ms;
  }
  std::vector<std::pair<std::string, double>> breakdown_ms(const ir::Graph&) override { return {}; }
  double of(const spec::ModelSpec& m) { return latency_ms(spec::build_graph(m)); }
  const hw::ChipParams& chip() const { return m_chip; }
  int runs = 0;

 private:
  hw::ChipParams m_chip;
};

search::ChipLimits limits(const SimOracle& o) {
  return search::chip_limits(hw::chip_features(o.chip()));
}

// Output channels of every convolution, and of every fully connected layer.
std::vector<int64_t> conv_widths(const ir::Graph& g) {
  std::vector<int64_t> w;
  for (const auto& op : g.ops()) {
    if (op.kind == ir::OpKind::kConv2d) w.push_back(g.shape(op.output)[1]);
  }
  return w;
}

int64_t fc_width(const ir::Graph& g) {
  for (const auto& op : g.ops()) {
    if (op.kind == ir::OpKind::kFullyConnected) return op.attr<ir::FcAttrs>().out_features;
  }
  return -1;
}

const spec::StageSpec& stage(const spec::ModelSpec& m, const std::string& name) {
  for (const auto& st : m.stages) {
    if (st.name == name) return st;
  }
  FAIL("no stage " << name);
  throw;
}

const spec::BlockSpec& block(const spec::ModelSpec& m, const std::string& name) {
  const spec::BlockSpec* b = m.find_block(name);
  REQUIRE(b);
  return *b;
}

}  // namespace

TEST_CASE("round_channels: nearest multiple, ties up, never zero", "[advise]") {
  CHECK(search::round_channels(32, 32) == 32);
  CHECK(search::round_channels(47, 32) == 32);
  CHECK(search::round_channels(48, 32) == 64);  // tie: up
  CHECK(search::round_channels(16, 32) == 32);  // tie, and never 0
  CHECK(search::round_channels(15, 32) == 32);  // nearest is 0: one multiple instead
  CHECK(search::round_channels(97, 2) == 98);
  CHECK(search::round_channels(96, 2) == 96);
  CHECK(search::round_channels(7, 1) == 7);
}

TEST_CASE("task outputs: the classifier behind a softmax, the heads of a detector", "[advise]") {
  CHECK(search::task_output_blocks(tiny()) == std::set<std::string>{"head.2"});
  // The detector's predictors are heads over several maps: no block `out` is the task's.
  const Model pd = load_model("person_detector");
  CHECK(search::task_output_blocks(*pd.spec).empty());
}

TEST_CASE("align: every channel count a multiple of the parallelism factor", "[advise]") {
  const spec::ModelSpec m = tiny();
  const auto v = search::rule_align(m, 32);
  REQUIRE(v.size() == 1);
  const Suggestion& s = v.front();
  CHECK(s.rule == "align");
  CHECK_FALSE(s.changes.empty());
  CHECK(std::get<int64_t>(block(s.model, "stem.0").params.at("out")) == 32);  // 15 -> 32
  CHECK(std::get<int64_t>(block(s.model, "s2.0").params.at("out")) == 32);    // 40 -> 32
  CHECK(std::get<int64_t>(block(s.model, "s3.0").params.at("out")) == 96);    // 97 -> 96
  // s2 expands 32 x 2.5 = 80 channels: pinned to 96 (80 / 32 = 2.5, a tie: up).
  CHECK(std::get<int64_t>(block(s.model, "s2.0").params.at("expand_channels")) == 96);
  const ir::Graph g = spec::build_graph(s.model);
  for (const int64_t w : conv_widths(g)) {
    INFO(w);
    CHECK(w % 32 == 0);
  }
  CHECK(fc_width(g) == 11);  // the task's 11 classes stay
  // An aligned model has nothing left to align.
  CHECK(search::rule_align(s.model, 32).empty());
  // The transform re-makes the same edit on any model.
  CHECK(search::spec_changes(s.transform(m), s.model).empty());
}

TEST_CASE("even: odd channel counts and expanded widths made even", "[advise]") {
  spec::ModelSpec m = tiny();
  spec::apply_override(m, "s1.expansion", "2.5");  // 15 x 2.5 = 37.5 -> 38; 17 x 2.5 = 42.5 -> 42
  spec::apply_override(m, "s3.expansion", "3");    // 40 x 3 = 120; 97 x 3 = 291 (odd)
  const ir::Graph before = spec::build_graph(m);
  const auto odd = [](const std::vector<int64_t>& w) {
    return std::count_if(w.begin(), w.end(), [](int64_t x) { return x % 2 != 0; });
  };
  REQUIRE(odd(conv_widths(before)) > 0);
  const auto v = search::rule_even(m);
  REQUIRE(v.size() == 1);
  const ir::Graph g = spec::build_graph(v.front().model);
  CHECK(odd(conv_widths(g)) == 0);
  CHECK(fc_width(g) == 11);
  CHECK(std::get<int64_t>(block(v.front().model, "s1.0").params.at("out")) == 18);
  CHECK(search::rule_even(v.front().model).empty());
}

TEST_CASE("standard_conv: no depthwise op is left", "[advise]") {
  const auto grouped = [](const ir::Graph& g) {
    int n = 0;
    for (const auto& op : g.ops())
      n += op.kind == ir::OpKind::kConv2d && op.attr<ir::ConvAttrs>().groups > 1;
    return n;
  };
  // IBN blocks, a dwconv block with a multiplier, a conv with groups = its input channels.
  spec::ModelSpec m = tiny();
  spec::StageSpec extra;
  extra.name = "dw";
  spec::BlockSpec d;
  d.type = "dwconv";
  d.set("multiplier", int64_t{2});
  d.set("stride", int64_t{2});
  spec::BlockSpec c;
  c.type = "conv";
  c.set("out", int64_t{194});
  c.set("groups", int64_t{194});
  extra.blocks = {d, c};
  m.stages.insert(m.stages.begin() + 4, extra);
  m.assign_names();
  REQUIRE(grouped(spec::build_graph(m)) > 0);
  const auto v = search::rule_standard_conv(m);
  REQUIRE(v.size() == 1);
  const spec::ModelSpec& s = v.front().model;
  const ir::Graph g = spec::build_graph(s);
  CHECK(grouped(g) == 0);
  CHECK(block(s, "dw.0").type == "conv");
  CHECK(std::get<int64_t>(block(s, "dw.0").params.at("out")) == 194);  // 97 x 2
  CHECK(block(s, "s1.0").type == "fused_ibn");
  CHECK(search::rule_standard_conv(s).empty());

  // The detector: IBN backbone and SSDLite separable extras and predictors.
  const Model pd = load_model("person_detector");
  const auto p = search::rule_standard_conv(*pd.spec);
  REQUIRE(p.size() == 1);
  CHECK(grouped(spec::build_graph(p.front().model)) == 0);
}

TEST_CASE("retyping an IBN keeps its expanded width", "[advise]") {
  spec::ModelSpec m = tiny();  // s3 leaves expansion at IBN's default (6; fused-IBN's is 4)
  const spec::ModelSpec f = search::fuse_stages(m, {"s3"});
  CHECK(block(f, "s3.0").type == "fused_ibn");
  CHECK(std::get<double>(block(f, "s3.0").params.at("expansion")) == 6.0);
  const ir::Graph a = spec::build_graph(m), b = spec::build_graph(f);
  int64_t expand = 0, fused = 0;
  for (const auto& op : a.ops())
    if (op.meta.block == "s3.0" && op.meta.role == "expand") expand = a.shape(op.output)[1];
  for (const auto& op : b.ops())
    if (op.meta.block == "s3.0" && op.meta.role == "fused") fused = b.shape(op.output)[1];
  CHECK(expand == 40 * 6);
  CHECK(fused == expand);
}

TEST_CASE("depth: multipliers 0.75 and 0.5 remove blocks of stages that are not fixed",
          "[advise]") {
  const spec::ModelSpec m = tiny();  // s1 2, s2 2, s3 4 blocks
  const auto v = search::rule_depth(m);
  REQUIRE(v.size() == 2);
  CHECK(v[0].name == "depth 0.75");
  CHECK(stage(v[0].model, "s3").blocks.size() == 3);
  CHECK(stage(v[1].model, "s3").blocks.size() == 2);
  CHECK(stage(v[1].model, "s1").blocks.size() == 1);
  for (const auto& s : v) {
    CHECK(s.model.num_blocks() < m.num_blocks());
    CHECK(stage(s.model, "head").blocks.size() == 4);
    CHECK_NOTHROW(spec::build_graph(s.model));
  }
  CHECK(v[1].model.num_blocks() < v[0].model.num_blocks());
  // Re-made on a shallower model, a depth multiplier never deepens a stage.
  CHECK(v[0].transform(v[1].model).num_blocks() == v[1].model.num_blocks());
}

TEST_CASE("spec_changes: stage-wide when every block changed alike", "[advise]") {
  const spec::ModelSpec m = tiny();
  spec::ModelSpec f = search::fuse_stages(m, {"s1"});
  CHECK(search::spec_changes(m, f) == std::vector<std::string>{"s1.type=fused_ibn"});
  spec::apply_override(f, "s3.1.out", "64");
  spec::apply_override(f, "s2.repeats", "1");
  CHECK(search::spec_changes(m, f) ==
        std::vector<std::string>{"s1.type=fused_ibn", "s2.repeats=1", "s3.1.out=64"});
  CHECK(search::spec_changes(m, m).empty());
}

TEST_CASE("fuse: exactly the stages where the oracle's latency drops", "[advise][sim]") {
  const spec::ModelSpec m = tiny();
  SimOracle sim;
  const double base = sim.of(m);
  std::vector<std::string> paying, all;
  for (const char* st : {"s1", "s2", "s3"}) {
    all.push_back(st);
    if (sim.of(search::fuse_stages(m, {st})) < base) paying.push_back(st);
  }
  // The small model has both kinds (else the test would prove little).
  REQUIRE_FALSE(paying.empty());
  REQUIRE(paying.size() < all.size());
  const auto v = search::rule_fuse(m, sim);
  std::vector<std::string> singles;
  const Suggestion* combined = nullptr;
  for (const auto& s : v) {
    CHECK(s.rule == "fuse");
    const std::string stages = s.name.substr(5);
    if (stages.find('+') == std::string::npos) {
      singles.push_back(stages);
      CHECK(s.changes == std::vector<std::string>{stages + ".type=fused_ibn"});
      CHECK(sim.of(s.model) < base);
    } else {
      combined = &s;
    }
  }
  CHECK(singles == paying);
  if (paying.size() > 1) {
    REQUIRE(combined);
    for (const auto& st : paying) {
      for (const auto& b : stage(combined->model, st).blocks) CHECK(b.type == "fused_ibn");
    }
  } else {
    CHECK_FALSE(combined);
  }
}

TEST_CASE("advise ranks by latency gain, and apply writes a model that builds and is faster",
          "[advise][sim]") {
  const spec::ModelSpec m = tiny();
  SimOracle sim;
  search::ScoreOptions no_score;
  no_score.enabled = false;
  search::Advisor advisor(m, limits(sim), sim, &sim, no_score);
  const search::Advice a = advisor.advise({});
  REQUIRE(a.suggestions.size() >= 4);
  std::set<std::string> rules;
  for (size_t i = 0; i < a.suggestions.size(); ++i) {
    const auto& s = a.suggestions[i];
    rules.insert(s.suggestion.rule);
    if (i > 0) CHECK(a.suggestions[i - 1].gain_pct >= s.gain_pct);
    REQUIRE(s.after.metrics.latency_ms);
    CHECK(*s.after.metrics.latency_ms == Approx(sim.of(s.suggestion.model)));
    CHECK(s.after.simulated_ms == s.after.metrics.latency_ms);  // the simulator is the oracle
    CHECK_FALSE(s.score_delta);
  }
  CHECK(rules == std::set<std::string>{"fuse", "align", "even", "standard_conv", "depth"});

  REQUIRE(a.suggestions.front().gain_pct > 0);
  const search::Applied ap = advisor.apply(a);
  REQUIRE_FALSE(ap.kept.empty());
  CHECK(ap.gain_pct > 0);
  const spec::ModelSpec back = spec::read_model_yaml(spec::write_model_yaml(ap.model), "out.yaml");
  const double after = sim.of(back);
  CHECK(after < *a.baseline.metrics.latency_ms);
  CHECK(after == Approx(*ap.after.metrics.latency_ms));
  // At least as fast as the best single suggestion: it starts with it.
  CHECK(after <= *a.suggestions.front().after.metrics.latency_ms);
  CHECK(ap.kept.front() == a.suggestions.front().suggestion.name);
  for (const auto& st : ap.steps) {
    if (!st.kept) CHECK_FALSE(st.reason.empty());
  }
}

TEST_CASE("advise notes the rules that change nothing", "[advise][sim]") {
  SimOracle sim;
  spec::ModelSpec m = search::align_channels(tiny(), 32);  // aligned, hence even
  search::ScoreOptions no_score;
  no_score.enabled = false;
  search::Advisor advisor(m, limits(sim), sim, nullptr, no_score);
  search::AdviseOptions o;
  // Bad rule names first: they are refused before anything is simulated (a throw after a
  // SystemC run would trip sanitizer builds, google/sanitizers#189).
  o.rules = {"algin"};
  CHECK_THROWS_WITH(advisor.advise(o), Catch::Contains("did you mean align?"));
  o.rules = {"transfer"};
  CHECK_THROWS_WITH(advisor.advise(o), Catch::Contains("--from"));
  o.rules = {"align", "even"};
  const search::Advice a = advisor.advise(o);
  CHECK(a.suggestions.empty());
  REQUIRE(a.notes.size() == 2);
  CHECK(a.notes[0].first == "align");
  CHECK(a.notes[1].first == "even");
  CHECK_FALSE(a.baseline.simulated_ms);
}

TEST_CASE("transfer: fused stages mapped by relative resolution, alignment, depths by name",
          "[advise]") {
  // The source: fused at 1/2 and 1/8, not at 1/4; channels multiples of 32; s9 at depth 1.
  const char* source_yaml = R"(
name: searched
input: {channels: 3, height: 64, width: 64}
stages:
  - name: a
    blocks:
      - {type: fused_ibn, out: 32, expansion: 2, stride: 2}
  - name: b
    blocks:
      - {type: ibn, out: 64, expansion: 4, stride: 2, repeats: 2}
  - name: c
    blocks:
      - {type: fused_ibn, out: 64, expansion: 4, stride: 2}
      - {type: ibn, out: 64, expansion: 4}
  - name: s9
    blocks:
      - {type: ibn, out: 96, expansion: 4}
  - name: head
    fixed_depth: true
    blocks:
      - {type: global_pool}
      - {type: fc, out: 10}
)";
  // The target: other names, other resolution, two stages at 1/4 and two at 1/8.
  const char* target_yaml = R"(
name: target
input: {channels: 3, height: 128, width: 128}
stages:
  - name: t1
    blocks:
      - {type: ibn, out: 24, expansion: 2, stride: 2}
  - name: t2
    blocks:
      - {type: ibn, out: 40, expansion: 4, stride: 2}
  - name: t3
    blocks:
      - {type: ibn, out: 40, expansion: 4}
  - name: t4
    blocks:
      - {type: ibn, out: 72, expansion: 4, stride: 2}
  - name: t5
    blocks:
      - {type: ibn, out: 72, expansion: 4}
  - name: s9
    blocks:
      - {type: ibn, out: 100, expansion: 4, repeats: 3}
  - name: head
    fixed_depth: true
    blocks:
      - {type: global_pool}
      - {type: fc, out: 5}
)";
  const spec::ModelSpec src = spec::read_model_yaml(source_yaml, "source.yaml");
  const spec::ModelSpec dst = spec::read_model_yaml(target_yaml, "target.yaml");
  const search::TransferPatterns p = search::extract_patterns(src, 32);
  CHECK(p.fused_by_level ==
        std::map<int64_t, std::vector<bool>>{{2, {true}}, {4, {false}}, {8, {true, false}}});
  CHECK(p.alignment == 32);
  CHECK(p.depths.at("s9") == 1);
  CHECK(search::stage_levels(dst) ==
        std::map<std::string, int64_t>{
            {"t1", 2}, {"t2", 4}, {"t3", 4}, {"t4", 8}, {"t5", 8}, {"s9", 8}});

  const auto v = search::rule_transfer(dst, p);
  REQUIRE(v.size() == 1);
  const spec::ModelSpec& t = v.front().model;
  CHECK(v.front().rule == "transfer");
  CHECK(stage(t, "t1").blocks[0].type == "fused_ibn");  // 1/2: fused in the source
  CHECK(stage(t, "t2").blocks[0].type == "ibn");        // 1/4: not
  CHECK(stage(t, "t3").blocks[0].type == "ibn");
  // 1/8: three target stages over the source's two (fused, ibn): j -> floor(j * 2 / 3), so the
  // first two are fused and the last is not.
  CHECK(stage(t, "t4").blocks[0].type == "fused_ibn");
  CHECK(stage(t, "t5").blocks[0].type == "fused_ibn");
  CHECK(stage(t, "s9").blocks[0].type == "ibn");
  CHECK(stage(t, "s9").blocks.size() == 1);  // the source's depth, matched by name
  const ir::Graph g = spec::build_graph(t);
  for (const int64_t w : conv_widths(g)) CHECK(w % 32 == 0);
  CHECK(fc_width(g) == 5);
  // Nothing left to transfer on the result.
  CHECK(search::rule_transfer(t, p).empty());
}

TEST_CASE("advise with the score: deltas measured, apply keeps the score", "[advise][sim][score]") {
  // One small model, scored through the libtorch plugin at its proxy resolution (32x32).
  const spec::ModelSpec m = tiny();
  SimOracle sim;
  search::ScoreOptions score;
  score.cifar_dir = std::string(NAX_FIXTURES) + "/cifar10";  // the tree's own 64 images
  score.batch = 32;
  search::Advisor advisor(m, limits(sim), sim, &sim, score);
  search::AdviseOptions o;
  o.rules = {"depth"};
  const search::Advice a = advisor.advise(o);
  REQUIRE(a.baseline.metrics.score);
  REQUIRE(a.suggestions.size() == 2);
  for (const auto& s : a.suggestions) {
    REQUIRE(s.after.metrics.score);
    REQUIRE(s.score_delta);
    CHECK(std::isfinite(*s.score_delta));
    CHECK(*s.score_delta == Approx(*s.after.metrics.score - *a.baseline.metrics.score));
  }
  const search::Applied ap = advisor.apply(a);
  REQUIRE(ap.after.metrics.score);
  CHECK(*ap.after.metrics.score >= *a.baseline.metrics.score);
  for (const auto& st : ap.steps) {
    if (st.kept) {
      REQUIRE(st.score);
      CHECK(*st.score >= *a.baseline.metrics.score);
    }
  }
}
