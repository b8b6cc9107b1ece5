// Running a sweep: simulate every (point, model) pair of this process's share, keeping each
// result in an SQLite store keyed by (chip hash, model hash, simulator id), so a repeated or
// resumed sweep never simulates a pair twice and shards or machines can share one store.
//
// Work split: --shard i/n takes the points with index % n == i; within it, -j N forked workers
// take the points still to do round-robin (worker w the k-th with k % N == w; the simulator is
// per process, STYLE.md 4). Every pair's result depends only on its chip and model, so any split
// gives the single process's numbers.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hw/sweep/points.hpp"
#include "hw/sweep/sweep_config.hpp"
#include "models/ir/graph.hpp"

namespace nax::hw::sweep {

// One model on one chip, by simulation.
struct PairResult {
  bool feasible = false;
  std::string reason;  // why not: the lowering refused the model on this chip
  double latency_ms = 0;
  double energy_uj = 0;
  int64_t cycles = 0;
  double mac_array_utilization = 0;    // busy fraction of the MAC array (RunResult.units)
  double vector_unit_utilization = 0;  // busy fraction of the vector unit
  double mac_efficiency = 0;  // useful MACs / (cycles x PEs): how much of the array's peak is used
  int64_t dram_read_bytes = 0;
  int64_t dram_write_bytes = 0;
};

nlohmann::json to_json(const PairResult& r);
PairResult pair_from_json(const nlohmann::json& j);

// Lowers `graph` onto `chip` and simulates it (this process's simulator). A lowering that refuses
// the model (InputError or Error) is an infeasible result with its message; a simulator failure
// throws.
PairResult simulate_pair(const ChipParams& chip, const ir::Graph& graph);

struct SweepModel {
  std::string arg;   // as in the config (paths resolved)
  std::string name;  // the model's own name
  std::string hash;  // ir::graph_hash
  ir::Graph graph;
};

// Loads the config's models; a model that does not load is an InputError at its config line.
std::vector<SweepModel> load_sweep_models(const SweepConfig& config);

struct RunOptions {
  int jobs = 1;
  int shard_index = 0;
  int shard_count = 1;
  std::string db;  // "" = in memory
  bool resume = false;
  std::string simulator_id;  // part of every result's key (e.g. "simulator:<nax version>")
};

struct RunProgress {
  int64_t done = 0;     // pairs of this process's share with a result
  int64_t total = 0;    // pairs of this process's share (feasible points x models)
  int64_t session = 0;  // simulated by this run
  double seconds = 0;
};

struct RunHooks {
  std::function<void(const RunProgress&)> progress;
  std::function<bool()> stop_requested;
};

struct SweepRun {
  Expansion expansion;
  std::vector<SweepModel> models;
  std::vector<size_t> share;  // indices of the points this process owns (its shard)
  // [point][model]: the result, when the pair has one (infeasible points never have one).
  std::vector<std::vector<std::optional<PairResult>>> results;
  int64_t simulated = 0;  // pairs evaluated by this run (simulated, or refused by the lowering)
  int64_t reused = 0;     // pairs of the share found in the store
  bool interrupted = false;
  double seconds = 0;
  std::string sweep_hash;
};

// Expands, validates, then simulates what the store does not hold yet. Throws InputError for a
// bad shard or job count and for a store that already holds this sweep's run (same config and
// shard) when `resume` is false. On stop_requested() the results received so far are committed
// and the run returns with interrupted set.
SweepRun run_sweep(const SweepConfig& config, const RunOptions& options, const RunHooks& hooks);

// Copies every result, chip and run record of the `inputs` stores (shards run on other machines)
// into `out` (created when missing); a pair already in `out` is kept. Returns the result rows
// added. A missing input, or one that is not a nax sweep store, is an InputError.
int64_t merge_stores(const std::string& out, const std::vector<std::string>& inputs);

}  // namespace nax::hw::sweep
