// Fitting and evaluating the latency models on a dataset: what `nax fit` runs.
//
// Protocol:
// 1. Split the chip's networks into training and held-out by a seeded hash of the network hash
//    (a network is wholly on one side); networks also given as evaluation networks (zoo models,
//    IBN-space networks) are never trained on. Training units: every unit row of a training
//    network. Held-out units: rows that occur only in held-out networks (rows are deduplicated
//    by (unit hash, context), so a row shared with a training network counts as seen).
// 2. Pick (d)'s form by measurement: fit every candidate form on the training networks minus a
//    validation share, evaluate each on the validation units, time its predictions; keep the
//    most accurate (within +-10%, then MAPE) among those meeting the speed target. Refit it on
//    all training units.
// 3. Fit the baselines (a) FLOPs, (b) lookup table, (c) nn-Meter-style forest on the same units.
// 4. Evaluate all four on the held-out units (labelled contexts) and, per network group, on
//    whole networks: the sum of the unit predictions (contexts predicted from the graph when
//    the network comes with one, as `nax estimate` does) against the simulated total. (d) is also
//    evaluated with the labelled contexts, which shows what context mistakes cost.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/estimate/dataset.hpp"
#include "models/estimate/estimator.hpp"
#include "models/estimate/metrics.hpp"

namespace nax::est {

// A whole network to evaluate on: its labelled units and simulated total.
struct EvalNetwork {
  std::string name;
  std::string group;  // "heldout", "zoo", "ibn_space", ...
  std::string hash;
  double total_cycles = 0;
  std::vector<TrainUnit> units;    // labelled contexts and cycles, in network order
  std::vector<Context> predicted;  // contexts predicted from the graph (empty: use labelled)
};

struct Split {
  std::vector<int> train_networks, heldout_networks;  // indices into Dataset::networks
  std::vector<int> train_samples, heldout_samples;    // indices into Dataset::samples
};

// Networks of `chip_hash` (all chips when empty) split by network; `exclude` holds network
// hashes that are never trained on (they go to neither side).
Split split_by_network(const Dataset& ds, const std::string& chip_hash, uint64_t seed,
                       double holdout, const std::set<std::string>& exclude);

// Training units of samples (the chip pointers point into ds.chips).
std::vector<TrainUnit> train_units(const Dataset& ds, const std::vector<int>& samples);
// A dataset network as an evaluation network (labelled contexts; set `predicted` yourself).
EvalNetwork eval_network(const Dataset& ds, int network, const std::string& group);

struct FitConfig {
  uint64_t seed = 1;
  double holdout = 0.2;     // share of networks held out
  double validation = 0.2;  // share of training networks used to pick the form
  std::vector<HwForm> forms = all_hw_forms();
  HwFitOptions hw;  // form is set by the selection
  double min_predictions_per_s = 1e6;
  bool baselines = true;
  int forest_trees = 100;
};

struct FitResult {
  Estimator estimator;
  nlohmann::json report;
};

using Progress = std::function<void(const std::string&)>;

FitResult fit_and_evaluate(const Dataset& ds, const ChipFeatures& chip, const Split& split,
                           const std::vector<EvalNetwork>& eval, const FitConfig& cfg,
                           const Progress& progress = {});

// Chip-aware stretch: fits a chip-aware tree estimator on every chip of `ds` except
// `holdout_chip` and evaluates it on that chip's units and networks (`eval`: its networks).
FitResult fit_chip_aware(const Dataset& ds, const std::string& holdout_chip,
                         const std::vector<EvalNetwork>& eval, const FitConfig& cfg,
                         const Progress& progress = {});

// Unit predictions per second of `e` over `units` (features + model, one core).
double predictions_per_second(const Estimator& e, const std::vector<TrainUnit>& units,
                              double min_seconds = 0.2);

}  // namespace nax::est
