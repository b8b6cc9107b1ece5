// What a sweep's results say: Pareto fronts and a sensitivity summary (plain C++).
//
// Fronts minimise both coordinates: latency (ms) against area (mm^2), and energy (uJ) against
// latency, per model and across the model set ("all": the sum of latencies / energies over the
// models; a point counts there only when every model ran on it). A point is on a front when no
// other point is at least as good in both coordinates and better in one; of points with equal
// coordinates the first (lowest index) is kept. Entries are sorted by x, then point index.
//
// Sensitivity, per model and axis: for each value of the axis, the mean latency (and energy) over
// the feasible points that have that value, whatever the other axes (a marginal mean, defined
// for cartesian, zipped and filtered sweeps alike, where "the other axes at their base values"
// may not exist). The axis's effect is (max mean - min mean) / min mean over its values: 0.5 means
// moving along that axis changes the average latency by up to 50%. Axes are ranked by their
// latency effect. With mode zip the axes move together and so share one effect.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "hw/sweep/run.hpp"

namespace nax::hw::sweep {

// Latency and energy of a point for one model (m < models) or summed over all (m == models); `ok`
// only when every model counted has a feasible result on the point.
struct Totals {
  bool ok = false;
  double latency_ms = 0, energy_uj = 0;
};
Totals totals(const SweepRun& run, size_t point, size_t model);

// Indices of the non-dominated entries of `xy` (minimise both), sorted by x then index.
std::vector<size_t> pareto_front(const std::vector<std::pair<double, double>>& xy);

struct FrontEntry {
  size_t point = 0;
  double x = 0, y = 0;
};

struct Front {
  std::string kind;        // "latency_area" (x latency_ms, y area_mm2) or "energy_latency" (x
                           // energy_uj, y latency_ms)
  std::string model;       // a model's config argument, or "all"
  size_t model_index = 0;  // into run.models; run.models.size() for "all" (as `totals` takes it)
  std::vector<FrontEntry> entries;
};

std::vector<Front> pareto_fronts(const SweepRun& run);

struct AxisEffect {
  std::string key;
  std::vector<std::string> values;  // the axis values with at least one feasible point
  std::vector<double> latency_ms;   // mean latency per value
  std::vector<double> energy_uj;    // mean energy per value
  double latency_effect = 0;        // (max - min) / min of latency_ms
  double energy_effect = 0;
};

struct Sensitivity {
  std::string model;
  std::vector<AxisEffect> axes;  // ranked: largest latency effect first
};

std::vector<Sensitivity> sensitivity(const SweepConfig& config, const SweepRun& run);

}  // namespace nax::hw::sweep
