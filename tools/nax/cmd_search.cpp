// `nax search`: hardware-aware NAS over a space file (nas/search/): the baseline is evaluated
// first, the constraints are resolved against it, the algorithm runs to the budget (checkpointed in
// the SQLite store after every batch; `--resume` continues an interrupted run), the best candidate
// and the Pareto front are re-simulated, exported as model YAML and ONNX, and written as CSV and
// JSON.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>

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
  ConstraintSpec constraints;
  bool no_score = false;
  std::string accuracy = "score";
  std::string db;
  bool resume = false;
  std::string out;
  std::string json;
  int report = 5;  // front candidates re-simulated and exported
  std::string start = "baseline";
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

void run_search_command(SearchOptions o) {
  if (!search::parse_objective(o.objective, o.config.objective))
    throw InputError(
        "--objective: expected latency_ms, param_bytes, peak_activation_bytes or "
        "score, got '" +
        o.objective + "'");
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
    resolve_constraints(o.constraints, any, "--constraints");
  }
  if (o.resume && o.db.empty()) throw InputError("--resume needs --db (the store to resume)");
  o.oracle.jobs = o.config.jobs;
  o.oracle.quiet = o.quiet;
  SearchSetup setup = make_search_setup(o.oracle);
  search::SpaceOptions so;
  so.curated = !o.uncurated;
  so.variant = o.variant;
  so.parallelism = setup.limits.parallelism;
  const search::SearchSpace space = search::SearchSpace::load(o.space, so);

  // The baseline first (no constraints: it defines them).
  search::SearchConfig base_cfg = o.config;
  base_cfg.constraints = {};
  search::Step baseline;
  {
    search::Searcher b(space, *setup.latency, setup.limits, base_cfg, o.db, true);
    baseline = b.evaluate_baseline();
  }
  o.config.constraints = resolve_constraints(o.constraints, baseline.metrics, "--constraints");
  if (o.start == "baseline")
    o.config.algorithm_options.start = space.baseline();
  else if (o.start != "random")
    throw InputError("--start: expected baseline or random, got '" + o.start + "'");
  search::Searcher searcher(space, *setup.latency, setup.limits, o.config, o.db, o.resume);
  if (!o.quiet)
    std::cerr << fmt::format(
        "nax search: space {} ({}, {} decisions, 10^{:.1f} candidates) on chip {}, latency by {}, "
        "{} x {} candidates, run {}\n",
        space.name(), o.uncurated ? "uncurated" : "curated", space.decisions().size(),
        space.log10_size(), setup.chip.name, setup.latency->id(), o.config.algorithm,
        o.config.budget, searcher.run_id());
  const search::SearchOutcome out = run_search(searcher, "search", o.config.objective, o.quiet);

  // Report: the best and the front, re-simulated, exported.
  std::vector<int> report;
  if (out.best) report.push_back(*out.best);
  for (int i : out.pareto)
    if (static_cast<int>(report.size()) < o.report &&
        std::find(report.begin(), report.end(), i) == report.end())
      report.push_back(i);
  const std::string out_dir = o.out.empty() ? std::string() : o.out;
  const auto base_sim = setup.simulator->latency_ms(spec::build_graph(space.base()));
  std::vector<Reported> reported;
  for (int i : report) {
    const search::Step& st = out.steps[static_cast<size_t>(i)];
    Reported r;
    r.variant = i == (out.best ? *out.best : -1) ? "best" : "pareto";
    r.model_name = st.model_name;
    r.metrics = st.metrics;
    r.describe = space.describe(st.genotype);
    const spec::ModelSpec m = space.realize(st.genotype);
    r.simulated_ms = setup.simulator->latency_ms(spec::build_graph(m));
    if (!out_dir.empty()) export_model(m, out_dir + "/models", r);
    reported.push_back(r);
  }
  Reported base_r;
  base_r.variant = "baseline";
  base_r.model_name = space.base().name;
  base_r.metrics = baseline.metrics;
  base_r.simulated_ms = base_sim;

  nlohmann::json j;
  j["tool_version"] = version();
  j["space"] = {{"file", o.space},
                {"name", space.name()},
                {"curated", !o.uncurated},
                {"variant", o.variant},
                {"decisions", space.decisions().size()},
                {"log10_size", space.log10_size()}};
  j["chip"] = {{"name", setup.chip.name}, {"hash", setup.chip.hash}};
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
  Table t({"", "model", "latency ms", "simulated ms", "reduction", "score", "params", "peak act",
           "MMACs"},
          {false, false, true, true, true, true, true, true, true});
  auto row = [&](const Reported& r) {
    const nlohmann::json rj = reported_json(r, base_r);
    t.row({r.variant, r.model_name,
           r.metrics.latency_ms ? fmt::format("{:.4f}", *r.metrics.latency_ms) : "-",
           r.simulated_ms ? fmt::format("{:.4f}", *r.simulated_ms) : "-",
           rj["reduction_pct"].is_null()
               ? "-"
               : fmt::format("{:.1f}%", rj["reduction_pct"].get<double>()),
           r.metrics.score ? fmt::format("{:.3f}", *r.metrics.score) : "-",
           grouped(r.metrics.params), bytes_str(r.metrics.peak_activation_bytes),
           fmt::format("{:.1f}", static_cast<double>(r.metrics.macs) / 1e6)});
  };
  row(base_r);
  for (const auto& r : reported) row(r);
  std::cout << t.str();
  if (!reported.empty()) std::cout << "best: " << reported.front().describe << "\n";
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
                "baseline (the search starts from the baseline) or random (from random candidates)")
      ->capture_default_str();
  s->add_option("--objective", o->objective,
                "latency_ms, param_bytes, peak_activation_bytes (minimised) or score (maximised)")
      ->capture_default_str();
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
      "--algorithm local");
  s->callback([o] { run_search_command(*o); });
}

}  // namespace nax::cli
