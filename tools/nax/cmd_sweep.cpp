// `nax sweep`: chip co-design sweeps. A sweep description (configs/sweeps/*.yaml, format in
// configs/sweeps/README.md) names a base chip, axes over chip keys, filters and models; every
// point is resolved and validated first (infeasible chips are recorded with the reason, not run),
// then each (point, model) pair is simulated once into an SQLite store keyed by chip and model
// hash. Outputs: points.csv, pareto.csv, sweep.json and the resolved base chip (base_chip.yaml) in
// --out, PNG plots of the fronts and the sensitivity there (tools/plot_sweep.py, when python3 with
// matplotlib is installed), a summary on the terminal.
//
//   nax sweep --config FILE [-j N] [--shard i/n] [--db PATH] [--resume] [--out DIR] [--no-plots]
//             [--json PATH]
//   nax sweep --config FILE --estimator FILE|auto [--check N] [--fit-chips K] [--fit-units U] ...
//       every pair by a chip-aware estimator (hw/sweep/estimate.hpp,
//       tools/nax/sweep_estimator.hpp), N points re-simulated and the error reported (check.csv;
//       "check" in the JSON)
//   nax sweep merge --db OUT STORE...      union of stores (shards run on other machines)
//   mpirun -np N nax sweep --config FILE --mpi [--db PATH] [--out DIR] ...
//       rank 0 stores and writes everything, ranks 1..N-1 simulate (tools/nax/sweep_mpi.hpp)
//
// Shards that share one --db (or whose stores were merged) are combined by re-running the whole
// sweep on that store with --resume: it simulates nothing and writes the complete outputs.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>

#include "hw/chip/chip.hpp"
#include "hw/sweep/analysis.hpp"
#include "hw/sweep/report.hpp"
#include "hw/sweep/run.hpp"
#include "hw/sweep/sweep_config.hpp"
#include "models/common/csv.hpp"
#include "models/common/error.hpp"
#include "tools/nax/cli.hpp"
#include "tools/nax/plots.hpp"
#include "tools/nax/progress.hpp"
#include "tools/nax/sweep_estimator.hpp"
#include "tools/nax/sweep_mpi.hpp"

namespace nax::cli {
namespace {

namespace sw = hw::sweep;

struct SweepOptions {
  std::string config;
  int jobs = 1;
  std::string shard;
  std::string db;
  bool resume = false;
  std::string out;
  bool no_plots = false;
  std::string json;
  std::string progress = "auto";
  bool quiet = false;
  bool mpi = false;       // --mpi: run under mpirun (tools/nax/sweep_mpi.hpp)
  int mpi_ranks = 0;      // the MPI job's size, when mpirun started it
  std::string estimator;  // chip-aware estimator file, or "auto"; "" = simulate every pair
  int check = 24;         // points re-simulated to measure the estimator's error
  SweepEstimatorOptions fit;
};

std::string resume_command(const SweepOptions& o) {
  std::string s = "nax sweep --config " + o.config + " --db " + o.db;
  if (o.mpi_ranks > 0) s = fmt::format("mpirun -np {} {}", o.mpi_ranks, s);
  if (o.mpi) s += " --mpi";
  if (o.jobs != 1) s += fmt::format(" -j {}", o.jobs);
  if (!o.shard.empty()) s += " --shard " + o.shard;
  if (!o.out.empty()) s += " --out " + o.out;
  if (!o.estimator.empty())  // the check's simulations are reused from the store without it
    return s + fmt::format(" --estimator {} --check {}", o.estimator, o.check) +
           (o.estimator == "auto"
                ? fmt::format(" --fit-chips {} --fit-units {}", o.fit.chips, o.fit.units)
                : std::string());
  return s + " --resume";
}

std::string num(double v) {
  return fmt::format("{}", v);
}

using sw::totals;  // hw/sweep/analysis.hpp
using sw::Totals;

std::string points_csv(const sw::SweepConfig& c, const sw::SweepRun& run) {
  std::string out = "point,id";
  for (const auto& a : c.axes) out += "," + a.key;
  out +=
      ",model,feasible,reason,latency_ms,energy_uj,area_mm2,cycles,mac_array_utilization,"
      "vector_unit_utilization,mac_efficiency,dram_read_bytes,dram_write_bytes\n";
  for (size_t p : run.share) {
    const sw::Point& pt = run.expansion.points[p];
    for (size_t m = 0; m < run.models.size(); ++m) {
      std::string row = fmt::format("{},{}", p, pt.id);
      for (size_t a = 0; a < c.axes.size(); ++a)
        row += "," + csv_field(c.axes[a].text(pt.value_index[a]));
      row += "," + csv_field(run.models[m].arg);
      const auto& r = run.results[p][m];
      if (!pt.feasible) {
        row += ",false," + csv_field(pt.reason) + ",,,,,,,,,";
      } else if (!r) {
        row += ",false,not simulated (interrupted),,,,,,,,,";
      } else if (!r->feasible) {
        row += ",false," + csv_field(r->reason) + ",,," + num(pt.area_mm2) + ",,,,,,";
      } else {
        row += fmt::format(",true,,{},{},{},{},{},{},{},{},{}", num(r->latency_ms),
                           num(r->energy_uj), num(pt.area_mm2), r->cycles,
                           num(r->mac_array_utilization), num(r->vector_unit_utilization),
                           num(r->mac_efficiency), r->dram_read_bytes, r->dram_write_bytes);
      }
      out += row + "\n";
    }
  }
  return out;
}

std::string pareto_csv(const sw::SweepConfig& c, const sw::SweepRun& run,
                       const std::vector<sw::Front>& fronts) {
  std::string out = "front,model,point,id";
  for (const auto& a : c.axes) out += "," + a.key;
  out += ",latency_ms,energy_uj,area_mm2\n";
  for (const auto& f : fronts) {
    for (const auto& e : f.entries) {
      const sw::Point& pt = run.expansion.points[e.point];
      const Totals t = totals(run, e.point, f.model_index);
      std::string row = f.kind + "," + csv_field(f.model) + fmt::format(",{},{}", e.point, pt.id);
      for (size_t a = 0; a < c.axes.size(); ++a)
        row += "," + csv_field(c.axes[a].text(pt.value_index[a]));
      row += fmt::format(",{},{},{}", num(t.latency_ms), num(t.energy_uj), num(pt.area_mm2));
      out += row + "\n";
    }
  }
  return out;
}

nlohmann::json sweep_json(const SweepOptions& o, const sw::SweepConfig& c, const sw::SweepRun& run,
                          const std::vector<sw::Front>& fronts,
                          const std::vector<sw::Sensitivity>& sens, int shard_index,
                          int shard_count) {
  nlohmann::json j;
  j["tool_version"] = version();
  j["name"] = c.name;
  j["config"] = o.config;
  j["sweep_hash"] = c.hash;
  j["base"] = {
      {"chip", c.base}, {"name", run.expansion.base.name}, {"hash", run.expansion.base.hash}};
  j["mode"] = c.mode == sw::Mode::kZip ? "zip" : "cartesian";
  j["axes"] = sw::axes_json(c);
  nlohmann::json filters = nlohmann::json::array();
  for (const auto& f : c.filters) filters.push_back(f.text);
  j["filters"] = filters;
  j["models"] = sw::models_json(run);
  j["shard"] = fmt::format("{}/{}", shard_index, shard_count);
  j["jobs"] = o.jobs;
  j["db"] = o.db;
  j["counts"] = sw::counts_json(run);
  j["seconds"] = run.seconds;
  j["interrupted"] = run.interrupted;

  j["points"] = sw::points_json(c, run);
  j["pareto"] = sw::pareto_json(c, run, fronts);
  j["sensitivity"] = sw::sensitivity_json(sens);
  return j;
}

std::string pct(double v) {
  return fmt::format("{:.0f}%", 100.0 * v);
}

void print_summary(const sw::SweepConfig& c, const sw::SweepRun& run,
                   const std::vector<sw::Front>& fronts, const std::vector<sw::Sensitivity>& sens) {
  const auto& pts = run.expansion.points;
  int64_t infeasible = 0;
  for (size_t p : run.share) infeasible += pts[p].feasible ? 0 : 1;
  const int64_t pairs = run.simulated + run.reused;
  int64_t refused = 0;
  for (size_t p : run.share)
    for (const auto& r : run.results[p]) refused += r && !r->feasible ? 1 : 0;
  std::cout << fmt::format(
      "sweep '{}': {} points ({} infeasible chip{}, {} filtered out) x {} model{}; {} pairs ({} "
      "refused by the lowering): {} evaluated now, {} from the store, in {:.1f} s ({:.1f} "
      "pairs/s)\n",
      c.name, run.share.size(), infeasible, infeasible == 1 ? "" : "s", run.expansion.filtered_out,
      run.models.size(), run.models.size() == 1 ? "" : "s", pairs, refused, run.simulated,
      run.reused, run.seconds,
      run.seconds > 0 ? static_cast<double>(run.simulated) / run.seconds : 0.0);
  constexpr int64_t kListed = 10;  // the rest are in points.csv and sweep.json
  int64_t listed = 0;
  for (size_t p : run.share) {
    if (pts[p].feasible || listed++ >= kListed) continue;
    std::cout << fmt::format("  infeasible point {} ({}): {}\n", p, sw::point_label(pts[p]),
                             pts[p].reason);
  }
  if (infeasible > kListed)
    std::cout << fmt::format("  ... and {} more infeasible points\n", infeasible - kListed);
  for (const auto& f : fronts) {
    if (f.model != "all") continue;
    std::cout << fmt::format(
        "\n{} front over all models ({} point{}; latency and energy summed):\n",
        f.kind == "latency_area" ? "latency-area" : "energy-latency", f.entries.size(),
        f.entries.size() == 1 ? "" : "s");
    std::vector<std::string> head = {"point"};
    for (const auto& a : c.axes) head.push_back(a.key);
    for (const char* h : {"latency_ms", "energy_uj", "area_mm2"}) head.push_back(h);
    std::vector<bool> right(head.size(), true);
    Table t(head, right);
    for (const auto& e : f.entries) {
      const Totals tot = totals(run, e.point, run.models.size());
      std::vector<std::string> row = {std::to_string(e.point)};
      for (size_t a = 0; a < c.axes.size(); ++a)
        row.push_back(c.axes[a].text(pts[e.point].value_index[a]));
      row.push_back(fmt::format("{:.3f}", tot.latency_ms));
      row.push_back(fmt::format("{:.1f}", tot.energy_uj));
      row.push_back(fmt::format("{:.2f}", pts[e.point].area_mm2));
      t.row(row);
    }
    std::cout << t.str();
  }
  std::cout << "\nper-model fronts (points on latency-area / energy-latency):";
  for (size_t k = 0; k + 1 < fronts.size(); k += 2) {
    if (fronts[k].model == "all") continue;
    std::cout << fmt::format("{} {} {} / {}", k ? "," : "", fronts[k].model,
                             fronts[k].entries.size(), fronts[k + 1].entries.size());
  }
  std::cout << "\n\nsensitivity (change of the mean across an axis's values: latency / energy):\n";
  for (const auto& s : sens) {
    std::string line;
    for (const auto& a : s.axes)
      line += fmt::format("{}{} {} / {}", line.empty() ? "" : ", ", a.key, pct(a.latency_effect),
                          pct(a.energy_effect));
    std::cout << "  " << s.model << ": " << line << "\n";
  }
}

// The estimator's error on the re-simulated points (estimator sweeps).
void print_check(const EstimatedSweep& e) {
  std::cout << fmt::format("\nestimates by {} ({}, {})\n",
                           e.estimator.at("file").get<std::string>(),
                           e.estimator.at("form").get<std::string>(),
                           e.estimator.at("chip_aware").get<bool>() ? "chip-aware" : "one chip");
  if (e.check.is_null()) {
    std::cout << "no check (--check 0): the estimates' error on this sweep is not measured\n";
    return;
  }
  std::cout << fmt::format(
      "check: {} points re-simulated ({} pairs simulated now, the rest from the store)\n",
      e.check.at("points").get<size_t>(), e.check_simulated);
  Table t({"model", "pairs", "lat MAPE", "lat max", "lat bias", "lat Spearman", "energy MAPE",
           "energy max"},
          {false, true, true, true, true, true, true, true});
  auto row = [&](const std::string& name, const nlohmann::json& c) {
    const auto& l = c.at("latency");
    const auto& en = c.at("energy");
    t.row({name, std::to_string(c.at("pairs").get<int64_t>()),
           fmt::format("{:.2f}%", l.at("mape_pct").get<double>()),
           fmt::format("{:.2f}%", l.at("max_ape_pct").get<double>()),
           fmt::format("{:+.2f}%", l.at("bias_pct").get<double>()),
           fmt::format("{:.3f}", l.at("spearman").get<double>()),
           fmt::format("{:.2f}%", en.at("mape_pct").get<double>()),
           fmt::format("{:.2f}%", en.at("max_ape_pct").get<double>())});
  };
  for (const auto& m : e.check.at("models")) row(m.at("model").get<std::string>(), m);
  row("all", e.check.at("all"));
  std::cout << t.str();
  const auto& f = e.check.at("front");
  std::cout << fmt::format(
      "latency-area front of the model set over the checked points: {} of the {} estimated "
      "front points are on the simulated front ({} points)\n",
      f.at("estimated_on_simulated").get<size_t>(), f.at("estimated").get<size_t>(),
      f.at("simulated").get<size_t>());
  const int64_t refused = e.check.at("all").at("refused_by_lowering").get<int64_t>();
  if (refused > 0)
    std::cout << fmt::format(
        "{} checked pairs were refused by the lowering (estimated anyway: the estimator cannot "
        "tell)\n",
        refused);
}

void run_sweep_command(SweepOptions o) {
  if (o.db.empty() && !o.out.empty()) o.db = o.out + "/sweep.db";
  if (o.resume && o.db.empty())
    throw InputError("--resume needs --db or --out (the store to resume)");
  int shard_index = 0, shard_count = 1;
  parse_shard(o.shard, shard_index, shard_count);
  if (!o.estimator.empty() && shard_count > 1)
    throw InputError(
        "--estimator runs the whole sweep in one process (10,000 points x 3 models take seconds); "
        "drop --shard");
  // --mpi: ranks > 0 simulate what rank 0 hands them, and are done when it says so.
  std::unique_ptr<MpiSweep> mpi;
  if (o.mpi) {
    if (!o.shard.empty())
      throw InputError("--mpi and --shard exclude each other: an MPI job runs the whole sweep");
    if (o.jobs != 1)
      throw InputError(
          "--mpi and -j exclude each other: the ranks of `mpirun -np N` are the workers");
    if (!o.estimator.empty())
      throw InputError("--mpi simulates every pair on the MPI ranks; drop --estimator");
    mpi = std::make_unique<MpiSweep>(o.quiet || o.json == "-");
    if (mpi->rank() > 0) {
      mpi->serve(o.config);
      return;
    }
    if (mpi->launched()) o.mpi_ranks = mpi->size();
  } else if (mpi_launcher_ranks() > 1) {
    throw InputError(fmt::format(
        "started by mpirun as one of {} ranks without --mpi: each would run the whole sweep; add "
        "--mpi",
        mpi_launcher_ranks()));
  }
  const sw::SweepConfig config = sw::load_sweep_config(o.config);
  if (!o.out.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.out, ec);
    if (ec) throw Error(fmt::format("cannot create {}: {}", o.out, ec.message()));
  }
  sw::RunOptions ro;
  ro.jobs = o.jobs;
  ro.shard_index = shard_index;
  ro.shard_count = shard_count;
  ro.db = o.db;
  ro.resume = o.resume;
  ro.simulator_id = std::string("simulator:") + version();
  const bool quiet = o.quiet || o.json == "-";
  sw::SweepRun run;
  EstimatedSweep estimated;  // --estimator: the estimator used and the re-simulated check
  {
    StopSignals signals;
    ProgressLine line("sweep", o.progress, quiet);
    sw::RunHooks hooks;
    hooks.progress = [&](const sw::RunProgress& p) {
      line.update(p.total ? static_cast<double>(p.done) / static_cast<double>(p.total) : 1.0,
                  eta_text(p.done, p.total, p.session, p.seconds, "pairs"), p.seconds,
                  p.done >= p.total);
    };
    hooks.stop_requested = [] { return StopSignals::stop_requested(); };
    if (mpi && mpi->size() > 1) hooks.evaluate = mpi->evaluator();
    if (o.estimator.empty()) {
      run = sw::run_sweep(config, ro, hooks);
    } else {
      o.fit.jobs = o.jobs;
      o.fit.quiet = quiet;
      estimated =
          run_estimated_sweep(config, o.estimator, o.fit, static_cast<size_t>(o.check), ro, hooks);
      run = std::move(estimated.run);
      run.interrupted = estimated.interrupted;
    }
    line.finish();
  }
  if (run.interrupted) {
    const int sig = StopSignals::stop_signal() ? StopSignals::stop_signal() : SIGINT;
    if (o.db.empty()) {
      std::cerr << fmt::format(
          "nax: interrupted after {} simulated pairs; nothing kept (no --db or --out)\n",
          run.simulated);
    } else if (estimated.fit_interrupted) {
      std::cerr << fmt::format(
          "nax: interrupted while fitting the sweep's estimator (the labelled units are kept and "
          "the next run resumes them); continue with:\n  {}\n",
          resume_command(o));
    } else if (!o.estimator.empty()) {
      std::cerr << fmt::format(
          "nax: interrupted: {} simulated pairs of the check committed to {} (estimates take "
          "seconds and are not stored); continue with:\n  {}\n",
          estimated.check_simulated, o.db, resume_command(o));
    } else {
      std::cerr << fmt::format(
          "nax: interrupted: {} pairs of this run committed to {}; continue with:\n  {}\n",
          run.simulated, o.db, resume_command(o));
    }
    set_exit_code(128 + sig);
    return;
  }
  // Done with MPI: the workers may exit while the outputs are written. (An interrupted run
  // returned above: its message comes first, as mpirun may be killing every rank.)
  if (mpi) mpi->finish();
  const auto fronts = sw::pareto_fronts(run);
  const auto sens = sw::sensitivity(config, run);
  nlohmann::json j = sweep_json(o, config, run, fronts, sens, shard_index, shard_count);
  if (!o.estimator.empty()) {
    j["by"] = "estimator";
    j["estimator"] = estimated.estimator;
    j["check"] = estimated.check;
  } else {
    j["by"] = "simulator";
  }
  if (!o.out.empty()) {
    write_text(points_csv(config, run), o.out + "/points.csv");
    write_text(pareto_csv(config, run, fronts), o.out + "/pareto.csv");
    write_json(j, o.out + "/sweep.json");
    write_text(hw::dump_chip(run.expansion.base), o.out + "/base_chip.yaml");
    if (!estimated.check_csv.empty()) write_text(estimated.check_csv, o.out + "/check.csv");
  }
  PlotResult plots;  // tools/plot_sweep.py: fronts and sensitivity as PNGs in --out
  if (!o.out.empty() && !o.no_plots)
    plots = run_plot_script("plot_sweep.py", {o.out + "/sweep.json", "--out", o.out});
  if (!o.json.empty()) write_json(j, o.json);
  if (!quiet) {
    print_summary(config, run, fronts, sens);
    if (!o.estimator.empty()) print_check(estimated);
    if (!o.out.empty())
      std::cout << fmt::format(
          "\nwrote {0}/points.csv, {0}/pareto.csv, {0}/sweep.json, {0}/base_chip.yaml (store "
          "{1})\n",
          o.out, o.db);
    std::string pngs;
    for (const auto& f : plots.pngs) pngs += (pngs.empty() ? "" : ", ") + f;
    if (!pngs.empty()) std::cout << "plots in " << o.out << ": " << pngs << "\n";
    if (!plots.skipped.empty()) std::cout << "plots skipped (" << plots.skipped << ")\n";
  }
}

struct MergeOptions {
  std::string db;
  std::vector<std::string> stores;
  bool quiet = false;
};

void run_merge(const MergeOptions& o) {
  const int64_t added = sw::merge_stores(o.db, o.stores);
  if (!o.quiet)
    std::cout << fmt::format("merged {} store(s) into {}: {} new results\n", o.stores.size(), o.db,
                             added);
}

}  // namespace

void add_sweep_commands(CLI::App& app) {
  auto o = std::make_shared<SweepOptions>();
  CLI::App* s = app.add_subcommand("sweep",
                                   "Chip co-design sweep: simulate (or estimate) chip variants x "
                                   "models; Pareto fronts, sensitivity, plots");
  s->add_option("--config", o->config, "sweep description (configs/sweeps/*.yaml); required");
  s->add_option("-j,--jobs", o->jobs, "worker processes")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  s->add_option("--shard", o->shard, "do only points with index % n == i (i/n)");
  s->add_option("--db", o->db,
                "SQLite result store (default: DIR/sweep.db with --out, else in memory)");
  s->add_flag("--resume", o->resume, "continue a sweep the store already holds");
  s->add_option("--out", o->out,
                "directory for points.csv, pareto.csv, sweep.json, base_chip.yaml and PNG plots");
  s->add_flag("--no-plots", o->no_plots,
              "skip the PNG plots (tools/plot_sweep.py, needs /usr/bin/python3 with matplotlib)");
  s->add_option("--json", o->json, "write the result as JSON to PATH ('-' for stdout)");
  s->add_option("--progress", o->progress, "progress display: auto, bar, lines or none")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "bar", "lines", "none"}));
  s->add_flag("--quiet,-q", o->quiet, "no summary or progress on the terminal");
  s->add_flag("--mpi", o->mpi,
              "under mpirun: rank 0 keeps the store and writes the outputs, ranks 1..N-1 "
              "simulate (not with -j or --shard)");
  s->add_option("--estimator", o->estimator,
                "estimate every pair with a chip-aware estimator (FILE, or auto: fit one on a "
                "sample of the sweep's chips, cached) instead of simulating");
  s->add_option("--check", o->check,
                "with --estimator: points re-simulated to measure its error (random ones plus "
                "the estimated front; 0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  s->add_option("--fit-chips", o->fit.chips,
                "with --estimator auto: sweep chips labelled to fit the estimator")
      ->capture_default_str()
      ->check(CLI::Range(2, 64));
  s->add_option("--fit-units", o->fit.units, "with --estimator auto: labelled units per chip")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{500}, int64_t{1000000}));
  s->footer(
      "Examples:\n"
      "  nax sweep --config configs/sweeps/example.yaml -j 2 --out sweep-out\n"
      "  nax sweep --config configs/sweeps/example.yaml --out sweep-out --resume   # after Ctrl-C\n"
      "  nax sweep --config S.yaml --db s.db --shard 0/2 & nax sweep --config S.yaml --db s.db "
      "--shard 1/2\n"
      "  nax sweep --config S.yaml --db s.db --resume --out all   # both shards' outputs, no "
      "simulation\n"
      "  nax sweep merge --db all.db shard0.db shard1.db   # shards run with separate stores\n"
      "  mpirun -np 3 nax sweep --config S.yaml --mpi --out sweep-out   # 2 simulating ranks\n"
      "  nax sweep --config configs/sweeps/large.yaml --estimator auto -j 2 --out large   # "
      "estimated, checked");
  auto mg = std::make_shared<MergeOptions>();
  CLI::App* me = s->add_subcommand(
      "merge", "Merge sweep stores (shards run elsewhere) into one; then --resume writes it all");
  me->add_option("--db", mg->db, "output store (created when missing)")->required();
  me->add_option("stores", mg->stores, "stores to merge in")->required();
  me->add_flag("--quiet,-q", mg->quiet, "no summary");
  me->footer(
      "Example:\n"
      "  nax sweep merge --db all.db s0.db s1.db\n"
      "  nax sweep --config S.yaml --db all.db --resume --out all   # nothing simulated");
  me->callback([mg] { run_merge(*mg); });
  s->callback([o, me] {
    if (me->parsed()) return;
    if (o->config.empty()) throw InputError("--config FILE is required");
    run_sweep_command(*o);
  });
}

}  // namespace nax::cli
