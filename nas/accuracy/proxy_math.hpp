// The arithmetic of the zero-shot proxies, torch-free (nas/torch/PROXIES.md defines each proxy).
//
// The plugin (nas/torch/proxies.cpp) runs the networks and hands the numbers it takes out of them
// (ReLU pre-activations, Jacobians, feature maps, weight gradients) to these functions as plain
// float arrays, so the formulas are unit-tested on hand-made inputs without libtorch
// (tests/unit/accuracy/proxy_math_test.cpp).
#pragma once

#include <cstdint>
#include <vector>

namespace nax::accuracy {

// ---- numerics policy ----
// A proxy whose arithmetic gives no finite number reports a finite stand-in, so that rankings,
// JSON and CSV stay well-defined: NaN and -inf become kProxyFloor (NASLib's zerocost.py maps NaN
// and inf to -1e8 the same way; a dead network, whose log(0) is -inf, ranks last), +inf (an
// overflow of a score that grows without bound) becomes kProxyCeiling, and finite values are
// clamped into [kProxyFloor, kProxyCeiling] so that no real score ranks below a failed one.
inline constexpr double kProxyFloor = -1e8;
inline constexpr double kProxyCeiling = 1e8;
double finite_score(double v);

// ---- NASWOT (Mellor et al., ICML 2021) ----
// K_H[i][j] = N_A - d_H(c_i, c_j): c_i is the binary code of sample i (one bit per ReLU unit,
// set when the unit's pre-activation is > 0), N_A the number of ReLU units and d_H the Hamming
// distance. Accumulated layer by layer with exact integer arithmetic (XOR + popcount).
class HammingKernel {
 public:
  explicit HammingKernel(int64_t samples);

  // One layer's pre-activations, sample-major: sample s's `units` values at values + s * units.
  // `times` counts the layer that many times (several ReLUs applied to one tensor).
  void add(const float* values, int64_t units, int64_t times = 1);

  int64_t samples() const { return m_n; }
  int64_t units() const { return m_units; }  // N_A so far
  int64_t at(int64_t i, int64_t j) const;    // K_H[i][j]
  // log|K_H| (natural log, as numpy's slogdet); -inf when K_H is singular (two samples with the
  // same code, or no units at all).
  double log_det() const;

 private:
  int64_t m_n = 0;
  int64_t m_units = 0;
  std::vector<int64_t> m_hamming;  // n x n, symmetric, zero diagonal
};

// ---- correlation matrices ----
// Pearson correlation matrix (n x n, row-major) of n variables observed d times each: row i of
// `x` (row-major n x d) holds variable i. A variable with zero variance has NaN correlations
// (numpy.corrcoef's convention), including its diagonal entry.
std::vector<double> correlation_matrix(const float* x, int64_t n, int64_t d);

// Eigenvalues, ascending, of a symmetric n x n matrix (row-major; the upper triangle is read).
std::vector<double> symmetric_eigenvalues(const std::vector<double>& m, int64_t n);

// ---- Jacobian covariance (Mellor et al., arXiv:2006.04647 v1; NASLib's `jacov`) ----
// `jacobians` (row-major n x d) holds one input-gradient per sample. With v the eigenvalues of
// their correlation matrix: -sum(log(v + k) + 1 / (v + k)). NaN when a row is constant (numpy
// gives NaN there too; finite_score turns it into kProxyFloor).
double jacob_cov_score(const float* jacobians, int64_t n, int64_t d, double k = 1e-5);

// ---- MeCo (Jiang et al., NeurIPS 2023) ----
// The minimum eigenvalue of the Pearson correlation matrix of one sample's feature map, channels
// as variables (x: row-major channels x positions, positions = H * W). As the reference code,
// NaN entries (a constant channel) count as 0. When channels >= positions the matrix has rank at
// most positions - 1 < channels, so its minimum eigenvalue is exactly 0 and is returned as such
// (no eigen-decomposition; a solver would return rounding noise around 0).
double min_correlation_eigenvalue(const float* x, int64_t channels, int64_t positions);

// ---- ZiCo (Li et al., ICLR 2023) ----
// One layer's term from its weight gradients on B >= 2 batches (grads[b] points at the layer's
// `weights` gradient values on batch b): log(sum over weights with std > 0 of mean|g| / std(g)),
// mean and std (population, numpy's default) taken across the batches. 0 when no weight has a
// nonzero std: the layer is left out, as the reference code does.
double zico_layer(const std::vector<const float*>& grads, int64_t weights);

}  // namespace nax::accuracy
