// The chip-aware estimator of a sweep (`nax sweep --estimator auto`): fitted on a sample of the
// sweep's own chips and kept in nax's cache directory, so a sweep of thousands of points costs
// a few hundred simulated networks' worth of labelling once, then microseconds per pair.
//
// The sample: `chips` feasible points of distinct chips spread like a Latin hypercube: with
// axis-value positions normalised to [0, 1], every axis is cut into `chips` strata, the strata
// are dealt to the samples in a seeded order per axis, and each sample takes the nearest unused
// feasible point (ties to the lowest index). So every axis's range is covered evenly and the
// interior as well as the extremes is seen (a farthest-point rule picks only corners, and trees
// extrapolate badly to the interior they never saw). Each is labelled with `nax traces`
// (`units` units, seed 11, -j) into <cache>/estimators/sweep-<key>/, then `nax fit --chip-aware`
// trains on all of them but the last chosen, which is held out and evaluated (its unit and
// network errors are in the fit report). <key> hashes the sampled chips, the unit count and the
// nax version: the same sweep reuses the file; an interrupted labelling resumes.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "hw/sweep/run.hpp"

namespace nax::cli {

struct SweepEstimatorOptions {
  int chips = 8;
  int64_t units = 6000;  // labelled units per chip
  int jobs = 1;
  bool quiet = false;
};

// Indices of the sampled points (in choice order; the last is the held-out chip).
std::vector<size_t> sample_chips(const hw::sweep::Expansion& expansion, size_t n);

// Thrown by sweep_estimator when Ctrl-C (or SIGTERM) stopped its labelling or fitting; what was
// labelled stays in the cache and the next run resumes it.
struct FitInterrupted {};

// The estimator file for `expansion` (fitted when the cache does not hold it). Throws InputError
// when the sweep has fewer than two feasible chips.
std::string sweep_estimator(const hw::sweep::Expansion& expansion,
                            const SweepEstimatorOptions& options);

// A sweep by the estimator: `estimator_arg` is a chip-aware estimator file or "auto"
// (sweep_estimator); then `check` points (hw/sweep/estimate.hpp check_points) are simulated with
// `ro` (its store keeps them, so a repeated check simulates nothing) and compared.
struct EstimatedSweep {
  hw::sweep::SweepRun run;   // the estimates
  nlohmann::json estimator;  // file, content hash, form, training chips
  nlohmann::json check;      // hw::sweep::check_report; null without a check
  std::string check_csv;     // the checked pairs
  bool interrupted = false;  // during the fit, the estimates or the check
  bool fit_interrupted = false;
  int64_t check_simulated = 0;
};
EstimatedSweep run_estimated_sweep(const hw::sweep::SweepConfig& config,
                                   const std::string& estimator_arg,
                                   const SweepEstimatorOptions& fit, size_t check,
                                   hw::sweep::RunOptions ro, const hw::sweep::RunHooks& hooks);

}  // namespace nax::cli
