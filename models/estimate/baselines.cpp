#include "models/estimate/baselines.hpp"

#include <cmath>
#include <limits>

namespace nax::est {

double unit_flops(const UnitGeom& u) {
  return 2.0 * static_cast<double>(u.macs) + static_cast<double>(u.vector_ops);
}

void FlopsModel::fit(const std::vector<TrainUnit>& units) {
  // argmin_k sum ((k f - y) / y)^2 = sum(f / y) / sum(f^2 / y^2).
  double a = 0, b = 0;
  for (const auto& u : units) {
    const double f = unit_flops(u.geom);
    if (u.cycles <= 0 || f <= 0) continue;
    a += f / u.cycles;
    b += (f / u.cycles) * (f / u.cycles);
  }
  m_k = b > 0 ? a / b : 1.0;
}

namespace {

std::string lookup_key(const std::string& hash, const Context& c) {
  return hash + (c.input_on_chip ? ":1" : ":0") + (c.output_on_chip ? "1" : "0");
}

}  // namespace

void LookupModel::point(const UnitGeom& u, const Context& c, double* x) const {
  raw_features(u, c, x);
  for (int j = 0; j < kNumRawFeatures; ++j)
    x[j] = (std::log1p(std::max(0.0, x[j])) - m_mean[static_cast<size_t>(j)]) /
           m_scale[static_cast<size_t>(j)];
}

void LookupModel::fit(const std::vector<TrainUnit>& units) {
  m_flops.fit(units);
  m_table.clear();
  for (auto& e : m_entries) e.clear();
  // Standardisation of log raw features over the training units.
  std::array<double, kNumRawFeatures> s{}, ss{};
  double n = 0;
  for (const auto& u : units) {
    double x[kNumRawFeatures];
    raw_features(u.geom, u.context, x);
    for (int j = 0; j < kNumRawFeatures; ++j) {
      const double v = std::log1p(std::max(0.0, x[j]));
      s[static_cast<size_t>(j)] += v;
      ss[static_cast<size_t>(j)] += v * v;
    }
    n += 1;
  }
  for (int j = 0; j < kNumRawFeatures; ++j) {
    const size_t k = static_cast<size_t>(j);
    m_mean[k] = n > 0 ? s[k] / n : 0;
    const double var = n > 0 ? ss[k] / n - m_mean[k] * m_mean[k] : 0;
    m_scale[k] = var > 1e-12 ? std::sqrt(var) : 1.0;
  }
  for (const auto& u : units) {
    m_table.emplace(lookup_key(u.hash, u.context), u.cycles);
    Entry e;
    point(u.geom, u.context, e.x.data());
    e.flops = unit_flops(u.geom);
    e.cycles = u.cycles;
    m_entries[static_cast<size_t>(u.type)].push_back(e);
  }
}

double LookupModel::predict(const std::string& hash, const UnitGeom& u, const Context& c) const {
  ++m_lookups;
  auto it = m_table.find(lookup_key(hash, c));
  if (it != m_table.end()) {
    ++m_hits;
    return it->second;
  }
  const auto& entries = m_entries[static_cast<size_t>(u.type)];
  if (entries.empty()) return m_flops.predict(u);
  double x[kNumRawFeatures];
  point(u, c, x);
  const Entry* best = nullptr;
  double bd = std::numeric_limits<double>::infinity();
  for (const Entry& e : entries) {
    double d = 0;
    for (int j = 0; j < kNumRawFeatures && d < bd; ++j) {
      const double t = x[j] - e.x[static_cast<size_t>(j)];
      d += t * t;
    }
    if (d < bd) bd = d, best = &e;
  }
  const double f = unit_flops(u);
  if (best->flops > 0 && f > 0) return best->cycles * f / best->flops;
  return best->cycles;
}

void RawTreesModel::fit(const std::vector<TrainUnit>& units) {
  m_flops.fit(units);
  for (int t = 0; t < kNumUnitTypes; ++t) {
    std::vector<float> x, y;
    for (const auto& u : units) {
      if (static_cast<int>(u.type) != t || u.cycles <= 0) continue;
      double r[kNumRawFeatures];
      raw_features(u.geom, u.context, r);
      for (double v : r) x.push_back(static_cast<float>(v));
      y.push_back(static_cast<float>(std::log(u.cycles)));
    }
    m_forest[static_cast<size_t>(t)] = TreeEnsemble();
    if (y.size() < 12) continue;
    TreeParams p;
    p.rounds = 1;
    p.parallel_trees = m_trees;
    p.eta = 1.0;
    p.max_depth = 12;
    p.subsample = 0.8;
    p.colsample = 0.7;
    p.lambda = 0;
    p.min_child_weight = 1;
    p.seed = m_seed;
    // The forest is one boosting round from base 0 (fit_trees sets base_score 0), so each tree
    // fits log cycles and XGBoost averages them.
    m_forest[static_cast<size_t>(t)] = fit_trees(x, y.size(), kNumRawFeatures, y, {}, p);
  }
}

double RawTreesModel::predict(const UnitGeom& u, const Context& c) const {
  const TreeEnsemble& f = m_forest[static_cast<size_t>(u.type)];
  if (f.empty()) return m_flops.predict(u);
  double r[kNumRawFeatures];
  raw_features(u, c, r);
  float x[kNumRawFeatures];
  for (int j = 0; j < kNumRawFeatures; ++j) x[j] = static_cast<float>(r[j]);
  return std::exp(static_cast<double>(f.predict(x)));
}

}  // namespace nax::est
