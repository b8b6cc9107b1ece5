// The latency estimator: nax's hardware-aware model (d) of a unit's cycles, fitted on a
// labelled dataset, saved to and loaded from an estimator file, and applied to whole graphs.
//
// Forms of (d) (`nax fit` fits each on a validation split of the training networks and keeps the
// most accurate one that meets the speed target, models/estimate/fit.hpp):
//   ridge        per unit type, cycles = w . additive hardware features (compute, fold overhead,
//                DRAM times, roofline, serial sum, per-layer latency, 1), weighted least squares
//                on relative error (weights 1 / cycles^2), ridge-regularised;
//   loglinear    per unit type, log cycles = w . log(1 + additive features);
//   trees        cycles = roofline x exp(T(x)): gradient-boosted trees T on every hardware
//                feature and the unit type predict the log ratio to the roofline bound;
//   ridge_trees  cycles = ridge(x) x exp(T(x)): trees correct the ridge model's log error.
// A chip-aware estimator (trained on several chips) appends the chip's numbers (chip_vector)
// to the tree features and is only available with the tree forms.
//
// The estimator file (JSON): format name and schema version, feature schema version, the tool
// version, the chip (hash and ChipFeatures), the form and its parameters (linear weights per unit
// type; trees as flat arrays), the training metrics and the dataset it was fitted on. Using it for
// another chip is an error unless forced (the CLI checks; Estimator::check_chip).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/estimate/chip_features.hpp"
#include "models/estimate/features.hpp"
#include "models/estimate/regress.hpp"
#include "models/estimate/unit.hpp"
#include "models/ir/graph.hpp"

namespace nax::est {

class GraphScanner;

constexpr int kEstimatorSchemaVersion = 1;
constexpr const char* kEstimatorFormat = "nax-latency-estimator";

enum class HwForm { kRidge, kLogLinear, kTrees, kRidgeTrees };
const char* hw_form_name(HwForm f);
bool parse_hw_form(const std::string& s, HwForm& out);
const std::vector<HwForm>& all_hw_forms();

// A labelled unit prepared for fitting: geometry (owning its layers), context, chip, cycles.
struct TrainUnit {
  UnitType type = UnitType::kOther;
  std::vector<LayerGeom> layers;
  UnitGeom geom;  // points into layers (copies re-point it; moves keep the buffer)
  Context context;
  const ChipFeatures* chip = nullptr;
  double cycles = 0;
  std::string hash;  // unit content hash (lookup table key, with the context)

  TrainUnit() = default;
  TrainUnit(TrainUnit&&) = default;
  TrainUnit& operator=(TrainUnit&&) = default;
  TrainUnit(const TrainUnit& o)
      : type(o.type),
        layers(o.layers),
        geom(o.geom),
        context(o.context),
        chip(o.chip),
        cycles(o.cycles),
        hash(o.hash) {
    geom.layers = layers.data();
  }
  TrainUnit& operator=(const TrainUnit& o) {
    if (this != &o) {
      TrainUnit t(o);
      *this = std::move(t);
    }
    return *this;
  }
};
TrainUnit make_train_unit(const Unit& u, const Context& c, const ChipFeatures* chip, double cycles,
                          int resize_taps = 0);

struct HwFitOptions {
  HwForm form = HwForm::kRidgeTrees;
  bool chip_aware = false;
  double ridge_lambda = 1e-6;
  TreeParams trees;
  int min_type_samples = 12;  // fewer: the type uses the pooled (all types) linear model
};

class Estimator {
 public:
  // Fits form `o.form` on `units` (every unit's chip must be set). `chip` is the chip the
  // estimator is for (chip-aware: the chip recorded in the file, predictions take any chip).
  static Estimator fit(const std::vector<TrainUnit>& units, const ChipFeatures& chip,
                       const HwFitOptions& o);

  // Cycles of one unit in its context, on the estimator's chip / on `chip` (chip-aware).
  double predict(const UnitGeom& u, const Context& c) const { return predict(u, c, m_chip); }
  double predict(const UnitGeom& u, const Context& c, const ChipFeatures& chip) const;
  // The same from the unit's hardware features (`f`: hw_features(u, c, chip, f)), for callers
  // that read the features too (the sweep's traffic and energy, hw/sweep/estimate.cpp).
  double predict_features(UnitType t, const double* f, const ChipFeatures& chip) const;

  // Whole network: groups `g` into units with `scanner` (reused between calls), predicts their
  // contexts and cycles on `chip` and returns the sum; `per_unit` (optional) gets each unit's
  // cycles in scanner.units() order.
  double estimate(const ir::Graph& g, GraphScanner& scanner, const ChipFeatures& chip,
                  std::vector<double>* per_unit = nullptr) const;

  HwForm form() const { return m_form; }
  bool chip_aware() const { return m_chip_aware; }
  const ChipFeatures& chip() const { return m_chip; }

  // Free-form records kept in the file.
  nlohmann::json& training_metrics() { return m_metrics; }
  const nlohmann::json& training_metrics() const { return m_metrics; }
  nlohmann::json& dataset() { return m_dataset; }
  const nlohmann::json& dataset() const { return m_dataset; }

  nlohmann::json to_json() const;
  // Throws InputError (prefixed with `file`) for a file of another format, schema or feature
  // schema version, or with missing / malformed parts.
  static Estimator from_json(const nlohmann::json& j, const std::string& file);
  void save(const std::string& path) const;
  static Estimator load(const std::string& path);

  // Throws InputError when `chip_hash` is not the estimator's chip (a chip-aware estimator
  // accepts any chip), unless `force`.
  void check_chip(const std::string& chip_hash, const std::string& chip_name, bool force) const;

 private:
  HwForm m_form = HwForm::kRidgeTrees;
  bool m_chip_aware = false;
  ChipFeatures m_chip;
  // Linear weights per unit type (ridge: over the additive features; loglinear: over their
  // log1p plus an intercept); empty: the pooled weights.
  std::array<std::vector<double>, kNumUnitTypes> m_linear;
  std::vector<double> m_pooled;
  TreeEnsemble m_trees;  // features: hardware features, unit type [, chip vector]
  nlohmann::json m_metrics = nlohmann::json::object();
  nlohmann::json m_dataset = nlohmann::json::object();
};

// Number of tree features for a (chip-aware) estimator, and filling them.
int tree_feature_count(bool chip_aware);
void tree_features(UnitType t, const double* hw, const ChipFeatures& chip, bool chip_aware,
                   float* out);

}  // namespace nax::est
