// `nax estimate`: a network's latency from an estimator file, without simulating: the graph is
// grouped into units (est::decompose's rules, on the lean path of models/estimate/fast_units.hpp),
// each unit's context is predicted as the lowering would decide it, the estimator predicts each
// unit's cycles and the sum is the network's. The estimator file carries its chip, so no chip file
// is needed; `--chip` checks that the chip is the estimator's (an error unless --force) and is
// required to pick the chip of a chip-aware estimator. `--simulate` also runs the simulator and
// prints the error per unit and in total.
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <memory>

#include "hw/chip/chip.hpp"
#include "hw/traces/chip_features.hpp"
#include "hw/traces/label.hpp"
#include "models/common/error.hpp"
#include "models/estimate/estimator.hpp"
#include "models/estimate/fast_units.hpp"
#include "models/model_source.hpp"
#include "tools/nax/cli.hpp"

namespace nax::cli {
namespace {

struct EstimateOptions {
  std::string estimator;
  std::string model = "mobilenet_v2";
  std::string chip;
  std::vector<std::string> overrides;
  bool force = false;
  bool simulate = false;
  std::string json;
  bool quiet = false;
};

void run_estimate(const EstimateOptions& o) {
  const est::Estimator e = est::Estimator::load(o.estimator);
  est::ChipFeatures features = e.chip();
  std::string chip_note;
  std::unique_ptr<hw::ChipParams> chip;
  if (!o.chip.empty() || !o.overrides.empty()) {
    chip = std::make_unique<hw::ChipParams>(
        hw::load_chip(o.chip.empty() ? "default" : o.chip, o.overrides));
    e.check_chip(chip->hash, chip->name, o.force);
    if (chip->hash != e.chip().hash) {
      features = hw::chip_features(*chip);
      if (!e.chip_aware())
        chip_note = fmt::format(
            "warning: --force: estimating for chip {} with an estimator fitted "
            "on {}; expect larger errors",
            chip->name, e.chip().name);
    }
  } else if (o.simulate) {
    throw InputError("--simulate needs --chip (the chip to simulate on)");
  } else if (e.chip_aware()) {
    chip_note =
        "chip-aware estimator without --chip: estimating for the chip it records, " + e.chip().name;
  }
  const Model m = load_model(o.model);
  est::GraphScanner scanner;
  std::vector<double> per_unit;
  // Timed: the whole estimate from the graph (scan + contexts + predictions).
  e.estimate(m.graph, scanner, features, &per_unit);
  const auto t0 = std::chrono::steady_clock::now();
  int reps = 0;
  double total = 0;
  do {
    total = e.estimate(m.graph, scanner, features, &per_unit);
    ++reps;
  } while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(20));
  const double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() /
      reps;
  const double ms = total / features.clock_mhz / 1e3;

  // Optional ground truth.
  std::vector<double> sim_units;
  double sim_total = 0;
  if (o.simulate) {
    const hw::NetworkLabel label = hw::label_network(m.graph, *chip);
    sim_total = static_cast<double>(label.total_cycles);
    if (label.units.size() == scanner.units().size()) {
      for (const auto& u : label.units) sim_units.push_back(static_cast<double>(u.cycles));
    }
  }

  nlohmann::json j;
  j["tool_version"] = version();
  j["estimator"] = o.estimator;
  j["estimator_form"] = est::hw_form_name(e.form());
  j["chip"] = {{"name", features.name}, {"hash", features.hash}};
  j["model"] = {{"name", m.name}, {"source", m.source}, {"kind", m.kind}, {"hash", m.hash}};
  j["clock_mhz"] = features.clock_mhz;
  j["total_cycles"] = total;
  j["latency_ms"] = ms;
  j["estimate_us"] = us;
  nlohmann::json subs = nlohmann::json::array();
  const auto& units = scanner.units();
  for (size_t i = 0; i < units.size(); ++i) {
    nlohmann::json s = {{"name", *units[i].name},
                        {"type", est::unit_type_name(units[i].type)},
                        {"cycles", per_unit[i]},
                        {"input_on_chip", units[i].context.input_on_chip},
                        {"output_on_chip", units[i].context.output_on_chip}};
    if (!sim_units.empty()) s["simulated_cycles"] = sim_units[i];
    subs.push_back(s);
  }
  j["subgraphs"] = subs;
  if (o.simulate) {
    j["simulated_total_cycles"] = sim_total;
    j["error"] = sim_total > 0 ? total / sim_total - 1 : 0.0;
  }
  if (!chip_note.empty()) j["note"] = chip_note;
  if (!o.json.empty()) write_json(j, o.json);
  if (o.quiet || o.json == "-") return;

  std::cout << fmt::format("model {} (hash {}) on chip {} (hash {}), estimator {} ({}), nax {}\n",
                           m.name, m.hash, features.name, features.hash, o.estimator,
                           est::hw_form_name(e.form()), version());
  if (!chip_note.empty()) std::cout << chip_note << "\n";
  std::vector<std::string> header = {"#", "unit", "type", "in", "out", "cycles", "share"};
  std::vector<bool> right = {true, false, false, false, false, true, true};
  if (!sim_units.empty()) {
    header.insert(header.end(), {"simulated", "error"});
    right.insert(right.end(), {true, true});
  }
  Table t(header, right);
  for (size_t i = 0; i < units.size(); ++i) {
    std::vector<std::string> row = {
        std::to_string(i),
        *units[i].name,
        est::unit_type_name(units[i].type),
        units[i].context.input_on_chip ? "sram" : "dram",
        units[i].context.output_on_chip ? "sram" : "dram",
        grouped(static_cast<int64_t>(std::llround(per_unit[i]))),
        fmt::format("{:.1f}%", total > 0 ? 100 * per_unit[i] / total : 0.0)};
    if (!sim_units.empty()) {
      row.push_back(grouped(static_cast<int64_t>(sim_units[i])));
      row.push_back(
          sim_units[i] > 0 ? fmt::format("{:+.1f}%", 100 * (per_unit[i] / sim_units[i] - 1)) : "");
    }
    t.row(row);
  }
  std::cout << t.str();
  std::cout << fmt::format("total      {} cycles = {:.3f} ms at {} MHz (estimated in {:.1f} us)\n",
                           grouped(static_cast<int64_t>(std::llround(total))), ms,
                           features.clock_mhz, us);
  if (o.simulate) {
    std::cout << fmt::format("simulated  {} cycles = {:.3f} ms: estimate error {:+.2f}%\n",
                             grouped(static_cast<int64_t>(sim_total)),
                             sim_total / features.clock_mhz / 1e3,
                             sim_total > 0 ? 100 * (total / sim_total - 1) : 0.0);
  }
}

}  // namespace

void add_estimate_commands(CLI::App& app) {
  auto o = std::make_shared<EstimateOptions>();
  CLI::App* es = app.add_subcommand(
      "estimate", "Estimate a network's latency with an estimator file (no simulation)");
  es->add_option("--estimator,-e", o->estimator, "estimator file written by `nax fit`")->required();
  es->add_option("--model,-m", o->model, "zoo name with parameters, a model .yaml or an .onnx file")
      ->capture_default_str();
  es->add_option("--chip", o->chip,
                 "chip preset or YAML file: must be the estimator's chip (unless --force); picks "
                 "the chip of a chip-aware estimator; needed by --simulate");
  es->add_option("-p", o->overrides, "chip override key.path=value (repeatable)");
  es->add_flag("--force", o->force, "use the estimator on a chip it was not fitted for");
  es->add_flag("--simulate", o->simulate,
               "also simulate the network and print the error per unit and in total");
  es->add_option("--json", o->json, "write the result as JSON to PATH ('-' for stdout)");
  es->add_flag("--quiet,-q", o->quiet, "no table on the terminal");
  es->footer(
      "Examples:\n"
      "  nax estimate --estimator default.est.json --model mobilenet_v2\n"
      "  nax estimate -e default.est.json -m mobilenet_v2:width=0.75 --json est.json\n"
      "  nax estimate -e default.est.json -m person_detector --chip default --simulate");
  es->callback([o] { run_estimate(*o); });
}

}  // namespace nax::cli
