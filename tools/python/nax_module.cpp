// The `nax` Python module (pybind11): chips, models, simulation, estimation, chip sweeps and search
// results as plain Python objects (dicts and lists of dicts, ready for pandas.DataFrame), over the
// same libraries as the `nax` binary. Built by CMake against Debian's /usr/bin/python3 as
// build/tools/python/nax.cpython-*.so; `PYTHONPATH=build/tools/python python3 -c "import nax"`.
//
// Errors: nax's InputError (bad input: file, line, what was expected) becomes ValueError, any
// other nax::Error RuntimeError.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <sqlite3.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hw/chip/chip.hpp"
#include "hw/lower/lower.hpp"
#include "hw/sim/simulator.hpp"
#include "hw/sweep/analysis.hpp"
#include "hw/sweep/report.hpp"
#include "hw/sweep/run.hpp"
#include "hw/sweep/sweep_config.hpp"
#include "hw/traces/chip_features.hpp"
#include "models/common/error.hpp"
#include "models/common/sqlite_db.hpp"
#include "models/estimate/estimator.hpp"
#include "models/estimate/fast_units.hpp"
#include "models/ir/analysis.hpp"
#include "models/model_source.hpp"

namespace py = pybind11;
using nlohmann::json;

namespace {

// nlohmann::json -> Python objects, through the json module (exact for every JSON value). The
// function is kept for the process's life and never released: a static py::object would be
// destroyed after the interpreter has finalised (an abort at exit once e.g. pandas is imported).
py::object to_python(const json& j) {
  static const py::object* loads = new py::object(py::module_::import("json").attr("loads"));
  return (*loads)(j.dump());
}

json chip_json(const nax::hw::ChipParams& c) {
  return {{"name", c.name},
          {"hash", c.hash},
          {"clock_mhz", c.clock_mhz},
          {"rows", c.mac_array.rows},
          {"cols", c.mac_array.cols},
          {"parallelism", c.parallelism_factor()},
          {"sram_bytes", c.sram_bytes()},
          {"yaml", nax::hw::dump_chip(c)}};
}

py::object load_chip(const std::string& chip, const std::vector<std::string>& overrides) {
  return to_python(chip_json(nax::hw::load_chip(chip, overrides)));
}

py::object model_info(const std::string& model) {
  const nax::Model m = nax::load_model(model);
  const nax::ir::GraphStats s = nax::ir::analyze(m.graph);
  json layers = json::array();
  for (const auto& l : s.layers) {
    const auto& op = m.graph.ops()[static_cast<size_t>(l.op)];
    layers.push_back({{"name", op.name},
                      {"op", nax::ir::op_name(op.kind)},
                      {"macs", l.macs},
                      {"params", l.params},
                      {"weight_bytes", l.weight_bytes},
                      {"output_bytes", l.output_bytes},
                      {"live_bytes", l.live_bytes}});
  }
  return to_python({{"name", m.name},
                    {"hash", m.hash},
                    {"kind", m.kind},
                    {"macs", s.macs},
                    {"params", s.params},
                    {"weight_bytes", s.weight_bytes},
                    {"peak_activation_bytes", s.peak_activation_bytes},
                    {"layers", layers}});
}

py::object simulate(const std::string& model, const std::string& chip,
                    const std::vector<std::string>& overrides) {
  const nax::hw::ChipParams c = nax::hw::load_chip(chip, overrides);
  const nax::Model m = nax::load_model(model);
  const nax::hw::Program p = nax::hw::lower(m.graph, c);
  const nax::hw::RunResult r = nax::hw::Simulator::instance().run(p, c);
  json layers = json::array();
  for (const auto& l : r.layers)
    layers.push_back({{"name", l.name},
                      {"op", l.op},
                      {"cycles", l.cycles},
                      {"latency_ms", static_cast<double>(l.cycles) / c.clock_mhz / 1e3},
                      {"macs", l.macs},
                      {"utilization", l.utilization},
                      {"bound", l.bound},
                      {"dram_read_bytes", l.dram_read_bytes},
                      {"dram_write_bytes", l.dram_write_bytes},
                      {"energy_uj", l.energy_uj}});
  json units = json::array();
  for (const auto& u : r.units)
    units.push_back({{"name", u.name},
                     {"busy_cycles", u.busy_cycles},
                     {"utilization", u.utilization},
                     {"commands", u.commands}});
  return to_python({{"model", {{"name", m.name}, {"hash", m.hash}}},
                    {"chip", {{"name", c.name}, {"hash", c.hash}}},
                    {"total_cycles", r.total_cycles},
                    {"latency_ms", r.latency_ms},
                    {"energy_uj", r.energy_uj},
                    {"macs", r.macs},
                    {"dram_read_bytes", r.dram_read_bytes},
                    {"dram_write_bytes", r.dram_write_bytes},
                    {"units", units},
                    {"layers", layers}});
}

py::object estimate(const std::string& model, const std::string& estimator, const std::string& chip,
                    const std::vector<std::string>& overrides) {
  const nax::est::Estimator e = nax::est::Estimator::load(estimator);
  nax::est::ChipFeatures features = e.chip();
  if (!chip.empty() || !overrides.empty()) {
    const nax::hw::ChipParams c = nax::hw::load_chip(chip.empty() ? "default" : chip, overrides);
    e.check_chip(c.hash, c.name, false);
    features = nax::hw::chip_features(c);
  }
  const nax::Model m = nax::load_model(model);
  nax::est::GraphScanner scanner;
  std::vector<double> per_unit;
  const double cycles = e.estimate(m.graph, scanner, features, &per_unit);
  json units = json::array();
  const auto& us = scanner.units();
  for (size_t i = 0; i < us.size() && i < per_unit.size(); ++i)
    units.push_back({{"name", *us[i].name},
                     {"type", nax::est::unit_type_name(us[i].type)},
                     {"cycles", per_unit[i]}});
  return to_python({{"model", {{"name", m.name}, {"hash", m.hash}}},
                    {"chip", {{"name", features.name}, {"hash", features.hash}}},
                    {"total_cycles", cycles},
                    {"latency_ms", cycles / features.clock_mhz / 1e3},
                    {"units", units}});
}

// Every step of every run in a `nax search` / `nax study` store, one dict per step.
py::object search_results(const std::string& db_path) {
  struct Store : nax::db::Db {
    explicit Store(const std::string& p) {
      path = p;
      if (sqlite3_open_v2(p.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
        throw nax::InputError(p + ": cannot open the search store");
    }
  } store(db_path);
  json rows = json::array();
  try {
    nax::db::Stmt s(store,
                    "SELECT steps.run_id, runs.label, steps.step, steps.model, steps.genotype, "
                    "steps.metrics FROM steps JOIN runs ON runs.run_id = steps.run_id ORDER BY "
                    "steps.run_id, steps.step");
    while (s.step()) {
      json r = json::parse(s.text(5));
      r["run_id"] = s.text(0);
      r["label"] = s.text(1);
      r["step"] = s.i64(2);
      r["model"] = s.text(3);
      r["genotype"] = s.text(4);
      rows.push_back(r);
    }
  } catch (const nax::Error& e) {
    throw nax::InputError(db_path + ": not a nax search store (" + e.what() + ")");
  }
  return to_python(rows);
}

// A sweep.json entry as one flat row: its `overrides` ({"mac_array.rows": 16, ...}) become columns
// named by the chip key, so a list of rows is a pandas.DataFrame as it is.
json flat_row(json e) {
  if (e.contains("overrides")) {
    for (const auto& [key, value] : e["overrides"].items()) e[key] = value;
    e.erase("overrides");
  }
  return e;
}

// `nax sweep` in this process (hw/sweep/run.hpp), its points, fronts and sensitivity as the rows
// of sweep.json (hw/sweep/report.hpp), flattened. Ctrl-C stops it (the finished pairs stay in
// the store) and raises KeyboardInterrupt. The GIL stays held: the simulator is one per process
// and must not run from two Python threads at once.
//
// No sweep_results(db): a store holds results by chip and model hash (and each chip's YAML), not
// the axes, the points' order, the filters or the invalid chips, so it cannot be read back as a
// sweep without its description; sweep(config, db=path, resume=True) reads it simulating nothing.
py::object sweep(const std::string& config_path, int jobs, const std::optional<std::string>& db,
                 bool resume, const std::optional<std::pair<int, int>>& shard) {
  namespace sw = nax::hw::sweep;
  const sw::SweepConfig config = sw::load_sweep_config(config_path);
  sw::RunOptions o;
  o.jobs = jobs;
  o.db = db.value_or("");
  o.resume = resume;
  if (shard) {
    o.shard_index = shard->first;
    o.shard_count = shard->second;
  }
  o.simulator_id = std::string("simulator:") + NAX_VERSION;  // as `nax sweep`: stores are shared
  sw::RunHooks hooks;
  bool interrupted_by_python = false;
  hooks.stop_requested = [&] {
    if (PyErr_CheckSignals() != 0) interrupted_by_python = true;
    return interrupted_by_python;
  };
  const sw::SweepRun run = sw::run_sweep(config, o, hooks);
  if (interrupted_by_python) throw py::error_already_set();
  const auto fronts = sw::pareto_fronts(run);
  json points = json::array();
  for (const auto& e : sw::points_json(config, run)) {
    json row = flat_row(e);
    row["feasible"] = !row.contains("infeasible");
    points.push_back(std::move(row));
  }
  json pareto = json::array();
  for (const auto& f : sw::pareto_json(config, run, fronts)) {
    for (const auto& e : f["points"]) {
      json row = flat_row(e);
      row["front"] = f["front"];
      row["model"] = f["model"];
      pareto.push_back(std::move(row));
    }
  }
  json sensitivity = json::array();
  for (const auto& s : sw::sensitivity_json(sw::sensitivity(config, run))) {
    for (json a : s["axes"]) {
      a["model"] = s["model"];
      sensitivity.push_back(std::move(a));
    }
  }
  return to_python({{"name", config.name},
                    {"sweep_hash", config.hash},
                    {"axes", sw::axes_json(config)},
                    {"models", sw::models_json(run)},
                    {"counts", sw::counts_json(run)},
                    {"seconds", run.seconds},
                    {"interrupted", run.interrupted},
                    {"points", points},
                    {"pareto", pareto},
                    {"sensitivity", sensitivity}});
}

}  // namespace

PYBIND11_MODULE(nax, m) {
  m.doc() =
      "nax: Neural Accelerator eXplorer -- chips, simulation, latency estimation and search "
      "results as plain Python objects";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const nax::InputError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const nax::Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
  m.def(
      "version", [] { return std::string(NAX_VERSION); }, "nax's version");
  m.def("chip_presets", &nax::hw::preset_names, "names of the chip presets");
  m.def("load_chip", &load_chip, py::arg("chip") = "default",
        py::arg("overrides") = std::vector<std::string>{},
        "a chip preset or YAML file with key.path=value overrides: dict (name, hash, "
        "parallelism, sram_bytes, clock_mhz, yaml)");
  m.def("model_info", &model_info, py::arg("model"),
        "a model's MACs, parameters, peak activation bytes and layers: dict");
  m.def("simulate", &simulate, py::arg("model") = "mobilenet_v2", py::arg("chip") = "default",
        py::arg("overrides") = std::vector<std::string>{},
        "simulates a model on a chip: dict with latency_ms, energy_uj, units and layers (lists of "
        "dicts)");
  m.def("estimate", &estimate, py::arg("model"), py::arg("estimator"), py::arg("chip") = "",
        py::arg("overrides") = std::vector<std::string>{},
        "a model's latency from an estimator file (`nax fit`): dict with latency_ms and units");
  m.def("sweep", &sweep, py::arg("config"), py::arg("jobs") = 1, py::arg("db") = py::none(),
        py::arg("resume") = false, py::arg("shard") = py::none(),
        "runs a chip sweep (configs/sweeps/*.yaml, as `nax sweep`; db: SQLite store path, None = "
        "in memory; shard: (index, count)): dict with points (one row per point x model: the axis "
        "values as columns, latency_ms, energy_uj, area_mm2, cycles, utilisations, DRAM bytes, or "
        "infeasible with the reason), pareto (one row per front point: front, model, axis values, "
        "latency_ms, energy_uj, area_mm2), sensitivity (one row per model x axis), axes, models, "
        "counts; lists of dicts, ready for pandas.DataFrame");
  m.def("search_results", &search_results, py::arg("db"),
        "every step of the runs in a `nax search` / `nax study` store: list of dicts");
}
