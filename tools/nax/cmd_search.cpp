// `nax search`: hardware-aware NAS over a space file (nas/search/): the baseline is evaluated
// first, the constraints are resolved against it, the algorithm runs to the budget (checkpointed in
// the SQLite store after every batch; `--resume` continues an interrupted run), the best candidate
// and the Pareto front are re-simulated, exported as model YAML and ONNX, and written as CSV and
// JSON.
//
// A space with chip decisions (`chip:`) searches the chip with the network (joint co-design): each
// candidate runs on the base chip (--chip, -p) with its chip options as overrides (ChipResolver,
// tools/nax/oracles.hpp), under an area budget (--max-area, default the base chip's area for such
// spaces); the best candidate's chip is reported (overrides, hash, area) and written as a chip
// YAML (--chip-out, and best-chip.yaml in --out).
#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "hw/chip/area.hpp"
#include "models/common/error.hpp"
#include "tools/nax/cli.hpp"
#include "tools/nax/progress.hpp"
#include "tools/nax/search_common.hpp"

namespace nax::cli {
namespace {

struct SearchOptions {
  std::string space;
  std::string variant;
  bool uncurated = false;
  OracleSpec oracle;
  search::SearchConfig config;
  std::string objective = "latency_ms";
  std::string chip_out;
  ConstraintSpec constraints;
  bool no_score = false;
  std::string accuracy = "score";
  std::string db;
  bool resume = false;
  std::string out;
  std::string json;
  int report = 5;  // front candidates re-simulated and exported
  std::string start = "auto";
  bool quiet = false;
};

std::string resume_command(const SearchOptions& o) {
  std::string s = "nax search --space " + o.space + " --chip " + o.oracle.chip;
  for (const auto& p : o.oracle.overrides) s += " -p " + p;
  if (!o.variant.empty()) s += " --variant " + o.variant;
  if (o.uncurated) s += " --uncurated";
  s += fmt::format(" --algorithm {} --budget {} --seed {} --db {} --resume", o.config.algorithm,
                   o.config.budget, o.config.seed, o.db);
  return s;
}

// "32x32 MACs, 2048 KiB SRAM, 17 GB/s DRAM, 32 vector lanes"
std::string chip_summary(const hw::ChipParams& c) {
  return fmt::format("{}x{} MACs, {} KiB SRAM, {} GB/s DRAM, {} vector lanes", c.mac_array.rows,
                     c.mac_array.cols, c.sram.capacity_kib, c.dram.bandwidth_gb_per_s,
                     c.vector_unit.lanes);
}

nlohmann::json chip_json(const hw::ChipParams& c, const std::vector<std::string>& overrides) {
  return {{"name", c.name},
          {"hash", c.hash},
          {"overrides", overrides},
          {"area_mm2", hw::chip_area_mm2(c)},
          {"summary", chip_summary(c)}};
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
  return s;
}

void run_search_command(SearchOptions o) {
  if (!search::parse_objective(o.objective, o.config.objective))
    throw InputError(
        "--objective: expected latency_ms, energy_uj, param_bytes, peak_activation_bytes or "
        "score, got '" +
        o.objective + "'");
  if (o.config.objective == search::Objective::kEnergy && o.oracle.latency != "simulate")
    throw InputError(
        "--objective energy_uj: energy comes from the simulator; add --latency simulate (the "
        "estimator predicts latency only)");
  if (o.no_score) {
    o.config.score.enabled = false;
    if (o.constraints.min_score == "baseline") o.constraints.min_score = "none";
  }
  search::parse_accuracy_source(o.accuracy, o.config.score);
  // The algorithm's name and options are checked before anything is evaluated (a throw after a
  // simulation would also trip sanitizer builds, google/sanitizers#189).
  search::make_algorithm(o.config.algorithm, {2}, {false}, o.config.seed,
                         o.config.algorithm_options);
  {
    search::Metrics any;  // the constraints' syntax, against a stand-in baseline
    any.score = 0;
    any.area_mm2 = 1;
    ConstraintSpec c = o.constraints;
    if (c.max_area == "auto") c.max_area = "none";
    resolve_constraints(c, any, "--constraints");
  }
  if (o.resume && o.db.empty()) throw InputError("--resume needs --db (the store to resume)");
  o.oracle.jobs = o.config.jobs;
  o.oracle.quiet = o.quiet;
  // The base chip and the space before anything is measured (or an estimator fitted): chip
  // decisions are checked against the base chip when the space loads.
  const hw::ChipParams base_chip = hw::load_chip(o.oracle.chip, o.oracle.overrides);
  search::SpaceOptions so;
  so.curated = !o.uncurated;
  so.variant = o.variant;
  so.parallelism = base_chip.parallelism_factor();
  so.chip = chip_axes(o.oracle.chip, o.oracle.overrides);
  const search::SearchSpace space = search::SearchSpace::load(o.space, so);
  const bool joint = space.has_chip();
  if (joint && o.oracle.latency == "estimate" && o.oracle.estimator.empty())
    check_estimator(space, o.oracle.latency, nullptr, "");
  SearchSetup setup = make_search_setup(o.oracle);
  check_estimator(space, o.oracle.latency, setup.estimator.get(), setup.estimator_path);
  ChipResolver chips(o.oracle.chip, o.oracle.overrides, *setup.latency,
                     joint ? setup.estimator : nullptr);
  if (o.constraints.max_area == "auto") o.constraints.max_area = joint ? "base" : "none";

  // The baseline first (no constraints: it defines them), on the base chip.
  search::SearchConfig base_cfg = o.config;
  base_cfg.constraints = {};
  search::Step baseline;
  {
    search::Searcher b(space, chips, base_cfg, o.db, true);
    baseline = b.evaluate_baseline();
  }
  o.config.constraints = resolve_constraints(o.constraints, baseline.metrics, "--constraints");
  if (o.start == "auto") o.start = joint ? "baseline-network" : "baseline";
  if (o.start == "baseline" || o.start == "baseline-network") {
    o.config.algorithm_options.start = space.baseline();
    if (o.start == "baseline-network") {
      if (!joint) throw InputError("--start baseline-network: the space has no chip decisions");
      for (const auto& d : space.decisions())
        o.config.algorithm_options.start_free.push_back(d.is_chip());
    }
  } else if (o.start != "random") {
    throw InputError("--start: expected auto, baseline, baseline-network or random, got '" +
                     o.start + "'");
  }
  search::Searcher searcher(space, chips, o.config, o.db, o.resume);
  if (!o.quiet) {
    size_t chip_decisions = 0;
    for (const auto& d : space.decisions()) chip_decisions += d.is_chip();
    std::cerr << fmt::format(
        "nax search: space {} ({}, {} decisions{}, 10^{:.1f} candidates) on chip {}{}, latency by "
        "{}, {} x {} candidates, run {}\n",
        space.name(), o.uncurated ? "uncurated" : "curated", space.decisions().size(),
        joint ? fmt::format(" of which {} about the chip", chip_decisions) : "", space.log10_size(),
        setup.chip.name,
        o.config.constraints.max_area_mm2
            ? fmt::format(" ({:.3f} mm2; area budget {:.3f} mm2)", hw::chip_area_mm2(setup.chip),
                          *o.config.constraints.max_area_mm2)
            : "",
        setup.latency->id(), o.config.algorithm, o.config.budget, searcher.run_id());
  }
  const search::SearchOutcome out = run_search(searcher, "search", o.config.objective, o.quiet);

  // Report: the best and the front, re-simulated, exported.
  std::vector<int> report;
  if (out.best) report.push_back(*out.best);
  for (int i : out.pareto)
    if (static_cast<int>(report.size()) < o.report &&
        std::find(report.begin(), report.end(), i) == report.end())
      report.push_back(i);
  const std::string out_dir = o.out.empty() ? std::string() : o.out;
  // Every reported number re-simulated, each candidate on its own chip.
  auto simulate = [&](const spec::ModelSpec& m, const std::vector<std::string>& overrides,
                      Reported& r) {
    const auto ms = simulator_oracle(chips.params(overrides))->measure(spec::build_graph(m));
    r.simulated_ms = ms.latency_ms;
    r.simulated_energy_uj = ms.energy_uj;
    if (joint) r.chip = chip_json(chips.params(overrides), overrides);
  };
  std::vector<Reported> reported;
  for (int i : report) {
    const search::Step& st = out.steps[static_cast<size_t>(i)];
    Reported r;
    r.variant = i == (out.best ? *out.best : -1) ? "best" : "pareto";
    r.model_name = st.model_name;
    r.metrics = st.metrics;
    r.describe = space.describe(st.genotype);
    const spec::ModelSpec m = space.realize(st.genotype);
    simulate(m, space.chip_overrides(st.genotype), r);
    if (!out_dir.empty()) export_model(m, out_dir + "/models", r);
    reported.push_back(r);
  }
  Reported base_r;
  base_r.variant = "baseline";
  base_r.model_name = space.base().name;
  base_r.metrics = baseline.metrics;
  simulate(space.base(), {}, base_r);
  // The best candidate's chip.
  std::vector<std::string> best_overrides;
  if (out.best)
    best_overrides = space.chip_overrides(out.steps[static_cast<size_t>(*out.best)].genotype);
  std::string chip_yaml_path = o.chip_out;
  if (chip_yaml_path.empty() && joint && !out_dir.empty() && out.best)
    chip_yaml_path = out_dir + "/best-chip.yaml";
  if (!chip_yaml_path.empty()) {
    if (!out.best) throw Error("--chip-out: no feasible candidate, so no chip to write");
    if (!out_dir.empty()) std::filesystem::create_directories(out_dir);
    write_text(chips.yaml(best_overrides), chip_yaml_path);
  }

  nlohmann::json j;
  j["tool_version"] = version();
  j["space"] = {{"file", o.space},
                {"name", space.name()},
                {"curated", !o.uncurated},
                {"variant", o.variant},
                {"decisions", space.decisions().size()},
                {"log10_size", space.log10_size()}};
  j["chip"] = {{"name", setup.chip.name},
               {"hash", setup.chip.hash},
               {"area_mm2", hw::chip_area_mm2(setup.chip)},
               {"summary", chip_summary(setup.chip)}};
  j["joint"] = joint;
  if (out.best) {
    j["best_chip"] = chip_json(chips.params(best_overrides), best_overrides);
    if (!chip_yaml_path.empty()) j["best_chip"]["yaml"] = chip_yaml_path;
  }
  j["latency_oracle"] = setup.latency->id();
  if (!setup.estimator_path.empty()) j["estimator"] = setup.estimator_path;
  j["algorithm"] = o.config.algorithm;
  j["seed"] = o.config.seed;
  j["budget"] = o.config.budget;
  j["objective"] = o.objective;
  j["constraints"] = o.config.constraints.to_json();
  j["run_id"] = out.run_id;
  j["evaluations"] = out.steps.size();
  j["evaluated_now"] = out.evaluated;
  j["resumed"] = out.resumed;
  j["interrupted"] = out.interrupted;
  j["exhausted"] = out.exhausted;
  j["infeasible"] = std::count_if(out.steps.begin(), out.steps.end(),
                                  [](const search::Step& s) { return !s.metrics.feasible; });
  j["baseline"] = reported_json(base_r, base_r);
  nlohmann::json res = nlohmann::json::array();
  for (const auto& r : reported) res.push_back(reported_json(r, base_r));
  j["results"] = res;
  nlohmann::json front = nlohmann::json::array();
  for (int i : out.pareto) {
    const auto& st = out.steps[static_cast<size_t>(i)];
    nlohmann::json p = st.metrics.to_json();
    p["step"] = st.index;
    p["model"] = st.model_name;
    p["changes"] = space.describe(st.genotype);
    if (joint) p["chip_summary"] = chip_summary(chips.params(st.metrics.chip_overrides));
    front.push_back(p);
  }
  j["pareto"] = front;
  if (!out_dir.empty()) {
    std::filesystem::create_directories(out_dir);
    write_text(search::steps_csv(space, out.steps), out_dir + "/steps.csv");
    write_text(search::steps_csv(space, out.steps, out.pareto), out_dir + "/pareto.csv");
    write_json(j, out_dir + "/search.json");
  }
  if (!o.json.empty()) write_json(j, o.json);
  if (out.interrupted) {
    std::cerr << fmt::format(
        "nax search: interrupted after {} of {} candidates; every finished batch is in {}. "
        "Resume with:\n  {}\n",
        out.steps.size(), o.config.budget, o.db.empty() ? "(no --db: nothing kept)" : o.db,
        resume_command(o));
    set_exit_code(128 + StopSignals::stop_signal());
  }
  if (o.quiet || o.json == "-") return;

  std::cout << fmt::format(
      "{} candidates ({} evaluated now, {} from the log), {} infeasible, {:.1f} s\n",
      out.steps.size(), out.evaluated, out.resumed, j["infeasible"].get<int>(), out.seconds);
  std::vector<std::string> header = {"",          "model",    "latency ms", "simulated ms",
                                     "reduction", "sim uJ",   "area mm2",   "score",
                                     "params",    "peak act", "MMACs"};
  std::vector<bool> right = {false, false, true, true, true, true, true, true, true, true, true};
  if (joint) {
    header.insert(header.begin() + 2, "chip");
    right.insert(right.begin() + 2, false);
  }
  Table t(header, right);
  auto row = [&](const Reported& r) {
    const nlohmann::json rj = reported_json(r, base_r);
    std::vector<std::string> cells = {
        r.variant,
        r.model_name,
        r.metrics.latency_ms ? fmt::format("{:.4f}", *r.metrics.latency_ms) : "-",
        r.simulated_ms ? fmt::format("{:.4f}", *r.simulated_ms) : "-",
        rj["reduction_pct"].is_null() ? "-"
                                      : fmt::format("{:.1f}%", rj["reduction_pct"].get<double>()),
        r.simulated_energy_uj ? fmt::format("{:.1f}", *r.simulated_energy_uj) : "-",
        r.metrics.area_mm2 ? fmt::format("{:.3f}", *r.metrics.area_mm2) : "-",
        r.metrics.score ? fmt::format("{:.3f}", *r.metrics.score) : "-",
        grouped(r.metrics.params),
        bytes_str(r.metrics.peak_activation_bytes),
        fmt::format("{:.1f}", static_cast<double>(r.metrics.macs) / 1e6)};
    if (joint) {
      const hw::ChipParams& c = chips.params(r.metrics.chip_overrides);
      cells.insert(cells.begin() + 2,
                   fmt::format("{}x{} {} {}K {}L {}GB/s", c.mac_array.rows, c.mac_array.cols,
                               hw::dataflow_name(c.mac_array.dataflow), c.sram.capacity_kib,
                               c.vector_unit.lanes, c.dram.bandwidth_gb_per_s));
    }
    t.row(cells);
  };
  row(base_r);
  for (const auto& r : reported) row(r);
  std::cout << t.str();
  if (!reported.empty()) std::cout << "best: " << reported.front().describe << "\n";
  if (joint && out.best) {
    const hw::ChipParams& c = chips.params(best_overrides);
    std::cout << fmt::format(
        "best chip: {} ({}), hash {}, area {:.3f} mm2 (base {}: {}, {:.3f} mm2{}){}\n",
        chip_summary(c), best_overrides.empty() ? "the base chip" : joined(best_overrides), c.hash,
        hw::chip_area_mm2(c), setup.chip.name, chip_summary(setup.chip),
        hw::chip_area_mm2(setup.chip),
        o.config.constraints.max_area_mm2
            ? fmt::format("; budget {:.3f} mm2", *o.config.constraints.max_area_mm2)
            : "",
        chip_yaml_path.empty() ? "" : "; written to " + chip_yaml_path);
  }
  if (!out_dir.empty()) std::cout << "results in " << out_dir << "/\n";
}

}  // namespace

void add_search_commands(CLI::App& app) {
  auto o = std::make_shared<SearchOptions>();
  CLI::App* s = app.add_subcommand(
      "search", "Hardware-aware NAS over a search space: latency, memory and trainability score");
  s->add_option("--space", o->space, "search space file (configs/spaces/*.yaml)")->required();
  s->add_option("--variant", o->variant,
                "variant of the space (its `variants:`; default: all decisions)");
  s->add_flag("--uncurated", o->uncurated,
              "channels at step 1 and fine depth multipliers instead of the curated choices");
  s->add_option("--chip", o->oracle.chip, "chip preset or YAML file")->capture_default_str();
  s->add_option("-p", o->oracle.overrides, "chip override key.path=value (repeatable)");
  s->add_option("--latency", o->oracle.latency,
                "estimate (the estimator; top candidates re-simulated) or simulate")
      ->capture_default_str();
  s->add_option("--estimator", o->oracle.estimator,
                "estimator file (default: the cached one for the chip, fitted on first use)");
  s->add_option("--algorithm", o->config.algorithm,
                "random, evolution, rl, local or zeroshot-evolution")
      ->capture_default_str();
  s->add_option("--budget", o->config.budget, "candidates to propose")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  s->add_option("--seed", o->config.seed, "seed of the algorithm")->capture_default_str();
  s->add_option("--batch", o->config.batch, "candidates per ask (results do not depend on -j)")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  s->add_option("-j,--jobs", o->config.jobs, "worker processes computing scores")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  s->add_option("--population", o->config.algorithm_options.population, "evolution population")
      ->capture_default_str()
      ->check(CLI::Range(2, 100000));
  s->add_option("--start", o->start,
                "auto (baseline-network for a space with chip decisions, else baseline), baseline "
                "(the search starts from the baseline), baseline-network (evolution: the "
                "baseline network on random chips) or random (from random candidates)")
      ->capture_default_str();
  s->add_option("--objective", o->objective,
                "latency_ms, energy_uj (needs --latency simulate), param_bytes, "
                "peak_activation_bytes (minimised) or score (maximised)")
      ->capture_default_str();
  o->constraints.max_area = "auto";
  s->add_option("--max-area", o->constraints.max_area,
                "chip area budget: auto (base for a space with chip decisions, else none), none, "
                "base (the base chip's area), a share of it ('90%') or mm2 ('3.1')")
      ->capture_default_str();
  s->add_option("--chip-out", o->chip_out,
                "write the best candidate's chip as a chip YAML (joint searches also write "
                "best-chip.yaml into --out)");
  s->add_option("--min-score", o->constraints.min_score,
                "score constraint: baseline (the baseline's score), baseline-sd (less its "
                "seed-to-seed standard deviation), none, or a number")
      ->capture_default_str();
  s->add_option(
       "--max-param-bytes", o->constraints.max_param_bytes,
       "parameter memory budget: none, a share of the baseline's ('53%') or bytes ('1MiB')")
      ->capture_default_str();
  s->add_option("--max-peak-activation", o->constraints.max_peak_activation_bytes,
                "peak activation memory budget: none, '53%' or bytes")
      ->capture_default_str();
  s->add_option("--min-macs", o->constraints.min_macs,
                "compute kept: none, a share of the baseline's MACs ('100%') or a number")
      ->capture_default_str();
  s->add_flag("--weights-fit-sram", o->constraints.weights_fit_sram,
              "every parameter byte must fit the chip's SRAM at once");
  s->add_flag("--no-score", o->no_score,
              "no accuracy signal (no libtorch): latency and memory only");
  s->add_option("--accuracy", o->accuracy,
                "the accuracy signal: score (zero-shot trainability), oracle (published accuracy "
                "of benchmark networks), train (short CIFAR-10 training) or command:'CMD {onnx}' "
                "(your evaluator, nas/accuracy/README.md)")
      ->capture_default_str();
  s->add_option("--cifar", o->config.score.cifar_dir,
                "directory with the CIFAR-10 batches for the score and training (default: "
                "$NAX_CIFAR_DIR, else the shared copy)");
  s->add_option("--proxy-batch", o->config.score.batch,
                "images per batch of the score's proxies (0: each proxy's paper batch)")
      ->capture_default_str()
      ->check(CLI::Range(0, 4096));
  s->add_option("--train-epochs", o->config.score.train_epochs, "epochs of --accuracy train")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  s->add_option("--accuracy-dir", o->config.score.work_dir,
                "work directory of --accuracy command:...")
      ->capture_default_str();
  s->add_option("--proxy-scale", o->config.score.resolution_scale,
                "the score is computed at this share of the input resolution")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 1.0));
  s->add_flag(
      "--eager-score", [o](int64_t) { o->config.lazy_score = false; },
      "score every feasible candidate (default: only those that could become the best)");
  s->add_option("--db", o->db, "SQLite store: evaluation cache and the run's log (for --resume)");
  s->add_flag("--resume", o->resume, "continue the run the store holds");
  s->add_option("--out", o->out, "directory for steps.csv, pareto.csv, search.json and models/");
  s->add_option("--report", o->report, "candidates re-simulated and exported (best + front)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  s->add_option("--json", o->json, "write the result as JSON to PATH ('-' for stdout)");
  s->add_flag("-q,--quiet", o->quiet, "no table or progress");
  s->footer(
      "Examples:\n"
      "  nax search --space configs/spaces/person-detector.yaml --variant v3 --budget 300 "
      "--db pd.db --out pd\n"
      "  nax search --space configs/spaces/person-detector.yaml --variant v3 --budget 300 "
      "--db pd.db --resume   # after Ctrl-C\n"
      "  nax search --space configs/spaces/camera-classifier.yaml --objective score "
      "--max-param-bytes 53% --max-peak-activation 53% --min-score none\n"
      "  nax search --space configs/spaces/person-detector.yaml --latency simulate --no-score "
      "--algorithm local\n"
      "  nax search --space configs/spaces/codesign-person-detector.yaml --variant joint "
      "--latency simulate --max-area base --chip-out best-chip.yaml   # chip + network");
  s->callback([o] { run_search_command(*o); });
}

}  // namespace nax::cli
