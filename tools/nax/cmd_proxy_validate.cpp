// `nax proxy validate`: how well each zero-shot proxy (or short training) ranks the published
// accuracies of a benchmark's networks (nas/accuracy/validate.hpp), beside #params and FLOPs and
// rank ensembles. A long job: progress, Ctrl-C keeps every finished network in the --rows file
// and the same command resumes.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include "models/common/error.hpp"
#include "nas/accuracy/cifar.hpp"
#include "nas/accuracy/validate.hpp"
#include "tools/nax/cli.hpp"
#include "tools/nax/progress.hpp"

namespace nax::cli {
namespace {

struct ValidateCliOptions {
  std::string benchmark;
  accuracy::ValidateOptions v;
  std::vector<std::string> proxies;
  int top_ensembles = 10;
  std::string json;
  std::string progress = "auto";
  bool quiet = false;
};

std::string resume_hint(const ValidateCliOptions& o) {
  return o.v.rows_path.empty() ? std::string("(give --rows PATH to keep finished networks)")
                               : "rerun the same command to continue from " + o.v.rows_path;
}

void run_validate(ValidateCliOptions& o) {
  o.v.set = accuracy::parse_validation_set(o.benchmark);
  o.v.proxy.proxies.clear();
  for (const auto& p : o.proxies) {
    if (p == "all") {
      o.v.proxy.proxies.clear();
      break;
    }
    if (!p.empty()) o.v.proxy.proxies.push_back(p);
  }
  if (o.v.train || o.v.proxy.data == "cifar10") {
    const std::string dir = accuracy::cifar_dir(o.v.proxy.cifar_dir);
    o.v.proxy.cifar_dir = dir;
    o.v.training.cifar_dir = dir;
  }
  const bool quiet = o.quiet || o.json == "-";
  accuracy::ValidationRun run;
  {
    StopSignals signals;
    ProgressLine line("proxy validate", o.progress, quiet);
    accuracy::ValidateHooks hooks;
    hooks.progress = [&](size_t done, size_t total, size_t session, double s) {
      line.update(total ? static_cast<double>(done) / static_cast<double>(total) : 1.0,
                  eta_text(static_cast<int64_t>(done), static_cast<int64_t>(total),
                           static_cast<int64_t>(session), s, "networks"),
                  s, done == total);
    };
    hooks.stop_requested = [] { return StopSignals::stop_requested(); };
    run = accuracy::run_validation(o.v, hooks);
    line.finish();
    if (run.interrupted && StopSignals::stop_requested()) {
      std::cerr << fmt::format("nax: interrupted after {} of the networks; {}\n", run.rows.size(),
                               resume_hint(o));
      set_exit_code(128 + StopSignals::stop_signal());
      return;
    }
  }
  std::vector<accuracy::Correlation> cs = accuracy::correlate(run);
  // Shown: every signal and baseline, the published vote, the best ensembles.
  std::vector<accuracy::Correlation> shown, ens;
  for (const auto& c : cs) {
    if (c.kind == "ensemble" && c.name != "synflow+jacob_cov+snip") {
      ens.push_back(c);
    } else {
      shown.push_back(c);
    }
  }
  std::stable_sort(ens.begin(), ens.end(),
                   [](const auto& a, const auto& b) { return a.spearman > b.spearman; });
  if (ens.size() > static_cast<size_t>(o.top_ensembles)) ens.resize(o.top_ensembles);
  shown.insert(shown.end(), ens.begin(), ens.end());

  if (!quiet) {
    std::cout << fmt::format(
        "{} networks of {} (sample seed {}), {} ({}), {:.0f} s ({} reused from the rows file)\n",
        run.rows.size(), accuracy::validation_set_name(run.options.set), o.v.seed,
        o.v.train ? fmt::format("short training, {} epochs", o.v.training.epochs)
                  : "zero-shot proxies",
        o.v.train ? "CIFAR-10 sample" : o.v.proxy.data, run.seconds, run.reused);
    Table t({"signal", "kind", "Spearman", "Kendall", "n"}, {false, false, true, true, true});
    for (const auto& c : shown) {
      t.row({c.name, c.kind, fmt::format("{:.3f}", c.spearman), fmt::format("{:.3f}", c.kendall),
             std::to_string(c.n)});
    }
    std::cout << t.str();
  }
  if (!o.json.empty()) {
    nlohmann::json j;
    j["tool_version"] = version();
    j["benchmark"] = accuracy::validation_set_name(run.options.set);
    j["sample"] = o.v.sample;
    j["seed"] = o.v.seed;
    j["signals"] = run.signals;
    j["networks"] = run.rows.size();
    j["seconds"] = run.seconds;
    if (o.v.train) {
      j["training"] = {{"epochs", o.v.training.epochs}, {"seed", o.v.training.seed}};
    } else {
      j["proxy"] = {{"data", o.v.proxy.data}, {"batch", o.v.proxy.batch}, {"seed", o.v.proxy.seed}};
    }
    nlohmann::json corr = nlohmann::json::array();
    for (const auto& c : cs) {
      corr.push_back({{"name", c.name},
                      {"kind", c.kind},
                      {"spearman", c.spearman},
                      {"kendall", c.kendall},
                      {"n", c.n}});
    }
    j["correlations"] = corr;
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& r : run.rows) {
      rows.push_back({{"arch", r.arch},
                      {"accuracy", r.accuracy},
                      {"params", r.params},
                      {"flops", r.flops},
                      {"values", r.values},
                      {"published", r.published},
                      {"seconds", r.seconds}});
    }
    j["rows"] = rows;
    write_json(j, o.json);
  }
}

}  // namespace

void add_proxy_validate_command(CLI::App& proxy) {
  auto o = std::make_shared<ValidateCliOptions>();
  CLI::App* v = proxy.add_subcommand(
      "validate",
      "Rank correlation of each proxy (or short training) with a benchmark's published accuracy");
  v->add_option("--benchmark,-b", o->benchmark,
                "nb201 (NAS-Bench-201, 12-epoch CIFAR-10 accuracy), nas-bench-macro, or naslib "
                "(491 NB201 cells with NASLib's published proxy values)")
      ->required();
  v->add_option("--sample,-n", o->v.sample, "networks (0: all)")->capture_default_str();
  v->add_option("--seed", o->v.seed, "which networks (seeded sample)")->capture_default_str();
  v->add_option("--proxy", o->proxies, "proxies, comma-separated, or all")
      ->delimiter(',')
      ->default_str("all");
  v->add_option("--data", o->v.proxy.data, "cifar10 or gaussian")
      ->check(CLI::IsMember({"cifar10", "gaussian"}))
      ->capture_default_str();
  v->add_option("--cifar", o->v.proxy.cifar_dir, "CIFAR-10 directory (default: $NAX_CIFAR_DIR)");
  v->add_option("--batch", o->v.proxy.batch, "images per proxy batch (0: each paper's)")
      ->capture_default_str();
  v->add_option("--proxy-seed", o->v.proxy.seed, "initialisation and image choice of the proxies")
      ->capture_default_str();
  v->add_flag("--train", o->v.train,
              "rank by short training on the CIFAR-10 sample instead (nax train's schedule)");
  v->add_option("--epochs", o->v.training.epochs, "with --train")->capture_default_str();
  v->add_option("--train-seed", o->v.training.seed, "with --train")->capture_default_str();
  v->add_option("--jobs,-j", o->v.jobs, "worker processes")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  v->add_option("--rows", o->v.rows_path,
                "keep every finished network in this file (JSON lines); rerunning resumes");
  v->add_option("--data-dir", o->v.data_dir, "benchmark data (default: $NAX_DATA_DIR, nas/data)");
  v->add_option("--top-ensembles", o->top_ensembles, "rank ensembles shown (best first)")
      ->capture_default_str();
  v->add_option("--progress", o->progress, "auto, bar, lines or none")
      ->check(CLI::IsMember({"auto", "bar", "lines", "none"}))
      ->capture_default_str();
  v->add_option("--json", o->json, "write correlations and rows as JSON to PATH ('-' for stdout)");
  v->add_flag("--quiet,-q", o->quiet, "no table or progress");
  v->footer(
      "Examples:\n"
      "  nax proxy validate -b nb201 --sample 1000 -j 2 --rows nb201.rows --json nb201.json\n"
      "  nax proxy validate -b nas-bench-macro --sample 1000 -j 2 --rows macro.rows\n"
      "  nax proxy validate -b naslib --proxy synflow,jacob_cov,snip,grad_norm -j 2\n"
      "  nax proxy validate -b nas-bench-macro --train --sample 50 --rows macro_train.rows");
  v->callback([o] { run_validate(*o); });
}

}  // namespace nax::cli
