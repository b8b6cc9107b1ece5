#include "nas/accuracy/score.hpp"

namespace nax::accuracy {

std::string score_name() {
  std::string s;
  for (const auto& t : kScoreTerms) s += (s.empty() ? "" : "+") + std::string(t.proxy);
  return s;
}

std::vector<std::string> score_proxies() {
  std::vector<std::string> v;
  for (const auto& t : kScoreTerms) v.emplace_back(t.proxy);
  return v;
}

std::optional<double> trainability_score(const std::map<std::string, double>& values) {
  double s = 0;
  for (const auto& t : kScoreTerms) {
    const auto f = values.find(t.proxy);
    if (f == values.end()) return std::nullopt;
    s += (f->second - t.center) / t.scale;
  }
  return s;
}

}  // namespace nax::accuracy
