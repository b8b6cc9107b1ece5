// Estimator sweeps (hw/sweep/estimate.hpp): the traffic and energy an estimate derives from the
// units match the simulator's on every dataflow and depthwise mapping; the check sample is seeded
// and holds the estimated front; the check report measures what it says; a one-chip estimator is
// refused for other chips.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "hw/sweep/estimate.hpp"
#include "hw/traces/chip_features.hpp"
#include "models/estimate/fast_units.hpp"
#include "models/estimate/fit.hpp"
#include "models/model_source.hpp"
#include "tests/unit/estimate/estimate_data.hpp"

using namespace nax;
using namespace nax::hw::sweep;

namespace {

double rel(double est, double sim) {
  return std::abs(est / sim - 1);
}

// A chip-aware estimator fitted on IBN-space networks labelled on two chips (a few seconds).
const est::Estimator& small_estimator() {
  static const est::Estimator e = [] {
    est::Dataset ds;
    test::add_ibn_networks(ds, hw::load_chip("default"), 7, 0, 6, 4);
    test::add_ibn_networks(ds, hw::load_chip("default", {"mac_array.rows=16"}), 7, 6, 6, 4);
    std::vector<int> all(ds.samples.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
    const std::vector<est::TrainUnit> units = est::train_units(ds, all);
    est::HwFitOptions o;
    o.form = est::HwForm::kRidgeTrees;
    o.chip_aware = true;
    o.trees.rounds = 30;
    return est::Estimator::fit(units, ds.chips.begin()->second, o);
  }();
  return e;
}

}  // namespace

TEST_CASE("estimated traffic and energy follow the simulator's energy model", "[unit][sweep]") {
  const Model m = load_model("mobilenet_v2:width=0.5,resolution=96");
  est::GraphScanner scanner;
  // Each dataflow, depthwise on the vector unit, and a small SRAM (spills to DRAM).
  const std::vector<std::vector<std::string>> chips = {{},
                                                       {"mac_array.dataflow=os"},
                                                       {"mac_array.dataflow=is"},
                                                       {"depthwise_on=vector_unit"},
                                                       {"sram.capacity_kib=128"}};
  for (const auto& overrides : chips) {
    const hw::ChipParams chip = hw::load_chip("default", overrides);
    INFO(chip.name << " " << (overrides.empty() ? std::string("base") : overrides[0]));
    const PairResult sim = simulate_pair(chip, m.graph);
    REQUIRE(sim.feasible);
    const PairResult e =
        estimate_pair(small_estimator(), chip, hw::chip_features(chip), m.graph, scanner);
    REQUIRE(e.feasible);
    // Dynamic energy (static power x the estimated latency aside) within 15%.
    const double s = chip.energy.static_mw;
    CHECK(rel(e.energy_uj - s * e.latency_ms, sim.energy_uj - s * sim.latency_ms) < 0.15);
    CHECK(rel(static_cast<double>(e.dram_read_bytes + e.dram_write_bytes),
              static_cast<double>(sim.dram_read_bytes + sim.dram_write_bytes)) < 0.25);
    CHECK(rel(e.latency_ms, sim.latency_ms) < 0.5);
    CHECK(e.mac_array_utilization > 0);
    CHECK(e.mac_array_utilization <= 1);
    CHECK(e.vector_unit_utilization <= 1);
    CHECK(e.mac_efficiency > 0);
  }
}

namespace {

PairResult ok(double lat, double en) {
  PairResult r;
  r.feasible = true;
  r.latency_ms = lat;
  r.energy_uj = en;
  return r;
}

// `n` feasible points of one model, point p with area p + 1 and latency 100 / (p + 1) (every
// point on the latency-area front) or, with `flat`, latency 100 + p (point 0 dominates the rest).
SweepRun fake_run(size_t n, bool flat) {
  SweepRun run;
  run.models.resize(1);
  run.models[0].arg = "m";
  for (size_t p = 0; p < n; ++p) {
    Point pt;
    pt.index = p;
    pt.feasible = true;
    pt.id = "chip" + std::to_string(p);
    pt.area_mm2 = static_cast<double>(p + 1);
    run.expansion.points.push_back(pt);
    run.share.push_back(p);
    run.results.push_back({ok(flat ? 100.0 + static_cast<double>(p) : 100.0 / (p + 1), 10)});
  }
  return run;
}

}  // namespace

TEST_CASE("check points: a seeded random sample plus the estimated front", "[unit][sweep]") {
  const SweepRun one_front = fake_run(50, true);  // front: point 0 only (area 1, latency 100)
  const auto a = check_points(one_front, 5, 1);
  CHECK(a == check_points(one_front, 5, 1));  // seeded
  CHECK(a != check_points(one_front, 5, 2));
  CHECK(std::is_sorted(a.begin(), a.end()));
  CHECK(std::find(a.begin(), a.end(), 0) != a.end());  // the front
  CHECK((a.size() == 5 || a.size() == 6));             // 5 random, + point 0 unless drawn
  CHECK(check_points(one_front, 0, 1).empty());
  CHECK(check_points(one_front, 500, 1).size() == 50);  // at most every point, once
  // Every point on the front: the front part is capped at n.
  CHECK(check_points(fake_run(50, false), 3, 1).size() <= 6);
  // Infeasible points are never drawn.
  SweepRun part = fake_run(10, true);
  for (size_t p = 1; p < 10; ++p) part.expansion.points[p].feasible = false;
  CHECK(check_points(part, 5, 3) == std::vector<size_t>{0});
}

TEST_CASE("check report: errors, ranks, refusals and front agreement", "[unit][sweep]") {
  const SweepRun sim = fake_run(6, false);
  SweepRun est = sim;
  for (size_t p = 0; p < 6; ++p) {
    est.results[p][0]->latency_ms *= 1.1;  // +10% everywhere: same ranks, same front
    est.results[p][0]->energy_uj *= 0.8;
  }
  const std::vector<size_t> pts = {0, 2, 3, 5};
  nlohmann::json j = check_report(est, sim, pts);
  CHECK(j["points"] == 4);
  const auto& all = j["all"];
  CHECK(all["pairs"] == 4);
  CHECK(all["latency"]["mape_pct"].get<double>() == Approx(10));
  CHECK(all["latency"]["bias_pct"].get<double>() == Approx(10));
  CHECK(all["latency"]["spearman"].get<double>() == Approx(1));
  CHECK(all["energy"]["bias_pct"].get<double>() == Approx(-20));
  CHECK(j["front"]["estimated"] == 4);
  CHECK(j["front"]["estimated_on_simulated"] == 4);
  // A pair the lowering refused is counted, not compared; a reversed order shows in the ranks.
  SweepRun sim2 = sim;
  sim2.results[5][0]->feasible = false;
  SweepRun est2 = est;
  est2.results[0][0]->latency_ms = 1;  // point 0 estimated fastest and smallest: dominates all
  j = check_report(est2, sim2, pts);
  CHECK(j["all"]["pairs"] == 3);
  CHECK(j["all"]["refused_by_lowering"] == 1);
  CHECK(j["all"]["latency"]["spearman"].get<double>() < 0);
  CHECK(j["front"]["estimated"] == 1);
  CHECK(j["front"]["estimated_on_simulated"] == 1);
  const std::string csv = check_csv(est2, sim2, pts);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 5);  // header + 4 pairs
}

TEST_CASE("an estimator for one chip is refused for the sweep's other chips", "[unit][sweep]") {
  const SweepConfig c = parse_sweep_config(
      "name: t\naxes:\n  - key: mac_array.rows\n    values: [16, 32]\nmodels: [mobilenet_v2]\n",
      "t.yaml");
  const est::Estimator one_chip;  // made for no chip of this sweep, not chip-aware
  REQUIRE_FALSE(one_chip.chip_aware());
  CHECK_THROWS_WITH(estimate_sweep(c, one_chip, {}),
                    Catch::Contains("not chip-aware") && Catch::Contains("mac_array.rows=16"));
}
