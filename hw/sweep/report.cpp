#include "hw/sweep/report.hpp"

#include <cstdint>
#include <variant>

namespace nax::hw::sweep {

using nlohmann::json;

json value_json(const ParamValue& v) {
  json j;
  std::visit([&](const auto& x) { j = x; }, v);
  return j;
}

json axes_json(const SweepConfig& c) {
  json axes = json::array();
  for (const auto& a : c.axes) {
    json vals = json::array();
    for (const auto& v : a.values) vals.push_back(value_json(v));
    axes.push_back({{"key", a.key}, {"values", vals}});
  }
  return axes;
}

json models_json(const SweepRun& run) {
  json models = json::array();
  for (const auto& m : run.models)
    models.push_back({{"model", m.arg}, {"name", m.name}, {"hash", m.hash}});
  return models;
}

json counts_json(const SweepRun& run) {
  const auto& pts = run.expansion.points;
  int64_t infeasible = 0;
  for (size_t p : run.share) infeasible += pts[p].feasible ? 0 : 1;
  return {{"combinations", run.expansion.combinations},
          {"filtered_out", run.expansion.filtered_out},
          {"points", pts.size()},
          {"points_in_shard", run.share.size()},
          {"infeasible_points", infeasible},
          {"simulated", run.simulated},
          {"reused", run.reused}};
}

json overrides_json(const SweepConfig& c, const Point& p) {
  json j = json::object();
  for (size_t a = 0; a < c.axes.size(); ++a)
    j[c.axes[a].key] = value_json(c.axes[a].values[p.value_index[a]]);
  return j;
}

json points_json(const SweepConfig& c, const SweepRun& run) {
  const auto& pts = run.expansion.points;
  json points = json::array();
  for (size_t p : run.share) {
    const Point& pt = pts[p];
    for (size_t m = 0; m < run.models.size(); ++m) {
      json e = {{"point", p},
                {"id", pt.id},
                {"overrides", overrides_json(c, pt)},
                {"model", run.models[m].arg}};
      const auto& r = run.results[p][m];
      if (!pt.feasible) {
        e["infeasible"] = pt.reason;
      } else if (!r) {
        e["infeasible"] = "not simulated (interrupted)";
      } else if (!r->feasible) {
        e["infeasible"] = r->reason;
        e["area_mm2"] = pt.area_mm2;
      } else {
        e["latency_ms"] = r->latency_ms;
        e["energy_uj"] = r->energy_uj;
        e["area_mm2"] = pt.area_mm2;
        e["cycles"] = r->cycles;
        e["mac_array_utilization"] = r->mac_array_utilization;
        e["vector_unit_utilization"] = r->vector_unit_utilization;
        e["mac_efficiency"] = r->mac_efficiency;
        e["dram_read_bytes"] = r->dram_read_bytes;
        e["dram_write_bytes"] = r->dram_write_bytes;
      }
      points.push_back(e);
    }
  }
  return points;
}

json pareto_json(const SweepConfig& c, const SweepRun& run, const std::vector<Front>& fronts) {
  const auto& pts = run.expansion.points;
  json pareto = json::array();
  for (const auto& f : fronts) {
    json entries = json::array();
    for (const auto& e : f.entries) {
      const Totals t = totals(run, e.point, f.model_index);
      entries.push_back({{"point", e.point},
                         {"id", pts[e.point].id},
                         {"overrides", overrides_json(c, pts[e.point])},
                         {"latency_ms", t.latency_ms},
                         {"energy_uj", t.energy_uj},
                         {"area_mm2", pts[e.point].area_mm2}});
    }
    pareto.push_back({{"front", f.kind}, {"model", f.model}, {"points", entries}});
  }
  return pareto;
}

json sensitivity_json(const std::vector<Sensitivity>& sens) {
  json sj = json::array();
  for (const auto& s : sens) {
    json axes = json::array();
    for (const auto& a : s.axes) {
      axes.push_back({{"key", a.key},
                      {"latency_effect", a.latency_effect},
                      {"energy_effect", a.energy_effect},
                      {"values", a.values},
                      {"mean_latency_ms", a.latency_ms},
                      {"mean_energy_uj", a.energy_uj}});
    }
    sj.push_back({{"model", s.model}, {"axes", axes}});
  }
  return sj;
}

}  // namespace nax::hw::sweep
