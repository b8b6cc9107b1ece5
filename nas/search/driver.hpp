// The search driver: asks an algorithm for candidates in fixed batches, evaluates them (cache,
// parallel workers), tells the results back, and keeps everything in a SQLite store so that an
// interrupted run resumes without lost or repeated evaluations.
//
// One run = (space file content, curated, variant, algorithm and its options, seed, batch,
// objective, constraints, score options, chip, latency oracle). Its id is the hash of those; the
// budget is not part of it, so a finished run can be extended with a larger --budget.
//
// Determinism: batches have a fixed size (`batch`, never the worker count) and results are told in
// ask order, so -j 1 and -j N give the same run. Resume replays the stored log: the algorithm
// (deterministic by contract, algorithms.hpp) is asked again from the start and each stored step
// answers its ask (a genotype that differs from the log is an error: the log belongs to another
// version of nax or of the space); evaluation continues at the first step the log lacks.
//
// Evaluation order per batch (evaluate.hpp): static metrics and the memory constraints, then
// latency, then the trainability score for candidates that need one. With `lazy_score` (single
// objective latency or energy with a score constraint), a candidate is scored only when its
// objective beats the best feasible one at the start of its batch: any other candidate cannot
// become the best, and is told to the algorithm as measured (unscored); reports and fronts use
// scored candidates only. zeroshot-evolution, which ranks its prefilter pool by the score, scores
// every candidate.
//
// Infeasible candidates are told to the algorithm with a penalty (1e6 x (1 + how far they miss
// their constraints, relative)) instead of +inf, so that a search starting outside the feasible
// region (a memory budget the baseline exceeds) is pulled toward it; steps keep their metrics.
//
// The store (schema in driver.cpp): `latency` (arch hash, oracle id, chip hash -> ms), `energy`
// (the same key -> uJ, when the oracle measures it) and `scores` (arch hash, score options -> score
// or failure; a score does not depend on the chip) are the evaluation cache shared by every run in
// the file; `runs` and `steps` are each run's log.
//
// Joint chip + network search: with a space that has chip decisions, each candidate runs on the
// base chip with its genotype's chip overrides, resolved by a ChipProvider (evaluate.hpp; the tool
// layer); the cache keys on the resolved chip's hash, so the same network on two chips is two
// entries and two genotypes that resolve to one chip share one. An invalid chip (a combination of
// options the chip's validation refuses) is infeasible with the reason; the area budget
// (Constraints::max_area_mm2) is checked with the memory constraints, before any latency.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nas/search/algorithms.hpp"
#include "nas/search/evaluate.hpp"
#include "nas/search/space.hpp"

namespace nax::search {

enum class Objective { kLatency, kParamBytes, kPeakActivation, kScore, kEnergy };
// latency_ms, param_bytes, peak_activation_bytes, score, energy_uj
const char* objective_name(Objective o);
bool parse_objective(const std::string& s, Objective& out);

struct SearchConfig {
  std::string algorithm = "evolution";
  AlgorithmOptions algorithm_options;
  int budget = 200;  // candidates proposed (cache hits included)
  uint64_t seed = 0;
  int batch = 8;
  int jobs = 1;
  Objective objective = Objective::kLatency;
  Constraints constraints;
  ScoreOptions score;
  bool lazy_score = true;  // see above; ignored unless latency objective with a score constraint
  std::string label;       // free text kept with the run (a study's variant)
};

struct Step {
  int index = 0;
  Genotype genotype;
  std::string model_name;
  Metrics metrics;
  bool cached = false;  // answered from the cache (or the log) without evaluating

  double objective(Objective o) const;  // +inf when infeasible or not measured
};

struct SearchProgress {
  int done = 0;
  int budget = 0;
  int evaluated = 0;  // evaluated by this process (not cache or log)
  int infeasible = 0;
  std::optional<double> best;  // best feasible objective so far
  double seconds = 0;
};

struct SearchHooks {
  std::function<void(const SearchProgress&)> progress;
  std::function<bool()> stop_requested;
};

struct SearchOutcome {
  std::string run_id;
  std::vector<Step> steps;  // every step of the run, resumed ones included
  int evaluated = 0;        // by this call
  int resumed = 0;          // steps taken from the log
  bool interrupted = false;
  bool exhausted = false;  // the algorithm stopped proposing before the budget
  double seconds = 0;
  // Index into steps of the best feasible (scored, when a score constraint applies) candidate.
  std::optional<int> best;
  // Steps on the Pareto front of (latency, parameter bytes + peak activation bytes, -score, chip
  // area when known, energy when it is the objective) among feasible measured candidates (one per
  // network and chip), sorted by latency.
  std::vector<int> pareto;
};

class SearchStore;

class Searcher {
 public:
  // `db` "" keeps nothing on disk (an in-memory store). Throws InputError when the store holds
  // this run and `resume` is false, or is not a nax search store, when the objective is energy and
  // the base chip's oracle does not measure it, or (the second form) when the space has chip
  // decisions.
  Searcher(const SearchSpace& space, ChipProvider& chips, const SearchConfig& config,
           const std::string& db, bool resume);
  // One chip for every candidate.
  Searcher(const SearchSpace& space, LatencyOracle& latency, const ChipLimits& chip,
           const SearchConfig& config, const std::string& db, bool resume);
  ~Searcher();

  const std::string& run_id() const { return m_run_id; }
  // The baseline, evaluated like a candidate (cached like one), with its score always computed
  // when scoring is enabled.
  Step evaluate_baseline();
  SearchOutcome run(const SearchHooks& hooks = {});

  // Evaluates one model now, through the cache (used for the baseline and by studies), on the base
  // chip with `chip_overrides`.
  Metrics evaluate_model(const spec::ModelSpec& m, bool with_score,
                         const std::vector<std::string>& chip_overrides = {});

 private:
  Searcher(const SearchSpace& space, std::unique_ptr<FixedChip> fixed, ChipProvider* chips,
           const SearchConfig& config, const std::string& db, bool resume);
  std::vector<Metrics> evaluate_batch(const std::vector<Genotype>& batch,
                                      const std::optional<double>& best_objective);

  const SearchSpace& m_space;
  std::unique_ptr<FixedChip> m_fixed;  // the second constructor's provider
  ChipProvider& m_chips;
  SearchConfig m_config;
  std::unique_ptr<SearchStore> m_store;
  std::string m_run_id;
  std::string m_score_key;
};

// Pareto front (all objectives minimised) of points; returns their indices sorted by the first.
std::vector<int> pareto_front(const std::vector<std::vector<double>>& points);

// The best step for objective `o` (lowest objective among feasible, measured steps, scored ones
// only when `need_score`; ties: the earliest), or nullopt.
std::optional<int> best_step(const std::vector<Step>& steps, Objective o, bool need_score = false);

// Number of steps until the best objective so far (as best_step counts it) first comes within
// `tolerance` (relative) of `target`; nullopt if it never does.
std::optional<int> evaluations_to_reach(const std::vector<Step>& steps, Objective o, double target,
                                        double tolerance, bool need_score = false);

// One CSV row per step: index, model, feasible, reason, latency_ms, param_bytes,
// peak_activation_bytes, macs, score, cached, energy_uj, area_mm2, chip_hash, and the decisions'
// values (chip decisions included).
std::string steps_csv(const SearchSpace& space, const std::vector<Step>& steps,
                      const std::vector<int>& which = {});

}  // namespace nax::search
