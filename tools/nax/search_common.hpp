// What `nax search` and `nax study` share: the chip and its latency oracles, constraints relative
// to a baseline ("baseline", "53%" of it, or an absolute number), running a search with a progress
// line and Ctrl-C handling, re-simulating candidates, and exporting them as model YAML and ONNX.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hw/chip/chip.hpp"
#include "nas/search/driver.hpp"
#include "tools/nax/oracles.hpp"

namespace nax::cli {

struct OracleSpec {
  std::string chip = "default";
  std::vector<std::string> overrides;
  std::string latency = "estimate";  // estimate | simulate
  std::string estimator;             // file; "" = cached / fitted for the chip
  int jobs = 1;
  bool quiet = false;
};

struct SearchSetup {
  hw::ChipParams chip;
  std::unique_ptr<search::LatencyOracle> latency;    // what the search uses
  std::unique_ptr<search::LatencyOracle> simulator;  // re-simulation (may be the same kind)
  search::ChipLimits limits;
  std::string estimator_path;                       // "" when latency is simulated
  std::shared_ptr<const est::Estimator> estimator;  // nullptr when latency is simulated
};
SearchSetup make_search_setup(const OracleSpec& o);

// Constraint texts: min_score "baseline" | "baseline-sd" (the baseline's score less its
// seed-to-seed standard deviation, Metrics::score_sd: a candidate within the score's noise of the
// baseline passes) | "none" | a number; byte budgets "53%" (of the
// baseline's) | "none" | a number of bytes (suffixes k, M: 1000-based; KiB, MiB: 1024-based).
struct ConstraintSpec {
  std::string min_score = "baseline";
  std::string max_param_bytes = "none";
  std::string max_peak_activation_bytes = "none";
  std::string min_macs = "none";  // "none", "100%" (of the baseline's) or a number
  bool weights_fit_sram = false;
  // Chip area: "none", "base" (the base chip's area, the baseline's chip), "90%" (of it) or mm2
  // ("3.1", "3.1mm2").
  std::string max_area = "none";
};
// Throws InputError naming `what` (the option or file key) for a malformed text.
search::Constraints resolve_constraints(const ConstraintSpec& c, const search::Metrics& baseline,
                                        const std::string& what);

// Runs the search with a progress line (best so far, rate, ETA) and StopSignals; on Ctrl-C the
// outcome is marked interrupted (the caller prints how to resume and sets exit code 130).
search::SearchOutcome run_search(search::Searcher& s, const std::string& prefix,
                                 search::Objective objective, bool quiet);

struct Reported {
  std::string variant;
  std::string model_name;
  search::Metrics metrics;
  std::optional<double> simulated_ms;
  std::optional<double> simulated_energy_uj;
  nlohmann::json chip;  // joint searches: the candidate's chip (name, hash, overrides, area_mm2)
  std::string model_path, onnx_path;
  std::string describe;  // the decisions that differ from the baseline
};
// A reported candidate as JSON: variant, model, latency_ms, simulated_latency_ms, reduction_pct
// (simulated latency vs the baseline's when both are simulated, else the search's latency),
// estimated_reduction_pct, estimate_error_pct, score, params, param_bytes,
// peak_activation_bytes, macs, param_reduction_pct, peak_activation_reduction_pct, changes,
// model_path, onnx_path, energy_uj (the search's, when measured), simulated_energy_uj, area_mm2,
// and chip (when set).
nlohmann::json reported_json(const Reported& r, const Reported& baseline);

// Writes <dir>/<name>.yaml and <dir>/<name>.onnx (shape-only weights) of a model.
void export_model(const spec::ModelSpec& m, const std::string& dir, Reported& r);

// "1.23 MiB"
std::string bytes_str(int64_t b);

}  // namespace nax::cli
