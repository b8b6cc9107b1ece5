// Running a sweep: simulate every (point, model) pair of this process's share, keeping each
// result in an SQLite store keyed by (chip hash, model hash, simulator id), so a repeated or
// resumed sweep never simulates a pair twice and shards or machines can share one store.
//
// Work split: --shard i/n takes the points with index % n == i; within it, -j N forked workers
// take the points still to do round-robin (worker w the k-th with k % N == w; the simulator is
// per process, STYLE.md 4); or an evaluator hook hands the pairs still to do to other processes
// (`nax sweep --mpi`: MPI ranks that never open the store). Every pair's result depends only on
// its chip and model, so any split gives the single process's numbers.
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
  // When not empty: only these points (ascending indices) of the shard are run, the others left
  // without results (the re-simulated sample of an estimator sweep, hw/sweep/estimate.hpp).
  std::vector<size_t> only_points;
};

struct RunProgress {
  int64_t done = 0;     // pairs of this process's share with a result
  int64_t total = 0;    // pairs of this process's share (feasible points x models)
  int64_t session = 0;  // simulated by this run
  double seconds = 0;
};

struct SweepRun;

// One (point, model) pair to evaluate.
struct PairTask {
  size_t point = 0;
  size_t model = 0;
};

// Hands a result to the run, which keeps it and commits it to the store (in batches).
using RecordFn = std::function<void(size_t point, size_t model, PairResult result)>;

// Evaluates `todo` somewhere other than this process (the MPI ranks of tools/nax/sweep_mpi.cpp):
// calls `record` for each result as it arrives, in any order, and returns when every pair has
// one or when `stop()` holds (the pairs without a result are then left to --resume). It may
// throw to abandon the run; what was recorded is committed first.
using EvaluateFn = std::function<void(const SweepRun& run, const std::vector<PairTask>& todo,
                                      const RecordFn& record, const std::function<bool()>& stop)>;

struct RunHooks {
  std::function<void(const RunProgress&)> progress;
  std::function<bool()> stop_requested;
  EvaluateFn evaluate;  // empty: this process evaluates (with -j forked workers)
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

// A hash of what a process evaluating pairs of this sweep must agree on with the process that
// stores them: the description's hash, every point's id and every model's hash, in order. Equal
// on every machine that reads the same description and model files.
std::string sweep_fingerprint(const std::string& sweep_hash, const Expansion& expansion,
                              const std::vector<SweepModel>& models);

// Expands, validates, then simulates what the store does not hold yet (or has hooks.evaluate do
// it). Throws InputError for a bad shard or job count, for -j with hooks.evaluate, and for a store
// that already holds this sweep's run (same config and shard) when `resume` is false. On
// stop_requested() the results received so far are committed and the run returns with
// interrupted set.
SweepRun run_sweep(const SweepConfig& config, const RunOptions& options, const RunHooks& hooks);

// Copies every result, chip and run record of the `inputs` stores (shards run on other machines)
// into `out` (created when missing); a pair already in `out` is kept. Returns the result rows
// added. A missing input, or one that is not a nax sweep store, is an InputError.
int64_t merge_stores(const std::string& out, const std::vector<std::string>& inputs);

}  // namespace nax::hw::sweep
