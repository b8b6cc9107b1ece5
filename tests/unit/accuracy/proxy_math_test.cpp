// The zero-shot proxies' arithmetic (nas/accuracy/proxy_math.hpp) on hand-computed examples:
// NASWOT's Hamming kernel and its log-determinant, Pearson correlations, the Jacobian covariance
// score, MeCo's minimum eigenvalue, a ZiCo layer term, the numerics policy.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "models/common/error.hpp"
#include "nas/accuracy/proxy_math.hpp"

using namespace nax::accuracy;

TEST_CASE("finite_score: NaN and -inf to the floor, +inf to the ceiling, finite values clamped",
          "[proxies][math]") {
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(finite_score(std::nan("")) == kProxyFloor);
  CHECK(finite_score(-inf) == kProxyFloor);
  CHECK(finite_score(inf) == kProxyCeiling);
  CHECK(finite_score(-3.5) == -3.5);
  CHECK(finite_score(-1e9) == kProxyFloor);
  CHECK(finite_score(2e8) == kProxyCeiling);
}

TEST_CASE("HammingKernel: K = N_A - Hamming distance of the ReLU codes, and log|K|",
          "[proxies][math]") {
  // Codes (unit > 0): s0 = 1100, s1 = 1010, s2 = 0001. Zero and negative values are code 0.
  const std::vector<float> v = {2.f,  0.5f, 0.f,  -1.f,  //
                                1.f,  -3.f, 4.f,  -0.f,  //
                                -1.f, 0.f,  -2.f, 7.f};
  HammingKernel k(3);
  k.add(v.data(), 4);
  CHECK(k.units() == 4);
  // d01 = 2, d02 = 3, d12 = 3.
  CHECK(k.at(0, 0) == 4);
  CHECK(k.at(0, 1) == 2);
  CHECK(k.at(1, 0) == 2);
  CHECK(k.at(0, 2) == 1);
  CHECK(k.at(1, 2) == 1);
  // det [[4,2,1],[2,4,1],[1,1,4]] = 4*15 - 2*7 + 1*(-2) = 44.
  CHECK(k.log_det() == Approx(std::log(44.0)).epsilon(1e-12));

  // The same layer counted twice doubles K: det(2K) = 8 * 44.
  HammingKernel k2(3);
  k2.add(v.data(), 4, 2);
  CHECK(k2.units() == 8);
  CHECK(k2.at(0, 1) == 4);
  CHECK(k2.log_det() == Approx(std::log(352.0)).epsilon(1e-12));

  // Two samples with the same code make K singular: log|K| = -inf.
  const std::vector<float> same = {1.f, -1.f, 1.f, -1.f, 3.f, -2.f, 5.f, 0.f};
  HammingKernel k3(2);
  k3.add(same.data(), 4);
  CHECK(std::isinf(k3.log_det()));
  CHECK(k3.log_det() < 0);
  CHECK(finite_score(k3.log_det()) == kProxyFloor);
}

TEST_CASE("HammingKernel matches the definition on random layers (word padding, several layers)",
          "[proxies][math]") {
  std::mt19937 gen(11);
  std::normal_distribution<float> nd;
  const int64_t n = 5;
  const std::vector<int64_t> widths = {1, 63, 64, 65, 130, 200};
  HammingKernel k(n);
  std::vector<std::vector<int>> codes(n);
  for (int64_t d : widths) {
    std::vector<float> v(static_cast<size_t>(n * d));
    for (auto& x : v) x = nd(gen);
    k.add(v.data(), d);
    for (int64_t s = 0; s < n; ++s) {
      for (int64_t u = 0; u < d; ++u) codes[s].push_back(v[s * d + u] > 0 ? 1 : 0);
    }
  }
  const int64_t na = static_cast<int64_t>(codes[0].size());
  CHECK(k.units() == na);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      int64_t same = 0;
      for (int64_t u = 0; u < na; ++u) same += codes[i][u] == codes[j][u];
      CHECK(k.at(i, j) == same);  // N_A - d_H = the units where the codes agree
    }
  }
}

TEST_CASE("correlation_matrix is Pearson's, NaN for a constant variable", "[proxies][math]") {
  // x = 1,2,3 and y = 2,4,7: r = 5 / (sqrt(2) * sqrt(114) / 3) = 15 / sqrt(228).
  const std::vector<float> xy = {1, 2, 3, 2, 4, 7};
  const auto r = correlation_matrix(xy.data(), 2, 3);
  CHECK(r[0] == Approx(1.0));
  CHECK(r[3] == Approx(1.0));
  CHECK(r[1] == Approx(15.0 / std::sqrt(228.0)).epsilon(1e-12));
  CHECK(r[2] == Approx(r[1]).epsilon(1e-15));
  const std::vector<float> with_constant = {1, 2, 3, 5, 5, 5};
  const auto rc = correlation_matrix(with_constant.data(), 2, 3);
  CHECK(rc[0] == Approx(1.0));
  CHECK(std::isnan(rc[1]));
  CHECK(std::isnan(rc[3]));
}

TEST_CASE("jacob_cov_score: identical, uncorrelated and constant Jacobians", "[proxies][math]") {
  const double k = 1e-5;
  auto f = [k](double v) { return std::log(v + k) + 1.0 / (v + k); };
  // Three identical rows: the correlation matrix is all ones, eigenvalues 3, 0, 0.
  const std::vector<float> same = {1, 2, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8};
  CHECK(jacob_cov_score(same.data(), 3, 4, k) == Approx(-(f(3) + 2 * f(0))).epsilon(1e-9));
  // Three centred, mutually orthogonal rows: the identity, eigenvalues 1, 1, 1: the maximum, -n.
  const std::vector<float> orth = {1, -1, 0, 0, 0, 0, 1, -1, 1, 1, -1, -1};
  CHECK(jacob_cov_score(orth.data(), 3, 4, k) == Approx(-3 * f(1)).epsilon(1e-12));
  CHECK(-3 * f(1) == Approx(-3.0).margin(1e-4));
  // A constant row: NaN, as numpy.
  const std::vector<float> constant = {1, 2, 3, 4, 7, 7, 7, 7};
  CHECK(std::isnan(jacob_cov_score(constant.data(), 2, 4, k)));
}

TEST_CASE("min_correlation_eigenvalue: 1 - |r| for two channels; exact 0 when singular",
          "[proxies][math]") {
  // a = 1,2,3,4 and b = 2,1,4,3: r = 3 / 5 = 0.6, eigenvalues 1 -+ 0.6.
  const std::vector<float> ab = {1, 2, 3, 4, 2, 1, 4, 3};
  CHECK(min_correlation_eigenvalue(ab.data(), 2, 4) == Approx(0.4).epsilon(1e-12));
  // Anticorrelated the same amount: the same eigenvalues.
  const std::vector<float> ab_neg = {1, 2, 3, 4, -2, -1, -4, -3};
  CHECK(min_correlation_eigenvalue(ab_neg.data(), 2, 4) == Approx(0.4).epsilon(1e-12));
  // One channel: its correlation matrix is [1].
  CHECK(min_correlation_eigenvalue(ab.data(), 1, 4) == Approx(1.0));
  // A constant channel: its NaN row and column count as 0, so 0 is an eigenvalue.
  const std::vector<float> constant = {1, 2, 3, 4, 6, 6, 6, 6};
  CHECK(min_correlation_eigenvalue(constant.data(), 2, 4) == Approx(0.0).margin(1e-15));
  // Three channels at two positions: rank <= 1, exactly 0.
  const std::vector<float> wide = {1, 2, 5, 3, 0, 1};
  CHECK(min_correlation_eigenvalue(wide.data(), 3, 2) == 0.0);
  // Three channels: the smallest eigenvalue of the hand-computed 3x3 matrix.
  // c0 = 1,2,3,4,5; c1 = 2,1,4,3,5; c2 = 5,4,3,2,1 (= -c0 shifted): r01 = 0.8, r02 = -1,
  // r12 = -0.8; eigenvalues of [[1,.8,-1],[.8,1,-.8],[-1,-.8,1]]: 0 (c2 = 6 - c0) and others.
  const std::vector<float> three = {1, 2, 3, 4, 5, 2, 1, 4, 3, 5, 5, 4, 3, 2, 1};
  CHECK(min_correlation_eigenvalue(three.data(), 3, 5) == Approx(0.0).margin(1e-12));
}

TEST_CASE("zico_layer: log of the sum of mean|g| / std(g) over weights with nonzero std",
          "[proxies][math]") {
  // Weight 0: |1|,|3| -> mean 2, std 1 -> 2. Weight 1: 2, 2 -> std 0, left out. Weight 2: 3, -1
  // -> mean|g| 2, std 2 -> 1. Sum 3.
  const std::vector<float> g1 = {1, 2, 3}, g2 = {3, 2, -1};
  CHECK(zico_layer({g1.data(), g2.data()}, 3) == Approx(std::log(3.0)).epsilon(1e-12));
  // Three batches: weight 0 = 1, 2, 3: mean|g| 2, population std sqrt(2/3).
  const std::vector<float> a = {1}, b = {2}, c = {3};
  CHECK(zico_layer({a.data(), b.data(), c.data()}, 1) ==
        Approx(std::log(2.0 / std::sqrt(2.0 / 3.0))).epsilon(1e-12));
  // Equal gradients on every batch: the layer is left out (0).
  CHECK(zico_layer({g1.data(), g1.data()}, 3) == 0.0);
  CHECK_THROWS_AS(zico_layer({g1.data()}, 3), nax::Error);
}
