// `nax bench estimate`: speed of the latency estimator (measured here, never by timed tests).
//
//  1. Unit predictions per second on one core: every unit of the zoo models and of 50 IBN-space
//     networks, predicted in a loop (hardware features + the model), and the model alone on
//     precomputed features.
//  2. Whole networks: mobilenet_v2, resnet50 and person_detector on the estimator's chip, the
//     estimate from the built graph (grouping into units, context prediction, features,
//     predictions: Estimator::estimate) against lowering + simulating the same graph; the ratio
//     is the speed-up (target >= 10,000x).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>

#include "hw/chip/chip.hpp"
#include "hw/lower/lower.hpp"
#include "hw/sim/simulator.hpp"
#include "hw/traces/chip_features.hpp"
#include "models/common/error.hpp"
#include "models/estimate/estimator.hpp"
#include "models/estimate/fast_units.hpp"
#include "models/estimate/ibn_space.hpp"
#include "models/model_source.hpp"
#include "models/zoo/zoo.hpp"
#include "tools/nax/cli.hpp"

namespace nax::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchEstimateOptions {
  std::string estimator;
  std::string chip;  // simulate on this chip (default: the preset whose hash is the estimator's)
  int repeat = 5;
  std::vector<std::string> models = {"mobilenet_v2", "resnet50", "person_detector"};
  std::string json;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Median over `reps` batches of the per-call seconds of f(), each batch at least `batch_s`.
template <class F>
double time_per_call(F&& f, int reps, double batch_s) {
  std::vector<double> per;
  for (int r = 0; r < reps; ++r) {
    int64_t n = 0;
    const auto t0 = Clock::now();
    double el = 0;
    do {
      f();
      ++n;
      el = std::chrono::duration<double>(Clock::now() - t0).count();
    } while (el < batch_s);
    per.push_back(el / static_cast<double>(n));
  }
  return median(per);
}

hw::ChipParams chip_for(const est::Estimator& e, const std::string& arg) {
  if (!arg.empty()) return hw::load_chip(arg);
  for (const auto& name : hw::preset_names()) {
    hw::ChipParams c = hw::load_chip(name);
    if (c.hash == e.chip().hash) return c;
  }
  throw InputError("the estimator's chip " + e.chip().name + " (" + e.chip().hash +
                   ") is not a preset: name its chip file with --chip");
}

void run_bench(const BenchEstimateOptions& o) {
  const est::Estimator e = est::Estimator::load(o.estimator);
  const hw::ChipParams chip = chip_for(e, o.chip);
  e.check_chip(chip.hash, chip.name, false);
  const est::ChipFeatures features = hw::chip_features(chip);
  nlohmann::json out;
  out["tool_version"] = version();
  out["estimator"] = o.estimator;
  out["form"] = est::hw_form_name(e.form());
  out["chip"] = {{"name", chip.name}, {"hash", chip.hash}};

  // 1. Unit predictions.
  std::vector<ir::Graph> graphs;
  for (const auto& name : zoo::ZooRegistry::instance().names())
    graphs.push_back(load_model(name).graph);
  for (int i = 0; i < 50; ++i) graphs.push_back(spec::build_graph(est::ibn_space_network(1000, i)));
  struct Owned {
    std::vector<est::LayerGeom> layers;
    est::UnitGeom geom;
    est::Context ctx;
  };
  std::vector<Owned> units;
  est::GraphScanner scanner;
  for (const auto& g : graphs) {
    scanner.scan(g, features);
    for (const auto& su : scanner.units()) {
      Owned u;
      u.layers.assign(su.geom.layers, su.geom.layers + su.geom.num_layers);
      u.geom = su.geom;
      u.ctx = su.context;
      units.push_back(std::move(u));
    }
  }
  for (auto& u : units) u.geom.layers = u.layers.data();
  volatile double sink = 0;
  const double per_unit = time_per_call(
      [&] {
        double s = 0;
        for (const auto& u : units) s += e.predict(u.geom, u.ctx, features);
        sink = sink + s;
      },
      o.repeat, 0.2);
  const double pps = static_cast<double>(units.size()) / per_unit;
  std::cout << fmt::format(
      "1. unit predictions ({} form), {} units of {} networks, one core\n"
      "   {} predictions/s ({:.0f} ns each: hardware features + model); target >= 1M/s\n\n",
      est::hw_form_name(e.form()), units.size(), graphs.size(), human(pps), 1e9 / pps);
  out["unit_predictions"] = {
      {"units", units.size()}, {"predictions_per_s", pps}, {"ns_per_prediction", 1e9 / pps}};

  // 2. Whole networks.
  Table t({"model", "units", "estimate us", "of which grouping+contexts us", "lower+simulate ms",
           "speed-up", "estimate", "simulated", "error"},
          {false, true, true, true, true, true, true, true, true});
  nlohmann::json nets = nlohmann::json::array();
  for (const auto& name : o.models) {
    const Model m = load_model(name);
    std::vector<double> per;
    double total = e.estimate(m.graph, scanner, features, &per);
    const double est_s =
        time_per_call([&] { sink = sink + e.estimate(m.graph, scanner, features); }, o.repeat, 0.2);
    const double scan_s = time_per_call([&] { scanner.scan(m.graph, features); }, o.repeat, 0.1);
    total = e.estimate(m.graph, scanner, features, &per);
    std::vector<double> sim_s;
    hw::RunResult r;
    for (int i = 0; i < o.repeat; ++i) {
      const auto t0 = Clock::now();
      const hw::Program p = hw::lower(m.graph, chip);
      r = hw::Simulator::instance().run(p, chip);
      sim_s.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
    const double sim = median(sim_s);
    const double err = static_cast<double>(total) / static_cast<double>(r.total_cycles) - 1;
    t.row({name, std::to_string(scanner.units().size()), fmt::format("{:.2f}", est_s * 1e6),
           fmt::format("{:.2f}", scan_s * 1e6), fmt::format("{:.2f}", sim * 1e3),
           fmt::format("{:.0f}x", sim / est_s), grouped(static_cast<int64_t>(total)),
           grouped(static_cast<int64_t>(r.total_cycles)), fmt::format("{:+.2f}%", 100 * err)});
    nets.push_back({{"model", name},
                    {"units", scanner.units().size()},
                    {"estimate_us", est_s * 1e6},
                    {"grouping_contexts_us", scan_s * 1e6},
                    {"lower_simulate_ms", sim * 1e3},
                    {"speedup", sim / est_s},
                    {"estimated_cycles", total},
                    {"simulated_cycles", r.total_cycles},
                    {"error", err}});
  }
  std::cout << "2. whole networks on " << chip.name
            << ": estimate from the built graph vs lower + simulate (medians); target >= 10,000x\n"
            << t.str();
  out["whole_network"] = nets;
  if (!o.json.empty()) write_json(out, o.json);
}

}  // namespace

void add_bench_estimate_command(CLI::App& bench) {
  auto o = std::make_shared<BenchEstimateOptions>();
  CLI::App* b = bench.add_subcommand(
      "estimate", "Estimator speed: unit predictions/s, whole-network estimate vs simulation");
  b->add_option("--estimator,-e", o->estimator, "estimator file written by `nax fit`")->required();
  b->add_option("--chip", o->chip,
                "chip to simulate on (default: the preset with the estimator's chip hash)");
  b->add_option("--repeat", o->repeat, "measurements per figure (median reported)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  b->add_option("--model,-m", o->models, "whole networks to time (repeatable)")
      ->capture_default_str();
  b->add_option("--json", o->json, "write the figures as JSON to PATH ('-' for stdout)");
  b->footer("Example:\n  nax bench estimate --estimator default.est.json --json bench_est.json");
  b->callback([o] { run_bench(*o); });
}

}  // namespace nax::cli
