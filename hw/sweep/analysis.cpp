#include "hw/sweep/analysis.hpp"

#include <algorithm>
#include <numeric>

namespace nax::hw::sweep {
namespace {

double effect(const std::vector<double>& means) {
  if (means.empty()) return 0;
  const auto [lo, hi] = std::minmax_element(means.begin(), means.end());
  return *lo > 0 ? (*hi - *lo) / *lo : 0;
}

}  // namespace

Totals totals(const SweepRun& run, size_t p, size_t m) {
  Totals t;
  const size_t n = run.models.size();
  for (size_t k = 0; k < n; ++k) {
    if (m < n && k != m) continue;
    const auto& r = run.results[p][k];
    if (!r || !r->feasible) return t;
    t.latency_ms += r->latency_ms;
    t.energy_uj += r->energy_uj;
  }
  t.ok = true;
  return t;
}

std::vector<size_t> pareto_front(const std::vector<std::pair<double, double>>& xy) {
  std::vector<size_t> order(xy.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return xy[a].first < xy[b].first || (xy[a].first == xy[b].first && xy[a].second < xy[b].second);
  });
  // Sweep by x: an entry is on the front when its y is below every y seen before it. Equal
  // coordinates: the stable sort keeps the lowest index first, and the later ones are not below.
  std::vector<size_t> front;
  for (size_t i : order) {
    if (front.empty() || xy[i].second < xy[front.back()].second) front.push_back(i);
  }
  return front;
}

std::vector<Front> pareto_fronts(const SweepRun& run) {
  std::vector<Front> out;
  const size_t n_models = run.models.size();
  // Per model (m < n_models), then the sum over models (m == n_models).
  for (size_t m = 0; m <= n_models; ++m) {
    std::vector<size_t> ids;
    std::vector<double> lat, energy, area;
    for (size_t p : run.share) {
      const Point& pt = run.expansion.points[p];
      if (!pt.feasible) continue;
      const Totals t = totals(run, p, m);
      if (!t.ok) continue;
      ids.push_back(p);
      lat.push_back(t.latency_ms);
      energy.push_back(t.energy_uj);
      area.push_back(pt.area_mm2);
    }
    const std::string model = m < n_models ? run.models[m].arg : "all";
    for (const char* kind : {"latency_area", "energy_latency"}) {
      const bool la = std::string(kind) == "latency_area";
      std::vector<std::pair<double, double>> xy;
      for (size_t i = 0; i < ids.size(); ++i)
        xy.emplace_back(la ? lat[i] : energy[i], la ? area[i] : lat[i]);
      Front f{kind, model, m, {}};
      for (size_t i : pareto_front(xy)) f.entries.push_back({ids[i], xy[i].first, xy[i].second});
      out.push_back(std::move(f));
    }
  }
  return out;
}

std::vector<Sensitivity> sensitivity(const SweepConfig& config, const SweepRun& run) {
  std::vector<Sensitivity> out;
  for (size_t m = 0; m < run.models.size(); ++m) {
    Sensitivity s{run.models[m].arg, {}};
    for (size_t a = 0; a < config.axes.size(); ++a) {
      const Axis& axis = config.axes[a];
      std::vector<double> lat(axis.values.size(), 0), en(axis.values.size(), 0);
      std::vector<int64_t> n(axis.values.size(), 0);
      for (size_t p : run.share) {
        const auto& r = run.results[p][m];
        if (!r || !r->feasible) continue;
        const size_t v = run.expansion.points[p].value_index[a];
        lat[v] += r->latency_ms;
        en[v] += r->energy_uj;
        ++n[v];
      }
      AxisEffect e;
      e.key = axis.key;
      for (size_t v = 0; v < axis.values.size(); ++v) {
        if (n[v] == 0) continue;
        e.values.push_back(axis.text(v));
        e.latency_ms.push_back(lat[v] / static_cast<double>(n[v]));
        e.energy_uj.push_back(en[v] / static_cast<double>(n[v]));
      }
      e.latency_effect = effect(e.latency_ms);
      e.energy_effect = effect(e.energy_uj);
      s.axes.push_back(std::move(e));
    }
    std::stable_sort(s.axes.begin(), s.axes.end(), [](const AxisEffect& x, const AxisEffect& y) {
      return x.latency_effect > y.latency_effect;
    });
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace nax::hw::sweep
