#include "models/estimate/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace nax::est {

std::vector<double> average_ranks(const std::vector<double>& x) {
  const size_t n = x.size();
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
  std::vector<double> r(n);
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && x[idx[j + 1]] == x[idx[i]]) ++j;
    const double avg = 0.5 * static_cast<double>(i + j) + 1.0;
    for (size_t k = i; k <= j; ++k) r[idx[k]] = avg;
    i = j + 1;
  }
  return r;
}

double spearman_rho(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t n = std::min(x.size(), y.size());
  if (n < 2) return 0;
  const std::vector<double> rx = average_ranks(x), ry = average_ranks(y);
  const double mx = std::accumulate(rx.begin(), rx.end(), 0.0) / static_cast<double>(n);
  const double my = std::accumulate(ry.begin(), ry.end(), 0.0) / static_cast<double>(n);
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : 0;
}

namespace {

// Merge sort counting swaps (discordant pairs) of `v`; `tmp` is scratch of the same size.
int64_t count_swaps(std::vector<double>& v, std::vector<double>& tmp, size_t lo, size_t hi) {
  if (hi - lo < 2) return 0;
  const size_t mid = (lo + hi) / 2;
  int64_t s = count_swaps(v, tmp, lo, mid) + count_swaps(v, tmp, mid, hi);
  size_t i = lo, j = mid, k = lo;
  while (i < mid && j < hi) {
    if (v[j] < v[i]) {
      s += static_cast<int64_t>(mid - i);
      tmp[k++] = v[j++];
    } else {
      tmp[k++] = v[i++];
    }
  }
  while (i < mid) tmp[k++] = v[i++];
  while (j < hi) tmp[k++] = v[j++];
  std::copy(tmp.begin() + static_cast<std::ptrdiff_t>(lo),
            tmp.begin() + static_cast<std::ptrdiff_t>(hi),
            v.begin() + static_cast<std::ptrdiff_t>(lo));
  return s;
}

// Pairs tied within runs of equal values of a sorted sequence.
int64_t tied_pairs(const std::vector<double>& sorted) {
  int64_t t = 0;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j + 1 < sorted.size() && sorted[j + 1] == sorted[i]) ++j;
    const int64_t c = static_cast<int64_t>(j - i + 1);
    t += c * (c - 1) / 2;
    i = j + 1;
  }
  return t;
}

}  // namespace

double kendall_tau(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t n = std::min(x.size(), y.size());
  if (n < 2) return 0;
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(),
            [&](size_t a, size_t b) { return x[a] < x[b] || (x[a] == x[b] && y[a] < y[b]); });
  std::vector<double> xs(n), ys(n);
  for (size_t i = 0; i < n; ++i) xs[i] = x[idx[i]], ys[i] = y[idx[i]];
  // Pairs tied in x, and tied in both.
  int64_t tx = 0, txy = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && xs[j + 1] == xs[i]) ++j;
    const int64_t c = static_cast<int64_t>(j - i + 1);
    tx += c * (c - 1) / 2;
    for (size_t a = i; a <= j;) {
      size_t b = a;
      while (b + 1 <= j && ys[b + 1] == ys[a]) ++b;
      const int64_t d = static_cast<int64_t>(b - a + 1);
      txy += d * (d - 1) / 2;
      a = b + 1;
    }
    i = j + 1;
  }
  std::vector<double> tmp(n);
  const int64_t swaps = count_swaps(ys, tmp, 0, n);  // ys is now sorted
  const int64_t ty = tied_pairs(ys);
  const int64_t n0 = static_cast<int64_t>(n) * static_cast<int64_t>(n - 1) / 2;
  // concordant - discordant = n0 - tx - ty + txy - 2 * swaps
  const double num = static_cast<double>(n0 - tx - ty + txy - 2 * swaps);
  const double den = std::sqrt(static_cast<double>(n0 - tx) * static_cast<double>(n0 - ty));
  return den > 0 ? num / den : 0;
}

ErrorStats error_stats(const std::vector<double>& truth, const std::vector<double>& pred) {
  ErrorStats s;
  std::vector<double> t, p;
  const size_t n = std::min(truth.size(), pred.size());
  double sum_abs = 0, sum_sq = 0;
  int64_t w5 = 0, w10 = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!(truth[i] > 0)) continue;
    const double e = pred[i] / truth[i] - 1.0;
    const double a = std::fabs(e);
    sum_abs += a;
    sum_sq += e * e;
    s.max_ape = std::max(s.max_ape, 100 * a);
    // A hair of tolerance so that exactly 5% / 10% (integers) count as within.
    w5 += a <= 0.05 + 1e-12;
    w10 += a <= 0.10 + 1e-12;
    t.push_back(truth[i]);
    p.push_back(pred[i]);
  }
  s.n = static_cast<int64_t>(t.size());
  if (s.n == 0) return s;
  const double m = static_cast<double>(s.n);
  s.within5 = static_cast<double>(w5) / m;
  s.within10 = static_cast<double>(w10) / m;
  s.mape = 100 * sum_abs / m;
  s.rmspe = 100 * std::sqrt(sum_sq / m);
  s.kendall = kendall_tau(t, p);
  s.spearman = spearman_rho(t, p);
  return s;
}

nlohmann::json to_json(const ErrorStats& s) {
  return {{"n", s.n},
          {"within5", s.within5},
          {"within10", s.within10},
          {"mape_pct", s.mape},
          {"rmspe_pct", s.rmspe},
          {"max_ape_pct", s.max_ape},
          {"kendall", s.kendall},
          {"spearman", s.spearman}};
}

}  // namespace nax::est
