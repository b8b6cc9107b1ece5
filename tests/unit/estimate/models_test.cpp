// The regressors and models recover known synthetic relations; the tree evaluator equals
// XGBoost's own predictions.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "models/common/error.hpp"
#include "models/estimate/baselines.hpp"
#include "models/estimate/estimator.hpp"
#include "models/estimate/metrics.hpp"
#include "models/estimate/regress.hpp"

using namespace nax;
using namespace nax::est;

namespace {

// A synthetic unit: one conv layer of the given shape on a default-like chip.
TrainUnit conv_unit(const ChipFeatures* chip, int64_t cin, int64_t cout, int64_t hw, int k,
                    bool in_on_chip, double cycles, const std::string& hash) {
  TrainUnit t;
  t.type = UnitType::kConv;
  LayerGeom l;
  l.kind = ir::OpKind::kConv2d;
  l.kh = l.kw = k;
  l.cin = cin, l.cout = cout, l.ih = l.iw = l.oh = l.ow = hw;
  l.macs = hw * hw * cout * cin * k * k;
  l.params = cout * cin * k * k;
  l.reads_input = true;
  t.layers = {l};
  t.geom.type = UnitType::kConv;
  t.geom.layers = t.layers.data();
  t.geom.num_layers = 1;
  t.geom.in_elems = cin * hw * hw;
  t.geom.out_elems = cout * hw * hw;
  t.geom.in_c = cin, t.geom.in_h = t.geom.in_w = hw;
  t.geom.out_c = cout, t.geom.out_h = t.geom.out_w = hw;
  t.geom.macs = l.macs;
  t.geom.params = l.params;
  t.context = {in_on_chip, true};
  t.chip = chip;
  t.cycles = cycles;
  t.hash = hash;
  return t;
}

std::vector<TrainUnit> synthetic(const ChipFeatures* chip, int n, uint64_t seed,
                                 double (*truth)(const double*)) {
  std::mt19937_64 g(seed);
  std::vector<TrainUnit> out;
  for (int i = 0; i < n; ++i) {
    const int64_t cin = 8 + static_cast<int64_t>(g() % 200),
                  cout = 8 + static_cast<int64_t>(g() % 300);
    const int64_t hw = 4 + static_cast<int64_t>(g() % 40);
    const int k = (g() % 2) ? 1 : 3;
    TrainUnit t = conv_unit(chip, cin, cout, hw, k, g() % 2, 0, "h" + std::to_string(i));
    double f[kNumHwFeatures];
    hw_features(t.geom, t.context, *chip, f);
    t.cycles = truth(f);
    out.push_back(std::move(t));
  }
  return out;
}

double linear_truth(const double* f) {
  return 1.5 * f[kFArrayCycles] + 0.7 * f[kFWeightDram] + 2.0 * f[kFInputDram] + 300;
}

double staircase_truth(const double* f) {
  // The roofline scaled by a step in the column folds: what trees should find.
  return f[kFRoofline] * (f[kFColFolds] > 3 ? 1.3 : 1.0);
}

}  // namespace

TEST_CASE("ridge recovers an exact linear relation", "[models]") {
  std::mt19937_64 g(1);
  Eigen::MatrixXd x(200, 3);
  Eigen::VectorXd y(200), w = Eigen::VectorXd::Ones(200);
  for (int i = 0; i < 200; ++i) {
    x(i, 0) = static_cast<double>(g() % 1000);
    x(i, 1) = static_cast<double>(g() % 50);
    x(i, 2) = 1;
    y(i) = 2 * x(i, 0) - 3 * x(i, 1) + 7;
  }
  const Eigen::VectorXd sol = fit_ridge(x, y, w, 1e-12);
  CHECK(sol(0) == Approx(2).margin(1e-6));
  CHECK(sol(1) == Approx(-3).margin(1e-6));
  CHECK(sol(2) == Approx(7).margin(1e-4));
}

TEST_CASE("the flat tree evaluator equals XGBoost's own predictions", "[models]") {
  std::mt19937_64 g(2);
  const size_t rows = 2000, cols = 5;
  std::vector<float> x(rows * cols), y(rows);
  for (size_t i = 0; i < rows; ++i) {
    for (size_t j = 0; j < cols; ++j) x[i * cols + j] = static_cast<float>(g() % 1000) / 10.f;
    y[i] = (x[i * cols] > 50 ? 3.f : 0.f) + 0.01f * x[i * cols + 1] * x[i * cols + 2] -
           (x[i * cols + 3] > 20 && x[i * cols + 4] < 70 ? 1.f : 0.f);
  }
  for (int depth : {3, 6, 10}) {  // 10: deeper than the dense layout, node-by-node evaluation
    TreeParams p;
    p.rounds = 40;
    p.max_depth = depth;
    p.eta = 0.3;
    std::vector<float> xgb;
    const TreeEnsemble e = fit_trees(x, rows, cols, y, {}, p, &xgb);
    REQUIRE(xgb.size() == rows);
    CHECK(e.num_trees() == 40);
    double max_diff = 0;
    for (size_t i = 0; i < rows; ++i) {
      const float mine = e.predict(&x[i * cols]);
      max_diff = std::max(max_diff, static_cast<double>(std::fabs(mine - xgb[i])));
      // The dense and node-by-node evaluations are the same sum.
      REQUIRE(mine == e.predict_nodes(&x[i * cols]));
    }
    INFO("depth " << depth);
    CHECK(max_diff <= 1e-5);
    // It learned the step.
    std::vector<float> lo = {10, 0, 0, 50, 50}, hi = {90, 0, 0, 50, 50};
    CHECK(e.predict(hi.data()) - e.predict(lo.data()) > 2);
    // JSON round trip: identical predictions.
    const TreeEnsemble back = TreeEnsemble::from_json(e.to_json());
    for (size_t i = 0; i < rows; i += 7)
      REQUIRE(back.predict(&x[i * cols]) == e.predict(&x[i * cols]));
  }
  // A random forest (parallel trees, one round).
  TreeParams rf;
  rf.rounds = 1;
  rf.parallel_trees = 20;
  rf.eta = 1;
  rf.subsample = 0.8;
  rf.colsample = 0.8;
  rf.max_depth = 8;
  std::vector<float> xgb;
  const TreeEnsemble f = fit_trees(x, rows, cols, y, {}, rf, &xgb);
  CHECK(f.num_trees() == 20);
  for (size_t i = 0; i < rows; i += 13)
    CHECK(f.predict(&x[i * cols]) == Approx(xgb[i]).margin(1e-5));
}

TEST_CASE("malformed tree arrays are InputErrors", "[models]") {
  nlohmann::json j = {{"base", 0.0},
                      {"num_features", 2},
                      {"roots", {0}},
                      {"feature", {0, -1, -1}},
                      {"value", {1.0, 2.0, 3.0}},
                      {"left", {1, 0, 0}}};
  const TreeEnsemble ok = TreeEnsemble::from_json(j);
  float x[2] = {0.5f, 0};
  CHECK(ok.predict(x) == 2.0f);
  x[0] = 1.5f;
  CHECK(ok.predict(x) == 3.0f);
  auto bad = j;
  bad["left"] = {0, 0, 0};  // a self loop
  CHECK_THROWS_AS(TreeEnsemble::from_json(bad), InputError);
  bad = j;
  bad["feature"] = {5, -1, -1};
  CHECK_THROWS_AS(TreeEnsemble::from_json(bad), InputError);
  bad = j;
  bad["roots"] = {7};
  CHECK_THROWS_AS(TreeEnsemble::from_json(bad), InputError);
  bad = j;
  bad.erase("value");
  CHECK_THROWS_AS(TreeEnsemble::from_json(bad), InputError);
}

TEST_CASE("every form of the hardware-aware model fits a linear physics relation", "[models]") {
  ChipFeatures chip;
  const auto train = synthetic(&chip, 400, 3, linear_truth);
  const auto test = synthetic(&chip, 100, 4, linear_truth);
  for (HwForm form : all_hw_forms()) {
    HwFitOptions o;
    o.form = form;
    o.trees.rounds = 100;
    const Estimator e = Estimator::fit(train, chip, o);
    std::vector<double> t, p;
    for (const auto& u : test) {
      t.push_back(u.cycles);
      p.push_back(e.predict(u.geom, u.context));
    }
    const ErrorStats s = error_stats(t, p);
    INFO(hw_form_name(form) << ": MAPE " << s.mape);
    if (form == HwForm::kRidge || form == HwForm::kRidgeTrees) {
      CHECK(s.mape < 0.5);  // exact up to regularisation
    } else {
      CHECK(s.within10 >= 0.9);
    }
    CHECK(s.spearman > 0.99);
  }
}

TEST_CASE("tree forms find a staircase that a linear model cannot", "[models]") {
  ChipFeatures chip;
  const auto train = synthetic(&chip, 600, 5, staircase_truth);
  const auto test = synthetic(&chip, 200, 6, staircase_truth);
  auto fit_eval = [&](HwForm f) {
    HwFitOptions o;
    o.form = f;
    o.trees.rounds = 100;
    const Estimator e = Estimator::fit(train, chip, o);
    std::vector<double> t, p;
    for (const auto& u : test) {
      t.push_back(u.cycles);
      p.push_back(e.predict(u.geom, u.context));
    }
    return error_stats(t, p);
  };
  CHECK(fit_eval(HwForm::kTrees).within10 >= 0.97);
  CHECK(fit_eval(HwForm::kTrees).mape < 2);
}

TEST_CASE("baselines: FLOPs k, lookup hits and fallbacks, the raw-shape forest", "[models]") {
  ChipFeatures chip;
  std::vector<TrainUnit> train;
  std::mt19937_64 g(7);
  for (int i = 0; i < 300; ++i) {
    const int64_t cin = 16 + static_cast<int64_t>(g() % 64),
                  cout = 16 + static_cast<int64_t>(g() % 64);
    TrainUnit t = conv_unit(&chip, cin, cout, 8, 3, true, 0, "u" + std::to_string(i));
    t.cycles = 0.25 * unit_flops(t.geom);  // exactly FLOPs-proportional
    train.push_back(std::move(t));
  }
  FlopsModel flops;
  flops.fit(train);
  CHECK(flops.k() == Approx(0.25));
  LookupModel lookup;
  lookup.fit(train);
  CHECK(lookup.size() == train.size());
  // A hit returns the stored label; context is part of the key.
  const TrainUnit& a = train[10];
  CHECK(lookup.predict(a.hash, a.geom, a.context) == a.cycles);
  CHECK(lookup.coverage() == 1.0);
  // A miss (unknown hash) falls back to the nearest entry scaled by FLOPs: exact here.
  CHECK(lookup.predict("unseen", a.geom, a.context) == Approx(a.cycles));
  CHECK(lookup.predict(a.hash, a.geom, {false, true}) == Approx(a.cycles));  // other context
  CHECK(lookup.coverage() == Approx(1.0 / 3.0));
  RawTreesModel raw(1, 30);
  raw.fit(train);
  std::vector<double> t, p;
  for (const auto& u : train) {
    t.push_back(u.cycles);
    p.push_back(raw.predict(u.geom, u.context));
  }
  CHECK(error_stats(t, p).mape < 10);
}
