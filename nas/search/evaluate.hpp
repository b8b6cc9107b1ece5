// What a search measures of a candidate, and the order it measures it in (cheap first):
//   0. chip       the candidate's chip (ChipProvider: the base chip, or the base chip with the
//                 genotype's chip overrides); an invalid chip stops with its reason;
//   1. static     the graph's parameters, parameter bytes, peak activation bytes (tensor liveness,
//                 ir::analyze) and MACs, the chip's area; the area and memory constraints and SRAM
//                 fit are checked here, and an infeasible candidate stops with its reason;
//   2. latency    from the chip's LatencyOracle: the estimator (default) or the simulator (the tool
//                 layer provides it: nas never links hw, DESIGN.md), with the energy when the
//                 oracle measures it;
//   3. score      the trainability score (nas/accuracy/score.hpp) of the candidate built at the
//                 proxy resolution (below), through the libtorch plugin; the score constraint.
// The proxies run on CIFAR-10 images resized to the network's input. A 320x320 detector costs
// ~24 s per score at full resolution and ~0.5 s at 64x64, so candidates are scored at
// `resolution_scale` x their input resolution (at least `min_resolution`): every candidate and
// the baseline with the same yardstick, and a candidate with a smaller input still scores lower.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/estimate/chip_features.hpp"
#include "models/estimate/estimator.hpp"
#include "models/ir/graph.hpp"
#include "models/spec/model_spec.hpp"

namespace nax::search {

// A network's latency on the search's chip.
class LatencyOracle {
 public:
  virtual ~LatencyOracle() = default;
  // What produced the numbers: "estimator:<file hash>" or "simulator:<tool version>"; part of the
  // evaluation cache key.
  virtual std::string id() const = 0;
  virtual std::string chip_hash() const = 0;
  virtual double latency_ms(const ir::Graph& g) = 0;
  // Latency and, when the oracle measures it (the simulator), the energy of one inference.
  struct Measurement {
    double latency_ms = 0;
    std::optional<double> energy_uj;
  };
  virtual bool measures_energy() const { return false; }
  virtual Measurement measure(const ir::Graph& g) { return {latency_ms(g), std::nullopt}; }
  // Latency per layer (simulator) or per unit (estimator), in execution order, for reports.
  virtual std::vector<std::pair<std::string, double>> breakdown_ms(const ir::Graph& g) = 0;
};

// The estimator as an oracle for `chip` (the estimator's own chip, or any chip for a chip-aware
// one). `id` names the estimator (its file's content hash).
std::unique_ptr<LatencyOracle> make_estimator_oracle(std::shared_ptr<const est::Estimator> e,
                                                     const est::ChipFeatures& chip,
                                                     const std::string& id);

// What the feasibility check needs of the chip.
struct ChipLimits {
  std::string name;
  std::string hash;
  int64_t sram_bytes = 0;
  int weight_bytes = 1;
  int activation_bytes = 1;
  int parallelism = 1;  // lanes along the channel dimensions (the MAC array's columns)
  double area_mm2 = 0;  // silicon area (the tool layer computes it from the chip; 0: unknown)
};
ChipLimits chip_limits(const est::ChipFeatures& c);

// The chip a candidate is evaluated on. A search over a space with chip decisions evaluates each
// candidate on the base chip with the genotype's overrides (SearchSpace::chip_overrides); the tool
// layer resolves them (nas never links hw).
struct CandidateChip {
  std::vector<std::string> overrides;  // on the base chip; empty: the base chip
  std::string error;                   // not a valid chip: why (the candidate is infeasible)
  ChipLimits limits;                   // when valid: hash, SRAM, data widths, area
  LatencyOracle* latency = nullptr;    // when valid: measures on this chip (owned by the provider)
  bool valid() const { return error.empty() && latency; }
};

class ChipProvider {
 public:
  virtual ~ChipProvider() = default;
  // The base chip (the search's --chip and -p).
  virtual const CandidateChip& base() = 0;
  // The base chip with `overrides`; a reference valid while the provider lives.
  virtual const CandidateChip& chip(const std::vector<std::string>& overrides) = 0;
};

// One chip for every candidate (a space without chip decisions); refuses overrides.
class FixedChip : public ChipProvider {
 public:
  FixedChip(LatencyOracle& latency, const ChipLimits& limits);
  const CandidateChip& base() override { return m_chip; }
  const CandidateChip& chip(const std::vector<std::string>& overrides) override;

 private:
  CandidateChip m_chip;
};

struct Constraints {
  std::optional<double> min_score;
  std::optional<int64_t> max_param_bytes;
  std::optional<int64_t> max_peak_activation_bytes;
  std::optional<double> max_latency_ms;
  // Compute capacity kept: MACs at least this (a FLOPs floor, the accuracy surrogate of the
  // seed's curation experiment: no score noise in what is compared).
  std::optional<int64_t> min_macs;
  bool weights_fit_sram = false;       // every parameter byte resident in SRAM at once
  std::optional<double> max_area_mm2;  // the candidate's chip area (ChipLimits::area_mm2)

  nlohmann::json to_json() const;
};

// Where a candidate's accuracy signal (Metrics::score, higher is better) comes from:
//   score    the default trainability score (zero-shot proxies) at the proxy resolution;
//   oracle   the published accuracy of a benchmark network (nas/accuracy/benchmarks.hpp; a
//            candidate that is not one has none: infeasible, with the reason);
//   train    short CIFAR-10 training (nas/torch/api.hpp), the held-out accuracy in percent;
//   command  the user's evaluator (nas/accuracy/external.hpp): the candidate exported as ONNX and
//            YAML, the command's printed accuracy.
enum class AccuracySource { kScore, kOracle, kTrain, kCommand };

struct ScoreOptions {
  bool enabled = true;
  AccuracySource source = AccuracySource::kScore;
  double resolution_scale = 0.2;
  int min_resolution = 32;
  uint64_t seed = 0;
  std::string cifar_dir;  // "" = the default (nas/accuracy/cifar.hpp)
  int batch = 0;          // score: images per proxy batch (0: each proxy's paper batch)
  int train_epochs = 2;   // train
  std::string command;    // command: the template ({onnx}, {yaml}, {dir}, {name})
  std::string work_dir = "nax_accuracy";  // command: where candidates' files go
  std::string data_dir;                   // oracle: benchmark tables ("" = default)

  // What identifies the numbers this produces (the score cache's key).
  std::string key() const;
};
// "score", "oracle", "train" or "command:<template>"; InputError otherwise.
void parse_accuracy_source(const std::string& text, ScoreOptions& o);

struct Metrics {
  std::string arch_hash;  // ir::graph_hash of the candidate
  int64_t params = 0;
  int64_t param_bytes = 0;
  int64_t peak_activation_bytes = 0;
  int64_t macs = 0;
  std::optional<double> latency_ms;
  std::optional<double> energy_uj;  // when the latency oracle measures energy (the simulator)
  std::string chip_hash;            // the chip it was evaluated on
  std::optional<double> area_mm2;   // that chip's area, when known
  std::vector<std::string> chip_overrides;  // that chip: the base chip with these overrides
  std::optional<double> score;
  // The score's seed-to-seed standard deviation (the baseline's, over kNoiseSeeds seeds of the
  // proxies' initialisation and images): how far apart two equally good networks may score.
  std::optional<double> score_sd;
  bool feasible = true;
  std::string reason;  // why infeasible ("" when feasible)

  nlohmann::json to_json() const;
  static Metrics from_json(const nlohmann::json& j);
};

// Step 1: memory and MACs, the chip's area, and the memory and area constraints (feasible/reason
// set).
Metrics static_metrics(const ir::Graph& g, const ChipLimits& chip, const Constraints& c);
// The score constraint, and the latency bound, on a metrics record that has them; returns false
// and sets the reason when violated.
bool check_measured(Metrics& m, const Constraints& c);

// Seeds the baseline is scored with to measure the score's noise (Metrics::score_sd).
constexpr int kNoiseSeeds = 5;

// The resolution a candidate of input size `resolution` is scored at.
int proxy_resolution(int64_t resolution, const ScoreOptions& o);
// The trainability score of a candidate (built at its proxy resolution); nullopt when a proxy
// cannot run on it (the reason in `why`).
std::optional<double> candidate_score(const spec::ModelSpec& m, const ScoreOptions& o,
                                      std::string* why = nullptr);

// Steps 1-3 in order, stopping at the first violated constraint. `with_score` false skips step 3
// (and the score constraint).
Metrics evaluate_candidate(const spec::ModelSpec& m, LatencyOracle& latency, const ChipLimits& chip,
                           const Constraints& c, const ScoreOptions& score, bool with_score);

}  // namespace nax::search
