// Error and ranking metrics on hand-computed examples (values checked with scipy.stats).
#include <catch2/catch.hpp>

#include <random>

#include "models/estimate/metrics.hpp"

using namespace nax::est;

namespace {

// O(n^2) tau-b, the definition.
double kendall_naive(const std::vector<double>& x, const std::vector<double>& y) {
  double c = 0, d = 0, tx = 0, ty = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    for (size_t j = i + 1; j < x.size(); ++j) {
      const double a = (x[i] - x[j]) * (y[i] - y[j]);
      if (x[i] == x[j] && y[i] == y[j]) continue;
      if (x[i] == x[j])
        tx += 1;
      else if (y[i] == y[j])
        ty += 1;
      else if (a > 0)
        c += 1;
      else
        d += 1;
    }
  }
  return (c - d) / std::sqrt((c + d + tx) * (c + d + ty));
}

}  // namespace

TEST_CASE("Kendall tau-b and Spearman rho on hand examples", "[metrics]") {
  // Perfect and reversed orders.
  CHECK(kendall_tau({1, 2, 3, 4}, {10, 20, 30, 40}) == Approx(1.0));
  CHECK(kendall_tau({1, 2, 3, 4}, {4, 3, 2, 1}) == Approx(-1.0));
  CHECK(spearman_rho({1, 2, 3, 4}, {10, 20, 30, 40}) == Approx(1.0));
  CHECK(spearman_rho({1, 2, 3, 4}, {4, 3, 2, 1}) == Approx(-1.0));
  // One swapped pair of 4: tau = (5 - 1) / 6; rho = 1 - 6 * 2 / (4 * 15) = 0.8.
  CHECK(kendall_tau({1, 2, 3, 4}, {1, 3, 2, 4}) == Approx(4.0 / 6.0));
  CHECK(spearman_rho({1, 2, 3, 4}, {1, 3, 2, 4}) == Approx(0.8));
  // Ties: scipy.stats.kendalltau([1,2,2,3],[1,2,3,3]) = 0.8; spearmanr = 0.8333...
  CHECK(kendall_tau({1, 2, 2, 3}, {1, 2, 3, 3}) == Approx(0.8));
  CHECK(spearman_rho({1, 2, 2, 3}, {1, 2, 3, 3}) == Approx(5.0 / 6.0));
  // scipy.stats.kendalltau([12,2,1,12,2],[1,4,7,1,0]) = -0.47140452079103173
  CHECK(kendall_tau({12, 2, 1, 12, 2}, {1, 4, 7, 1, 0}) == Approx(-0.47140452079103173));
  // scipy.stats.spearmanr([1,2,3,4,5],[5,6,7,8,7]) = 0.8207826816681233
  CHECK(spearman_rho({1, 2, 3, 4, 5}, {5, 6, 7, 8, 7}) == Approx(0.8207826816681233));
  // Degenerate inputs.
  CHECK(kendall_tau({1}, {1}) == 0);
  CHECK(kendall_tau({1, 1, 1}, {1, 2, 3}) == 0);
  CHECK(spearman_rho({2, 2, 2}, {1, 2, 3}) == 0);
  const auto r = average_ranks({10, 30, 20, 20});
  CHECK(r == std::vector<double>{1, 4, 2.5, 2.5});
}

TEST_CASE("the O(n log n) Kendall tau equals the definition, ties included", "[metrics]") {
  std::mt19937_64 gen(5);
  for (int trial = 0; trial < 50; ++trial) {
    const size_t n = 2 + gen() % 60;
    std::vector<double> x(n), y(n);
    for (size_t i = 0; i < n; ++i) {
      x[i] = static_cast<double>(gen() % 7);
      y[i] = static_cast<double>(gen() % 5) + 0.1 * x[i];
    }
    INFO("trial " << trial);
    CHECK(kendall_tau(x, y) == Approx(kendall_naive(x, y)).margin(1e-12));
  }
}

TEST_CASE("percentage errors: within 5% / 10%, MAPE, RMSE%", "[metrics]") {
  const ErrorStats s = error_stats({100, 200, 400, 1000, 0}, {104, 180, 400, 1200, 5});
  // The pair with truth 0 is left out: errors +4%, -10%, 0%, +20%.
  CHECK(s.n == 4);
  CHECK(s.within5 == Approx(0.5));
  CHECK(s.within10 == Approx(0.75));
  CHECK(s.mape == Approx((4 + 10 + 0 + 20) / 4.0));
  CHECK(s.rmspe == Approx(std::sqrt((16 + 100 + 0 + 400) / 4.0)));
  CHECK(s.max_ape == Approx(20));
  CHECK(s.kendall == Approx(1.0));
  CHECK(s.spearman == Approx(1.0));
  const auto j = to_json(s);
  for (const char* k : {"n", "within5", "within10", "mape_pct", "rmspe_pct", "kendall", "spearman"})
    CHECK(j.contains(k));
  CHECK(error_stats({}, {}).n == 0);
}
