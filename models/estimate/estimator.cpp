#include "models/estimate/estimator.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include "models/common/error.hpp"
#include "models/estimate/fast_units.hpp"

namespace nax::est {

const char* hw_form_name(HwForm f) {
  switch (f) {
    case HwForm::kRidge:
      return "ridge";
    case HwForm::kLogLinear:
      return "loglinear";
    case HwForm::kTrees:
      return "trees";
    case HwForm::kRidgeTrees:
      return "ridge_trees";
  }
  return "?";
}

bool parse_hw_form(const std::string& s, HwForm& out) {
  for (HwForm f : all_hw_forms()) {
    if (s == hw_form_name(f)) {
      out = f;
      return true;
    }
  }
  return false;
}

const std::vector<HwForm>& all_hw_forms() {
  static const std::vector<HwForm> forms = {HwForm::kRidge, HwForm::kLogLinear, HwForm::kTrees,
                                            HwForm::kRidgeTrees};
  return forms;
}

TrainUnit make_train_unit(const Unit& u, const Context& c, const ChipFeatures* chip, double cycles,
                          int resize_taps) {
  TrainUnit t;
  t.type = u.type;
  t.geom = unit_geom(u, t.layers, resize_taps);
  t.context = c;
  t.chip = chip;
  t.cycles = cycles;
  t.hash = u.hash;
  return t;
}

int tree_feature_count(bool chip_aware) {
  return kNumHwFeatures + 1 + (chip_aware ? kNumChipVector : 0);
}

void tree_features(UnitType t, const double* hw, const ChipFeatures& chip, bool chip_aware,
                   float* out) {
  for (int i = 0; i < kNumHwFeatures; ++i) out[i] = static_cast<float>(hw[i]);
  out[kNumHwFeatures] = static_cast<float>(static_cast<int>(t));
  if (chip_aware) {
    double cv[kNumChipVector];
    chip_vector(chip, cv);
    for (int i = 0; i < kNumChipVector; ++i)
      out[kNumHwFeatures + 1 + i] = static_cast<float>(cv[i]);
  }
}

namespace {

bool uses_linear(HwForm f) {
  return f == HwForm::kRidge || f == HwForm::kLogLinear || f == HwForm::kRidgeTrees;
}

bool uses_trees(HwForm f) {
  return f == HwForm::kTrees || f == HwForm::kRidgeTrees;
}

// The linear model's inputs: the additive features (ridge) or their log1p (loglinear).
void linear_inputs(HwForm form, const double* f, double* x) {
  if (form == HwForm::kLogLinear) {
    for (int j = 0; j < kNumAdditive; ++j) x[j] = std::log1p(std::max(0.0, f[j]));
  } else {
    for (int j = 0; j < kNumAdditive; ++j) x[j] = f[j];
  }
}

double dot(const std::vector<double>& w, const double* x) {
  double s = 0;
  for (size_t j = 0; j < w.size(); ++j) s += w[j] * x[j];
  return s;
}

std::vector<double> fit_linear(HwForm form, const std::vector<const double*>& feats,
                               const std::vector<double>& y, double lambda) {
  const Eigen::Index n = static_cast<Eigen::Index>(y.size());
  Eigen::MatrixXd x(n, kNumAdditive);
  Eigen::VectorXd t(n), w(n);
  double xi[kNumAdditive];
  for (Eigen::Index i = 0; i < n; ++i) {
    linear_inputs(form, feats[static_cast<size_t>(i)], xi);
    for (int j = 0; j < kNumAdditive; ++j) x(i, j) = xi[j];
    if (form == HwForm::kLogLinear) {
      t(i) = std::log(y[static_cast<size_t>(i)]);
      w(i) = 1;
    } else {
      t(i) = y[static_cast<size_t>(i)];
      w(i) = 1.0 / (y[static_cast<size_t>(i)] * y[static_cast<size_t>(i)]);
    }
  }
  const Eigen::VectorXd sol = fit_ridge(x, t, w, lambda);
  return std::vector<double>(sol.data(), sol.data() + sol.size());
}

}  // namespace

double Estimator::predict_features(UnitType t, const double* f, const ChipFeatures& chip) const {
  double base = 0;
  if (uses_linear(m_form)) {
    double x[kNumAdditive];
    linear_inputs(m_form, f, x);
    const std::vector<double>& w =
        m_linear[static_cast<size_t>(t)].empty() ? m_pooled : m_linear[static_cast<size_t>(t)];
    const double v = dot(w, x);
    if (m_form == HwForm::kLogLinear) return std::exp(v);
    // A linear model can undershoot on shapes far from its data: never below a tenth of the
    // roofline bound.
    base = std::max(v, 0.1 * f[kFRoofline]);
    if (m_form == HwForm::kRidge) return base;
  } else {
    base = f[kFRoofline];
  }
  if (base <= 0) return 0;
  float x[kNumHwFeatures + 1 + kNumChipVector];
  tree_features(t, f, chip, m_chip_aware, x);
  return base * std::exp(static_cast<double>(m_trees.predict(x)));
}

double Estimator::predict(const UnitGeom& u, const Context& c, const ChipFeatures& chip) const {
  double f[kNumHwFeatures];
  hw_features(u, c, chip, f);
  return predict_features(u.type, f, chip);
}

double Estimator::estimate(const ir::Graph& g, GraphScanner& scanner, const ChipFeatures& chip,
                           std::vector<double>* per_unit) const {
  scanner.scan(g, chip);
  if (per_unit) per_unit->resize(scanner.units().size());
  double total = 0;
  size_t i = 0;
  for (const ScannedUnit& u : scanner.units()) {
    const double c = predict(u.geom, u.context, chip);
    if (per_unit) (*per_unit)[i++] = c;
    total += c;
  }
  return total;
}

Estimator Estimator::fit(const std::vector<TrainUnit>& units, const ChipFeatures& chip,
                         const HwFitOptions& o) {
  if (o.chip_aware && !uses_trees(o.form))
    throw InputError(std::string("a chip-aware estimator needs a tree form, not ") +
                     hw_form_name(o.form));
  Estimator e;
  e.m_form = o.form;
  e.m_chip_aware = o.chip_aware;
  e.m_chip = chip;
  const size_t n = units.size();
  std::vector<double> feats(n * kNumHwFeatures);
  std::vector<size_t> usable;
  for (size_t i = 0; i < n; ++i) {
    const TrainUnit& u = units[i];
    if (!u.chip) throw Error("Estimator::fit: a unit without a chip");
    hw_features(u.geom, u.context, *u.chip, &feats[i * kNumHwFeatures]);
    if (u.cycles > 0 && feats[i * kNumHwFeatures + kFRoofline] > 0) usable.push_back(i);
  }
  if (usable.empty()) throw InputError("no labelled units with positive cycles to fit on");
  if (uses_linear(o.form)) {
    std::vector<const double*> all_f;
    std::vector<double> all_y;
    std::array<std::vector<const double*>, kNumUnitTypes> tf;
    std::array<std::vector<double>, kNumUnitTypes> ty;
    for (size_t i : usable) {
      const double* f = &feats[i * kNumHwFeatures];
      all_f.push_back(f);
      all_y.push_back(units[i].cycles);
      tf[static_cast<size_t>(units[i].type)].push_back(f);
      ty[static_cast<size_t>(units[i].type)].push_back(units[i].cycles);
    }
    e.m_pooled = fit_linear(o.form, all_f, all_y, o.ridge_lambda);
    for (int t = 0; t < kNumUnitTypes; ++t) {
      if (static_cast<int>(ty[static_cast<size_t>(t)].size()) >= o.min_type_samples) {
        e.m_linear[static_cast<size_t>(t)] = fit_linear(o.form, tf[static_cast<size_t>(t)],
                                                        ty[static_cast<size_t>(t)], o.ridge_lambda);
      }
    }
  }
  if (uses_trees(o.form)) {
    const int nf = tree_feature_count(o.chip_aware);
    std::vector<float> x, y;
    x.reserve(usable.size() * static_cast<size_t>(nf));
    std::vector<float> row(static_cast<size_t>(nf));
    for (size_t i : usable) {
      const double* f = &feats[i * kNumHwFeatures];
      double base = f[kFRoofline];
      if (o.form == HwForm::kRidgeTrees) {
        double xi[kNumAdditive];
        linear_inputs(o.form, f, xi);
        const auto& w = e.m_linear[static_cast<size_t>(units[i].type)].empty()
                            ? e.m_pooled
                            : e.m_linear[static_cast<size_t>(units[i].type)];
        base = std::max(dot(w, xi), 0.1 * f[kFRoofline]);
      }
      tree_features(units[i].type, f, *units[i].chip, o.chip_aware, row.data());
      x.insert(x.end(), row.begin(), row.end());
      y.push_back(static_cast<float>(std::log(units[i].cycles / base)));
    }
    e.m_trees = fit_trees(x, y.size(), static_cast<size_t>(nf), y, {}, o.trees);
  }
  return e;
}

// ------------------------------------------------------------------ file

nlohmann::json Estimator::to_json() const {
  nlohmann::json j;
  j["format"] = kEstimatorFormat;
  j["schema_version"] = kEstimatorSchemaVersion;
  j["feature_schema_version"] = kFeatureSchemaVersion;
  j["chip_hash"] = m_chip.hash;
  j["chip"] = chip_features_to_json(m_chip);
  j["chip_aware"] = m_chip_aware;
  j["form"] = hw_form_name(m_form);
  j["hw_features"] = hw_feature_names();
  if (uses_linear(m_form)) {
    nlohmann::json lin = nlohmann::json::object();
    for (int t = 0; t < kNumUnitTypes; ++t) {
      if (!m_linear[static_cast<size_t>(t)].empty())
        lin[unit_type_name(static_cast<UnitType>(t))] = m_linear[static_cast<size_t>(t)];
    }
    j["linear"] = lin;
    j["pooled"] = m_pooled;
  }
  if (uses_trees(m_form)) j["trees"] = m_trees.to_json();
  j["training"] = m_metrics;
  j["dataset"] = m_dataset;
  return j;
}

Estimator Estimator::from_json(const nlohmann::json& j, const std::string& file) {
  auto fail = [&](const std::string& m) -> InputError { return InputError(file + ": " + m); };
  if (!j.is_object() || !j.contains("format") || j["format"] != kEstimatorFormat)
    throw fail(std::string("not a nax latency estimator file (expected \"format\": \"") +
               kEstimatorFormat + "\")");
  Estimator e;
  try {
    const int sv = j.at("schema_version").get<int>();
    if (sv != kEstimatorSchemaVersion)
      throw fail("estimator schema version " + std::to_string(sv) + ", this nax reads version " +
                 std::to_string(kEstimatorSchemaVersion));
    const int fv = j.at("feature_schema_version").get<int>();
    if (fv != kFeatureSchemaVersion)
      throw fail("feature schema version " + std::to_string(fv) + ", this nax computes version " +
                 std::to_string(kFeatureSchemaVersion) + ": refit it with `nax fit`");
    e.m_chip = chip_features_from_json(j.at("chip"));
    if (j.at("chip_hash").get<std::string>() != e.m_chip.hash)
      throw fail("chip_hash differs from chip.hash");
    e.m_chip_aware = j.at("chip_aware").get<bool>();
    if (!parse_hw_form(j.at("form").get<std::string>(), e.m_form))
      throw fail("unknown form '" + j.at("form").get<std::string>() + "'");
    if (uses_linear(e.m_form)) {
      e.m_pooled = j.at("pooled").get<std::vector<double>>();
      if (e.m_pooled.size() != static_cast<size_t>(kNumAdditive))
        throw fail("pooled: expected " + std::to_string(kNumAdditive) + " weights");
      for (const auto& kv : j.at("linear").items()) {
        UnitType t;
        if (!parse_unit_type(kv.key(), t)) throw fail("linear: unknown unit type " + kv.key());
        auto w = kv.value().get<std::vector<double>>();
        if (w.size() != static_cast<size_t>(kNumAdditive))
          throw fail("linear." + kv.key() + ": expected " + std::to_string(kNumAdditive) +
                     " weights");
        e.m_linear[static_cast<size_t>(t)] = std::move(w);
      }
    }
    if (uses_trees(e.m_form)) {
      e.m_trees = TreeEnsemble::from_json(j.at("trees"));
      if (e.m_trees.num_features() != tree_feature_count(e.m_chip_aware))
        throw fail("trees: feature count does not match the form");
    }
    if (j.contains("training")) e.m_metrics = j["training"];
    if (j.contains("dataset")) e.m_dataset = j["dataset"];
  } catch (const nlohmann::json::exception& ex) {
    throw fail(ex.what());
  } catch (const InputError& ex) {
    const std::string m = ex.what();
    throw m.rfind(file, 0) == 0 ? ex : fail(m);
  }
  return e;
}

void Estimator::save(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot write " + path);
    out << to_json().dump(1) << "\n";
    if (!out.flush()) throw Error("error writing " + path);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw Error("cannot write " + path);
}

Estimator Estimator::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open the estimator file");
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception& ex) {
    throw InputError(path + ": not JSON: " + ex.what());
  }
  return from_json(j, path);
}

void Estimator::check_chip(const std::string& chip_hash, const std::string& chip_name,
                           bool force) const {
  if (m_chip_aware || force || chip_hash == m_chip.hash) return;
  throw InputError("the estimator was fitted for chip " + m_chip.name + " (hash " + m_chip.hash +
                   "), not " + chip_name + " (hash " + chip_hash +
                   "); refit it on that chip's traces, or pass --force");
}

}  // namespace nax::est
