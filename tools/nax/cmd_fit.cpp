// `nax fit`: fit the latency estimator on trace stores and report its accuracy against the
// baselines on held-out data (models/estimate/fit.hpp has the protocol).
//
// Evaluation networks besides the stores' held-out networks: the zoo models (default parameters)
// and --eval-random networks of the MobileNet-style IBN / fused-IBN space
// (models/estimate/ibn_space.hpp), each simulated here on the store's chip. None of them is ever
// trained on: a store network with the same graph hash is left out of training.
//
// With --chip-aware the stores hold several chips; the estimator is trained on all but
// --holdout-chip (chip parameters as features) and evaluated on that chip only.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "hw/chip/chip.hpp"
#include "hw/traces/chip_features.hpp"
#include "models/common/error.hpp"
#include "models/estimate/fast_units.hpp"
#include "models/estimate/fit.hpp"
#include "models/estimate/ibn_space.hpp"
#include "models/model_source.hpp"
#include "models/spec/model_spec.hpp"
#include "models/zoo/zoo.hpp"
#include "tools/nax/cli.hpp"

namespace nax::cli {
namespace {

struct FitOptions {
  std::vector<std::string> dbs;
  std::string out;
  std::string json;
  std::string chip;  // hash or name within the stores
  uint64_t seed = 1;
  double holdout = 0.2;
  std::string form = "auto";
  int eval_random = 50;
  uint64_t eval_seed = 1000;
  std::vector<std::string> zoo;  // empty: every zoo model
  bool no_zoo = false;
  bool no_baselines = false;
  bool chip_aware = false;
  std::string holdout_chip;
  int trees = 40;
  int depth = 6;
  double eta = 0.15;
  bool quiet = false;
};

std::string pct(double v) {
  return fmt::format("{:.1f}%", 100.0 * v);
}

// Resolves a chip given by hash or name among the dataset's chips.
std::string resolve_chip(const est::Dataset& ds, const std::string& arg, const char* option) {
  std::vector<std::string> names, by_name;
  for (const auto& [h, c] : ds.chips) {
    if (h == arg) return h;
    if (c.name == arg) by_name.push_back(h);
    names.push_back(c.name + " (" + h + ")");
  }
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  if (by_name.size() == 1) return by_name.front();
  if (by_name.size() > 1)
    throw InputError(std::string(option) + " " + arg +
                     ": several chips of the trace stores have "
                     "this name (" +
                     list + "); give the chip hash");
  throw InputError(std::string(option) + " " + arg +
                   ": no such chip in the trace stores; they hold " + list);
}

struct FitData {
  est::Dataset ds;
  std::map<std::string, std::string> chip_yaml;  // hash -> resolved YAML
};

void load(FitData& c, const FitOptions& o) {
  for (const auto& path : o.dbs) {
    est::load_trace_store(
        c.ds, path, [&](const std::string& name, const std::string& hash, const std::string& yaml) {
          const hw::ChipParams chip = hw::parse_chip(yaml, path + ":" + name);
          if (chip.hash != hash) {
            throw InputError(path + ": chip " + name + " has hash " + hash +
                             " but its YAML hashes to " + chip.hash);
          }
          c.chip_yaml[hash] = yaml;
          return hw::chip_features(chip);
        });
  }
  if (c.ds.samples.empty()) throw InputError("the trace stores hold no unit rows");
}

// Evaluation networks on `chip`: zoo models and IBN-space networks, simulated here.
std::vector<est::EvalNetwork> label_eval(const hw::ChipParams& chip,
                                         const est::ChipFeatures& features, const FitOptions& o,
                                         nlohmann::json& skipped) {
  std::vector<est::EvalNetwork> out;
  std::vector<std::string> zoo = o.zoo;
  if (zoo.empty() && !o.no_zoo) zoo = zoo::ZooRegistry::instance().names();
  if (o.no_zoo) zoo.clear();
  for (const auto& name : zoo) {
    try {
      const Model m = load_model(name);
      out.push_back(hw::label_eval_network(m.graph, chip, features, name, "zoo"));
    } catch (const InputError& e) {
      skipped.push_back({{"network", name}, {"reason", e.what()}});
    }
  }
  for (int i = 0; i < o.eval_random; ++i) {
    const std::string name = est::ibn_space_source(o.eval_seed, i);
    try {
      const ir::Graph g = spec::build_graph(est::ibn_space_network(o.eval_seed, i));
      out.push_back(hw::label_eval_network(g, chip, features, name, "ibn_space"));
    } catch (const InputError& e) {
      skipped.push_back({{"network", name}, {"reason", e.what()}});
    }
  }
  return out;
}

// Held-out store networks with contexts predicted from their graphs (rebuilt from the stored
// block-level description) when they have one.
void add_heldout(std::vector<est::EvalNetwork>& eval, const est::Dataset& ds,
                 const std::vector<int>& nets, const est::ChipFeatures& features) {
  est::GraphScanner scanner;
  for (int n : nets) {
    est::EvalNetwork e = est::eval_network(ds, n, "heldout");
    const std::string& yaml = ds.networks[static_cast<size_t>(n)].spec_yaml;
    if (!yaml.empty()) {
      try {
        const ir::Graph g = spec::build_graph(spec::read_model_yaml(yaml, e.name));
        scanner.scan(g, features);
        if (scanner.units().size() == e.units.size()) {
          bool same = true;
          for (size_t i = 0; i < e.units.size(); ++i)
            same = same && scanner.units()[i].type == e.units[i].type;
          if (same)
            for (const auto& su : scanner.units()) e.predicted.push_back(su.context);
        }
      } catch (const InputError&) {
        // No graph: the labelled contexts stand in.
      }
    }
    eval.push_back(std::move(e));
  }
}

const char* model_label(const std::string& m) {
  if (m == "flops") return "(a) FLOPs-proportional";
  if (m == "lookup") return "(b) lookup table";
  if (m == "raw_trees") return "(c) nn-Meter-style forest";
  return "(d) nax hardware-aware";
}

void print_report(const nlohmann::json& r, const std::string& title) {
  std::cout << title << "\n";
  const auto& models = r["models"];
  std::vector<std::string> groups;
  if (models.contains("hw")) {
    for (const auto& kv : models["hw"]["networks"].items()) groups.push_back(kv.key());
  }
  Table t({"model", "units: within5", "within10", "MAPE%", "RMSE%", "Kendall", "Spearman"},
          {false, true, true, true, true, true, true});
  for (const char* m : {"flops", "lookup", "raw_trees", "hw"}) {
    if (!models.contains(m)) continue;
    const auto& u = models[m]["units"];
    t.row({model_label(m), pct(u["within5"].get<double>()), pct(u["within10"].get<double>()),
           fmt::format("{:.2f}", u["mape_pct"].get<double>()),
           fmt::format("{:.2f}", u["rmspe_pct"].get<double>()),
           fmt::format("{:.3f}", u["kendall"].get<double>()),
           fmt::format("{:.3f}", u["spearman"].get<double>())});
  }
  std::cout << fmt::format("held-out units: {}\n",
                           models.contains("hw") ? models["hw"]["units"]["n"].get<int64_t>() : 0)
            << t.str();
  if (models.contains("lookup"))
    std::cout << fmt::format("lookup table: {} of held-out units found in the table\n",
                             pct(models["lookup"]["units"]["lookup_coverage"].get<double>()));
  std::vector<std::string> header = {"model"};
  std::vector<bool> right = {false};
  for (const auto& g : groups) {
    header.push_back(g + " (" + std::to_string(models["hw"]["networks"][g]["n"].get<int64_t>()) +
                     "): MAPE%");
    header.push_back("Spearman");
    right.push_back(true);
    right.push_back(true);
  }
  Table n(header, right);
  for (const char* m : {"flops", "lookup", "raw_trees", "hw"}) {
    if (!models.contains(m)) continue;
    std::vector<std::string> row = {model_label(m)};
    for (const auto& g : groups) {
      const auto& s = models[m]["networks"][g];
      row.push_back(fmt::format("{:.2f}", s["mape_pct"].get<double>()));
      row.push_back(fmt::format("{:.3f}", s["spearman"].get<double>()));
    }
    n.row(row);
  }
  if (models.contains("hw")) {
    std::vector<std::string> row = {"(d) with labelled contexts"};
    for (const auto& g : groups) {
      const auto& s = models["hw"]["networks_labelled_context"][g];
      row.push_back(fmt::format("{:.2f}", s["mape_pct"].get<double>()));
      row.push_back(fmt::format("{:.3f}", s["spearman"].get<double>()));
    }
    n.row(row);
  }
  std::cout << "whole networks (sum of unit predictions vs simulated total):\n" << n.str();
  if (r.contains("context_prediction")) {
    const auto& c = r["context_prediction"];
    std::cout << fmt::format(
        "contexts predicted from the graphs: {} of {} units right (input {}, output {})\n",
        pct(c["both"].get<double>()), c["units"].get<int64_t>(), pct(c["input"].get<double>()),
        pct(c["output"].get<double>()));
  }
}

void print_zoo(const nlohmann::json& r, double clock_mhz) {
  Table t({"zoo model", "simulated ms", "(d) ms", "(d) error", "(a)", "(b)", "(c)"},
          {false, true, true, true, true, true, true});
  for (const auto& n : r["models"]["per_network"]) {
    if (n["group"] != "zoo") continue;
    const double sim = n["simulated"].get<double>();
    auto err = [&](const char* m) {
      return n.contains(m) ? fmt::format("{:+.1f}%", 100 * (n[m].get<double>() / sim - 1)) : "";
    };
    t.row({n["name"].get<std::string>(), fmt::format("{:.3f}", sim / clock_mhz / 1e3),
           fmt::format("{:.3f}", n["hw"].get<double>() / clock_mhz / 1e3), err("hw"), err("flops"),
           err("lookup"), err("raw_trees")});
  }
  std::cout << t.str();
}

void run_fit(const FitOptions& o) {
  FitData c;
  load(c, o);
  est::FitConfig cfg;
  cfg.seed = o.seed;
  cfg.holdout = o.holdout;
  cfg.baselines = !o.no_baselines;
  cfg.hw.trees.rounds = o.trees;
  cfg.hw.trees.max_depth = o.depth;
  cfg.hw.trees.eta = o.eta;
  cfg.hw.trees.seed = o.seed;
  if (o.form != "auto") {
    est::HwForm f;
    if (!est::parse_hw_form(o.form, f))
      throw InputError("--form " + o.form +
                       ": expected auto, ridge, loglinear, trees or ridge_trees");
    cfg.forms = {f};
  }
  auto progress = [&](const std::string& m) {
    if (!o.quiet) std::cerr << "fit: " << m << "\n";
  };
  nlohmann::json out;
  out["tool_version"] = version();
  out["trace_stores"] = o.dbs;
  nlohmann::json skipped = nlohmann::json::array();
  est::FitResult res;
  std::string chip_hash;
  if (o.chip_aware) {
    if (o.holdout_chip.empty()) throw InputError("--chip-aware needs --holdout-chip HASH|NAME");
    if (o.form != "auto" && o.form != "trees" && o.form != "ridge_trees")
      throw InputError("--chip-aware needs a tree form (trees or ridge_trees), not " + o.form);
    if (c.ds.chips.size() < 2)
      throw InputError("--chip-aware needs trace stores of at least two chips");
    chip_hash = resolve_chip(c.ds, o.holdout_chip, "--holdout-chip");
    const hw::ChipParams chip = hw::parse_chip(c.chip_yaml.at(chip_hash), "store");
    const est::ChipFeatures& features = c.ds.chips.at(chip_hash);
    progress("simulating the evaluation networks on " + chip.name);
    std::vector<est::EvalNetwork> eval = label_eval(chip, features, o, skipped);
    std::vector<int> nets;
    for (size_t i = 0; i < c.ds.networks.size(); ++i)
      if (c.ds.networks[i].chip_hash == chip_hash) nets.push_back(static_cast<int>(i));
    add_heldout(eval, c.ds, nets, features);
    res = est::fit_chip_aware(c.ds, chip_hash, eval, cfg, progress);
  } else {
    if (!o.chip.empty()) {
      chip_hash = resolve_chip(c.ds, o.chip, "--chip");
    } else if (c.ds.chips.size() == 1) {
      chip_hash = c.ds.chips.begin()->first;
    } else {
      throw InputError(
          "the trace stores hold several chips: pick one with --chip HASH|NAME (or "
          "fit across them with --chip-aware)");
    }
    const hw::ChipParams chip = hw::parse_chip(c.chip_yaml.at(chip_hash), "store");
    const est::ChipFeatures& features = c.ds.chips.at(chip_hash);
    progress("simulating the evaluation networks on " + chip.name);
    std::vector<est::EvalNetwork> eval = label_eval(chip, features, o, skipped);
    std::set<std::string> exclude;
    for (const auto& e : eval) exclude.insert(e.hash);
    const est::Split split = est::split_by_network(c.ds, chip_hash, o.seed, o.holdout, exclude);
    add_heldout(eval, c.ds, split.heldout_networks, features);
    res = est::fit_and_evaluate(c.ds, features, split, eval, cfg, progress);
  }
  const est::ChipFeatures& features = c.ds.chips.at(chip_hash);
  int64_t rows = 0, nets = 0;
  for (const auto& s : c.ds.samples) rows += s.chip_hash == chip_hash || o.chip_aware;
  for (const auto& n : c.ds.networks) nets += n.chip_hash == chip_hash || o.chip_aware;
  res.estimator.dataset() = {{"trace_stores", o.dbs},    {"unit_rows", rows},
                             {"networks", nets},         {"seed", o.seed},
                             {"holdout", o.holdout},     {"eval_random", o.eval_random},
                             {"eval_seed", o.eval_seed}, {"tool_version", version()}};
  res.estimator.save(o.out);
  out["chip"] = {{"name", features.name}, {"hash", chip_hash}};
  out["chip_aware"] = o.chip_aware;
  out["estimator"] = o.out;
  out["report"] = res.report;
  out["skipped_eval_networks"] = skipped;
  if (!o.json.empty()) write_json(out, o.json);
  if (o.quiet || o.json == "-") return;
  const auto& r = res.report;
  if (r.contains("form_selection") && !r["form_selection"]["candidates"].empty()) {
    const auto& fs = r["form_selection"];
    Table t({"form of (d)", "validation within10", "MAPE%", "predictions/s", "speed ok"},
            {false, true, true, true, false});
    for (const auto& cand : fs["candidates"]) {
      t.row({cand["form"].get<std::string>(), pct(cand["validation"]["within10"].get<double>()),
             fmt::format("{:.2f}", cand["validation"]["mape_pct"].get<double>()),
             human(cand["predictions_per_s"].get<double>()),
             cand["meets_speed_target"].get<bool>() ? "yes" : "no"});
    }
    std::cout << fmt::format("form selection on {} validation units:\n",
                             fs["validation_units"].get<int64_t>())
              << t.str() << "chosen: " << fs["chosen"].get<std::string>() << "\n\n";
  }
  print_report(r, o.chip_aware
                      ? fmt::format("chip-aware estimator, evaluated on chip {} ({}) "
                                    "that it never saw:",
                                    features.name, chip_hash)
                      : fmt::format("held-out evaluation on chip {} ({}), seed {}:", features.name,
                                    chip_hash, o.seed));
  std::cout << "\n";
  print_zoo(r, features.clock_mhz);
  if (r.contains("hw_predictions_per_s"))
    std::cout << fmt::format("\n(d) speed: {} unit predictions/s on one core\n",
                             human(r["hw_predictions_per_s"].get<double>()));
  for (const auto& s : skipped)
    std::cout << "skipped " << s["network"].get<std::string>() << ": "
              << s["reason"].get<std::string>() << "\n";
  std::cout << "estimator written to " << o.out << "\n";
}

}  // namespace

void add_fit_commands(CLI::App& app) {
  auto o = std::make_shared<FitOptions>();
  CLI::App* fit = app.add_subcommand(
      "fit", "Fit the latency estimator on trace stores; report held-out accuracy vs baselines");
  fit->add_option("--db", o->dbs, "trace store (repeatable)")->required();
  fit->add_option("--out,-o", o->out, "estimator file to write (JSON)")->required();
  fit->add_option("--json", o->json, "write the metrics as JSON to PATH ('-' for stdout)");
  fit->add_option("--chip", o->chip, "chip (hash or name) when the stores hold several");
  fit->add_option("--seed", o->seed, "seed of the train / held-out split")->capture_default_str();
  fit->add_option("--holdout", o->holdout, "share of networks held out")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.9));
  fit->add_option("--form", o->form,
                  "form of the hardware-aware model: auto (picked by measurement), ridge, "
                  "loglinear, trees, ridge_trees")
      ->capture_default_str();
  fit->add_option("--eval-random", o->eval_random,
                  "IBN / fused-IBN networks to simulate and evaluate on (never trained on)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  fit->add_option("--eval-seed", o->eval_seed, "seed of those networks")->capture_default_str();
  fit->add_option("--zoo", o->zoo, "zoo models to evaluate on (default: all; repeatable)");
  fit->add_flag("--no-zoo", o->no_zoo, "do not evaluate on the zoo models");
  fit->add_flag("--no-baselines", o->no_baselines, "fit only the hardware-aware model");
  fit->add_flag("--chip-aware", o->chip_aware,
                "train across the stores' chips with chip parameters as features");
  fit->add_option("--holdout-chip", o->holdout_chip,
                  "with --chip-aware: the chip (hash or name) left out of training and evaluated");
  fit->add_option("--trees", o->trees, "boosting rounds of the tree forms")
      ->capture_default_str()
      ->check(CLI::Range(1, 5000));
  fit->add_option("--depth", o->depth, "tree depth")
      ->capture_default_str()
      ->check(CLI::Range(1, 16));
  fit->add_option("--eta", o->eta, "learning rate of the tree forms")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 1.0));
  fit->add_flag("--quiet,-q", o->quiet, "no tables or progress");
  fit->footer(
      "Examples:\n"
      "  nax traces --chip default --count 20000 --seed 1 --db traces.db -j 2\n"
      "  nax fit --db traces.db --out default.est.json --json fit.json\n"
      "  nax fit --db a.db --db b.db --db c.db --chip-aware --holdout-chip tiny --out aware.json");
  fit->callback([o] { run_fit(*o); });
}

}  // namespace nax::cli
