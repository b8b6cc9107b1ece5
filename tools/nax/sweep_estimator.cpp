#include "tools/nax/sweep_estimator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <limits>
#include <numeric>
#include <random>
#include <set>

#include "hw/chip/chip.hpp"
#include "hw/sweep/estimate.hpp"
#include "models/common/error.hpp"
#include "models/common/hash.hpp"
#include "models/common/yaml_io.hpp"
#include "models/estimate/estimator.hpp"
#include "tools/nax/cli.hpp"
#include "tools/nax/oracles.hpp"
#include "tools/nax/progress.hpp"

namespace nax::cli {

namespace sw = hw::sweep;

namespace {
constexpr uint64_t kSampleSeed = 11;

// A labelling or fitting step in a child process; Ctrl-C reaches the child too, and then the
// step's failure is the interruption (FitInterrupted), not an error.
void run_step(const std::vector<std::string>& args, bool keep_stderr) {
  try {
    run_self(args, keep_stderr);
  } catch (const Error&) {
    if (StopSignals::stop_requested()) throw FitInterrupted();
    throw;
  }
}

}  // namespace

std::vector<size_t> sample_chips(const sw::Expansion& expansion, size_t n) {
  // Feasible points with distinct chips, as axis positions normalised to [0, 1].
  size_t axes = 0;
  std::vector<size_t> max_index;
  for (const sw::Point& p : expansion.points) {
    axes = std::max(axes, p.value_index.size());
    max_index.resize(axes, 0);
    for (size_t a = 0; a < p.value_index.size(); ++a)
      max_index[a] = std::max(max_index[a], p.value_index[a]);
  }
  std::vector<size_t> ids;
  std::vector<std::vector<double>> pos;
  std::set<std::string> seen;
  for (const sw::Point& p : expansion.points) {
    if (!p.feasible || !seen.insert(p.id).second) continue;
    ids.push_back(p.index);
    std::vector<double> x(axes, 0.5);
    for (size_t a = 0; a < p.value_index.size(); ++a)
      if (max_index[a] > 0)
        x[a] = static_cast<double>(p.value_index[a]) / static_cast<double>(max_index[a]);
    pos.push_back(std::move(x));
  }
  const size_t k = std::min(n, ids.size());
  // Latin hypercube targets: on every axis the k strata (i + 0.5) / k, in a seeded order.
  std::mt19937_64 rng(kSampleSeed);
  std::vector<std::vector<double>> target(k, std::vector<double>(axes));
  for (size_t a = 0; a < axes; ++a) {
    std::vector<size_t> perm(k);
    std::iota(perm.begin(), perm.end(), 0);
    for (size_t i = k; i > 1; --i) std::swap(perm[i - 1], perm[rng() % i]);
    for (size_t i = 0; i < k; ++i)
      target[i][a] = (static_cast<double>(perm[i]) + 0.5) / static_cast<double>(k);
  }
  std::vector<size_t> out;
  std::vector<bool> used(ids.size(), false);
  for (size_t i = 0; i < k; ++i) {
    size_t best = ids.size();
    double best_d = std::numeric_limits<double>::infinity();
    for (size_t j = 0; j < ids.size(); ++j) {
      if (used[j]) continue;
      double d = 0;
      for (size_t a = 0; a < axes; ++a)
        d += (pos[j][a] - target[i][a]) * (pos[j][a] - target[i][a]);
      if (d < best_d) best_d = d, best = j;
    }
    used[best] = true;
    out.push_back(ids[best]);
  }
  return out;
}

std::string sweep_estimator(const sw::Expansion& expansion, const SweepEstimatorOptions& o) {
  namespace fs = std::filesystem;
  const std::vector<size_t> sample = sample_chips(expansion, static_cast<size_t>(o.chips));
  if (sample.size() < 2)
    throw InputError(fmt::format(
        "--estimator auto needs at least two feasible chips in the sweep to fit a chip-aware "
        "estimator (this sweep has {}); simulate it instead",
        sample.size()));
  std::string key_text = fmt::format("{} units {}", version(), o.units);
  for (size_t p : sample) key_text += " " + expansion.points[p].id;
  const std::string key = content_hash(key_text);
  const fs::path dir = fs::path(cache_dir()) / "estimators";
  const fs::path work = dir / ("sweep-" + key);
  const std::string path = (dir / ("sweep-" + key + ".est.json")).string();
  if (fs::exists(path)) return path;
  std::error_code ec;
  fs::create_directories(work, ec);
  if (ec) throw Error(fmt::format("cannot create {}: {}", work.string(), ec.message()));
  if (!o.quiet)
    std::cerr << fmt::format(
        "nax: fitting a chip-aware estimator for this sweep: {} of its chips, {} labelled units "
        "each, in {} (once; later sweeps over these chips reuse it)\n",
        sample.size(), o.units, work.string());
  std::vector<std::string> fit = {"fit",
                                  "--chip-aware",
                                  "--no-baselines",
                                  "--eval-random",
                                  "10",
                                  "--zoo",
                                  "mobilenet_v2",
                                  "--out",
                                  path + ".tmp",
                                  "--json",
                                  (work / "fit.json").string()};
  for (size_t k = 0; k < sample.size(); ++k) {
    const sw::Point& p = expansion.points[sample[k]];
    const std::string chip_file = (work / fmt::format("chip{}.yaml", k)).string();
    write_text(hw::dump_chip(*p.chip), chip_file);
    const std::string db = (work / fmt::format("chip{}.db", k)).string();
    std::vector<std::string> traces = {
        "traces", "--chip", chip_file, "--count", std::to_string(o.units), "--seed",
        "11",     "--db",   db,        "-j",      std::to_string(o.jobs)};
    if (o.quiet) traces.push_back("-q");
    if (fs::exists(db)) traces.push_back("--resume");
    if (!o.quiet)
      std::cerr << fmt::format("nax: labelling chip {}/{}: {}\n", k + 1, sample.size(),
                               sw::point_label(p));
    run_step(traces, !o.quiet);
    fit.insert(fit.end(), {"--db", db});
  }
  fit.insert(fit.end(), {"--holdout-chip", expansion.points[sample.back()].id});
  if (!o.quiet) std::cerr << "nax: fitting (held-out chip: the last one labelled)\n";
  run_step(fit, !o.quiet);
  fs::rename(path + ".tmp", path);
  return path;
}

}  // namespace nax::cli

namespace nax::cli {

EstimatedSweep run_estimated_sweep(const sw::SweepConfig& config, const std::string& estimator_arg,
                                   const SweepEstimatorOptions& fit, size_t check,
                                   sw::RunOptions ro, const sw::RunHooks& hooks) {
  EstimatedSweep out;
  sw::Expansion expansion = sw::expand_points(config);
  std::string path = estimator_arg;
  if (estimator_arg == "auto") {
    try {
      path = sweep_estimator(expansion, fit);
    } catch (const FitInterrupted&) {
      out.interrupted = out.fit_interrupted = true;
      return out;
    }
  }
  const est::Estimator estimator = est::Estimator::load(path);
  out.estimator = {{"file", path},
                   {"hash", content_hash(read_text_file(path, int64_t{256} << 20))},
                   {"form", est::hw_form_name(estimator.form())},
                   {"chip_aware", estimator.chip_aware()},
                   {"chips", estimator.training_metrics().value("chips", nlohmann::json::array())}};
  out.run = sw::estimate_sweep(config, estimator, hooks, std::move(expansion));
  if (out.run.interrupted || check == 0) {
    out.interrupted = out.run.interrupted;
    return out;
  }
  ro.only_points = sw::check_points(out.run, check, 1);
  ro.resume = true;
  const sw::SweepRun sim = sw::run_sweep(config, ro, hooks);
  out.check_simulated = sim.simulated;
  if (sim.interrupted) {
    out.interrupted = true;
    return out;
  }
  out.check = sw::check_report(out.run, sim, ro.only_points);
  out.check_csv = sw::check_csv(out.run, sim, ro.only_points);
  return out;
}

}  // namespace nax::cli
