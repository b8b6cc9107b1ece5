// The models nax's hardware-aware estimator is compared with (the README's table):
//   (a) FlopsModel: cycles = k x FLOPs (FLOPs = 2 x MACs + vector element ops), one k fitted
//       for least squares on relative error;
//   (b) LookupModel: a per-unit table in the ProxylessNAS / FBNet style, keyed by the unit's
//       exact description (its content hash: type, shapes, parameters) and its context. Unseen
//       keys fall back to the nearest table entry of the same unit type in log raw-shape space
//       (standardised), scaled by the FLOPs ratio; a type absent from the table falls back to (a).
//       coverage() reports the share of lookups that hit;
//   (c) RawTreesModel: the nn-Meter recipe, a random forest per unit type on raw shape features
//       (no hardware knowledge; target log cycles), via XGBoost's random-forest mode; types with
//       few samples fall back to (a).
#pragma once

#include <array>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/estimate/estimator.hpp"
#include "models/estimate/regress.hpp"

namespace nax::est {

double unit_flops(const UnitGeom& u);

class FlopsModel {
 public:
  void fit(const std::vector<TrainUnit>& units);
  double predict(const UnitGeom& u) const { return m_k * unit_flops(u); }
  double k() const { return m_k; }

 private:
  double m_k = 1;
};

class LookupModel {
 public:
  void fit(const std::vector<TrainUnit>& units);
  // `hash` is the unit's content hash.
  double predict(const std::string& hash, const UnitGeom& u, const Context& c) const;
  double coverage() const { return m_lookups ? static_cast<double>(m_hits) / m_lookups : 0; }
  void reset_coverage() const { m_hits = m_lookups = 0; }
  size_t size() const { return m_table.size(); }

 private:
  struct Entry {
    std::array<double, kNumRawFeatures> x;  // standardised log raw features
    double flops = 0;
    double cycles = 0;
  };
  void point(const UnitGeom& u, const Context& c, double* x) const;
  std::unordered_map<std::string, double> m_table;
  std::array<std::vector<Entry>, kNumUnitTypes> m_entries;
  std::array<double, kNumRawFeatures> m_mean{}, m_scale{};
  FlopsModel m_flops;
  mutable int64_t m_hits = 0, m_lookups = 0;
};

class RawTreesModel {
 public:
  explicit RawTreesModel(uint64_t seed = 1, int trees = 100) : m_seed(seed), m_trees(trees) {}
  void fit(const std::vector<TrainUnit>& units);
  double predict(const UnitGeom& u, const Context& c) const;

 private:
  uint64_t m_seed;
  int m_trees;
  std::array<TreeEnsemble, kNumUnitTypes> m_forest;
  FlopsModel m_flops;
};

}  // namespace nax::est
