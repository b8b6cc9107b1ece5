// The latency oracles a search (nas/search/evaluate.hpp) asks, built from a chip: the simulator
// (here, because nas never links hw) and the estimator, either a file the user names or one fitted
// for the chip on first use and kept in nax's cache directory.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hw/chip/chip.hpp"
#include "models/estimate/estimator.hpp"
#include "nas/search/evaluate.hpp"
#include "nas/search/space.hpp"

namespace nax::cli {

// Lowers and simulates each graph on `chip` (the process's one simulator, which runs any chip);
// measures energy too.
std::unique_ptr<search::LatencyOracle> simulator_oracle(const hw::ChipParams& chip);

// The feasibility limits of `chip`, with its area (hw::chip_area_mm2).
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
// `estimator_out` (optional) gets the estimator itself (to measure other chips when it is
// chip-aware).
std::unique_ptr<search::LatencyOracle> estimator_oracle(
    const hw::ChipParams& chip, const EstimatorSource& src, std::string* path_out = nullptr,
    std::shared_ptr<const est::Estimator>* estimator_out = nullptr);

// The chips of a search (joint chip + network search, nas/search/driver.hpp): the base chip
// (--chip, -p) with each candidate's overrides, loaded and validated by hw::load_chip (a refused
// combination is an invalid chip: the candidate is infeasible with the loader's message), its area
// (hw::chip_area_mm2) and a latency oracle on it: the simulator when the search simulates, else
// the chip-aware estimator (a single-chip estimator is refused when a space has chip decisions:
// check_estimator). Resolved chips are kept by override set and share an oracle per chip hash.
class ChipResolver : public search::ChipProvider {
 public:
  // `base_latency` measures the base chip (make_search_setup's oracle); `estimator` (with its
  // oracle id) measures other chips when the search estimates; nullptr: the simulator measures
  // them.
  ChipResolver(std::string chip_arg, std::vector<std::string> base_overrides,
               search::LatencyOracle& base_latency,
               std::shared_ptr<const est::Estimator> estimator = nullptr);
  const search::CandidateChip& base() override;
  const search::CandidateChip& chip(const std::vector<std::string>& overrides) override;
  // The resolved chip of a valid override set (Error when it is not valid).
  const hw::ChipParams& params(const std::vector<std::string>& overrides);
  // The chip as a YAML file (hw::dump_chip) named "<base name>-<8 hex of its hash>" unless it is
  // the base chip; the overrides in its description.
  std::string yaml(const std::vector<std::string>& overrides);

 private:
  struct Entry {
    search::CandidateChip chip;
    std::optional<hw::ChipParams> params;
  };
  std::string m_chip_arg;
  std::vector<std::string> m_base_overrides;
  search::LatencyOracle& m_base_latency;
  std::shared_ptr<const est::Estimator> m_estimator;
  hw::ChipParams m_base;
  std::map<std::string, std::unique_ptr<Entry>> m_entries;  // joined overrides -> chip
  std::map<std::string, std::unique_ptr<search::LatencyOracle>> m_oracles;  // chip hash -> oracle
};

// What a space with chip decisions needs of the base chip (`chip_arg` with `base_overrides`): a
// key's value (InputError with a did-you-mean for a key the chip schema lacks) and a validity
// check of overrides (hw::load_chip's messages).
search::ChipAxes chip_axes(const std::string& chip_arg,
                           const std::vector<std::string>& base_overrides);

// Refuses to search chip decisions with an estimator that is not chip-aware (InputError naming the
// space's chip decisions and what to use instead).
void check_estimator(const search::SearchSpace& space, const std::string& latency_mode,
                     const est::Estimator* estimator, const std::string& estimator_path);

}  // namespace nax::cli
