// The search algorithms (nas/search/algorithms.hpp) against their ask/tell contract: lengths and
// index ranges, ask(n) <= n, determinism given the seed and the tells, and that each one
// optimises: on a synthetic objective (12 decisions of 8 options, 8 ordered, an infeasible
// region next to the optimum) evolution, local, rl and zeroshot-evolution beat random search.
// Plus each algorithm's own rules: aging, infeasible members, local search's end, the
// zero-shot prefilter's choice of the initial population.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "models/common/error.hpp"
#include "nas/search/algorithms.hpp"

using namespace nax::search;

namespace {

const double kInf = std::numeric_limits<double>::infinity();

// ---- the synthetic problem ----
// Decisions 0-7 are ordered (cost |g - target|), 8-11 unordered (cost 3 unless on target).
// Infeasible when the ordered decisions sum above 34 (about 18% of random genotypes); the
// target sums to 33, so the optimum (objective 0) sits next to the infeasible region.
const std::vector<int> kTarget = {5, 2, 6, 1, 4, 7, 3, 5, 2, 6, 0, 4};

std::vector<int> cards12() {
  return std::vector<int>(12, 8);
}
std::vector<bool> ordered12() {
  std::vector<bool> o(12, false);
  for (int i = 0; i < 8; ++i) o[static_cast<size_t>(i)] = true;
  return o;
}

// The trainability score is an imperfect proxy: it sees the ordered decisions only.
Observation synthetic(const Genotype& g) {
  Observation r;
  r.genotype = g;
  double partial = 0;
  int sum = 0;
  for (size_t i = 0; i < 8; ++i) {
    partial += std::abs(g[i] - kTarget[i]);
    sum += g[i];
  }
  r.score = -partial;
  if (sum > 34) {
    r.objective = kInf;
    r.feasible = false;
    return r;
  }
  double obj = partial;
  for (size_t i = 8; i < 12; ++i) obj += g[i] == kTarget[i] ? 0 : 3;
  r.objective = obj;
  return r;
}

using Objective = std::function<Observation(const Genotype&)>;

struct Run {
  std::vector<std::vector<Genotype>> asks;  // every non-empty ask, in order
  double best = kInf;
  int evaluations = 0;
  bool ended = false;  // an ask returned nothing with nothing pending
};

// The driver: ask(batch) (fewer when the budget is nearly spent), evaluate, tell in order.
Run drive(Algorithm& a, const Objective& f, int budget, int batch) {
  Run run;
  while (run.evaluations < budget) {
    const auto genotypes = a.ask(std::min(batch, budget - run.evaluations));
    if (genotypes.empty()) {
      run.ended = true;
      break;
    }
    std::vector<Observation> obs;
    for (const auto& g : genotypes) {
      obs.push_back(f(g));
      run.best = std::min(run.best, obs.back().objective);
    }
    run.evaluations += static_cast<int>(genotypes.size());
    run.asks.push_back(genotypes);
    a.tell(obs);
  }
  return run;
}

double best_of(const std::string& name, uint64_t seed, int budget, int batch) {
  auto a = make_algorithm(name, cards12(), ordered12(), seed);
  return drive(*a, synthetic, budget, batch).best;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int distance(const Genotype& a, const Genotype& b) {
  int d = 0;
  for (size_t i = 0; i < a.size(); ++i) d += a[i] != b[i];
  return d;
}

Observation observed(const Genotype& g, double objective, std::optional<double> score = {}) {
  Observation r;
  r.genotype = g;
  r.objective = objective;
  r.feasible = std::isfinite(objective);
  r.score = score;
  return r;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const nax::InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("make_algorithm: the five names; another name or a bad space is an InputError",
          "[search]") {
  CHECK(algorithm_names() ==
        std::vector<std::string>{"random", "evolution", "rl", "local", "zeroshot-evolution"});
  for (const auto& name : algorithm_names())
    CHECK(make_algorithm(name, {3, 2}, {true, false}, 1)->name() == name);

  const std::string unknown = error_of([] { make_algorithm("evolutoin", {3}, {}, 1); });
  CHECK_THAT(unknown, Catch::Contains("evolutoin"));
  for (const auto& name : algorithm_names()) CHECK_THAT(unknown, Catch::Contains(name));
  CHECK_THAT(unknown, Catch::Contains("did you mean 'evolution'"));

  CHECK_THAT(error_of([] { make_algorithm("random", {}, {}, 1); }),
             Catch::Contains("no decisions"));
  CHECK_THAT(error_of([] {
               make_algorithm("random", {3, 0}, {}, 1);
             }),
             Catch::Contains("at least one option"));
  CHECK_THAT(error_of([] {
               make_algorithm("random", {3, 2}, {true}, 1);
             }),
             Catch::Contains("one flag per decision"));
  AlgorithmOptions o;
  o.population = 0;
  o.restarts = -1;
  const std::string both = error_of([&] { make_algorithm("evolution", {3}, {}, 1, o); });
  CHECK_THAT(both, Catch::Contains("population"));  // every bad option at once
  CHECK_THAT(both, Catch::Contains("restarts"));
  AlgorithmOptions s;
  s.start = {1, 2};
  CHECK_THAT(error_of([&] {
               make_algorithm("local", {3, 2}, {}, 1, s);
             }),
             Catch::Contains("decision 1 has index 2"));
  s.start = {1};
  CHECK_THAT(error_of([&] {
               make_algorithm("evolution", {3, 2}, {}, 1, s);
             }),
             Catch::Contains("a genotype of 1 decisions; the space has 2"));

  // A told genotype outside the space is rejected too (a resumed log that does not fit).
  auto a = make_algorithm("rl", {3, 2}, {}, 1);
  a->ask(1);
  CHECK_THROWS_AS(a->tell({observed({0, 5}, 1.0)}), nax::InputError);
}

TEST_CASE("every algorithm keeps the ask/tell contract for any batch size", "[search]") {
  // Options of one value (cardinality 1) mixed in: never mutated, never moved.
  const std::vector<int> cards = {1, 3, 5, 2, 1, 7, 4};
  const std::vector<bool> ordered = {true, true, false, true, false, true, false};
  const Objective f = [&](const Genotype& g) {
    double obj = 0;
    for (size_t i = 0; i < g.size(); ++i) obj += (g[i] - 1) * (g[i] - 1);
    return observed(g, g[5] == 6 ? kInf : obj);
  };
  for (const auto& name : algorithm_names()) {
    for (int batch : {1, 3, 8, 50}) {
      INFO(name << " batch " << batch);
      auto a = make_algorithm(name, cards, ordered, 7);
      CHECK(a->ask(0).empty());
      CHECK(a->ask(-2).empty());
      int evaluations = 0;
      int empty_in_a_row = 0;
      while (evaluations < 200 && empty_in_a_row < 3) {
        const auto asks = a->ask(batch);
        REQUIRE(static_cast<int>(asks.size()) <= batch);
        empty_in_a_row = asks.empty() ? empty_in_a_row + 1 : 0;
        std::vector<Observation> obs;
        for (const auto& g : asks) {
          REQUIRE(g.size() == cards.size());
          for (size_t d = 0; d < g.size(); ++d) {
            REQUIRE(g[d] >= 0);
            REQUIRE(g[d] < cards[d]);
          }
          obs.push_back(f(g));
        }
        evaluations += static_cast<int>(asks.size());
        a->tell(obs);
      }
      // None runs out within 200 evaluations of these 840 genotypes (local search restarts).
      CHECK(evaluations >= 200);
    }
  }
}

TEST_CASE("every algorithm is deterministic given the seed and the tells", "[search]") {
  for (const auto& name : algorithm_names()) {
    for (int batch : {1, 3, 8}) {
      INFO(name << " batch " << batch);
      auto a = make_algorithm(name, cards12(), ordered12(), 42);
      auto b = make_algorithm(name, cards12(), ordered12(), 42);
      auto c = make_algorithm(name, cards12(), ordered12(), 43);
      const Run ra = drive(*a, synthetic, 200, batch);
      const Run rb = drive(*b, synthetic, 200, batch);
      const Run rc = drive(*c, synthetic, 200, batch);
      CHECK(ra.evaluations == 200);
      CHECK(ra.asks == rb.asks);
      CHECK(ra.asks != rc.asks);
    }
  }
}

TEST_CASE("evolution, local, rl and zeroshot-evolution beat random search", "[search]") {
  // 300 evaluations in batches of 8 on the synthetic problem, seeds 1-9; the median best.
  // Measured over 100 groups of 9 seeds (1000-1899; the medians of groups of nine):
  //   random              13 .. 18  (single runs over 200 seeds: 11 .. 20, median 16)
  //   evolution            1 .. 4
  //   local                0 .. 2
  //   rl                   5 .. 10
  //   zeroshot-evolution   1 .. 6
  // Each threshold has a margin on both sides: random never reaches it, the algorithm always.
  const int budget = 300, batch = 8;
  auto median_best = [&](const std::string& name) {
    std::vector<double> best;
    for (uint64_t seed = 1; seed <= 9; ++seed) best.push_back(best_of(name, seed, budget, batch));
    return median(best);
  };
  const double random = median_best("random");
  CHECK(random >= 12);
  const std::vector<std::pair<std::string, double>> thresholds = {
      {"evolution", 6}, {"local", 4}, {"rl", 11}, {"zeroshot-evolution", 8}};
  for (const auto& [name, threshold] : thresholds) {
    INFO(name << " (random: " << random << ")");
    const double m = median_best(name);
    CHECK(m <= threshold);
    CHECK(m < random - 3);
  }
}

TEST_CASE("random search proposes each genotype of a small space once, then nothing", "[search]") {
  auto a = make_algorithm("random", {3, 4}, {}, 5);
  const Run run = drive(
      *a, [](const Genotype& g) { return observed(g, g[0] + g[1]); }, 100, 5);
  CHECK(run.ended);
  CHECK(run.evaluations == 12);
  std::set<Genotype> seen;
  for (const auto& batch : run.asks) seen.insert(batch.begin(), batch.end());
  CHECK(seen.size() == 12);
}

TEST_CASE(
    "evolution: start and its mutations, then children of tournament winners; the oldest "
    "dies",
    "[search]") {
  AlgorithmOptions o;
  o.population = 4;
  o.sample = 4;  // the tournament is the whole population: the parent is its best member
  o.start = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  auto a = make_algorithm("evolution", cards12(), ordered12(), 3, o);

  // The initial population is asked in full (and no more, even for a larger batch).
  const auto initial = a->ask(10);
  REQUIRE(initial.size() == 4);
  CHECK(initial[0] == o.start);
  for (size_t i = 1; i < initial.size(); ++i) {
    CHECK(distance(initial[i], o.start) >= 1);
    CHECK(distance(initial[i], o.start) <= 3);
  }
  CHECK(std::set<Genotype>(initial.begin(), initial.end()).size() == 4);
  CHECK(a->ask(8).empty());  // waits for the initial population's results

  // The oldest member is the best: every child mutates it.
  a->tell({observed(initial[0], 1), observed(initial[1], 2), observed(initial[2], 3),
           observed(initial[3], 4)});
  const auto first = a->ask(1);
  REQUIRE(first.size() == 1);
  CHECK(distance(first[0], initial[0]) == 1);
  // The child is bad; telling it kills the oldest (initial[0]), so initial[1] is the best now.
  a->tell({observed(first[0], 10)});
  const auto second = a->ask(6);
  REQUIRE(second.size() == 6);
  for (const auto& g : second) {
    CHECK(g != initial[1]);
    // A mutation of initial[1] (initial[1] is itself one or two steps from start).
    CHECK(distance(g, initial[1]) <= 3);
    CHECK(distance(g, initial[1]) >= 1);
  }
  int single = 0;
  for (const auto& g : second) single += distance(g, initial[1]) == 1;
  CHECK(single >= 5);
}

TEST_CASE(
    "evolution: infeasible members (+inf) are the worst; an infeasible population still "
    "evolves",
    "[search]") {
  AlgorithmOptions o;
  o.population = 8;
  o.sample = 8;
  auto a = make_algorithm("evolution", cards12(), ordered12(), 11, o);
  const auto initial = a->ask(8);
  REQUIRE(initial.size() == 8);
  std::vector<Observation> obs;
  for (size_t i = 0; i < initial.size(); ++i)
    obs.push_back(observed(initial[i], i == 5 ? 7.5 : kInf));
  a->tell(obs);
  const auto children = a->ask(8);
  REQUIRE(children.size() == 8);
  for (const auto& g : children) CHECK(distance(g, initial[5]) == 1);

  // Nothing feasible at all: children of random members, still valid proposals.
  auto b = make_algorithm("evolution", cards12(), ordered12(), 12, o);
  const auto bad = b->ask(8);
  std::vector<Observation> inf;
  for (const auto& g : bad) inf.push_back(observed(g, kInf));
  b->tell(inf);
  const auto more = b->ask(8);
  REQUIRE(more.size() == 8);
  for (const auto& g : more) {
    int nearest = 99;
    for (const auto& p : bad) nearest = std::min(nearest, distance(g, p));
    CHECK(nearest == 1);
  }
  // On the synthetic problem (18% infeasible) evolution keeps a finite best.
  auto c = make_algorithm("evolution", cards12(), ordered12(), 13);
  CHECK(std::isfinite(drive(*c, synthetic, 200, 8).best));
}

TEST_CASE(
    "local search climbs from start by single moves to adjacent values and ends at the "
    "optimum without restarts",
    "[search]") {
  // One ordered decision of 10 options, objective |g - 7|, start 2: the climb is 2, 3, ..., 7.
  AlgorithmOptions o;
  o.start = {2};
  o.restarts = 0;
  auto a = make_algorithm("local", {10}, {true}, 9, o);
  const Objective f = [](const Genotype& g) { return observed(g, std::abs(g[0] - 7)); };
  const Run run = drive(*a, f, 100, 1);
  REQUIRE(run.asks.size() >= 2);
  CHECK(run.asks[0] == std::vector<Genotype>{{2}});
  CHECK(run.ended);
  CHECK(run.best == 0);
  // Every ask is adjacent to something asked before (no jumps), and nothing is asked twice.
  std::set<int> seen;
  for (const auto& batch : run.asks) {
    const int v = batch[0][0];
    if (!seen.empty()) CHECK((seen.count(v - 1) || seen.count(v + 1)));
    CHECK(seen.insert(v).second);
  }
  // 2..8 and at most the one wrong first step (1): eight evaluations at most.
  CHECK(run.evaluations <= 8);
  CHECK(a->ask(4).empty());  // stays ended
}

TEST_CASE(
    "local search returns nothing once stuck without restarts, or once the space is "
    "exhausted",
    "[search]") {
  // 2 x 2 genotypes, objective with its optimum at {1, 1}.
  const Objective f = [](const Genotype& g) { return observed(g, 2 - g[0] - g[1]); };
  for (uint64_t seed = 0; seed < 8; ++seed) {
    INFO("seed " << seed);
    // No restarts: a climb from a random start, then nothing (here no local optimum but the
    // global one, which it finds).
    AlgorithmOptions o;
    o.restarts = 0;
    auto a = make_algorithm("local", {2, 2}, {true, false}, seed, o);
    const Run run = drive(*a, f, 100, 8);
    CHECK(run.ended);
    CHECK(run.best == 0);
    CHECK(run.evaluations <= 4);
    CHECK(a->ask(8).empty());

    // Restarts: every genotype is evaluated once, then nothing is left.
    auto b = make_algorithm("local", {2, 2}, {true, false}, seed);
    const Run all = drive(*b, f, 100, 1);
    CHECK(all.ended);
    CHECK(all.evaluations == 4);
  }

  // A flat objective with restarts=0: the start and its neighbours, then nothing.
  AlgorithmOptions o;
  o.restarts = 0;
  o.start = {0, 0, 0};
  auto c = make_algorithm("local", {3, 3, 3}, {true, true, true}, 1, o);
  const Run flat = drive(
      *c, [](const Genotype& g) { return observed(g, 1); }, 100, 8);
  CHECK(flat.ended);
  CHECK(flat.evaluations == 4);  // {0,0,0} and its three neighbours (+1 on each decision)

  // An infeasible start is not climbed from: with restarts=0, the batch asked with it is all.
  auto d = make_algorithm("local", {3, 3, 3}, {true, true, true}, 1, o);
  const Run inf = drive(
      *d, [](const Genotype& g) { return observed(g, kInf); }, 100, 2);
  CHECK(inf.ended);
  CHECK(inf.evaluations == 2);
}

TEST_CASE("rl: the policy learns to avoid the infeasible options", "[search]") {
  // Decision 0 at 7..9 is infeasible; every feasible genotype scores the same.
  const Objective f = [](const Genotype& g) { return observed(g, g[0] >= 7 ? kInf : 1.0); };
  auto a = make_algorithm("rl", {10, 10, 10}, {}, 17);
  const Run run = drive(*a, f, 400, 8);
  REQUIRE(run.evaluations == 400);
  int early = 0, late = 0, n_early = 0, n_late = 0;
  for (size_t b = 0; b < run.asks.size(); ++b)
    for (const auto& g : run.asks[b]) {
      if (b < 5) {
        early += g[0] >= 7;
        ++n_early;
      } else if (b >= run.asks.size() - 10) {
        late += g[0] >= 7;
        ++n_late;
      }
    }
  INFO("infeasible early " << early << "/" << n_early << ", late " << late << "/" << n_late);
  CHECK(late * 10 <= n_late);  // at most 10% (30% under the uniform start)
}

TEST_CASE(
    "zeroshot-evolution seeds the population with the pool's best-scored feasible "
    "genotypes",
    "[search]") {
  // A pool of 40; five marked genotypes get the best scores but poor objectives, one of them
  // infeasible (excluded); every other genotype has a better objective but a poor score.
  const std::set<size_t> marked = {3, 11, 20, 33, 37};
  const size_t infeasible = 37, best_marked = 20;
  auto pool_results = [&](const std::vector<Genotype>& pool) {
    std::vector<Observation> obs;
    for (size_t i = 0; i < pool.size(); ++i) {
      if (marked.count(i)) {
        const double objective =
            i == infeasible ? kInf : (i == best_marked ? 50.0 : 60.0 + static_cast<double>(i));
        obs.push_back(observed(pool[i], objective, 100.0 + static_cast<double>(i)));
      } else {
        obs.push_back(observed(pool[i], 1.0 + static_cast<double>(i), -1.0));
      }
    }
    return obs;
  };
  auto ask_pool = [](Algorithm& a) {
    std::vector<Genotype> pool;
    for (int b = 0; b < 5; ++b) {
      const auto asks = a.ask(8);
      REQUIRE(asks.size() == 8);
      pool.insert(pool.end(), asks.begin(), asks.end());
    }
    return pool;
  };

  SECTION("tournament of the whole population: every child mutates the best marked one") {
    AlgorithmOptions o;
    o.population = 4;
    o.sample = 4;
    o.prefilter_pool = 40;
    auto a = make_algorithm("zeroshot-evolution", cards12(), ordered12(), 21, o);
    const auto pool = ask_pool(*a);
    CHECK(a->ask(8).empty());  // waits for the pool's results
    // Told in batches, as the driver does.
    const auto obs = pool_results(pool);
    for (size_t b = 0; b < 5; ++b)
      a->tell(std::vector<Observation>(obs.begin() + static_cast<std::ptrdiff_t>(8 * b),
                                       obs.begin() + static_cast<std::ptrdiff_t>(8 * b + 8)));
    const auto children = a->ask(8);
    REQUIRE(children.size() == 8);
    for (const auto& g : children) CHECK(distance(g, pool[best_marked]) == 1);
  }

  SECTION("tournaments of one: the parents are exactly the four feasible marked genotypes") {
    AlgorithmOptions o;
    o.population = 4;
    o.sample = 1;
    o.prefilter_pool = 40;
    auto a = make_algorithm("zeroshot-evolution", cards12(), ordered12(), 22, o);
    const auto pool = ask_pool(*a);
    a->tell(pool_results(pool));
    const auto children = a->ask(32);
    REQUIRE(children.size() == 32);
    std::set<size_t> parents;
    for (const auto& g : children) {
      std::vector<size_t> near;
      for (size_t i = 0; i < pool.size(); ++i)
        if (distance(g, pool[i]) == 1) near.push_back(i);
      REQUIRE(near.size() == 1);
      parents.insert(near[0]);
    }
    CHECK(parents == std::set<size_t>{3, 11, 20, 33});
  }

  SECTION("fewer scores than the population: the rest by objective") {
    AlgorithmOptions o;
    o.population = 4;
    o.sample = 1;
    o.prefilter_pool = 40;
    o.start.assign(12, 0);
    auto a = make_algorithm("zeroshot-evolution", cards12(), ordered12(), 23, o);
    const auto pool = ask_pool(*a);
    CHECK(pool[0] == o.start);  // the start is the pool's first member
    std::vector<Observation> obs;
    for (size_t i = 0; i < pool.size(); ++i) {
      // Scores for 5 and 9 only; the best objectives at 30 and 31, then 0 (the start); 38 has
      // a score but is infeasible (excluded).
      double objective = i == 30 || i == 31 ? 2.0 : 10.0 + static_cast<double>(i);
      std::optional<double> score;
      if (i == 5 || i == 9 || i == 38) score = 1.0;
      if (i == 38) objective = kInf;
      obs.push_back(observed(pool[i], objective, score));
    }
    a->tell(obs);
    const auto children = a->ask(40);
    REQUIRE(children.size() == 40);
    std::set<size_t> parents;
    for (const auto& g : children)
      for (size_t i = 0; i < pool.size(); ++i)
        if (distance(g, pool[i]) == 1) parents.insert(i);
    CHECK(parents == std::set<size_t>{5, 9, 30, 31});
  }

  SECTION("the default pool is 4 x population") {
    AlgorithmOptions o;
    o.population = 3;
    auto a = make_algorithm("zeroshot-evolution", cards12(), ordered12(), 24, o);
    CHECK(a->ask(100).size() == 12);
    CHECK(a->ask(100).empty());
  }
}
