// Dataset generation (`nax traces`): sampled networks are lowered and simulated on a chip, every
// unit is labelled in its context (hw/traces/label.hpp) and the rows go to a trace store
// (models/estimate/trace_store.hpp). traces/README.md describes the whole flow.
//
// Work items are the sample indices of a run: the shard's sequence shard_index, shard_index +
// shard_count, ... from where the store says the run stopped. With jobs > 1 the work is done by
// forked worker processes (each elaborates the simulator once and labels network after network;
// worker w takes the positions p of the shard's sequence with p % jobs == w) that send their
// results to this process through pipes (length-prefixed JSON). This process is the only writer:
// it applies results in index order, so a run's content does not depend on jobs, and commits them
// in batches (a transaction every `batch_units` new rows or `batch_seconds`), so a killed run
// loses at most the batch in flight. A sample that cannot be lowered on the chip (InputError from
// the lowering) is recorded as done and infeasible, with no rows.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hw/chip/chip.hpp"
#include "models/estimate/trace_store.hpp"
#include "models/ir/graph.hpp"

namespace nax::hw {

// One labelled network as store rows (or why it could not be labelled).
struct LabelledNetwork {
  int64_t index = -1;  // sample index; -1 for a --model network
  bool feasible = true;
  std::string reason;  // why not feasible
  est::NetworkRow network;
  std::vector<est::UnitRow> units;  // in network order, one per unit (keys may repeat)
  double seconds = 0;               // wall time to sample, build, lower, simulate and label
};

// Labels an already built network (source and spec YAML as the store records them). Throws
// InputError when it cannot be lowered on the chip.
LabelledNetwork label_graph(const ir::Graph& g, const ChipParams& chip, const std::string& source,
                            const std::string& spec_yaml);

// Samples network `index` of `seed` (est::sample_network) and labels it; never throws InputError
// (an infeasible sample comes back with feasible = false).
LabelledNetwork label_sample(uint64_t seed, int64_t index, const ChipParams& chip);

struct GenerateOptions {
  uint64_t seed = 0;
  int64_t count = 0;     // stop when the run has added this many unit rows (0: no unit target)
  int64_t networks = 0;  // stop before sample index `networks` (0: no index bound)
  int jobs = 1;
  int shard_index = 0;
  int shard_count = 1;
  int64_t batch_units = 256;   // commit after this many new unit rows ...
  double batch_seconds = 1.0;  // ... or this long after the batch began
};

struct GenerateStatus {
  int64_t new_units = 0;      // unit rows the run has added (including earlier sessions)
  int64_t target_units = 0;   // options.count
  int64_t indices_done = 0;   // sample indices done by the run (including earlier sessions)
  int64_t infeasible = 0;     // of those, infeasible ones
  int64_t session_units = 0;  // unit rows added by this call
  int64_t session_indices = 0;
  int64_t labelled_units = 0;  // units labelled by this call (new or not)
  int64_t next_index = 0;
  double seconds = 0;  // since this call began
  bool done = false;
  bool interrupted = false;
};

struct GenerateHooks {
  // Called after every commit and about four times a second.
  std::function<void(const GenerateStatus&)> progress;
  // Polled between networks; true stops the run after committing what is complete.
  std::function<bool()> stop_requested;
};

// Runs (or resumes) the sampling run (chip, options.seed, shard) into `store`. The caller decides
// whether resuming is allowed (TraceStore::runs). Throws nax::Error when a worker fails.
GenerateStatus generate(est::TraceStore& store, const ChipParams& chip,
                        const std::string& chip_yaml, const GenerateOptions& options,
                        const GenerateHooks& hooks = {});

// Writes one labelled network (units, network row; for a sample also its run bookkeeping) into an
// open batch. Returns the number of new unit rows.
int64_t write_labelled(est::TraceStore::Batch& batch, const est::RunKey* run,
                       const LabelledNetwork& n);

}  // namespace nax::hw
