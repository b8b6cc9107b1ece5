// `nax proxy`: zero-shot trainability proxies of a network (nas/torch/proxies.cpp through the
// libtorch plugin; definitions in nas/torch/PROXIES.md): each proxy's value and cost, and the
// default trainability score (nas/accuracy/score.hpp); for a NAS-Bench-201 or
// NAS-Bench-Macro network its published accuracy (the oracle), and with --accuracy-cmd the user's
// own evaluator's.
//
// `proxy` is a command group: a sub-subcommand (`nax proxy validate`, to come) adds itself to the
// App add_proxy_commands creates; the scoring below runs only when none is given.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "models/common/error.hpp"
#include "models/ir/analysis.hpp"
#include "models/model_source.hpp"
#include "nas/accuracy/benchmarks.hpp"
#include "nas/accuracy/cifar.hpp"
#include "nas/accuracy/external.hpp"
#include "nas/accuracy/proxy_math.hpp"
#include "nas/accuracy/score.hpp"
#include "nas/torch/api.hpp"
#include "nas/torch/proxies.hpp"
#include "tools/nax/cli.hpp"

namespace nax::cli {
namespace {

struct ProxyCliOptions {
  std::string model;
  std::vector<std::string> proxies;  // "all" or names
  torchnet::ProxyOptions proxy;
  std::string json;
  bool quiet = false;
  bool no_proxies = false;
  std::string accuracy_cmd;  // external evaluator (nas/accuracy/external.hpp)
  std::string accuracy_dir = "nax_accuracy";
  double accuracy_timeout = 3600;
  std::string data_dir;  // benchmark data for the oracle
};

std::string value_str(double v) {
  if (v <= accuracy::kProxyFloor) return "-1e8 (no finite value)";
  if (v >= accuracy::kProxyCeiling) return "1e8 (overflow)";
  return fmt::format("{:.6g}", v);
}

void run_proxy(ProxyCliOptions& o) {
  if (o.model.empty()) throw InputError("nax proxy: --model is required");
  const Model m = load_model(o.model);
  torchnet::ProxyOptions po = o.proxy;
  po.proxies.clear();
  for (const std::string& p : o.proxies) {
    if (p == "all") {
      po.proxies.clear();
      break;
    }
    if (!p.empty()) po.proxies.push_back(p);
  }
  if (po.data == "cifar10") po.cifar_dir = accuracy::cifar_dir(po.cifar_dir);
  torchnet::ProxyResult r;
  if (!o.no_proxies) r = torchnet::compute_proxies(m.graph, po);

  nlohmann::json j;
  j["tool_version"] = version();
  j["libtorch_version"] = torchnet::libtorch_version();
  j["model"] = {{"name", m.name}, {"source", m.source}, {"kind", m.kind}, {"hash", m.hash}};
  j["seed"] = po.seed;
  j["data"] = po.data;
  if (po.data == "cifar10") j["cifar_dir"] = po.cifar_dir;
  j["batch"] = po.batch;  // 0: each proxy's paper batch
  j["threads"] = po.threads;
  j["score_definition"] = accuracy::score_name();
  j["score"] = nullptr;  // when one of its proxies was not asked for
  nlohmann::json scores = nlohmann::json::object(), seconds = nlohmann::json::object();
  std::map<std::string, double> values;
  for (const auto& s : r.scores) {
    scores[s.name] = s.value;
    seconds[s.name] = s.seconds;
    values[s.name] = s.value;
  }
  seconds["total"] = r.seconds;
  if (const auto sc = accuracy::trainability_score(values)) j["score"] = *sc;
  j["scores"] = scores;
  j["seconds"] = seconds;
  // The accuracy side's other signals: a benchmark network's published accuracy, and the
  // user's own evaluator.
  std::string oracle_line, external_line;
  if (accuracy::identify_benchmark(m)) {
    const accuracy::BenchmarkOracle oracle(o.data_dir);
    if (auto a = oracle.lookup(m)) {
      j["oracle"] = {{"benchmark", accuracy::benchmark_name(a->arch.benchmark)},
                     {"arch", a->arch.arch},
                     {"accuracy", a->accuracy},
                     {"metric", a->metric}};
      oracle_line = fmt::format("published accuracy ({}): {:.2f}%\n", a->metric, a->accuracy);
    }
  }
  if (!o.accuracy_cmd.empty()) {
    accuracy::ExternalOptions eo;
    eo.command = o.accuracy_cmd;
    eo.work_dir = o.accuracy_dir;
    eo.timeout_s = o.accuracy_timeout;
    eo.onnx.seed = po.seed;
    const accuracy::ExternalResult e = accuracy::ExternalEvaluator(eo).evaluate(m);
    j["external"] = {{"accuracy", e.accuracy},
                     {"command", e.command},
                     {"dir", e.dir},
                     {"seconds", e.seconds},
                     {"matched", e.matched}};
    external_line =
        fmt::format("external evaluator: {:.2f}% in {:.1f} s ({})\n", e.accuracy, e.seconds, e.dir);
  }
  if (!o.json.empty()) write_json(j, o.json);
  if (o.quiet || o.json == "-") return;

  const ir::GraphStats stats = ir::analyze(m.graph);
  std::cout << fmt::format(
      "model {} (hash {}): {} parameters, {} MACs; data {}, batch {}, seed {}, {} thread(s); "
      "nax {}, libtorch {}\n",
      m.name, m.hash, grouped(stats.params), human(static_cast<double>(stats.macs)), po.data,
      po.batch > 0 ? std::to_string(po.batch) : std::string("per proxy"), po.seed, po.threads,
      version(), torchnet::libtorch_version());
  Table t({"proxy", "value", "seconds"}, {false, true, true});
  for (const auto& s : r.scores) {
    t.row({s.name, value_str(s.value), fmt::format("{:.3f}", s.seconds)});
  }
  if (!o.no_proxies) std::cout << t.str();
  std::cout << oracle_line << external_line;
  if (o.no_proxies) return;
  std::cout << fmt::format("total {:.3f} s; score ({}) = {}\n", r.seconds, accuracy::score_name(),
                           j["score"].is_null() ? std::string("not computed")
                                                : fmt::format("{:.4g}", j["score"].get<double>()));
}

}  // namespace

void add_proxy_commands(CLI::App& app) {
  auto o = std::make_shared<ProxyCliOptions>();
  CLI::App* px = app.add_subcommand(
      "proxy", "Zero-shot trainability proxies of a network (libtorch, CPU): values and costs");
  px->add_option("--model,-m", o->model,
                 "zoo name with parameters, a model .yaml or an .onnx file (required)");
  px->add_option("--proxy", o->proxies,
                 "proxies to compute, comma-separated, or all: naswot, synflow, snip, grad_norm, "
                 "jacob_cov, zen, zico, meco")
      ->delimiter(',')
      ->default_str("all");
  px->add_option("--data", o->proxy.data,
                 "cifar10 (real training images) or gaussian (N(0,1) inputs, no data)")
      ->check(CLI::IsMember({"cifar10", "gaussian"}))
      ->capture_default_str();
  px->add_option(
      "--cifar", o->proxy.cifar_dir,
      "directory with data_batch_1*.bin (default: $NAX_CIFAR_DIR, else the shared copy)");
  px->add_option("--batch", o->proxy.batch,
                 "images per batch for every proxy (0: each proxy's paper batch, PROXIES.md)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  px->add_option("--seed", o->proxy.seed, "initialisation and choice of images")
      ->capture_default_str();
  px->add_option("--threads", o->proxy.threads, "libtorch threads (1: deterministic)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  px->add_flag("--no-proxies", o->no_proxies,
               "compute no proxy (with --accuracy-cmd, or for a benchmark network's oracle)");
  px->add_option("--accuracy-cmd", o->accuracy_cmd,
                 "also run your own evaluator on the network, e.g. 'python3 train.py {model}': "
                 "{model}/{onnx} the exported ONNX, {yaml}, {dir}, {name}; it prints the accuracy "
                 "(nas/accuracy/README.md)");
  px->add_option("--accuracy-dir", o->accuracy_dir, "work directory of --accuracy-cmd")
      ->capture_default_str();
  px->add_option("--accuracy-timeout", o->accuracy_timeout,
                 "seconds per --accuracy-cmd run (0: none)")
      ->capture_default_str();
  px->add_option(
      "--data-dir", o->data_dir,
      "benchmark data for the published-accuracy oracle (default: $NAX_DATA_DIR, nas/data)");
  px->add_option("--json", o->json, "write the result as JSON to PATH ('-' for stdout)");
  px->add_flag("--quiet,-q", o->quiet, "no table on the terminal");
  px->footer(
      "Examples:\n"
      "  nax proxy --model nb201:arch='|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+"
      "|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|'\n"
      "  nax proxy -m nas-bench-macro:arch=01220210 --proxy synflow,meco --json proxies.json\n"
      "  nax proxy -m nb201 --data gaussian --seed 3");
  px->callback([o, px] {
    if (px->get_subcommands().empty()) run_proxy(*o);
  });
}

}  // namespace nax::cli
