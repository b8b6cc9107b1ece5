// Accuracy of latency predictions: percentage errors and rankings (STYLE.md section 8: NAS lives
// on ranking, so every estimator report gives both).
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

namespace nax::est {

struct ErrorStats {
  int64_t n = 0;        // pairs with a positive truth (the percentage metrics need one)
  double within5 = 0;   // fraction with |pred / truth - 1| <= 5%
  double within10 = 0;  // ... <= 10%
  double mape = 0;      // mean |pred / truth - 1|, in percent
  double rmspe = 0;     // root mean square of (pred / truth - 1), in percent ("RMSE%")
  double max_ape = 0;   // largest |pred / truth - 1|, in percent
  double kendall = 0;   // Kendall tau-b of (truth, pred)
  double spearman = 0;  // Spearman rho (average ranks for ties)
};

// Pairs with truth <= 0 are left out of every metric.
ErrorStats error_stats(const std::vector<double>& truth, const std::vector<double>& pred);
nlohmann::json to_json(const ErrorStats& s);

// Kendall's tau-b (ties in either variable handled as in scipy.stats.kendalltau), O(n log n)
// (Knight 1966). 0 for fewer than 2 pairs or a constant variable.
double kendall_tau(const std::vector<double>& x, const std::vector<double>& y);
// Spearman's rho: Pearson correlation of the average ranks.
double spearman_rho(const std::vector<double>& x, const std::vector<double>& y);
// Average ranks (1-based; ties share the mean of their positions).
std::vector<double> average_ranks(const std::vector<double>& x);

}  // namespace nax::est
