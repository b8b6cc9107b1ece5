// A sweep's results as JSON: the axes, every (point, model) pair, the Pareto fronts and the
// sensitivity summary. One builder for `nax sweep`'s sweep.json (tools/nax/cmd_sweep.cpp) and the
// Python module's nax.sweep (tools/python/nax_module.cpp), so both report the same numbers under
// the same names (configs/sweeps/README.md, "Outputs").
#pragma once

#include <cstddef>
#include <vector>

#include <nlohmann/json.hpp>

#include "hw/sweep/analysis.hpp"
#include "hw/sweep/run.hpp"

namespace nax::hw::sweep {

// A parameter value as JSON (number, boolean, string or list).
nlohmann::json value_json(const ParamValue& v);

// [{"key": "mac_array.rows", "values": [16, 32]}, ...], in the config's order.
nlohmann::json axes_json(const SweepConfig& config);

// [{"model": the config's argument, "name", "hash"}, ...], in the config's order.
nlohmann::json models_json(const SweepRun& run);

// {combinations, filtered_out, points, points_in_shard, infeasible_points, simulated, reused}.
nlohmann::json counts_json(const SweepRun& run);

// {"mac_array.rows": 16, ...}: the point's value of every axis.
nlohmann::json overrides_json(const SweepConfig& config, const Point& point);

// One entry per point of the run's share x model, in point then model order: point, id,
// overrides, model, then either latency_ms, energy_uj, area_mm2, cycles, mac_array_utilization,
// vector_unit_utilization, mac_efficiency, dram_read_bytes, dram_write_bytes, or `infeasible`
// with the reason (plus area_mm2 when the chip is valid but the lowering refused the model).
nlohmann::json points_json(const SweepConfig& config, const SweepRun& run);

// One entry per front: {"front": kind, "model": model or "all", "points": [{point, id,
// overrides, latency_ms, energy_uj, area_mm2}, ...]} (latency and energy summed for "all").
nlohmann::json pareto_json(const SweepConfig& config, const SweepRun& run,
                           const std::vector<Front>& fronts);

// One entry per model: {"model", "axes": [{key, latency_effect, energy_effect,
// values, mean_latency_ms, mean_energy_uj}, ...]}.
nlohmann::json sensitivity_json(const std::vector<Sensitivity>& sensitivity);

}  // namespace nax::hw::sweep
