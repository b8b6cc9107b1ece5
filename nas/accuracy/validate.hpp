// How well does a cheap accuracy signal rank real accuracies? (`nax proxy validate`)
//
// A validation run scores a seeded sample of benchmark networks and correlates the scores with
// the benchmark's published accuracies:
//   nb201            NAS-Bench-201 cells, CIFAR-10 test accuracy after 12 epochs;
//   nas-bench-macro  NAS-Bench-Macro networks, mean CIFAR-10 test accuracy (fully trained);
//   naslib           the 491 NAS-Bench-201 cells NASLib published zero-cost scores for: besides the
//                    accuracy (NB201 200-epoch validation accuracy), nax's synflow, jacob_cov,
//                    snip and grad_norm are correlated with NASLib's own values of them, which
//                    checks the implementation rather than the idea.
// The signal is the zero-shot proxies (api.hpp compute_proxies), or short training (short_train)
// when `train` is set. #params and FLOPs (2 x MACs) of each network are the baselines.
//
// Rows are appended to a CSV file as they complete (`rows_path`): an interrupted run keeps every
// finished network, and a rerun with the same options reads them back and scores only the rest.
// The file's first line records the options; a rerun with other options is refused. With jobs > 1
// forked worker processes score the networks (each loads libtorch once); a network's values do not
// depend on the worker count.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "nas/accuracy/benchmarks.hpp"
#include "nas/torch/api.hpp"

namespace nax::accuracy {

enum class ValidationSet { kNb201, kMacro, kNaslib };
const char* validation_set_name(ValidationSet s);  // "nb201", "nas-bench-macro", "naslib"
// InputError listing the accepted names (with a did-you-mean).
ValidationSet parse_validation_set(const std::string& s);

struct ValidateOptions {
  ValidationSet set = ValidationSet::kNb201;
  size_t sample = 1000;          // networks (naslib: at most 491; 0: all of the set)
  uint64_t seed = 0;             // which networks
  torchnet::ProxyOptions proxy;  // proxies (empty: all), data, batch, seed, threads
  bool train = false;            // short training instead of the proxies
  torchnet::TrainOptions training;
  int jobs = 1;
  std::string rows_path;  // CSV of finished networks ("" : none kept)
  std::string data_dir;   // benchmark data (resolve_data_dir)
};

struct ValidationRow {
  std::string arch;                         // cell string or 8 digits
  double accuracy = 0;                      // published, percent
  int64_t params = 0;                       // of nax's graph
  int64_t flops = 0;                        // 2 x MACs
  std::map<std::string, double> values;     // the signal(s): proxy name or "short_train"
  std::map<std::string, double> published;  // naslib: NASLib's synflow, jacov, snip, grad_norm
  double seconds = 0;
};

struct ValidationRun {
  ValidateOptions options;
  std::vector<std::string> signals;  // value names, in order
  std::vector<ValidationRow> rows;   // sample order; fewer than asked when interrupted
  size_t reused = 0;                 // rows read back from rows_path
  bool interrupted = false;
  double seconds = 0;
};

struct ValidateHooks {
  // done / total networks, done in this session, seconds of this session.
  std::function<void(size_t, size_t, size_t, double)> progress;
  std::function<bool()> stop_requested;
};

// Runs (or resumes) a validation. Throws InputError for bad options, data or rows files.
ValidationRun run_validation(const ValidateOptions& o, const ValidateHooks& hooks = {});

struct Correlation {
  std::string name;
  std::string kind;  // "proxy", "score" (score.hpp), "baseline", "ensemble", "implementation"
  double spearman = 0;
  double kendall = 0;
  size_t n = 0;
};

// Spearman and Kendall against the accuracy of every signal, of the default score (score.hpp) when
// its proxies were computed, of #params and FLOPs, and of rank
// ensembles (the mean of the members' ranks; `ensembles` lists member sets, empty: the vote of
// synflow, jacob_cov and snip (Abdelfattah et al. 2021) and every pair and triple of signals); for
// naslib also each re-implemented proxy against NASLib's published values ("implementation").
std::vector<Correlation> correlate(const ValidationRun& run,
                                   const std::vector<std::vector<std::string>>& ensembles = {});

// NASLib's names of the proxies nax implements too (nax name -> NASLib key).
const std::map<std::string, std::string>& naslib_proxy_names();

}  // namespace nax::accuracy
