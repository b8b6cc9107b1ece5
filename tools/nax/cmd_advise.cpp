// `nax advise`: the expert advisor (nas/search/advise.hpp). Runs the experts' rules on a model
// (fuse IBN blocks where it pays, align channels to the parallelism factor, even channels,
// standard instead of depthwise convolutions, depth multipliers, and with --from the patterns of
// another model), evaluates every suggestion (latency from the estimator, then the simulator;
// memory; MACs; the trainability score) and ranks them by latency gain, then memory gain.
// `--apply OUT` writes the model that combines them greedily.
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <thread>

#include "hw/chip/chip.hpp"
#include "models/common/error.hpp"
#include "models/model_source.hpp"
#include "models/spec/model_spec.hpp"
#include "nas/accuracy/score.hpp"
#include "nas/search/advise.hpp"
#include "tools/nax/cli.hpp"
#include "tools/nax/oracles.hpp"
#include "tools/nax/progress.hpp"

namespace nax::cli {
namespace {

struct AdviseCliOptions {
  std::string model;
  std::string chip = "default";
  std::vector<std::string> overrides;
  std::string latency = "estimate";
  std::string estimator;
  std::string apply;
  std::string from;
  std::vector<std::string> rules;
  bool no_score = false;
  uint64_t seed = 0;
  std::string cifar;
  int proxy_batch = 0;
  int jobs = 0;
  std::string json;
  bool quiet = false;
};

spec::ModelSpec block_level(const std::string& option, const std::string& arg) {
  Model m = load_model(arg);
  if (!m.spec)
    throw InputError(fmt::format(
        "{} {}: an ONNX model has no block-level description to edit; give a zoo name or a "
        "model .yaml",
        option, arg));
  spec::ModelSpec s = *m.spec;
  s.assign_names();
  return s;
}

std::string ms_text(const std::optional<double>& v) {
  return v ? fmt::format("{:.3f}", *v) : std::string("-");
}

std::string pct_text(const nlohmann::json& v) {
  return v.is_null() ? std::string("-") : fmt::format("{:+.1f}%", v.get<double>());
}

std::string signed_human(int64_t v) {
  return (v > 0 ? "+" : "") + human(static_cast<double>(v));
}

std::string signed_bytes(int64_t v) {
  return (v > 0 ? "+" : "") + human_bytes(static_cast<double>(v));
}

std::string changes_text(const std::vector<std::string>& c, size_t limit = 8) {
  std::string s;
  for (size_t i = 0; i < c.size() && i < limit; ++i) s += (i ? ", " : "") + c[i];
  if (c.size() > limit) s += fmt::format(", ... ({} more)", c.size() - limit);
  return s;
}

void run_advise(const AdviseCliOptions& o) {
  const hw::ChipParams chip = hw::load_chip(o.chip, o.overrides);
  const spec::ModelSpec model = block_level("--model", o.model);
  search::rules_to_run(o.rules, !o.from.empty());  // bad names before any estimator is fitted
  std::optional<search::TransferPatterns> patterns;
  const search::ChipLimits limits = chip_limits(chip);
  if (!o.from.empty())
    patterns = search::extract_patterns(block_level("--from", o.from), limits.parallelism);

  const bool simulate = o.latency == "simulate";
  std::unique_ptr<search::LatencyOracle> sim = simulator_oracle(chip);
  std::unique_ptr<search::LatencyOracle> est;
  std::string estimator_path;
  if (!simulate) {
    EstimatorSource src;
    src.path = o.estimator;
    src.chip_arg = o.chip;
    src.overrides = o.overrides;
    src.jobs =
        o.jobs > 0 ? o.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    src.quiet = o.quiet;
    est = estimator_oracle(chip, src, &estimator_path);
  }
  search::LatencyOracle& latency = simulate ? *sim : *est;

  search::ScoreOptions score;
  score.enabled = !o.no_score;
  score.seed = o.seed;
  score.cifar_dir = o.cifar;
  score.batch = o.proxy_batch;
  search::Advisor advisor(model, limits, latency, sim.get(), score);
  ProgressLine progress("advise", "auto", o.quiet || !score.enabled);
  const auto t0 = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  advisor.on_progress([&](const std::string& what, int done) {
    progress.update(0,
                    fmt::format("scoring {} ({} scored, {})", what, done, duration_str(seconds())),
                    seconds(), false);
  });

  search::AdviseOptions ao;
  ao.rules = o.rules;
  ao.transfer = patterns;
  const search::Advice advice = advisor.advise(ao);
  std::optional<search::Applied> applied;
  if (!o.apply.empty()) {
    applied = advisor.apply(advice);
    spec::ModelSpec out = applied->model;
    out.name = model.name + "_advised";
    write_text(spec::write_model_yaml(out), o.apply);
  }
  progress.finish();
  const double total_s = seconds();

  nlohmann::json j;
  j["tool_version"] = version();
  j["model"] = {
      {"name", model.name}, {"source", o.model}, {"hash", advice.baseline.metrics.arch_hash}};
  j["chip"] = {{"name", chip.name}, {"hash", chip.hash}, {"parallelism", limits.parallelism}};
  j["latency_source"] = o.latency;
  j["latency_oracle"] = latency.id();
  if (!estimator_path.empty()) j["estimator"] = estimator_path;
  j["scoring"] = score.enabled
                     ? nlohmann::json{{"definition", accuracy::score_name()},
                                      {"resolution", search::proxy_resolution(model.height, score)},
                                      {"seed", score.seed}}
                     : nlohmann::json();
  j["seed"] = o.seed;
  j["baseline"] = advice.baseline.to_json();
  nlohmann::json suggestions = nlohmann::json::array();
  for (const auto& s : advice.suggestions) suggestions.push_back(s.to_json(advice.baseline));
  j["suggestions"] = suggestions;
  nlohmann::json notes = nlohmann::json::array();
  for (const auto& [rule, text] : advice.notes) notes.push_back({{"rule", rule}, {"note", text}});
  j["notes"] = notes;
  if (patterns) j["transfer"] = patterns->to_json();
  if (applied) {
    j["applied"] = applied->to_json(advice.baseline);
    j["applied"]["path"] = o.apply;
  }
  j["seconds"] = total_s;
  if (!o.json.empty()) write_json(j, o.json);
  if (o.quiet || o.json == "-") return;

  const auto& b = advice.baseline;
  std::cout << fmt::format(
      "model {} (hash {}) on chip {} (hash {}, parallelism {}); latency: {}; nax {}\n", model.name,
      b.metrics.arch_hash, chip.name, chip.hash, limits.parallelism,
      simulate ? "simulated" : "estimated (" + estimator_path + "), then simulated", version());
  std::cout << fmt::format(
      "baseline: {} ms{}, score {}, {} params, peak activations {}, {} MACs\n",
      ms_text(b.metrics.latency_ms),
      simulate ? "" : fmt::format(" (simulated {} ms)", ms_text(b.simulated_ms)),
      b.metrics.score ? fmt::format("{:.4f}", *b.metrics.score)
                      : (score.enabled ? "n/a (" + b.score_note + ")" : "not computed"),
      grouped(b.metrics.params), human_bytes(static_cast<double>(b.metrics.peak_activation_bytes)),
      human(static_cast<double>(b.metrics.macs)));
  std::vector<std::string> header = {"#", "suggestion", "rule", simulate ? "sim ms" : "est ms",
                                     "gain"};
  std::vector<bool> right = {true, false, false, true, true};
  if (!simulate) {
    header.insert(header.end(), {"sim ms", "sim gain"});
    right.insert(right.end(), {true, true});
  }
  header.insert(header.end(), {"score delta", "params delta", "peak act delta", "MACs delta"});
  right.insert(right.end(), {true, true, true, true});
  Table t(header, right);
  for (size_t i = 0; i < advice.suggestions.size(); ++i) {
    const auto& s = advice.suggestions[i];
    const nlohmann::json sj = suggestions[i];
    std::vector<std::string> row = {std::to_string(i + 1), s.suggestion.name, s.suggestion.rule,
                                    ms_text(s.after.metrics.latency_ms), pct_text(sj["gain_pct"])};
    if (!simulate) {
      row.push_back(ms_text(s.after.simulated_ms));
      row.push_back(pct_text(sj["simulated_gain_pct"]));
    }
    row.push_back(sj["score_delta"].is_null()
                      ? "-"
                      : fmt::format("{:+.4f}", sj["score_delta"].get<double>()));
    row.push_back(signed_human(sj["params_delta"].get<int64_t>()));
    row.push_back(signed_bytes(sj["peak_activation_bytes_delta"].get<int64_t>()));
    row.push_back(signed_human(sj["macs_delta"].get<int64_t>()));
    t.row(row);
  }
  std::cout << t.str();
  for (size_t i = 0; i < advice.suggestions.size(); ++i) {
    const auto& s = advice.suggestions[i].suggestion;
    std::cout << fmt::format("{:>2}. {}: {}\n    changes: {}\n", i + 1, s.name, s.description,
                             changes_text(s.changes));
  }
  for (const auto& [rule, text] : advice.notes) std::cout << fmt::format("{}: {}\n", rule, text);
  if (applied) {
    const nlohmann::json& aj = j["applied"];
    std::cout << fmt::format(
        "applied -> {}: {} ({} -> {} ms, {}{}; score {}; params {}, peak activations {})\n",
        o.apply, applied->kept.empty() ? "no suggestion kept" : changes_text(applied->kept, 20),
        ms_text(b.metrics.latency_ms), ms_text(applied->after.metrics.latency_ms),
        pct_text(aj["gain_pct"]),
        simulate ? ""
                 : fmt::format(", simulated {} ms {}", ms_text(applied->after.simulated_ms),
                               pct_text(aj["simulated_gain_pct"])),
        aj["score_delta"].is_null() ? "-" : fmt::format("{:+.4f}", aj["score_delta"].get<double>()),
        signed_human(aj["params_delta"].get<int64_t>()),
        signed_bytes(aj["peak_activation_bytes_delta"].get<int64_t>()));
    for (const auto& st : applied->steps) {
      if (!st.kept) std::cout << fmt::format("  left out {}: {}\n", st.name, st.reason);
    }
  }
  std::cout << fmt::format("{} suggestions in {:.1f} s\n", advice.suggestions.size(), total_s);
}

}  // namespace

void add_advise_commands(CLI::App& app) {
  auto o = std::make_shared<AdviseCliOptions>();
  CLI::App* ad = app.add_subcommand(
      "advise",
      "The expert advisor: fuse, align, even, standard-conv and depth suggestions, evaluated and "
      "ranked");
  ad->add_option("--model,-m", o->model, "zoo name with parameters or a model .yaml")->required();
  ad->add_option("--chip", o->chip, "chip preset or YAML file")->capture_default_str();
  ad->add_option("-p", o->overrides, "chip override key.path=value (repeatable)");
  ad->add_option("--latency", o->latency,
                 "estimate: the estimator ranks, the simulator checks; simulate: the simulator "
                 "only")
      ->check(CLI::IsMember({"estimate", "simulate"}))
      ->capture_default_str();
  ad->add_option("--estimator,-e", o->estimator,
                 "estimator file for the chip (default: the cached one, fitted on first use)");
  ad->add_option("--apply", o->apply,
                 "write the model combining the suggestions greedily (model YAML) to OUT");
  ad->add_option("--from", o->from,
                 "transfer the patterns of this model (e.g. a search's best): fused stages by "
                 "resolution, channel alignment, stage depths");
  ad->add_option("--rules", o->rules,
                 "rules to run (default: all, and transfer with --from): "
                 "fuse,align,even,standard_conv,depth,transfer")
      ->delimiter(',');
  ad->add_flag("--no-score", o->no_score, "skip the trainability score (libtorch)");
  ad->add_option("--seed", o->seed, "seed of the score")->capture_default_str();
  ad->add_option("--cifar", o->cifar,
                 "directory with the CIFAR-10 batches for the score (default: $NAX_CIFAR_DIR, "
                 "else the shared copy)");
  ad->add_option("--proxy-batch", o->proxy_batch,
                 "images per batch of the score's proxies (0: each proxy's paper batch)")
      ->check(CLI::Range(0, 4096));
  ad->add_option("--jobs,-j", o->jobs, "workers when fitting an estimator (default: all cores)");
  ad->add_option("--json", o->json, "write the result as JSON to PATH ('-' for stdout)");
  ad->add_flag("--quiet,-q", o->quiet, "no table on the terminal, no progress");
  ad->footer(
      "Examples:\n"
      "  nax advise --model person_detector --chip default\n"
      "  nax advise -m person_detector --latency simulate --no-score --json advice.json\n"
      "  nax advise -m mobilenet_v2 --apply mnv2_advised.yaml\n"
      "  nax advise -m mobilenet_v2 --from results/best.yaml --rules fuse");
  ad->callback([o] { run_advise(*o); });
}

}  // namespace nax::cli
