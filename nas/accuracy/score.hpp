// The default trainability score of a candidate: what `nax proxy` reports as `score` and what a
// search compares against its baseline when it asks for "the score".
//
// Chosen by measurement (README "Accuracy proxies"; `nax proxy validate`): among every proxy and
// every rank ensemble of up to four proxies, on NAS-Bench-201 (1,000 cells, 12-epoch CIFAR-10
// accuracy) and NAS-Bench-Macro (1,000 networks), the ensemble of jacob_cov, meco and naswot
// ranked best on both at once (largest minimum Spearman, chosen on one half of each sample).
// For a single network the ensemble is a sum of robustly standardised values,
//   score = sum over its proxies of (value - center) / scale,
// center and scale the median and interquartile range of that proxy over the 2,000 validation
// networks (so a network is compared with the same yardstick whatever else is evaluated with
// it; only the scales' ratios affect rankings). This form validates at least as well as the
// rank mean (Spearman 0.802 / 0.897 / 0.905 on NB201 12-epoch / NB-Macro / NB201 200-epoch
// against 0.789 / 0.837 / 0.905). Higher predicts higher accuracy. A network a proxy cannot score
// gets that proxy's floor value (-1e8), which sinks the score.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace nax::accuracy {

struct ScoreTerm {
  const char* proxy;
  double center;  // median over the validation networks
  double scale;   // interquartile range over them
};

inline constexpr std::array<ScoreTerm, 3> kScoreTerms = {{
    {"jacob_cov", -32.33, 0.5453},
    {"meco", 0.13, 0.9093},
    {"naswot", 1550.0, 99.3},
}};

// "jacob_cov+meco+naswot", for reports.
std::string score_name();
// The proxies the score needs.
std::vector<std::string> score_proxies();
// The score from proxy values by name; nullopt when one of its proxies is missing.
std::optional<double> trainability_score(const std::map<std::string, double>& values);

}  // namespace nax::accuracy
