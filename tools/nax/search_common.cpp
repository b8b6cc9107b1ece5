#include "tools/nax/search_common.hpp"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>

#include "models/common/error.hpp"
#include "models/onnx/onnx_export.hpp"
#include "tools/nax/cli.hpp"
#include "tools/nax/progress.hpp"

namespace nax::cli {

SearchSetup make_search_setup(const OracleSpec& o) {
  SearchSetup s;
  s.chip = hw::load_chip(o.chip, o.overrides);
  s.limits = chip_limits(s.chip);
  s.simulator = simulator_oracle(s.chip);
  if (o.latency == "simulate") {
    s.latency = simulator_oracle(s.chip);
  } else if (o.latency == "estimate") {
    EstimatorSource src;
    src.path = o.estimator;
    src.chip_arg = o.chip;
    src.overrides = o.overrides;
    src.jobs = o.jobs;
    src.quiet = o.quiet;
    s.latency = estimator_oracle(s.chip, src, &s.estimator_path, &s.estimator);
  } else {
    throw InputError("--latency: expected estimate or simulate, got '" + o.latency + "'");
  }
  return s;
}

namespace {

// Bytes: a number with an optional suffix (k, M, G: 1000-based; KiB, MiB, GiB: 1024-based).
std::optional<int64_t> parse_bytes(const std::string& t) {
  size_t pos = 0;
  double v = 0;
  try {
    v = std::stod(t, &pos);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::string suf = t.substr(pos);
  while (!suf.empty() && suf.front() == ' ') suf.erase(suf.begin());
  double mult = 1;
  if (suf.empty() || suf == "B")
    mult = 1;
  else if (suf == "k" || suf == "kB")
    mult = 1e3;
  else if (suf == "M" || suf == "MB")
    mult = 1e6;
  else if (suf == "G" || suf == "GB")
    mult = 1e9;
  else if (suf == "KiB")
    mult = 1024;
  else if (suf == "MiB")
    mult = 1024.0 * 1024;
  else if (suf == "GiB")
    mult = 1024.0 * 1024 * 1024;
  else
    return std::nullopt;
  if (!(v >= 0)) return std::nullopt;
  return static_cast<int64_t>(std::llround(v * mult));
}

std::optional<int64_t> byte_budget(const std::string& t, int64_t baseline,
                                   const std::string& what) {
  if (t.empty() || t == "none") return std::nullopt;
  if (t.back() == '%') {
    double pct = 0;
    try {
      pct = std::stod(t.substr(0, t.size() - 1));
    } catch (const std::exception&) {
      pct = -1;
    }
    if (!(pct > 0))
      throw InputError(fmt::format("{}: expected a positive percentage, got '{}'", what, t));
    return static_cast<int64_t>(std::floor(static_cast<double>(baseline) * pct / 100));
  }
  const auto b = parse_bytes(t);
  if (!b)
    throw InputError(fmt::format(
        "{}: expected 'none', a percentage of the baseline ('53%') or bytes ('1.5MiB'), got '{}'",
        what, t));
  return b;
}

// Area: none, base, a percentage of the base chip's area, or mm2.
std::optional<double> area_budget(const std::string& t, const std::optional<double>& base,
                                  const std::string& what) {
  if (t.empty() || t == "none") return std::nullopt;
  auto need_base = [&] {
    if (!base || !(*base > 0))
      throw InputError(fmt::format("{}: {} needs the base chip's area, which is unknown", what, t));
    return *base;
  };
  if (t == "base") return need_base();
  std::string num = t;
  const bool pct = !num.empty() && num.back() == '%';
  if (pct) num.pop_back();
  if (!pct && num.size() > 3 && num.compare(num.size() - 3, 3, "mm2") == 0)
    num.resize(num.size() - 3);
  double v = -1;
  try {
    size_t pos = 0;
    v = std::stod(num, &pos);
    if (pos != num.size()) v = -1;
  } catch (const std::exception&) {
    v = -1;
  }
  if (!(v > 0) || !std::isfinite(v))
    throw InputError(fmt::format(
        "{}: expected 'none', 'base' (the base chip's area), a percentage of it ('90%') or mm2 "
        "('3.1', '3.1mm2'), got '{}'",
        what, t));
  return pct ? need_base() * v / 100 : v;
}

}  // namespace

search::Constraints resolve_constraints(const ConstraintSpec& c, const search::Metrics& baseline,
                                        const std::string& what) {
  search::Constraints r;
  if (c.min_score == "baseline" || c.min_score == "baseline-sd") {
    if (!baseline.score)
      throw InputError(fmt::format("{}: min_score {}, but the baseline has no score ({})", what,
                                   c.min_score,
                                   baseline.reason.empty() ? "scoring is off" : baseline.reason));
    r.min_score = *baseline.score;
    if (c.min_score == "baseline-sd") *r.min_score -= baseline.score_sd.value_or(0);
  } else if (!c.min_score.empty() && c.min_score != "none") {
    try {
      size_t pos = 0;
      r.min_score = std::stod(c.min_score, &pos);
      if (pos != c.min_score.size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      throw InputError(fmt::format("{}: min_score: expected baseline, none or a number, got '{}'",
                                   what, c.min_score));
    }
  }
  r.max_param_bytes =
      byte_budget(c.max_param_bytes, baseline.param_bytes, what + ": max_param_bytes");
  r.max_peak_activation_bytes =
      byte_budget(c.max_peak_activation_bytes, baseline.peak_activation_bytes,
                  what + ": max_peak_activation_bytes");
  r.min_macs = byte_budget(c.min_macs, baseline.macs, what + ": min_macs");
  r.max_area_mm2 = area_budget(c.max_area, baseline.area_mm2, what + ": max_area");
  r.weights_fit_sram = c.weights_fit_sram;
  return r;
}

search::SearchOutcome run_search(search::Searcher& s, const std::string& prefix,
                                 search::Objective objective, bool quiet) {
  StopSignals signals;
  ProgressLine line(prefix, "auto", quiet);
  search::SearchHooks hooks;
  int first_done = -1;
  hooks.progress = [&](const search::SearchProgress& p) {
    if (first_done < 0) first_done = p.done - p.evaluated;
    std::string best = "none feasible yet";
    if (p.best) {
      best = objective == search::Objective::kScore     ? fmt::format("best score {:.4g}", -*p.best)
             : objective == search::Objective::kLatency ? fmt::format("best {:.4f} ms", *p.best)
             : objective == search::Objective::kEnergy
                 ? fmt::format("best {:.1f} uJ", *p.best)
                 : fmt::format("best {}", bytes_str(static_cast<int64_t>(*p.best)));
    }
    line.update(p.budget > 0 ? static_cast<double>(p.done) / p.budget : 1.0,
                fmt::format("{}, {}, {} infeasible",
                            eta_text(p.done, p.budget, p.evaluated, p.seconds, "candidates"), best,
                            p.infeasible),
                p.seconds, p.done >= p.budget);
  };
  hooks.stop_requested = [] { return StopSignals::stop_requested(); };
  search::SearchOutcome out = s.run(hooks);
  line.finish();
  return out;
}

std::string bytes_str(int64_t b) {
  if (b >= (1 << 20)) return fmt::format("{:.2f} MiB", static_cast<double>(b) / (1 << 20));
  if (b >= (1 << 10)) return fmt::format("{:.1f} KiB", static_cast<double>(b) / (1 << 10));
  return fmt::format("{} B", b);
}

nlohmann::json reported_json(const Reported& r, const Reported& baseline) {
  const search::Metrics& m = r.metrics;
  const double baseline_latency_ms = baseline.metrics.latency_ms.value_or(0);
  const std::optional<double> baseline_simulated_ms = baseline.simulated_ms;
  auto reduction = [](int64_t v, int64_t base) {
    return base > 0 ? 100 * (1 - static_cast<double>(v) / static_cast<double>(base)) : 0.0;
  };
  nlohmann::json j = {
      {"variant", r.variant},
      {"model", r.model_name},
      {"params", m.params},
      {"param_bytes", m.param_bytes},
      {"peak_activation_bytes", m.peak_activation_bytes},
      {"macs", m.macs},
      {"feasible", m.feasible},
      {"model_path", r.model_path},
      {"onnx_path", r.onnx_path},
      {"changes", r.describe},
      {"param_reduction_pct", reduction(m.param_bytes, baseline.metrics.param_bytes)},
      {"peak_activation_reduction_pct",
       reduction(m.peak_activation_bytes, baseline.metrics.peak_activation_bytes)}};
  j["latency_ms"] = m.latency_ms ? nlohmann::json(*m.latency_ms) : nlohmann::json();
  j["score"] = m.score ? nlohmann::json(*m.score) : nlohmann::json();
  if (m.score_sd) j["score_sd"] = *m.score_sd;
  j["simulated_latency_ms"] = r.simulated_ms ? nlohmann::json(*r.simulated_ms) : nlohmann::json();
  j["energy_uj"] = m.energy_uj ? nlohmann::json(*m.energy_uj) : nlohmann::json();
  j["simulated_energy_uj"] =
      r.simulated_energy_uj ? nlohmann::json(*r.simulated_energy_uj) : nlohmann::json();
  j["area_mm2"] = m.area_mm2 ? nlohmann::json(*m.area_mm2) : nlohmann::json();
  if (!r.chip.is_null()) j["chip"] = r.chip;
  // The reduction is measured on the simulated latencies when both exist (the rule:
  // every reported number re-simulated), else on the search's own latency.
  const bool sim = r.simulated_ms && baseline_simulated_ms && *baseline_simulated_ms > 0;
  if (sim) {
    j["reduction_pct"] = 100 * (1 - *r.simulated_ms / *baseline_simulated_ms);
  } else if (m.latency_ms && baseline_latency_ms > 0) {
    j["reduction_pct"] = 100 * (1 - *m.latency_ms / baseline_latency_ms);
  } else {
    j["reduction_pct"] = nullptr;
  }
  j["estimated_reduction_pct"] =
      m.latency_ms && baseline_latency_ms > 0
          ? nlohmann::json(100 * (1 - *m.latency_ms / baseline_latency_ms))
          : nlohmann::json();
  j["estimate_error_pct"] = r.simulated_ms && m.latency_ms && *r.simulated_ms > 0
                                ? nlohmann::json(100 * (*m.latency_ms / *r.simulated_ms - 1))
                                : nlohmann::json();
  return j;
}

void export_model(const spec::ModelSpec& m, const std::string& dir, Reported& r) {
  std::filesystem::create_directories(dir);
  r.model_path = (std::filesystem::path(dir) / (m.name + ".yaml")).string();
  r.onnx_path = (std::filesystem::path(dir) / (m.name + ".onnx")).string();
  write_text(spec::write_model_yaml(m), r.model_path);
  onnx::ExportOptions eo;
  eo.shape_only = true;
  onnx::export_onnx_file(spec::build_graph(m), r.onnx_path, eo);
}

}  // namespace nax::cli
