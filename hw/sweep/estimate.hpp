// A sweep by the chip-aware estimator: every (point, model) pair predicted instead of simulated
// (`nax sweep --estimator FILE|auto`), then a sample of the points re-simulated and the
// estimator's error on them reported, so the user sees how far the estimated fronts can be
// trusted.
//
// Per pair:
// - latency: the estimator's cycles (its units, their predicted contexts, chip parameters as
//   features) at the chip's clock;
// - DRAM traffic: the hardware features' byte counts of each unit in its predicted context
//   (weights, inputs in DRAM, outputs leaving the chip, spills, re-reads), the closed forms the
//   estimator's features use; SRAM traffic: the lowering's per-fold reads and writes in closed
//   form (inputs per column fold, weights, partial sums per row fold; estimate.cpp layer_sram),
//   plus what the DMA moves in and out;
// - energy: the simulator's energy model (hw/MACHINE.md) applied to those counts: array MACs x
//   mac_pj, vector element ops x vector_op_pj, SRAM bytes x the read / write costs, DRAM bytes x
//   dram_pj_per_byte, static_mw x latency;
// - MAC-array and vector-unit utilisation: the units' array and vector busy times over the
//   predicted cycles; MAC efficiency: MACs / (cycles x PEs); area: exact (chip_area_mm2).
// What an estimate does not know: a lowering that would refuse the model on the chip (such pairs
// are estimated anyway; the re-simulated sample shows them as infeasible).
//
// The check sample: `n` points drawn (seeded, without replacement) from the feasible points, plus
// the estimated latency-area front of the model set ("all"), capped at `n` as well: the points an
// architect would pick are the ones whose error matters most.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hw/sweep/run.hpp"
#include "models/estimate/estimator.hpp"

namespace nax::hw::sweep {

// One pair by the estimator (`scanner` is reused between calls; `features`:
// chip_features(chip), computed once per chip). The estimator must be chip-aware or made for
// `chip`.
PairResult estimate_pair(const est::Estimator& estimator, const ChipParams& chip,
                         const est::ChipFeatures& features, const ir::Graph& graph,
                         est::GraphScanner& scanner);

// Expands and validates the config's points (as run_sweep does) and estimates every feasible
// point with every model, in this process. Throws InputError when the estimator is not
// chip-aware and some feasible point is another chip than its own. On stop_requested() returns
// with `interrupted` set (nothing is stored: estimates are recomputed faster than read back).
// `expansion`: expand_points(config), when the caller already has it.
SweepRun estimate_sweep(const SweepConfig& config, const est::Estimator& estimator,
                        const RunHooks& hooks, std::optional<Expansion> expansion = {});

// The points to re-simulate: `n` random feasible points (seed) and up to `n` of the estimated
// "all" latency-area front, ascending, without duplicates.
std::vector<size_t> check_points(const SweepRun& estimated, size_t n, uint64_t seed);

// Estimated against simulated on the checked points, per model and over all: pairs compared,
// latency and energy error (mean absolute %, max absolute %, signed mean %), the latency rank
// correlation (Spearman) over the checked points, pairs the lowering refused, and how many of
// the checked front points are on the simulated front of the checked points. `simulated` is a
// run of the same config whose results cover `points`.
nlohmann::json check_report(const SweepRun& estimated, const SweepRun& simulated,
                            const std::vector<size_t>& points);

// Rows "point,model,est_latency_ms,sim_latency_ms,latency_err_pct,est_energy_uj,sim_energy_uj,
// energy_err_pct" (CSV with a header) of the checked pairs.
std::string check_csv(const SweepRun& estimated, const SweepRun& simulated,
                      const std::vector<size_t>& points);

}  // namespace nax::hw::sweep
