#include "nas/search/evaluate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "models/common/error.hpp"
#include "models/estimate/fast_units.hpp"
#include "models/ir/analysis.hpp"
#include "models/model_source.hpp"
#include "nas/accuracy/benchmarks.hpp"
#include "nas/accuracy/external.hpp"
#include "nas/accuracy/score.hpp"
#include "nas/torch/api.hpp"

namespace nax::search {
namespace {

class EstimatorOracle : public LatencyOracle {
 public:
  EstimatorOracle(std::shared_ptr<const est::Estimator> e, const est::ChipFeatures& chip,
                  std::string id)
      : m_est(std::move(e)), m_chip(chip), m_id(std::move(id)) {}
  std::string id() const override { return m_id; }
  std::string chip_hash() const override { return m_chip.hash; }
  double latency_ms(const ir::Graph& g) override {
    return m_est->estimate(g, m_scanner, m_chip) / m_chip.clock_mhz / 1e3;
  }
  std::vector<std::pair<std::string, double>> breakdown_ms(const ir::Graph& g) override {
    std::vector<double> per_unit;
    m_est->estimate(g, m_scanner, m_chip, &per_unit);
    std::vector<std::pair<std::string, double>> out;
    const auto& units = m_scanner.units();
    for (size_t i = 0; i < units.size() && i < per_unit.size(); ++i)
      out.emplace_back(*units[i].name, per_unit[i] / m_chip.clock_mhz / 1e3);
    return out;
  }

 private:
  std::shared_ptr<const est::Estimator> m_est;
  est::ChipFeatures m_chip;
  std::string m_id;
  est::GraphScanner m_scanner;
};

std::string bytes_text(int64_t b) {
  if (b >= (1 << 20)) return fmt::format("{:.2f} MiB", static_cast<double>(b) / (1 << 20));
  if (b >= (1 << 10)) return fmt::format("{:.1f} KiB", static_cast<double>(b) / (1 << 10));
  return fmt::format("{} B", b);
}

}  // namespace

std::unique_ptr<LatencyOracle> make_estimator_oracle(std::shared_ptr<const est::Estimator> e,
                                                     const est::ChipFeatures& chip,
                                                     const std::string& id) {
  return std::make_unique<EstimatorOracle>(std::move(e), chip, id);
}

FixedChip::FixedChip(LatencyOracle& latency, const ChipLimits& limits) {
  m_chip.limits = limits;
  m_chip.latency = &latency;
}

const CandidateChip& FixedChip::chip(const std::vector<std::string>& overrides) {
  if (!overrides.empty())
    throw Error(
        "search: chip overrides asked of a search on one chip (a space with chip decisions "
        "needs a ChipProvider that resolves them)");
  return m_chip;
}

ChipLimits chip_limits(const est::ChipFeatures& c) {
  ChipLimits l;
  l.name = c.name;
  l.hash = c.hash;
  l.sram_bytes = c.sram_split ? c.weight_buf_bytes : c.sram_bytes;
  l.weight_bytes = c.weight_bytes;
  l.activation_bytes = c.act_bytes;
  l.parallelism = c.cols;
  return l;
}

nlohmann::json Constraints::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  if (min_score) j["min_score"] = *min_score;
  if (max_param_bytes) j["max_param_bytes"] = *max_param_bytes;
  if (max_peak_activation_bytes) j["max_peak_activation_bytes"] = *max_peak_activation_bytes;
  if (max_latency_ms) j["max_latency_ms"] = *max_latency_ms;
  if (min_macs) j["min_macs"] = *min_macs;
  if (weights_fit_sram) j["weights_fit_sram"] = true;
  if (max_area_mm2) j["max_area_mm2"] = *max_area_mm2;
  return j;
}

nlohmann::json Metrics::to_json() const {
  nlohmann::json j = {{"arch_hash", arch_hash},
                      {"params", params},
                      {"param_bytes", param_bytes},
                      {"peak_activation_bytes", peak_activation_bytes},
                      {"macs", macs},
                      {"feasible", feasible}};
  j["latency_ms"] = latency_ms ? nlohmann::json(*latency_ms) : nlohmann::json();
  j["score"] = score ? nlohmann::json(*score) : nlohmann::json();
  if (score_sd) j["score_sd"] = *score_sd;
  if (energy_uj) j["energy_uj"] = *energy_uj;
  if (!chip_hash.empty()) j["chip_hash"] = chip_hash;
  if (area_mm2) j["area_mm2"] = *area_mm2;
  if (!chip_overrides.empty()) j["chip_overrides"] = chip_overrides;
  if (!reason.empty()) j["reason"] = reason;
  return j;
}

Metrics Metrics::from_json(const nlohmann::json& j) {
  Metrics m;
  m.arch_hash = j.at("arch_hash").get<std::string>();
  m.params = j.at("params").get<int64_t>();
  m.param_bytes = j.at("param_bytes").get<int64_t>();
  m.peak_activation_bytes = j.at("peak_activation_bytes").get<int64_t>();
  m.macs = j.at("macs").get<int64_t>();
  m.feasible = j.at("feasible").get<bool>();
  if (j.contains("latency_ms") && !j["latency_ms"].is_null())
    m.latency_ms = j["latency_ms"].get<double>();
  if (j.contains("score") && !j["score"].is_null()) m.score = j["score"].get<double>();
  if (j.contains("score_sd")) m.score_sd = j["score_sd"].get<double>();
  if (j.contains("energy_uj")) m.energy_uj = j["energy_uj"].get<double>();
  m.chip_hash = j.value("chip_hash", std::string());
  if (j.contains("area_mm2")) m.area_mm2 = j["area_mm2"].get<double>();
  if (j.contains("chip_overrides"))
    m.chip_overrides = j["chip_overrides"].get<std::vector<std::string>>();
  m.reason = j.value("reason", std::string());
  return m;
}

Metrics static_metrics(const ir::Graph& g, const ChipLimits& chip, const Constraints& c) {
  Metrics m;
  m.arch_hash = ir::graph_hash(g);
  const ir::GraphStats s =
      ir::analyze(g, {}, ir::ElementBytes{chip.activation_bytes, chip.weight_bytes});
  m.params = s.params;
  m.param_bytes = s.weight_bytes;
  m.peak_activation_bytes = s.peak_activation_bytes;
  m.macs = s.macs;
  m.chip_hash = chip.hash;
  if (chip.area_mm2 > 0) m.area_mm2 = chip.area_mm2;
  if (c.max_area_mm2 && !(chip.area_mm2 > 0)) {
    m.feasible = false;
    m.reason = "an area budget, but the chip's area is unknown";
  } else if (c.max_area_mm2 && chip.area_mm2 > *c.max_area_mm2) {
    m.feasible = false;
    m.reason =
        fmt::format("chip area {:.3f} mm2 > budget {:.3f} mm2", chip.area_mm2, *c.max_area_mm2);
  } else if (c.max_param_bytes && m.param_bytes > *c.max_param_bytes) {
    m.feasible = false;
    m.reason = fmt::format("parameters {} > budget {}", bytes_text(m.param_bytes),
                           bytes_text(*c.max_param_bytes));
  } else if (c.max_peak_activation_bytes &&
             m.peak_activation_bytes > *c.max_peak_activation_bytes) {
    m.feasible = false;
    m.reason = fmt::format("peak activations {} > budget {}", bytes_text(m.peak_activation_bytes),
                           bytes_text(*c.max_peak_activation_bytes));
  } else if (c.min_macs && m.macs < *c.min_macs) {
    m.feasible = false;
    m.reason = fmt::format("MACs {} < required {}", m.macs, *c.min_macs);
  } else if (c.weights_fit_sram && m.param_bytes > chip.sram_bytes) {
    m.feasible = false;
    m.reason = fmt::format("parameters {} do not fit the chip's SRAM ({})",
                           bytes_text(m.param_bytes), bytes_text(chip.sram_bytes));
  }
  return m;
}

bool check_measured(Metrics& m, const Constraints& c) {
  if (!m.feasible) return false;
  if (c.max_latency_ms && m.latency_ms && *m.latency_ms > *c.max_latency_ms) {
    m.feasible = false;
    m.reason = fmt::format("latency {:.4f} ms > bound {:.4f} ms", *m.latency_ms, *c.max_latency_ms);
  } else if (c.min_score && m.score && *m.score < *c.min_score) {
    m.feasible = false;
    m.reason = fmt::format("score {:.4f} < required {:.4f}", *m.score, *c.min_score);
  }
  return m.feasible;
}

int proxy_resolution(int64_t resolution, const ScoreOptions& o) {
  const double r = std::round(static_cast<double>(resolution) * o.resolution_scale);
  return static_cast<int>(std::clamp<double>(r, o.min_resolution, static_cast<double>(resolution)));
}

std::string ScoreOptions::key() const {
  switch (source) {
    case AccuracySource::kScore:
      return fmt::format("{} scale={} min={} seed={}{}", accuracy::score_name(), resolution_scale,
                         min_resolution, seed, batch > 0 ? fmt::format(" batch={}", batch) : "");
    case AccuracySource::kOracle:
      return "oracle";
    case AccuracySource::kTrain:
      return fmt::format("train epochs={} seed={}", train_epochs, seed);
    case AccuracySource::kCommand:
      return "command " + command;
  }
  return "?";
}

void parse_accuracy_source(const std::string& text, ScoreOptions& o) {
  if (text == "score") {
    o.source = AccuracySource::kScore;
  } else if (text == "oracle") {
    o.source = AccuracySource::kOracle;
  } else if (text == "train") {
    o.source = AccuracySource::kTrain;
  } else if (text.rfind("command:", 0) == 0 && text.size() > 8) {
    o.source = AccuracySource::kCommand;
    o.command = text.substr(8);
  } else {
    throw InputError("accuracy source: expected score, oracle, train or command:<template>, got '" +
                     text + "'");
  }
}

namespace {

Model as_model(const spec::ModelSpec& m) {
  Model r;
  r.name = m.name;
  r.source = m.name;
  r.kind = "yaml";
  r.spec = m;
  r.graph = spec::build_graph(m);
  r.hash = ir::graph_hash(r.graph);
  return r;
}

std::optional<double> other_accuracy(const spec::ModelSpec& m, const ScoreOptions& o,
                                     std::string* why) {
  try {
    if (o.source == AccuracySource::kOracle) {
      static std::unique_ptr<accuracy::BenchmarkOracle> oracle;
      if (!oracle || oracle->data_dir() != accuracy::resolve_data_dir(o.data_dir))
        oracle = std::make_unique<accuracy::BenchmarkOracle>(o.data_dir);
      const auto r = oracle->lookup(as_model(m));
      if (!r) {
        if (why) *why = "not a benchmark network: no published accuracy";
        return std::nullopt;
      }
      return r->accuracy;
    }
    if (o.source == AccuracySource::kTrain) {
      torchnet::TrainOptions t;
      t.epochs = o.train_epochs;
      t.seed = o.seed;
      t.cifar_dir = o.cifar_dir;
      return torchnet::short_train(spec::build_graph(m), t).test_accuracy;
    }
    accuracy::ExternalOptions eo;
    eo.command = o.command;
    eo.work_dir = o.work_dir;
    return accuracy::ExternalEvaluator(eo).evaluate(as_model(m)).accuracy;
  } catch (const std::exception& e) {
    if (why) *why = e.what();
    return std::nullopt;
  }
}

}  // namespace

std::optional<double> candidate_score(const spec::ModelSpec& m, const ScoreOptions& o,
                                      std::string* why) {
  if (o.source != AccuracySource::kScore) return other_accuracy(m, o, why);
  spec::ModelSpec small = m;
  const int h = proxy_resolution(m.height, o);
  const int w = static_cast<int>(std::llround(static_cast<double>(m.width) * h / m.height));
  small.height = h;
  small.width = std::max(w, 1);
  torchnet::ProxyOptions po;
  po.proxies = accuracy::score_proxies();
  po.seed = o.seed;
  po.cifar_dir = o.cifar_dir;
  po.batch = o.batch;
  try {
    const ir::Graph g = spec::build_graph(small);
    const torchnet::ProxyResult r = torchnet::compute_proxies(g, po);
    std::map<std::string, double> values;
    for (const auto& s : r.scores) values[s.name] = s.value;
    const auto sc = accuracy::trainability_score(values);
    if (!sc && why) *why = "a proxy of the score is missing";
    if (sc && !std::isfinite(*sc)) {
      if (why) *why = "the score is not finite";
      return std::nullopt;
    }
    return sc;
  } catch (const InputError& e) {
    if (why) *why = fmt::format("cannot score at {}x{}: {}", small.height, small.width, e.what());
    return std::nullopt;
  }
}

Metrics evaluate_candidate(const spec::ModelSpec& m, LatencyOracle& latency, const ChipLimits& chip,
                           const Constraints& c, const ScoreOptions& score, bool with_score) {
  const ir::Graph g = spec::build_graph(m);
  Metrics r = static_metrics(g, chip, c);
  if (!r.feasible) return r;
  r.latency_ms = latency.latency_ms(g);
  if (!check_measured(r, c)) return r;
  if (with_score && score.enabled) {
    std::string why;
    r.score = candidate_score(m, score, &why);
    if (!r.score) {
      r.feasible = false;
      r.reason = why;
      return r;
    }
    check_measured(r, c);
  }
  return r;
}

}  // namespace nax::search
