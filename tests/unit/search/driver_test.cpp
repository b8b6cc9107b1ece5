// The search driver (nas/search/driver.hpp): runs are deterministic, the store caches evaluations
// across runs, an interrupted run resumes without lost or repeated evaluations, a finished run
// refuses to run again without --resume, memory constraints make candidates infeasible with their
// reason, and the Pareto / evaluations-to-reach helpers. Latency comes from an oracle over the
// graph's real analysis (MACs and memory through a roofline of the default chip's numbers), so
// these tests need neither SystemC nor libtorch; the scored paths are covered by
// tests/integration/cli_search_test.cpp.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <limits>

#include "models/common/error.hpp"
#include "models/ir/analysis.hpp"
#include "models/model_source.hpp"
#include "nas/search/driver.hpp"

using namespace nax;
using namespace nax::search;
namespace fs = std::filesystem;

namespace {

// A roofline: max(compute at 1024 MACs/cycle, memory at 16 B/cycle) per layer, at 1 GHz.
class RooflineOracle : public LatencyOracle {
 public:
  std::string id() const override { return "roofline-test"; }
  std::string chip_hash() const override { return "test-chip"; }
  double latency_ms(const ir::Graph& g) override {
    ++calls;
    double cycles = 0;
    for (const auto& l : ir::analyze(g).layers)
      cycles += std::max(static_cast<double>(l.macs) / 1024.0,
                         static_cast<double>(l.weight_bytes + l.input_bytes + l.output_bytes) / 16);
    return cycles / 1e6;
  }
  std::vector<std::pair<std::string, double>> breakdown_ms(const ir::Graph& g) override {
    return {{"all", latency_ms(g)}};
  }
  int calls = 0;
};

ChipLimits limits() {
  ChipLimits c;
  c.name = "test";
  c.hash = "test-chip";
  c.sram_bytes = 2 << 20;
  c.parallelism = 32;
  return c;
}

SearchSpace space() {
  SpaceOptions o;
  o.parallelism = 32;
  o.variant = "v4";
  return SearchSpace::load(std::string(NAX_SOURCE_DIR) + "/configs/spaces/camera-classifier.yaml",
                           o);
}

SearchConfig config(const std::string& algorithm, int budget, uint64_t seed = 1) {
  SearchConfig c;
  c.algorithm = algorithm;
  c.budget = budget;
  c.seed = seed;
  c.batch = 8;
  c.score.enabled = false;
  c.algorithm_options.population = 8;
  return c;
}

struct TempDb {
  std::string path;
  TempDb() {
    path = (fs::temp_directory_path() /
            ("nax_search_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".db"))
               .string();
    fs::remove(path);
  }
  ~TempDb() {
    for (const char* suf : {"", "-wal", "-shm"}) fs::remove(path + suf);
  }
  static inline int counter = 0;
};

void require_same(const std::vector<Step>& a, const std::vector<Step>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].genotype == b[i].genotype);
    REQUIRE(a[i].metrics.to_json() == b[i].metrics.to_json());
  }
}

}  // namespace

TEST_CASE("search: the same run twice gives the same steps, for every algorithm", "[search]") {
  const SearchSpace sp = space();
  for (const std::string alg : {"random", "evolution", "rl", "local", "zeroshot-evolution"}) {
    INFO(alg);
    RooflineOracle o1, o2;
    Searcher a(sp, o1, limits(), config(alg, 24), "", false);
    Searcher b(sp, o2, limits(), config(alg, 24), "", false);
    const SearchOutcome ra = a.run(), rb = b.run();
    REQUIRE(ra.steps.size() == 24);
    require_same(ra.steps, rb.steps);
    REQUIRE(ra.best == rb.best);
    REQUIRE(ra.best);
    // The best is the lowest latency of the run.
    for (const auto& s : ra.steps)
      REQUIRE(*ra.steps[static_cast<size_t>(*ra.best)].metrics.latency_ms <= *s.metrics.latency_ms);
  }
}

TEST_CASE("search: the store caches latencies across runs", "[search]") {
  const SearchSpace sp = space();
  TempDb db;
  RooflineOracle o;
  Searcher a(sp, o, limits(), config("random", 16, 1), db.path, false);
  const SearchOutcome ra = a.run();
  const int first = o.calls;
  REQUIRE(first > 0);
  REQUIRE(first <= 16);
  // The same candidates under another algorithm seed order: local search from the same start
  // re-asks the baseline, answered by the cache.
  Searcher b(sp, o, limits(), config("random", 16, 1), db.path, true);
  const SearchOutcome rb = b.run();
  REQUIRE(o.calls == first);  // every step from the log, nothing evaluated again
  REQUIRE(rb.resumed == 16);
  REQUIRE(rb.evaluated == 0);
  // A different run in the same store: architectures it shares are not evaluated again.
  SearchConfig c = config("random", 16, 1);
  c.label = "another";
  c.batch = 4;  // another run id, the same genotypes (random search does not depend on batches)
  Searcher d(sp, o, limits(), c, db.path, false);
  const SearchOutcome rd = d.run();
  REQUIRE(rd.evaluated == 16);
  REQUIRE(o.calls == first);  // all latencies came from the cache
  for (size_t i = 0; i < 16; ++i) REQUIRE(rd.steps[i].genotype == ra.steps[i].genotype);
}

TEST_CASE("search: an interrupted run resumes without lost or repeated evaluations", "[search]") {
  const SearchSpace sp = space();
  TempDb db;
  RooflineOracle full_o;
  Searcher full(sp, full_o, limits(), config("evolution", 40), "", false);
  const SearchOutcome whole = full.run();

  RooflineOracle o;
  int batches = 0;
  SearchHooks stop_after_two;
  stop_after_two.stop_requested = [&] { return ++batches >= 2; };
  {
    Searcher s(sp, o, limits(), config("evolution", 40), db.path, false);
    REQUIRE(s.run(stop_after_two).steps.size() == 16);
  }
  REQUIRE_THROWS_AS(Searcher(sp, o, limits(), config("evolution", 40), db.path, false), InputError);
  const int calls_before = o.calls;
  Searcher r(sp, o, limits(), config("evolution", 40), db.path, true);
  const SearchOutcome rest = r.run();
  REQUIRE_FALSE(rest.interrupted);
  REQUIRE(rest.resumed == 16);
  REQUIRE(rest.evaluated == 24);
  require_same(rest.steps, whole.steps);
  // Only new architectures reached the oracle.
  REQUIRE(o.calls - calls_before <= 24);
  // A larger budget extends the finished run.
  SearchConfig more = config("evolution", 48);
  Searcher ext(sp, o, limits(), more, db.path, true);
  const SearchOutcome extended = ext.run();
  REQUIRE(extended.resumed == 40);
  REQUIRE(extended.evaluated == 8);
}

TEST_CASE("search: memory constraints make candidates infeasible with their reason", "[search]") {
  const SearchSpace sp = space();
  RooflineOracle o;
  SearchConfig c = config("random", 32);
  Searcher base(sp, o, limits(), c, "", false);
  const Step b = base.evaluate_baseline();
  REQUIRE(b.metrics.feasible);
  c.constraints.max_param_bytes = b.metrics.param_bytes;
  c.constraints.max_peak_activation_bytes = b.metrics.peak_activation_bytes;
  Searcher s(sp, o, limits(), c, "", false);
  const SearchOutcome r = s.run();
  int infeasible = 0;
  for (const auto& st : r.steps) {
    if (st.metrics.feasible) {
      REQUIRE(st.metrics.param_bytes <= *c.constraints.max_param_bytes);
      REQUIRE(st.metrics.peak_activation_bytes <= *c.constraints.max_peak_activation_bytes);
      REQUIRE(st.metrics.latency_ms);
    } else {
      ++infeasible;
      REQUIRE_THAT(st.metrics.reason, Catch::Contains("parameters") || Catch::Contains("peak"));
      // Infeasible at the static check: the oracle was not asked.
      REQUIRE_FALSE(st.metrics.latency_ms);
      REQUIRE(std::isinf(st.objective(Objective::kLatency)));
    }
  }
  REQUIRE(infeasible > 0);
  REQUIRE(infeasible < 32);
}

TEST_CASE("search: Pareto front and evaluations to reach a target", "[search]") {
  const std::vector<std::vector<double>> pts = {{3, 1}, {1, 3}, {2, 2}, {2, 3}, {3, 1}, {4, 4}};
  // {2,3} is dominated by {2,2}; the second {3,1} repeats the first; {4,4} is dominated.
  REQUIRE(pareto_front(pts) == std::vector<int>{1, 2, 0});
  REQUIRE(pareto_front({}).empty());

  std::vector<Step> steps(5);
  const double lat[] = {10, 8, 9, 5.04, 5};
  for (size_t i = 0; i < 5; ++i) steps[i].metrics.latency_ms = lat[i];
  steps[2].metrics.feasible = false;
  REQUIRE(best_step(steps, Objective::kLatency) == 4);
  REQUIRE(evaluations_to_reach(steps, Objective::kLatency, 5.0, 0.01) == 4);
  REQUIRE(evaluations_to_reach(steps, Objective::kLatency, 5.0, 0.001) == 5);
  REQUIRE_FALSE(evaluations_to_reach(steps, Objective::kLatency, 4.0, 0.01));
  // Scored-only counting skips unscored steps.
  steps[4].metrics.score = 1.0;
  REQUIRE(best_step(steps, Objective::kLatency, true) == 4);
  REQUIRE(evaluations_to_reach(steps, Objective::kLatency, 5.0, 0.01, true) == 5);
}

TEST_CASE("search: objectives and a store that is not a search store", "[search]") {
  Objective o;
  REQUIRE(parse_objective("score", o));
  REQUIRE(o == Objective::kScore);
  REQUIRE_FALSE(parse_objective("flops", o));
  TempDb db;
  {
    FILE* f = std::fopen(db.path.c_str(), "w");
    std::fputs("not a database at all, just text that is long enough to not be empty...", f);
    std::fclose(f);
  }
  const SearchSpace sp = space();
  RooflineOracle oracle;
  REQUIRE_THROWS_AS(Searcher(sp, oracle, limits(), config("random", 8), db.path, false),
                    InputError);
}

TEST_CASE("search: from an infeasible start, penalties lead evolution into the budget",
          "[search]") {
  // The baseline exceeds the budget; every one-decision mutation of it too at first. Told +inf,
  // evolution would wander among equal candidates; told how far each misses, it walks in.
  SpaceOptions so;
  so.parallelism = 32;
  const SearchSpace sp =
      SearchSpace::load(std::string(NAX_SOURCE_DIR) + "/configs/spaces/camera-classifier.yaml", so);
  RooflineOracle o;
  SearchConfig c = config("evolution", 160);
  Searcher base(sp, o, limits(), c, "", false);
  const Step b = base.evaluate_baseline();
  c.constraints.max_param_bytes = b.metrics.param_bytes * 6 / 10;
  c.constraints.max_peak_activation_bytes = b.metrics.peak_activation_bytes * 6 / 10;
  c.algorithm_options.start = sp.baseline();
  Searcher s(sp, o, limits(), c, "", false);
  const SearchOutcome r = s.run();
  REQUIRE_FALSE(r.steps.front().metrics.feasible);  // the start is the baseline
  REQUIRE(r.best);
  const auto& best = r.steps[static_cast<size_t>(*r.best)].metrics;
  REQUIRE(best.param_bytes <= *c.constraints.max_param_bytes);
  REQUIRE(best.peak_activation_bytes <= *c.constraints.max_peak_activation_bytes);
}

TEST_CASE("search: accuracy sources: a benchmark oracle and the user's command", "[search]") {
  ScoreOptions o;
  parse_accuracy_source("oracle", o);
  REQUIRE(o.source == AccuracySource::kOracle);
  // A benchmark network gets its published accuracy; anything else none, with the reason.
  const Model macro = load_model("nas-bench-macro:arch=01220210");
  std::string why;
  const auto acc = candidate_score(*macro.spec, o, &why);
  REQUIRE(acc);
  REQUIRE(*acc > 80);
  REQUIRE(*acc < 100);
  spec::ModelSpec changed = *macro.spec;
  spec::apply_override(changed, "s1.kernel", "3");
  REQUIRE_FALSE(candidate_score(changed, o, &why));
  REQUIRE_THAT(why, Catch::Contains("benchmark"));
  REQUIRE(o.key() == "oracle");

  ScoreOptions c;
  const std::string script = std::string(NAX_FIXTURES) + "/accuracy_cmd/eval.sh";
  parse_accuracy_source("command:sh " + script + " percent {onnx} {yaml} {name}", c);
  REQUIRE(c.source == AccuracySource::kCommand);
  c.work_dir = (fs::temp_directory_path() / ("nax_acc_" + std::to_string(::getpid()))).string();
  const auto ext = candidate_score(*macro.spec, c, &why);
  REQUIRE(ext);
  REQUIRE(*ext == Approx(72.5));
  REQUIRE(c.key() != o.key());
  fs::remove_all(c.work_dir);

  ScoreOptions bad;
  REQUIRE_THROWS_AS(parse_accuracy_source("flops", bad), InputError);
  REQUIRE_THROWS_AS(parse_accuracy_source("command:", bad), InputError);
}
