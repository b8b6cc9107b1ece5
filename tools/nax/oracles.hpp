// The latency oracles a search (nas/search/evaluate.hpp) asks, built from a chip: the simulator
// (here, because nas never links hw) and the estimator, either a file the user names or one fitted
// for the chip on first use and kept in nax's cache directory.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "hw/chip/chip.hpp"
#include "nas/search/evaluate.hpp"

namespace nax::cli {

// Lowers and simulates each graph on `chip` (the process's one simulator).
std::unique_ptr<search::LatencyOracle> simulator_oracle(const hw::ChipParams& chip);

// The feasibility limits of `chip`.
search::ChipLimits chip_limits(const hw::ChipParams& chip);

// Where fitted estimators are kept: $NAX_CACHE_DIR, else $XDG_CACHE_HOME/nax, else ~/.cache/nax.
std::string cache_dir();

struct EstimatorSource {
  std::string path;      // --estimator FILE; "" = the cache's estimator for the chip
  std::string chip_arg;  // the chip as given (preset or file) and its overrides, to fit one
  std::vector<std::string> overrides;
  int jobs = 1;           // workers of the trace generation when fitting
  int64_t units = 20000;  // labelled units of a fitted estimator's dataset
  bool quiet = false;
};

// The estimator oracle for `chip`: the named file (checked against the chip), or the cached one
// (<cache>/estimators/<chip hash>-<nax version>.est.json), fitted when missing by running
// `nax traces` and `nax fit` (their progress on stderr; about two minutes on two cores). The
// oracle's id is the estimator file's content hash. `path_out` (optional) gets the file used.
std::unique_ptr<search::LatencyOracle> estimator_oracle(const hw::ChipParams& chip,
                                                        const EstimatorSource& src,
                                                        std::string* path_out = nullptr);

}  // namespace nax::cli
