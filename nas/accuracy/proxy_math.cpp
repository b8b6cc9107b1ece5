#include "nas/accuracy/proxy_math.hpp"

#include <fmt/format.h>
#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <limits>

#include "models/common/error.hpp"

namespace nax::accuracy {
namespace {

using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMajorD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Sum over `words` of popcount(a[w] ^ b[w]). Two builds of one loop: with the POPCNT instruction
// where the CPU has it (every x86-64 since 2008), else the portable bit trick.
#if defined(__GNUC__) && defined(__x86_64__)
__attribute__((target("popcnt"))) int64_t hamming_popcnt(const uint64_t* a, const uint64_t* b,
                                                         int64_t words) {
  int64_t h = 0;
  for (int64_t w = 0; w < words; ++w) h += __builtin_popcountll(a[w] ^ b[w]);
  return h;
}
#endif

int64_t hamming_portable(const uint64_t* a, const uint64_t* b, int64_t words) {
  int64_t h = 0;
  for (int64_t w = 0; w < words; ++w) h += __builtin_popcountll(a[w] ^ b[w]);
  return h;
}

using HammingFn = int64_t (*)(const uint64_t*, const uint64_t*, int64_t);

HammingFn hamming_fn() {
#if defined(__GNUC__) && defined(__x86_64__)
  static const HammingFn fn = __builtin_cpu_supports("popcnt") ? hamming_popcnt : hamming_portable;
  return fn;
#else
  return hamming_portable;
#endif
}

}  // namespace

double finite_score(double v) {
  if (std::isnan(v)) return kProxyFloor;
  return std::clamp(v, kProxyFloor, kProxyCeiling);
}

// ---- HammingKernel ----

HammingKernel::HammingKernel(int64_t samples) : m_n(samples) {
  if (samples < 1) throw Error(fmt::format("HammingKernel: {} samples", samples));
  m_hamming.assign(static_cast<size_t>(samples * samples), 0);
}

void HammingKernel::add(const float* values, int64_t units, int64_t times) {
  if (units <= 0 || times <= 0) return;
  const int64_t words = (units + 63) / 64;
  // Bit u of sample s: the unit's pre-activation is > 0 (the ReLU lets it through). Padding bits
  // are 0 for every sample, so they never count in a distance.
  std::vector<uint64_t> bits(static_cast<size_t>(m_n * words), 0);
  for (int64_t s = 0; s < m_n; ++s) {
    const float* v = values + s * units;
    uint64_t* b = bits.data() + s * words;
    const int64_t full = units / 64;
    for (int64_t w = 0; w < full; ++w) {  // branch-free: the signs are random
      const float* x = v + w * 64;
      uint64_t word = 0;
      for (int k = 0; k < 64; ++k) word |= static_cast<uint64_t>(x[k] > 0.f) << k;
      b[w] = word;
    }
    for (int64_t u = full * 64; u < units; ++u) {
      b[u >> 6] |= static_cast<uint64_t>(v[u] > 0.f) << (u & 63);
    }
  }
  const HammingFn fn = hamming_fn();
  for (int64_t i = 0; i < m_n; ++i) {
    for (int64_t j = i + 1; j < m_n; ++j) {
      const int64_t h = times * fn(bits.data() + i * words, bits.data() + j * words, words);
      m_hamming[static_cast<size_t>(i * m_n + j)] += h;
      m_hamming[static_cast<size_t>(j * m_n + i)] += h;
    }
  }
  m_units += times * units;
}

int64_t HammingKernel::at(int64_t i, int64_t j) const {
  return m_units - m_hamming.at(static_cast<size_t>(i * m_n + j));
}

double HammingKernel::log_det() const {
  Eigen::MatrixXd k(m_n, m_n);
  for (int64_t i = 0; i < m_n; ++i) {
    for (int64_t j = 0; j < m_n; ++j) k(i, j) = static_cast<double>(at(i, j));
  }
  // log|det| from the LU factors, as numpy's slogdet: the determinant itself overflows a double
  // for a batch of 128 with ~1e6 units.
  const Eigen::PartialPivLU<Eigen::MatrixXd> lu(k);
  double log_det = 0;
  for (int64_t i = 0; i < m_n; ++i) {
    const double d = std::abs(lu.matrixLU()(i, i));
    if (d == 0) return -std::numeric_limits<double>::infinity();
    log_det += std::log(d);
  }
  return log_det;
}

// ---- correlations ----

std::vector<double> correlation_matrix(const float* x, int64_t n, int64_t d) {
  const Eigen::Map<const RowMajorF> xf(x, n, d);
  RowMajorD c = xf.cast<double>();
  c.colwise() -= c.rowwise().mean();
  const Eigen::MatrixXd gram = c * c.transpose();
  const Eigen::VectorXd norm = gram.diagonal().cwiseSqrt();
  std::vector<double> r(static_cast<size_t>(n * n));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      const double den = norm(i) * norm(j);
      double v = den > 0 ? gram(i, j) / den : nan;
      // numpy.corrcoef clips to [-1, 1] too (rounding can step just outside).
      if (den > 0) v = std::clamp(v, -1.0, 1.0);
      r[static_cast<size_t>(i * n + j)] = v;
    }
  }
  return r;
}

std::vector<double> symmetric_eigenvalues(const std::vector<double>& m, int64_t n) {
  const Eigen::Map<const RowMajorD> mat(m.data(), n, n);
  const Eigen::MatrixXd full = mat.selfadjointView<Eigen::Upper>();
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(full, Eigen::EigenvaluesOnly);
  if (es.info() != Eigen::Success) {
    return std::vector<double>(static_cast<size_t>(n), std::numeric_limits<double>::quiet_NaN());
  }
  const Eigen::VectorXd& v = es.eigenvalues();
  return std::vector<double>(v.data(), v.data() + v.size());
}

// ---- the scores ----

double jacob_cov_score(const float* jacobians, int64_t n, int64_t d, double k) {
  const std::vector<double> corr = correlation_matrix(jacobians, n, d);
  for (double v : corr) {
    if (std::isnan(v)) return std::numeric_limits<double>::quiet_NaN();
  }
  double s = 0;
  for (double v : symmetric_eigenvalues(corr, n)) s += std::log(v + k) + 1.0 / (v + k);
  return -s;
}

double min_correlation_eigenvalue(const float* x, int64_t channels, int64_t positions) {
  if (channels < 1) return 0;
  if (channels >= positions) return 0;  // rank <= positions - 1 < channels: singular
  std::vector<double> corr = correlation_matrix(x, channels, positions);
  for (double& v : corr) {
    if (std::isnan(v)) v = 0;
  }
  const std::vector<double> ev = symmetric_eigenvalues(corr, channels);
  return ev.front();
}

double zico_layer(const std::vector<const float*>& grads, int64_t weights) {
  const size_t b = grads.size();
  if (b < 2) throw Error(fmt::format("ZiCo needs gradients of 2 or more batches, got {}", b));
  double sum = 0;
  for (int64_t w = 0; w < weights; ++w) {
    double mean = 0, mean_abs = 0;
    for (size_t i = 0; i < b; ++i) {
      const double g = grads[i][w];
      mean += g;
      mean_abs += std::abs(g);
    }
    mean /= static_cast<double>(b);
    mean_abs /= static_cast<double>(b);
    double var = 0;
    for (size_t i = 0; i < b; ++i) {
      const double e = grads[i][w] - mean;
      var += e * e;
    }
    const double sd = std::sqrt(var / static_cast<double>(b));
    if (sd > 0) sum += mean_abs / sd;
  }
  return sum > 0 ? std::log(sum) : 0.0;
}

}  // namespace nax::accuracy
