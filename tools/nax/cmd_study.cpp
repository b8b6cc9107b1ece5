// `nax study NAME`: the seed's case studies (configs/studies/NAME.yaml, format in
// configs/studies/README.md), one command each: the baseline, one search per variant (sharing one
// evaluation cache), every reported number re-simulated, optional short training of baseline and
// result, optional curated-vs-uncurated comparison, and a report (study.json, report.md, PNG plots
// drawn by tools/plot_study.py when Debian's python3-matplotlib is there).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "models/common/error.hpp"
#include "models/common/yaml_io.hpp"
#include "models/ir/analysis.hpp"
#include "nas/torch/api.hpp"
#include "tools/nax/cli.hpp"
#include "tools/nax/plots.hpp"
#include "tools/nax/progress.hpp"
#include "tools/nax/search_common.hpp"

namespace nax::cli {
namespace {

namespace fs = std::filesystem;

struct CurationConfig {
  bool present = false;
  std::string variant = "curation";
  std::vector<std::string> algorithms = {"evolution", "random"};
  int seeds = 10;
  int budget = 150;
  double tolerance = 0.01;
  std::string landscape_stage;
  int landscape_min = 8, landscape_max = 96;
  std::optional<ConstraintSpec> constraints;  // default: the study's
};

struct StudyConfig {
  std::string file;
  std::string name;
  std::string description;
  std::string space;  // resolved path
  OracleSpec oracle;
  std::string objective = "latency_ms";
  ConstraintSpec constraints;
  search::SearchConfig search;
  std::vector<std::string> variants;  // "" = all decisions
  bool start_from_baseline = true;
  std::map<std::string, double> seed_reported;
  int candidates = 0;  // front candidates reported besides each variant's best (A, B, ...)
  int short_train_epochs = 0;
  int short_train_images = 4000;
  double proxy_scale = 0.2;
  CurationConfig curation;
};

[[noreturn]] void bad(const YAML::Node& n, const std::string& file, const std::string& what) {
  throw InputError(loc_of(n, file), what);
}

template <typename T>
T scalar(const YAML::Node& n, const std::string& file, const std::string& key,
         const std::string& expected) {
  try {
    return n.as<T>();
  } catch (const YAML::Exception&) {
    bad(n, file, fmt::format("{}: expected {}, got {}", key, expected, brief(n)));
  }
}

std::vector<std::string> string_list(const YAML::Node& n, const std::string& file,
                                     const std::string& key) {
  if (!n.IsSequence()) bad(n, file, key + ": expected a list, got " + kind_name(n));
  std::vector<std::string> out;
  for (const auto& e : n) out.push_back(scalar<std::string>(e, file, key, "a string"));
  return out;
}

void check_keys(const YAML::Node& map, const std::string& file, const std::string& where,
                const std::vector<std::string>& keys) {
  if (!map.IsMap()) bad(map, file, where + ": expected a mapping, got " + kind_name(map));
  for (const auto& kv : map) {
    const std::string k = kv.first.as<std::string>();
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) {
      std::string list;
      for (const auto& x : keys) list += (list.empty() ? "" : ", ") + x;
      bad(kv.first, file,
          fmt::format("{}: unknown key '{}' (expected one of: {})", where, k, list));
    }
  }
}

std::string resolve_study_path(const std::string& arg) {
  if (arg.size() > 5 &&
      (arg.substr(arg.size() - 5) == ".yaml" || arg.substr(arg.size() - 4) == ".yml"))
    return arg;
  const fs::path dir = source_dir() / "configs" / "studies";
  const fs::path p = dir / (arg + ".yaml");
  if (!fs::is_directory(dir))
    throw InputError(
        fmt::format("unknown study '{}': no studies directory at {} (this binary "
                    "was built from another tree; pass a study .yaml file)",
                    arg, dir.string()));
  if (!fs::exists(p)) {
    std::string names;
    std::vector<std::string> found;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".yaml") found.push_back(e.path().stem().string());
    std::sort(found.begin(), found.end());
    for (const auto& n : found) names += (names.empty() ? "" : ", ") + n;
    throw InputError(fmt::format("unknown study '{}' (studies: {}; or a .yaml file)", arg, names));
  }
  return p.string();
}

ConstraintSpec parse_constraints(const YAML::Node& n, const std::string& f) {
  ConstraintSpec c;
  check_keys(n, f, "constraints",
             {"min_score", "max_param_bytes", "max_peak_activation_bytes", "min_macs",
              "weights_fit_sram"});
  auto text = [&](const char* key, std::string& out, const char* expected) {
    if (n[key]) out = scalar<std::string>(n[key], f, key, expected);
  };
  text("min_score", c.min_score, "baseline, baseline-sd, none or a number");
  text("max_param_bytes", c.max_param_bytes, "a budget");
  text("max_peak_activation_bytes", c.max_peak_activation_bytes, "a budget");
  text("min_macs", c.min_macs, "none, a share of the baseline's or a number");
  if (n["weights_fit_sram"])
    c.weights_fit_sram =
        scalar<bool>(n["weights_fit_sram"], f, "weights_fit_sram", "true or false");
  return c;
}

StudyConfig load_study(const std::string& arg) {
  StudyConfig c;
  c.file = resolve_study_path(arg);
  const YAML::Node root = load_yaml_file(c.file);
  const std::string& f = c.file;
  check_keys(
      root, f, "study",
      {"name", "description", "space", "chip", "latency", "objective", "constraints", "search",
       "variants", "seed_reported", "candidates", "short_train", "proxy_scale", "curation"});
  if (!root["name"] || !root["space"]) bad(root, f, "study: `name` and `space` are required");
  c.name = scalar<std::string>(root["name"], f, "name", "a string");
  if (root["description"])
    c.description = scalar<std::string>(root["description"], f, "description", "a string");
  c.space = (fs::path(f).parent_path() / scalar<std::string>(root["space"], f, "space", "a path"))
                .lexically_normal()
                .string();
  if (root["chip"]) c.oracle.chip = scalar<std::string>(root["chip"], f, "chip", "a chip");
  if (root["latency"])
    c.oracle.latency = scalar<std::string>(root["latency"], f, "latency", "estimate or simulate");
  if (root["objective"])
    c.objective = scalar<std::string>(root["objective"], f, "objective", "an objective");
  if (!search::parse_objective(c.objective, c.search.objective))
    bad(root["objective"], f,
        "objective: expected latency_ms, param_bytes, peak_activation_bytes or score");
  if (const auto n = root["constraints"]) c.constraints = parse_constraints(n, f);
  if (const auto n = root["search"]) {
    check_keys(n, f, "search",
               {"algorithm", "budget", "batch", "seed", "population", "sample", "start"});
    if (n["start"]) {
      const std::string st = scalar<std::string>(n["start"], f, "start", "baseline or random");
      if (st != "baseline" && st != "random")
        bad(n["start"], f, "start: expected baseline or random, got '" + st + "'");
      c.start_from_baseline = st == "baseline";
    }
    if (n["algorithm"])
      c.search.algorithm = scalar<std::string>(n["algorithm"], f, "algorithm", "an algorithm");
    if (n["budget"]) c.search.budget = scalar<int>(n["budget"], f, "budget", "an integer");
    if (n["batch"]) c.search.batch = scalar<int>(n["batch"], f, "batch", "an integer");
    if (n["seed"]) c.search.seed = scalar<uint64_t>(n["seed"], f, "seed", "an integer");
    if (n["population"])
      c.search.algorithm_options.population =
          scalar<int>(n["population"], f, "population", "an integer");
    if (n["sample"])
      c.search.algorithm_options.sample = scalar<int>(n["sample"], f, "sample", "an integer");
    if (c.search.budget < 1 || c.search.batch < 1)
      bad(n, f, "search: budget and batch must be at least 1");
  }
  c.variants = root["variants"] ? string_list(root["variants"], f, "variants")
                                : std::vector<std::string>{""};
  for (auto& v : c.variants)
    if (v == "all") v = "";
  if (const auto n = root["seed_reported"]) {
    if (!n.IsMap()) bad(n, f, "seed_reported: expected a mapping variant -> percent");
    for (const auto& kv : n)
      c.seed_reported[kv.first.as<std::string>()] =
          scalar<double>(kv.second, f, "seed_reported", "a number");
  }
  if (root["candidates"])
    c.candidates = scalar<int>(root["candidates"], f, "candidates", "an integer");
  if (root["proxy_scale"])
    c.proxy_scale = scalar<double>(root["proxy_scale"], f, "proxy_scale", "a number");
  if (const auto n = root["short_train"]) {
    check_keys(n, f, "short_train", {"epochs", "images"});
    if (n["epochs"]) c.short_train_epochs = scalar<int>(n["epochs"], f, "epochs", "an integer");
    if (n["images"]) c.short_train_images = scalar<int>(n["images"], f, "images", "an integer");
  }
  if (const auto n = root["curation"]) {
    check_keys(
        n, f, "curation",
        {"variant", "algorithms", "seeds", "budget", "tolerance", "landscape", "constraints"});
    if (n["constraints"]) c.curation.constraints = parse_constraints(n["constraints"], f);
    c.curation.present = true;
    if (n["variant"])
      c.curation.variant = scalar<std::string>(n["variant"], f, "variant", "a variant");
    if (n["algorithms"]) c.curation.algorithms = string_list(n["algorithms"], f, "algorithms");
    if (n["seeds"]) c.curation.seeds = scalar<int>(n["seeds"], f, "seeds", "an integer");
    if (n["budget"]) c.curation.budget = scalar<int>(n["budget"], f, "budget", "an integer");
    if (n["tolerance"])
      c.curation.tolerance = scalar<double>(n["tolerance"], f, "tolerance", "a number");
    if (const auto l = n["landscape"]) {
      check_keys(l, f, "landscape", {"stage", "min", "max"});
      if (l["stage"])
        c.curation.landscape_stage = scalar<std::string>(l["stage"], f, "stage", "a stage");
      if (l["min"]) c.curation.landscape_min = scalar<int>(l["min"], f, "min", "an integer");
      if (l["max"]) c.curation.landscape_max = scalar<int>(l["max"], f, "max", "an integer");
    }
  }
  return c;
}

struct StudyOptions {
  std::string name;
  std::vector<std::string> variants;  // override the study's
  bool compare_curation = false;
  int seeds = 0;        // override curation seeds
  int budget = 0;       // override the search budget
  std::string latency;  // override
  std::string estimator;
  std::string cifar;
  int proxy_batch = 0;
  int jobs = 1;
  std::string out;
  std::string json;
  bool no_plots = false;
  bool quiet = false;
};

nlohmann::json curve(const std::vector<search::Step>& steps, search::Objective o, bool need_score) {
  nlohmann::json c = nlohmann::json::array();
  double best = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < steps.size(); ++i) {
    if (need_score && !steps[i].metrics.score) continue;
    const double v = steps[i].objective(o);
    if (v < best) {
      best = v;
      c.push_back({static_cast<int>(i) + 1, o == search::Objective::kScore ? -best : best});
    }
  }
  if (!steps.empty() && std::isfinite(best))
    c.push_back({static_cast<int>(steps.size()), o == search::Objective::kScore ? -best : best});
  return c;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void run_study(StudyOptions o) {
  const auto t0 = std::chrono::steady_clock::now();
  StudyConfig c = load_study(o.name);
  if (!o.variants.empty()) c.variants = o.variants;
  if (o.budget > 0) c.search.budget = o.budget;
  if (o.seeds > 0) c.curation.seeds = o.seeds;
  if (!o.latency.empty()) c.oracle.latency = o.latency;
  c.oracle.estimator = o.estimator;
  c.oracle.jobs = o.jobs;
  c.oracle.quiet = o.quiet;
  c.search.jobs = o.jobs;
  c.search.score.resolution_scale = c.proxy_scale;
  c.search.score.cifar_dir = o.cifar;
  c.search.score.batch = o.proxy_batch;
  c.search.label = c.name;
  const std::string out = o.out.empty() ? "study-" + c.name : o.out;
  fs::create_directories(out);
  const std::string db = out + "/study.db";
  SearchSetup setup = make_search_setup(c.oracle);
  auto log = [&](const std::string& s) {
    if (!o.quiet) std::cerr << "nax study " << c.name << ": " << s << "\n";
  };

  // The baseline (the space's base model; the same for every variant).
  search::SpaceOptions so;
  so.parallelism = setup.limits.parallelism;
  const search::SearchSpace full = search::SearchSpace::load(c.space, so);
  search::SearchConfig base_cfg = c.search;
  base_cfg.constraints = {};
  search::Step baseline;
  {
    search::Searcher b(full, *setup.latency, setup.limits, base_cfg, db, true);
    baseline = b.evaluate_baseline();
  }
  const search::Constraints constraints =
      resolve_constraints(c.constraints, baseline.metrics, c.file);
  c.search.constraints = constraints;
  const bool need_score =
      c.search.score.enabled &&
      (constraints.min_score || c.search.objective == search::Objective::kScore);
  const double base_lat = baseline.metrics.latency_ms.value_or(0);
  const double base_sim = setup.simulator->latency_ms(spec::build_graph(full.base()));
  log(fmt::format("baseline {}: {:.4f} ms estimated, {:.4f} ms simulated, score {}, {} params",
                  full.base().name, base_lat, base_sim,
                  baseline.metrics.score ? fmt::format("{:.3f}", *baseline.metrics.score) : "-",
                  grouped(baseline.metrics.params)));

  nlohmann::json j;
  j["study"] = c.name;
  j["description"] = c.description;
  j["config"] = c.file;
  j["tool_version"] = version();
  j["chip"] = {{"name", setup.chip.name}, {"hash", setup.chip.hash}};
  j["latency_oracle"] = setup.latency->id();
  if (!setup.estimator_path.empty()) j["estimator"] = setup.estimator_path;
  j["objective"] = c.objective;
  j["constraints"] = constraints.to_json();
  j["algorithm"] = c.search.algorithm;
  j["budget"] = c.search.budget;
  j["seed"] = c.search.seed;
  Reported base_r;
  base_r.variant = "baseline";
  base_r.model_name = full.base().name;
  base_r.metrics = baseline.metrics;
  base_r.simulated_ms = base_sim;
  export_model(full.base(), out + "/models", base_r);
  j["baseline"] = reported_json(base_r, base_r);

  nlohmann::json results = nlohmann::json::array(), progress = nlohmann::json::object(),
                 evaluated = nlohmann::json::array(), candidates = nlohmann::json::array();
  struct Best {
    std::string variant;
    spec::ModelSpec model;
    double sim = 0;
  };
  std::optional<Best> overall;
  // The choices of earlier variants' best results, by decision name: a later variant starts from
  // the baseline with them applied where it has the same decision (V3 starts where V1 and V2
  // ended), so a larger space never has to rediscover what a smaller one found.
  std::map<std::string, std::string> carried;
  std::vector<std::vector<double>> front_pts;
  std::vector<nlohmann::json> front_items;
  for (const auto& variant : c.variants) {
    const std::string vname = variant.empty() ? "all" : variant;
    search::SpaceOptions vo = so;
    vo.variant = variant;
    const search::SearchSpace space = search::SearchSpace::load(c.space, vo);
    search::SearchConfig cfg = c.search;
    cfg.label = c.name + ":" + vname;
    if (c.start_from_baseline) {
      search::Genotype start = space.baseline();
      for (size_t d = 0; d < space.decisions().size(); ++d) {
        const auto& dec = space.decisions()[d];
        const auto it = carried.find(dec.name);
        if (it == carried.end()) continue;
        const auto v = std::find(dec.values.begin(), dec.values.end(), it->second);
        if (v != dec.values.end()) start[d] = static_cast<int>(v - dec.values.begin());
      }
      cfg.algorithm_options.start = start;
    }
    search::Searcher s(space, *setup.latency, setup.limits, cfg, db, true);
    log(fmt::format("variant {}: {} decisions, 10^{:.1f} candidates, {} x {}", vname,
                    space.decisions().size(), space.log10_size(), cfg.algorithm, cfg.budget));
    const search::SearchOutcome r = run_search(s, vname, cfg.objective, o.quiet);
    if (r.interrupted) {
      std::cerr << fmt::format(
          "nax study: interrupted; finished batches are in {}: run the same command again to "
          "resume\n",
          db);
      set_exit_code(128 + StopSignals::stop_signal());
      return;
    }
    progress[vname] = curve(r.steps, cfg.objective, need_score);
    for (const auto& st : r.steps) {
      const auto& m = st.metrics;
      nlohmann::json e = {{"variant", vname},
                          {"feasible", m.feasible},
                          {"memory_bytes", m.param_bytes + m.peak_activation_bytes}};
      e["latency_ms"] = m.latency_ms ? nlohmann::json(*m.latency_ms) : nlohmann::json();
      e["score"] = m.score ? nlohmann::json(*m.score) : nlohmann::json();
      evaluated.push_back(e);
    }
    std::vector<int> report;
    if (r.best) report.push_back(*r.best);
    for (int i : r.pareto)
      if (static_cast<int>(report.size()) < 1 + c.candidates &&
          std::find(report.begin(), report.end(), i) == report.end())
        report.push_back(i);
    if (r.best) {
      const auto& g = r.steps[static_cast<size_t>(*r.best)].genotype;
      for (size_t d = 0; d < space.decisions().size(); ++d) {
        const auto& dec = space.decisions()[d];
        if (g[d] != dec.baseline) carried[dec.name] = dec.values[static_cast<size_t>(g[d])];
      }
    }
    for (size_t k = 0; k < report.size(); ++k) {
      const search::Step& st = r.steps[static_cast<size_t>(report[k])];
      const spec::ModelSpec m = space.realize(st.genotype);
      Reported rep;
      rep.variant = vname;
      rep.model_name = st.model_name;
      rep.metrics = st.metrics;
      rep.describe = space.describe(st.genotype);
      rep.simulated_ms = setup.simulator->latency_ms(spec::build_graph(m));
      export_model(m, out + "/models", rep);
      nlohmann::json rj = reported_json(rep, base_r);
      rj["evaluations"] = r.steps.size();
      rj["evaluated"] = r.evaluated;
      rj["seconds"] = r.seconds;
      if (c.seed_reported.count(vname)) rj["seed_reported_pct"] = c.seed_reported[vname];
      if (k == 0) {
        results.push_back(rj);
        if (!overall || *rep.simulated_ms < overall->sim)
          overall = Best{vname, m, *rep.simulated_ms};
      } else {
        candidates.push_back(rj);
      }
      if (st.metrics.latency_ms) {
        front_pts.push_back(
            {*rep.simulated_ms, st.metrics.score ? -*st.metrics.score : 0.0,
             static_cast<double>(st.metrics.param_bytes + st.metrics.peak_activation_bytes)});
        nlohmann::json fi = rj;
        fi["memory_bytes"] = st.metrics.param_bytes + st.metrics.peak_activation_bytes;
        front_items.push_back(fi);
      }
    }
  }
  // Candidates A, B, ... : every reported candidate on the front across variants, by latency.
  nlohmann::json pareto = nlohmann::json::array();
  {
    const std::vector<int> f = search::pareto_front(front_pts);
    char label = 'A';
    for (int i : f) {
      nlohmann::json p = front_items[static_cast<size_t>(i)];
      p["label"] = std::string(1, label++);
      pareto.push_back(p);
      if (label > 'Z') break;
    }
  }
  j["results"] = results;
  j["candidates"] = pareto;
  j["pareto"] = pareto;
  j["progress"] = progress;
  j["evaluated"] = evaluated;
  if (overall) {
    nlohmann::json before = nlohmann::json::array(), after = nlohmann::json::array();
    for (const auto& [n, ms] : setup.simulator->breakdown_ms(spec::build_graph(full.base())))
      before.push_back({n, ms});
    for (const auto& [n, ms] : setup.simulator->breakdown_ms(spec::build_graph(overall->model)))
      after.push_back({n, ms});
    j["layers"] = {{"before", before}, {"after", after}, {"after_variant", overall->variant}};
  }

  // Short training: the baseline and the best result trained identically.
  if (c.short_train_epochs > 0 && overall) {
    torchnet::TrainOptions to;
    to.cifar_dir = o.cifar;
    to.epochs = c.short_train_epochs;
    to.train_images = c.short_train_images;
    to.seed = 0;
    log(fmt::format("short training ({} epochs, {} CIFAR-10 images) of the baseline and of {}",
                    to.epochs, to.train_images, overall->model.name));
    const auto tb = torchnet::short_train(spec::build_graph(full.base()), to);
    const auto tr = torchnet::short_train(spec::build_graph(overall->model), to);
    j["short_train_accuracy"] = {{"baseline", tb.test_accuracy},
                                 {"result", tr.test_accuracy},
                                 {"delta_pp", tr.test_accuracy - tb.test_accuracy},
                                 {"epochs", to.epochs},
                                 {"train_images", to.train_images},
                                 {"test_images", to.test_images},
                                 {"model", overall->model.name},
                                 {"seconds", tb.seconds + tr.seconds}};
  }

  // Curated vs uncurated.
  if (o.compare_curation) {
    if (!c.curation.present)
      throw InputError(c.file + ": --compare-curation needs a `curation:` section");
    const search::Constraints curation_constraints =
        c.curation.constraints
            ? resolve_constraints(*c.curation.constraints, baseline.metrics, c.file + ": curation")
            : constraints;
    const bool curation_score =
        c.search.score.enabled &&
        (curation_constraints.min_score || c.search.objective == search::Objective::kScore);
    std::map<std::string, std::map<std::string, std::vector<std::vector<search::Step>>>> runs;
    nlohmann::json curves = nlohmann::json::object();
    for (const bool curated : {true, false}) {
      search::SpaceOptions co = so;
      co.curated = curated;
      co.variant = c.curation.variant;
      const search::SearchSpace space = search::SearchSpace::load(c.space, co);
      const std::string kind = curated ? "curated" : "uncurated";
      for (const auto& alg : c.curation.algorithms) {
        for (int seed = 1; seed <= c.curation.seeds; ++seed) {
          search::SearchConfig cfg = c.search;
          cfg.algorithm = alg;
          cfg.seed = static_cast<uint64_t>(seed);
          cfg.budget = c.curation.budget;
          cfg.algorithm_options.start.clear();  // from random starts: the space is what differs
          cfg.constraints = curation_constraints;
          cfg.label = fmt::format("{}:curation:{}:{}:{}", c.name, kind, alg, seed);
          search::Searcher s(space, *setup.latency, setup.limits, cfg, db, true);
          const search::SearchOutcome r =
              run_search(s, fmt::format("{} {} seed {}", kind, alg, seed), cfg.objective, o.quiet);
          if (r.interrupted) {
            std::cerr << "nax study: interrupted; run the same command again to resume\n";
            set_exit_code(128 + StopSignals::stop_signal());
            return;
          }
          runs[kind][alg].push_back(r.steps);
        }
      }
    }
    // Targets: each space's best feasible objective over all its runs (how fast a search
    // converges on that space's terrain), and the best of both (what a user could have had).
    std::map<std::string, double> target;
    double overall = std::numeric_limits<double>::infinity();
    for (const auto& [kind, by_alg] : runs) {
      target[kind] = std::numeric_limits<double>::infinity();
      for (const auto& [alg, rs] : by_alg)
        for (const auto& steps : rs)
          if (const auto b = search::best_step(steps, c.search.objective, curation_score))
            target[kind] = std::min(target[kind],
                                    steps[static_cast<size_t>(*b)].objective(c.search.objective));
      overall = std::min(overall, target[kind]);
    }
    nlohmann::json per = nlohmann::json::array();
    std::map<std::string, std::vector<double>> evals, evals_overall;
    // A run that never comes within the tolerance counts as needing more than its budget.
    auto reach = [&](const std::vector<search::Step>& steps, double t, int& unreached) {
      const auto n = search::evaluations_to_reach(steps, c.search.objective, t,
                                                  c.curation.tolerance, curation_score);
      if (!n) ++unreached;
      return n ? static_cast<double>(*n) : static_cast<double>(c.curation.budget + 1);
    };
    for (const auto& [kind, by_alg] : runs) {
      for (const auto& [alg, rs] : by_alg) {
        nlohmann::json cs = nlohmann::json::array();
        std::vector<double> ev, ev_all;
        int unreached = 0, unreached_all = 0;
        for (const auto& steps : rs) {
          cs.push_back(curve(steps, c.search.objective, curation_score));
          ev.push_back(reach(steps, target[kind], unreached));
          ev_all.push_back(reach(steps, overall, unreached_all));
          evals[kind].push_back(ev.back());
          evals_overall[kind].push_back(ev_all.back());
        }
        curves[kind][alg] = cs;
        per.push_back({{"space", kind},
                       {"algorithm", alg},
                       {"target_latency_ms", target[kind]},
                       {"median_evals", median(ev)},
                       {"evals", ev},
                       {"unreached", unreached},
                       {"median_evals_overall", median(ev_all)},
                       {"unreached_overall", unreached_all}});
      }
    }
    const double ce = median(evals["curated"]), ue = median(evals["uncurated"]);
    nlohmann::json cur = {{"constraints", curation_constraints.to_json()},
                          {"curated_evals", ce},
                          {"uncurated_evals", ue},
                          {"ratio", ce > 0 ? ue / ce : 0.0},
                          {"tolerance", c.curation.tolerance},
                          {"curated_best_latency_ms", target["curated"]},
                          {"uncurated_best_latency_ms", target["uncurated"]},
                          {"best_gap_pct", 100 * (target["curated"] / target["uncurated"] - 1)},
                          {"target_latency_ms", overall},
                          {"curated_evals_overall", median(evals_overall["curated"])},
                          {"uncurated_evals_overall", median(evals_overall["uncurated"])},
                          {"seeds", c.curation.seeds},
                          {"budget", c.curation.budget},
                          {"algorithms", c.curation.algorithms},
                          {"per_algorithm", per},
                          {"curves", curves}};
    if (!c.curation.landscape_stage.empty()) {
      nlohmann::json ch = nlohmann::json::array(), lat = nlohmann::json::array(),
                     macs = nlohmann::json::array();
      for (int k = c.curation.landscape_min; k <= c.curation.landscape_max; ++k) {
        spec::ModelSpec m = full.base();
        spec::apply_override(m, c.curation.landscape_stage + ".out", std::to_string(k));
        const ir::Graph g = spec::build_graph(m);
        ch.push_back(k);
        lat.push_back(setup.simulator->latency_ms(g));
        macs.push_back(ir::analyze(g).macs);
      }
      cur["landscape"] = {{"stage", c.curation.landscape_stage},
                          {"channels", ch},
                          {"latency_ms", lat},
                          {"macs", macs},
                          {"parallelism", setup.limits.parallelism}};
    }
    j["curation"] = cur;
  }
  j["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  write_json(j, out + "/study.json");

  // Plots and the markdown report.
  std::vector<std::string> pngs;
  if (!o.no_plots) {
    PlotResult plots = run_plot_script("plot_study.py", {out + "/study.json", out});
    if (plots.skipped.empty())
      pngs = std::move(plots.pngs);
    else
      log("plots skipped (" + plots.skipped + ")");
  }
  std::string md = fmt::format(
      "# nax study: {}\n\n{}\n\nChip `{}` (hash {}), latency by `{}`, "
      "objective {}, constraints `{}`, {} x {} candidates per variant, "
      "seed {}; nax {}. Wall time {:.0f} s.\n\n",
      c.name, c.description, setup.chip.name, setup.chip.hash, setup.latency->id(), c.objective,
      constraints.to_json().dump(), c.search.algorithm, c.search.budget, c.search.seed, version(),
      j["seconds"].get<double>());
  auto fmt_opt = [](const nlohmann::json& v, const char* f) {
    return v.is_null() ? std::string("-") : fmt::format(fmt::runtime(f), v.get<double>());
  };
  md +=
      "| variant | latency ms (search) | simulated ms | latency reduction | seed reported | "
      "score | params | params reduction | peak activation | peak reduction | MMACs | "
      "evaluations |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  auto md_row = [&](const nlohmann::json& r) {
    md += fmt::format(
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1f} | {} |\n",
        r["variant"].get<std::string>(), fmt_opt(r["latency_ms"], "{:.4f}"),
        fmt_opt(r["simulated_latency_ms"], "{:.4f}"), fmt_opt(r["reduction_pct"], "{:.1f}%"),
        r.contains("seed_reported_pct") ? fmt_opt(r["seed_reported_pct"], "{:.0f}%") : "-",
        fmt_opt(r["score"], "{:.3f}"), grouped(r["params"].get<int64_t>()),
        fmt_opt(r["param_reduction_pct"], "{:.1f}%"),
        bytes_str(r["peak_activation_bytes"].get<int64_t>()),
        fmt_opt(r["peak_activation_reduction_pct"], "{:.1f}%"),
        static_cast<double>(r["macs"].get<int64_t>()) / 1e6,
        r.contains("evaluations") ? std::to_string(r["evaluations"].get<int>()) : "-");
  };
  md_row(j["baseline"]);
  for (const auto& r : results) md_row(r);
  if (c.candidates > 0) {
    md +=
        "\nCandidates on the front (latency, score, memory) across variants:\n\n| candidate | "
        "variant | simulated ms | reduction | score | params | peak activation | MMACs | "
        "evaluations |\n|---|---|---|---|---|---|---|---|---|\n";
    for (const auto& r : pareto)
      md += fmt::format(
          "| {} | {} | {} | {} | {} | {} | {} | {:.1f} | {} |\n", r["label"].get<std::string>(),
          r["variant"].get<std::string>(), fmt_opt(r["simulated_latency_ms"], "{:.4f}"),
          fmt_opt(r["reduction_pct"], "{:.1f}%"), fmt_opt(r["score"], "{:.3f}"),
          grouped(r["params"].get<int64_t>()), bytes_str(r["peak_activation_bytes"].get<int64_t>()),
          static_cast<double>(r["macs"].get<int64_t>()) / 1e6, r["evaluations"].get<int>());
  }
  if (j.contains("short_train_accuracy")) {
    const auto& s = j["short_train_accuracy"];
    md += fmt::format(
        "\nShort training ({} epochs on {} CIFAR-10 images, tested on {} held-out): baseline "
        "{:.2f}%, result {:.2f}% ({:+.2f} pp).\n",
        s["epochs"].get<int>(), s["train_images"].get<int>(), s["test_images"].get<int>(),
        s["baseline"].get<double>(), s["result"].get<double>(), s["delta_pp"].get<double>());
  }
  if (j.contains("curation")) {
    const auto& cu = j["curation"];
    md += fmt::format(
        "\nCuration (constraints `{}`, {} seeds x {{{}}}, {} candidates per run): evaluations "
        "until the best so far is within {:.0f}% of the best latency that space's runs found "
        "(median; a run that never gets there counts {}): curated {:.0f}, uncurated {:.0f}, "
        "ratio {:.2f}x. Best found: curated {:.4f} ms, uncurated {:.4f} ms ({:+.2f}%). Against "
        "the better of the two ({:.4f} ms): curated {:.0f}, uncurated {:.0f}.\n\n"
        "| space | algorithm | its best (ms) | median evaluations | runs that never reached it | "
        "median vs both spaces' best | never reached |\n|---|---|---|---|---|---|---|\n",
        cu["constraints"].dump(), c.curation.seeds, fmt::join(c.curation.algorithms, ", "),
        c.curation.budget, 100 * c.curation.tolerance, c.curation.budget + 1,
        cu["curated_evals"].get<double>(), cu["uncurated_evals"].get<double>(),
        cu["ratio"].get<double>(), cu["curated_best_latency_ms"].get<double>(),
        cu["uncurated_best_latency_ms"].get<double>(), cu["best_gap_pct"].get<double>(),
        cu["target_latency_ms"].get<double>(), cu["curated_evals_overall"].get<double>(),
        cu["uncurated_evals_overall"].get<double>());
    for (const auto& p : cu["per_algorithm"])
      md += fmt::format("| {} | {} | {:.4f} | {:.0f} | {} | {:.0f} | {} |\n",
                        p["space"].get<std::string>(), p["algorithm"].get<std::string>(),
                        p["target_latency_ms"].get<double>(), p["median_evals"].get<double>(),
                        p["unreached"].get<int>(), p["median_evals_overall"].get<double>(),
                        p["unreached_overall"].get<int>());
  }
  md += "\nBest per variant (changes from the baseline):\n\n";
  for (const auto& r : results)
    md += fmt::format("- {}: `{}` ({})\n", r["variant"].get<std::string>(),
                      r["changes"].get<std::string>(), r["model_path"].get<std::string>());
  if (!pngs.empty()) {
    md += "\n";
    for (const auto& p : pngs) md += fmt::format("![{}]({})\n\n", p, p);
  }
  write_text(md, out + "/report.md");
  if (!o.json.empty()) write_json(j, o.json);
  if (o.quiet || o.json == "-") return;
  std::cout << md;
  std::cout << "report: " << out << "/report.md\n";
}

}  // namespace

void add_study_commands(CLI::App& app) {
  auto o = std::make_shared<StudyOptions>();
  CLI::App* s = app.add_subcommand(
      "study",
      "The seed's case studies, one command each: person-detector, camera-classifier, "
      "segmentation (configs/studies/)");
  s->add_option("name", o->name, "study name (configs/studies/NAME.yaml) or a study .yaml file")
      ->required();
  s->add_option("--variant", o->variants, "variants to run (default: the study's; repeatable)");
  s->add_flag("--compare-curation", o->compare_curation,
              "also measure curated vs uncurated spaces (evaluations to reach the best)");
  s->add_option("--seeds", o->seeds, "seeds of the curation comparison (default: the study's)")
      ->check(CLI::Range(1, 1000));
  s->add_option("--budget", o->budget, "candidates per variant (default: the study's)")
      ->check(CLI::Range(1, 1000000));
  s->add_option("--latency", o->latency, "estimate or simulate (default: the study's)");
  s->add_option("--estimator", o->estimator,
                "estimator file (default: cached / fitted for the chip)");
  s->add_option("--cifar", o->cifar,
                "directory with the CIFAR-10 batches for the score and training (default: "
                "$NAX_CIFAR_DIR, else the shared copy)");
  s->add_option("--proxy-batch", o->proxy_batch,
                "images per batch of the score's proxies (0: each proxy's paper batch)")
      ->check(CLI::Range(0, 4096));
  s->add_option("-j,--jobs", o->jobs, "worker processes computing scores")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  s->add_option("--out", o->out, "report directory (default: study-NAME)");
  s->add_option("--json", o->json, "also write study.json to PATH ('-' for stdout)");
  s->add_flag("--no-plots", o->no_plots, "skip the PNG plots");
  s->add_flag("-q,--quiet", o->quiet, "no report or progress on the terminal");
  s->footer(
      "Examples:\n"
      "  nax study person-detector -j 2\n"
      "  nax study person-detector --variant v3 --compare-curation --seeds 10\n"
      "  nax study camera-classifier --json cc.json\n"
      "  nax study segmentation --out seg");
  s->callback([o] { run_study(*o); });
}

}  // namespace nax::cli
