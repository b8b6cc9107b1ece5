// Pareto fronts (minimise both coordinates) and the sensitivity summary on hand-made results.
#include <catch2/catch.hpp>

#include <vector>

#include "hw/sweep/analysis.hpp"

using namespace nax;
using namespace nax::hw::sweep;

TEST_CASE("pareto front: non-dominated entries, sorted by x", "[unit][sweep]") {
  // 0 (1,5) front; 1 (2,2) front; 2 (3,3) dominated by 1; 3 (4,1) front; 4 (2,2) equal to 1:
  // the first is kept; 5 (1,6) dominated by 0 (same x, larger y); 6 (5,1) dominated by 3.
  const std::vector<std::pair<double, double>> xy = {{1, 5}, {2, 2}, {3, 3}, {4, 1},
                                                     {2, 2}, {1, 6}, {5, 1}};
  CHECK(pareto_front(xy) == std::vector<size_t>{0, 1, 3});
  CHECK(pareto_front({}).empty());
  CHECK(pareto_front({{3, 3}}) == std::vector<size_t>{0});
}

namespace {

PairResult ok(double lat, double en) {
  PairResult r;
  r.feasible = true;
  r.latency_ms = lat;
  r.energy_uj = en;
  return r;
}

}  // namespace

TEST_CASE("pareto fronts per model and over the model set, and the sensitivity summary",
          "[unit][sweep]") {
  SweepConfig c;
  Axis a;
  a.key = "mac_array.rows";
  a.values = {int64_t{8}, int64_t{16}};
  Axis b;
  b.key = "sram.capacity_kib";
  b.values = {int64_t{256}, int64_t{512}};
  c.axes = {a, b};
  SweepRun run;
  run.models.resize(2);
  run.models[0].arg = "m0";
  run.models[1].arg = "m1";
  const double area[4] = {1, 2, 3, 4};
  for (size_t p = 0; p < 4; ++p) {
    Point pt;
    pt.index = p;
    pt.value_index = {p / 2, p % 2};
    pt.feasible = true;
    pt.area_mm2 = area[p];
    run.expansion.points.push_back(pt);
    run.share.push_back(p);
  }
  run.results.assign(4, std::vector<std::optional<PairResult>>(2));
  // m0: rows halves latency, SRAM does nothing.   m1: point 3 cannot run.
  run.results[0][0] = ok(4, 10);
  run.results[1][0] = ok(4, 10);
  run.results[2][0] = ok(2, 12);
  run.results[3][0] = ok(2, 12);
  run.results[0][1] = ok(1, 1);
  run.results[1][1] = ok(1, 1);
  run.results[2][1] = ok(0.5, 3);
  run.results[3][1] = PairResult{};

  const auto fronts = pareto_fronts(run);
  REQUIRE(fronts.size() == 6);
  auto find = [&](const std::string& kind, const std::string& model) {
    for (const auto& f : fronts)
      if (f.kind == kind && f.model == model) return f;
    FAIL("no front " << kind << " " << model);
    return Front{};
  };
  auto points = [](const Front& f) {
    std::vector<size_t> out;
    for (const auto& e : f.entries) out.push_back(e.point);
    return out;
  };
  // m0 latency-area: point 2 (2 ms, 3 mm2) and point 0 (4 ms, 1 mm2).
  CHECK(points(find("latency_area", "m0")) == std::vector<size_t>{2, 0});
  CHECK(points(find("energy_latency", "m0")) == std::vector<size_t>{0, 2});
  // Over the set, point 3 is out (m1 cannot run there): sums 5/11, 5/11, 2.5/15.
  CHECK(points(find("latency_area", "all")) == std::vector<size_t>{2, 0});
  const Front all = find("latency_area", "all");
  CHECK(all.entries[0].x == 2.5);
  CHECK(all.entries[0].y == 3);

  const auto sens = sensitivity(c, run);
  REQUIRE(sens.size() == 2);
  REQUIRE(sens[0].axes.size() == 2);
  CHECK(sens[0].axes[0].key == "mac_array.rows");        // ranked first
  CHECK(sens[0].axes[0].latency_effect == Approx(1.0));  // mean 4 -> 2
  CHECK(sens[0].axes[0].energy_effect == Approx(0.2));   // 10 -> 12
  CHECK(sens[0].axes[1].latency_effect == 0);
  CHECK(sens[0].axes[0].values == std::vector<std::string>{"8", "16"});
  // m1: rows means 1 vs 0.5 (point 3 infeasible, excluded).
  CHECK(sens[1].axes[0].key == "mac_array.rows");
  CHECK(sens[1].axes[0].latency_effect == Approx(1.0));
}
