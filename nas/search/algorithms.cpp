#include "nas/search/algorithms.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "models/common/error.hpp"
#include "models/estimate/sampler.hpp"

namespace nax::search {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// How often a proposal is redrawn when it repeats a genotype already asked.
constexpr int kUniqueTries = 12;
// Spaces up to this many genotypes are enumerated to find one not yet asked when random draws
// keep repeating (random search, local restarts).
constexpr uint64_t kEnumerateMax = uint64_t{1} << 16;
// Saturation of the space-size product (a space this large is never exhausted in practice).
constexpr uint64_t kSizeCap = uint64_t{1} << 62;

// An observation's objective as the algorithms compare it: +inf when infeasible (whatever the
// objective says) or NaN.
double comparable(const Observation& r) {
  return !r.feasible || std::isnan(r.objective) ? kInf : r.objective;
}

// The decisions, their cardinalities and whether they are ordered, with the draws every algorithm
// shares and the set of genotypes asked so far.
class Space {
 public:
  Space(std::vector<int> cardinalities, std::vector<bool> ordered)
      : m_card(std::move(cardinalities)), m_ordered(std::move(ordered)) {
    if (m_ordered.empty()) m_ordered.assign(m_card.size(), false);
    m_size = 1;
    for (size_t d = 0; d < m_card.size(); ++d) {
      if (m_card[d] > 1) m_mutable.push_back(static_cast<int>(d));
      const auto c = static_cast<uint64_t>(m_card[d]);
      m_size = m_size > kSizeCap / c ? kSizeCap : m_size * c;
    }
  }

  size_t decisions() const { return m_card.size(); }
  int cardinality(size_t d) const { return m_card[d]; }
  bool ordered(size_t d) const { return m_ordered[d]; }
  uint64_t size() const { return m_size; }

  // Throws InputError unless g has one index in range per decision.
  void check(const Genotype& g, const std::string& what) const {
    if (g.size() != m_card.size())
      throw InputError(fmt::format("{}: a genotype of {} decisions; the space has {}", what,
                                   g.size(), m_card.size()));
    for (size_t d = 0; d < g.size(); ++d)
      if (g[d] < 0 || g[d] >= m_card[d])
        throw InputError(fmt::format("{}: decision {} has index {}; expected 0 to {}", what, d,
                                     g[d], m_card[d] - 1));
  }

  Genotype random(est::SplitMix64& rng) const {
    Genotype g(m_card.size());
    for (size_t d = 0; d < g.size(); ++d)
      g[d] = static_cast<int>(rng.uniform_int(0, m_card[d] - 1));
    return g;
  }

  // One decision with more than one option changed to a different value: an ordered decision
  // with more than two options moves to a neighbouring value with probability 0.7 (either side
  // at random, the only side at an end), else to any other value uniformly.
  void mutate_once(Genotype& g, est::SplitMix64& rng) const {
    if (m_mutable.empty()) return;
    const auto d = static_cast<size_t>(m_mutable[static_cast<size_t>(
        rng.uniform_int(0, static_cast<int64_t>(m_mutable.size()) - 1))]);
    const int card = m_card[d];
    const int v = g[d];
    if (m_ordered[d] && card > 2 && rng.chance(0.7)) {
      if (v == 0) {
        g[d] = 1;
      } else if (v == card - 1) {
        g[d] = card - 2;
      } else {
        g[d] = rng.chance(0.5) ? v - 1 : v + 1;
      }
      return;
    }
    const int w = static_cast<int>(rng.uniform_int(0, card - 2));  // any other value
    g[d] = w >= v ? w + 1 : w;
  }

  Genotype mutate(const Genotype& parent, int times, est::SplitMix64& rng) const {
    Genotype g = parent;
    for (int i = 0; i < times; ++i) mutate_once(g, rng);
    return g;
  }

  // The single-decision moves from g: the adjacent values of an ordered decision, every other
  // value of an unordered one.
  std::vector<Genotype> neighbours(const Genotype& g) const {
    std::vector<Genotype> out;
    for (size_t d = 0; d < g.size(); ++d) {
      const int card = m_card[d];
      if (card < 2) continue;
      auto add = [&](int v) {
        Genotype n = g;
        n[d] = v;
        out.push_back(std::move(n));
      };
      if (m_ordered[d]) {
        if (g[d] > 0) add(g[d] - 1);
        if (g[d] + 1 < card) add(g[d] + 1);
      } else {
        for (int v = 0; v < card; ++v)
          if (v != g[d]) add(v);
      }
    }
    return out;
  }

  // ---- the genotypes asked so far ----
  bool asked(const Genotype& g) const { return m_asked.count(g) != 0; }
  void remember(const Genotype& g) { m_asked.insert(g); }
  bool exhausted() const { return m_asked.size() >= m_size; }

  // A proposal from make(attempt) that repeats no genotype asked before, redrawn up to
  // kUniqueTries times; the last draw (a repeat) when every draw repeats. Remembered as asked.
  template <typename Make>
  Genotype unique(Make make) {
    Genotype g;
    for (int attempt = 0; attempt < kUniqueTries; ++attempt) {
      g = make(attempt);
      if (!asked(g)) break;
    }
    remember(g);
    return g;
  }

  // A uniformly random genotype not asked before (random draws, then, for a small space, a draw
  // among the ones left); nullopt when none is left. Remembered as asked.
  std::optional<Genotype> fresh(est::SplitMix64& rng) {
    if (exhausted()) return std::nullopt;
    for (int attempt = 0; attempt < kUniqueTries; ++attempt) {
      Genotype g = random(rng);
      if (!asked(g)) {
        remember(g);
        return g;
      }
    }
    if (m_size > kEnumerateMax) {  // practically never: accept a repeat
      Genotype g = random(rng);
      remember(g);
      return g;
    }
    std::vector<Genotype> left;
    Genotype g(m_card.size(), 0);
    for (uint64_t i = 0; i < m_size; ++i) {
      if (!asked(g)) left.push_back(g);
      for (size_t d = 0; d < g.size(); ++d) {  // mixed-radix increment
        if (++g[d] < m_card[d]) break;
        g[d] = 0;
      }
    }
    if (left.empty()) return std::nullopt;
    Genotype pick =
        left[static_cast<size_t>(rng.uniform_int(0, static_cast<int64_t>(left.size()) - 1))];
    remember(pick);
    return pick;
  }

 private:
  std::vector<int> m_card;
  std::vector<bool> m_ordered;
  std::vector<int> m_mutable;  // decisions with more than one option
  uint64_t m_size = 1;
  std::set<Genotype> m_asked;
};

// The stream of algorithm stream `stream` of `seed`.
est::SplitMix64 stream(uint64_t seed, int64_t stream) {
  return est::SplitMix64::for_sample(seed ^ 0x6e61782d73656172ull, stream);
}

// ---- random ----

class RandomSearch : public Algorithm {
 public:
  RandomSearch(Space space, uint64_t seed, const AlgorithmOptions&)
      : m_space(std::move(space)), m_rng(stream(seed, 0)) {}
  std::string name() const override { return "random"; }

  std::vector<Genotype> ask(int n) override {
    std::vector<Genotype> out;
    for (int i = 0; i < n; ++i) {
      auto g = m_space.fresh(m_rng);
      if (!g) break;
      out.push_back(std::move(*g));
    }
    return out;
  }

  void tell(const std::vector<Observation>& results) override {
    for (const auto& r : results) m_space.check(r.genotype, "random: tell");
  }

 private:
  Space m_space;
  est::SplitMix64 m_rng;
};

// ---- evolution ----

class Evolution : public Algorithm {
 public:
  Evolution(Space space, uint64_t seed, const AlgorithmOptions& o)
      : m_space(std::move(space)),
        m_rng(stream(seed, 1)),
        m_population(o.population),
        m_sample(std::min(o.sample, o.population)),
        m_start(o.start),
        m_start_free(o.start_free) {}
  std::string name() const override { return "evolution"; }

  std::vector<Genotype> ask(int n) override {
    std::vector<Genotype> out;
    while (static_cast<int>(out.size()) < n && !m_space.exhausted()) {
      if (m_initial_asked < m_population) {
        out.push_back(initial());
        ++m_initial_asked;
        ++m_initial_pending;
        continue;
      }
      // Children come from the initial population once it is known.
      if (m_initial_pending > 0 || m_members.empty()) break;
      const Genotype& parent = tournament();
      out.push_back(m_space.unique(
          [&](int attempt) { return m_space.mutate(parent, 1 + attempt / 4, m_rng); }));
    }
    return out;
  }

  void tell(const std::vector<Observation>& results) override {
    for (const auto& r : results) {
      m_space.check(r.genotype, name() + ": tell");
      m_space.remember(r.genotype);
      m_members.push_back({r.genotype, comparable(r)});
      if (m_initial_pending > 0) --m_initial_pending;
      while (static_cast<int>(m_members.size()) > m_population) m_members.pop_front();
    }
  }

 protected:
  struct Member {
    Genotype genotype;
    double objective;
  };

  // Replaces the initial population (zeroshot-evolution's prefilter picks it); the slots left
  // are filled by random genotypes as usual.
  void seed_population(std::vector<Member> members) {
    m_members.assign(members.begin(), members.end());
    while (static_cast<int>(m_members.size()) > m_population) m_members.pop_front();
    m_initial_asked = static_cast<int>(m_members.size());
    m_initial_pending = 0;
    m_start.clear();
  }

  Space m_space;
  est::SplitMix64 m_rng;

 private:
  // The initial population: `start` then single (later double, triple) mutations of it, or
  // random genotypes.
  Genotype initial() {
    if (m_start.empty()) return m_space.unique([&](int) { return m_space.random(m_rng); });
    if (!m_start_asked) {
      m_start_asked = true;
      m_space.remember(m_start);
      return m_start;
    }
    if (std::find(m_start_free.begin(), m_start_free.end(), true) != m_start_free.end()) {
      return m_space.unique([&](int attempt) {
        Genotype g = m_start;
        const Genotype r = m_space.random(m_rng);
        for (size_t d = 0; d < g.size(); ++d)
          if (m_start_free[d]) g[d] = r[d];
        return attempt < 4 ? g : m_space.mutate(g, attempt / 4, m_rng);
      });
    }
    return m_space.unique(
        [&](int attempt) { return m_space.mutate(m_start, 1 + attempt / 4, m_rng); });
  }

  // The best of `sample` members drawn without replacement (ties: the first drawn).
  const Genotype& tournament() {
    std::vector<size_t> idx(m_members.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    const size_t k = std::min(idx.size(), static_cast<size_t>(m_sample));
    size_t best = 0;
    for (size_t i = 0; i < k; ++i) {  // partial Fisher-Yates
      const auto j = static_cast<size_t>(
          m_rng.uniform_int(static_cast<int64_t>(i), static_cast<int64_t>(idx.size()) - 1));
      std::swap(idx[i], idx[j]);
      if (i == 0 || m_members[idx[i]].objective < m_members[idx[best]].objective) best = i;
    }
    return m_members[idx[best]].genotype;
  }

  int m_population;
  int m_sample;
  Genotype m_start;
  std::vector<bool> m_start_free;
  bool m_start_asked = false;
  int m_initial_asked = 0;
  int m_initial_pending = 0;
  std::deque<Member> m_members;  // oldest first
};

// ---- zeroshot-evolution ----

class ZeroshotEvolution : public Evolution {
 public:
  ZeroshotEvolution(Space space, uint64_t seed, const AlgorithmOptions& o)
      : Evolution(std::move(space), seed, without_start(o)),
        m_pool_target(o.prefilter_pool > 0 ? o.prefilter_pool : 4 * o.population),
        m_seed_size(o.population),
        m_start(o.start) {}
  std::string name() const override { return "zeroshot-evolution"; }

  std::vector<Genotype> ask(int n) override {
    if (!m_seeded) {
      std::vector<Genotype> out;
      while (static_cast<int>(out.size()) < n && m_pool_asked < m_pool_target) {
        if (m_pool_asked == 0 && !m_start.empty()) {
          m_space.remember(m_start);
          out.push_back(m_start);
        } else {
          auto g = m_space.fresh(m_rng);
          if (!g) {  // the space is smaller than the pool
            m_pool_target = m_pool_asked;
            break;
          }
          out.push_back(std::move(*g));
        }
        ++m_pool_asked;
      }
      m_pool_pending += static_cast<int>(out.size());
      if (!out.empty() || m_pool_pending > 0) return out;
      seed();
    }
    return Evolution::ask(n);
  }

  void tell(const std::vector<Observation>& results) override {
    if (m_seeded) {
      Evolution::tell(results);
      return;
    }
    for (const auto& r : results) {
      m_space.check(r.genotype, name() + ": tell");
      m_space.remember(r.genotype);
      m_pool.push_back(r);
      if (m_pool_pending > 0) --m_pool_pending;
    }
  }

 private:
  static AlgorithmOptions without_start(AlgorithmOptions o) {
    o.start.clear();
    return o;
  }

  // The initial population: the `population` pool members with a finite objective and the best
  // scores (ties: the better objective, then the earlier); when fewer have a score, the ones
  // without one with the best objectives. Kept in pool order (their age).
  void seed() {
    m_seeded = true;
    std::vector<size_t> scored, unscored;
    for (size_t i = 0; i < m_pool.size(); ++i) {
      const auto& r = m_pool[i];
      if (!std::isfinite(comparable(r))) continue;
      (r.score && std::isfinite(*r.score) ? scored : unscored).push_back(i);
    }
    std::stable_sort(scored.begin(), scored.end(), [&](size_t a, size_t b) {
      if (*m_pool[a].score != *m_pool[b].score) return *m_pool[a].score > *m_pool[b].score;
      return m_pool[a].objective < m_pool[b].objective;
    });
    std::stable_sort(unscored.begin(), unscored.end(),
                     [&](size_t a, size_t b) { return m_pool[a].objective < m_pool[b].objective; });
    std::vector<size_t> chosen;
    for (size_t i : scored)
      if (static_cast<int>(chosen.size()) < m_seed_size) chosen.push_back(i);
    for (size_t i : unscored)
      if (static_cast<int>(chosen.size()) < m_seed_size) chosen.push_back(i);
    std::sort(chosen.begin(), chosen.end());
    std::vector<Member> members;
    for (size_t i : chosen) members.push_back({m_pool[i].genotype, comparable(m_pool[i])});
    seed_population(std::move(members));
    m_pool.clear();
  }

  int m_pool_target;
  int m_seed_size;  // the population
  Genotype m_start;
  bool m_seeded = false;
  int m_pool_asked = 0;
  int m_pool_pending = 0;
  std::vector<Observation> m_pool;
};

// ---- rl ----

class Reinforce : public Algorithm {
 public:
  Reinforce(Space space, uint64_t seed, const AlgorithmOptions& o)
      : m_space(std::move(space)),
        m_rng(stream(seed, 2)),
        m_lr(o.learning_rate),
        m_entropy(o.entropy) {
    for (size_t d = 0; d < m_space.decisions(); ++d)
      m_logits.emplace_back(static_cast<size_t>(m_space.cardinality(d)), 0.0);
  }
  std::string name() const override { return "rl"; }

  std::vector<Genotype> ask(int n) override {
    std::vector<Genotype> out;
    std::vector<std::vector<double>> probs;
    for (const auto& l : m_logits) probs.push_back(softmax(l));
    for (int i = 0; i < n && !m_space.exhausted(); ++i)
      out.push_back(m_space.unique([&](int) {
        Genotype g(probs.size());
        for (size_t d = 0; d < g.size(); ++d) g[d] = draw(probs[d]);
        return g;
      }));
    return out;
  }

  void tell(const std::vector<Observation>& results) override {
    for (const auto& r : results) m_space.check(r.genotype, "rl: tell");
    if (results.empty()) return;
    // The objective scale: a moving average of |objective| over finite objectives.
    for (const auto& r : results) {
      const double obj = comparable(r);
      if (!std::isfinite(obj)) continue;
      m_scale = m_has_scale ? kBeta * m_scale + (1 - kBeta) * std::fabs(obj) : std::fabs(obj);
      m_has_scale = true;
      m_worst = m_has_worst ? std::max(m_worst, obj) : obj;
      m_has_worst = true;
    }
    const double scale = m_has_scale && m_scale > 0 ? m_scale : 1.0;
    std::vector<double> rewards;
    for (const auto& r : results) {
      const double obj = comparable(r);
      if (std::isfinite(obj)) {
        rewards.push_back(-obj / scale);
      } else {
        rewards.push_back((m_has_worst ? -m_worst / scale : -1.0) - kInfeasibleMargin);
      }
    }
    // Advantages: reward minus the moving baseline, over a moving deviation (folding in this
    // batch's deviations first bounds |advantage| by about sqrt(1 / (1 - kBeta))).
    if (!m_has_baseline) {
      double sum = 0;
      for (double r : rewards) sum += r;
      m_baseline = sum / static_cast<double>(rewards.size());
      m_has_baseline = true;
    }
    for (double r : rewards) {
      const double dev = r - m_baseline;
      m_variance = kBeta * m_variance + (1 - kBeta) * dev * dev;
    }
    const double sd = std::sqrt(m_variance) + 1e-12;
    std::vector<double> adv;
    for (double r : rewards) adv.push_back((r - m_baseline) / sd);
    for (double r : rewards) m_baseline = kBeta * m_baseline + (1 - kBeta) * r;

    // Gradient ascent on sum_i adv_i log p(g_i) + entropy * sum_i H(p), all decisions at once.
    for (size_t d = 0; d < m_logits.size(); ++d) {
      const std::vector<double> p = softmax(m_logits[d]);
      double h = 0;
      for (double q : p)
        if (q > 0) h -= q * std::log(q);
      std::vector<double> grad(p.size(), 0.0);
      for (size_t i = 0; i < results.size(); ++i) {
        const auto a = static_cast<size_t>(results[i].genotype[d]);
        for (size_t k = 0; k < p.size(); ++k) grad[k] += adv[i] * ((k == a ? 1.0 : 0.0) - p[k]);
      }
      const double n = static_cast<double>(results.size());
      for (size_t k = 0; k < p.size(); ++k) {
        const double dh = p[k] > 0 ? -p[k] * (std::log(p[k]) + h) : 0.0;
        m_logits[d][k] += m_lr * (grad[k] + m_entropy * n * dh);
      }
    }
  }

 private:
  static constexpr double kBeta = 0.9;              // moving averages, per observation
  static constexpr double kInfeasibleMargin = 0.1;  // below the worst reward, in scale units

  static std::vector<double> softmax(const std::vector<double>& l) {
    const double m = *std::max_element(l.begin(), l.end());
    std::vector<double> p(l.size());
    double sum = 0;
    for (size_t k = 0; k < l.size(); ++k) sum += (p[k] = std::exp(l[k] - m));
    for (double& q : p) q /= sum;
    return p;
  }

  int draw(const std::vector<double>& p) {
    const double u = m_rng.uniform01();
    double acc = 0;
    for (size_t k = 0; k + 1 < p.size(); ++k) {
      acc += p[k];
      if (u < acc) return static_cast<int>(k);
    }
    return static_cast<int>(p.size()) - 1;
  }

  Space m_space;
  est::SplitMix64 m_rng;
  double m_lr;
  double m_entropy;
  std::vector<std::vector<double>> m_logits;
  double m_scale = 0, m_worst = 0, m_baseline = 0, m_variance = 0;
  bool m_has_scale = false, m_has_worst = false, m_has_baseline = false;
};

// ---- local ----

class LocalSearch : public Algorithm {
 public:
  LocalSearch(Space space, uint64_t seed, const AlgorithmOptions& o)
      : m_space(std::move(space)),
        m_rng(stream(seed, 3)),
        m_restarts(o.restarts),
        m_start(o.start) {}
  std::string name() const override { return "local"; }

  std::vector<Genotype> ask(int n) override {
    if (n <= 0 || m_done || !m_pending.empty()) return {};
    if (!m_started) {
      m_started = true;
      if (m_start.empty()) {
        auto g = m_space.fresh(m_rng);
        if (!g) return finish();
        move_to(*g);
      } else {
        m_space.remember(m_start);
        move_to(m_start);
      }
    }
    // Each pass either asks something or uses a restart, so this ends.
    for (;;) {
      std::vector<Genotype> out;
      const auto cur = m_known.find(m_current);
      if (cur == m_known.end()) out.push_back(m_current);
      // No climbing from an infeasible point (its neighbours tie at +inf): it counts as stuck,
      // once the moves asked with it (speculatively, in its batch) found nothing feasible.
      const bool stuck = cur != m_known.end() && cur->second == kInf;
      while (!stuck && static_cast<int>(out.size()) < n && m_next < m_moves.size()) {
        const Genotype& g = m_moves[m_next++];
        if (known(g) || m_space.asked(g)) continue;
        m_space.remember(g);
        out.push_back(g);
      }
      if (!out.empty()) {
        m_pending = out;
        return out;
      }
      // A local optimum (every move is evaluated and none improves) or an infeasible point.
      if (m_restarts_used >= m_restarts) return finish();
      auto g = m_space.fresh(m_rng);
      if (!g) return finish();
      ++m_restarts_used;
      move_to(*g);
    }
  }

  void tell(const std::vector<Observation>& results) override {
    for (const auto& r : results) {
      m_space.check(r.genotype, "local: tell");
      m_space.remember(r.genotype);
      m_known[r.genotype] = comparable(r);
    }
    m_pending.clear();
    if (m_started) settle();
  }

 private:
  bool known(const Genotype& g) const { return m_known.count(g) != 0; }

  std::vector<Genotype> finish() {
    m_done = true;
    return {};
  }

  // Makes g the current point with its moves in a fresh random order, then settles.
  void move_to(const Genotype& g) {
    set_current(g);
    settle();
  }

  // The current point becomes g; its moves are tried in a fresh random order, except that the
  // moves in `first` (genotypes among g's neighbours) come first, in their order.
  void set_current(const Genotype& g, const std::vector<Genotype>& first = {}) {
    m_current = g;
    std::vector<Genotype> moves = m_space.neighbours(g);
    for (size_t i = moves.size(); i > 1; --i)  // Fisher-Yates
      std::swap(moves[i - 1],
                moves[static_cast<size_t>(m_rng.uniform_int(0, static_cast<int64_t>(i) - 1))]);
    m_moves.clear();
    for (const auto& f : first)
      if (std::find(moves.begin(), moves.end(), f) != moves.end() &&
          std::find(m_moves.begin(), m_moves.end(), f) == m_moves.end())
        m_moves.push_back(f);
    const auto head = static_cast<std::ptrdiff_t>(m_moves.size());
    for (auto& m : moves)
      if (std::find(m_moves.begin(), m_moves.begin() + head, m) == m_moves.begin() + head)
        m_moves.push_back(std::move(m));
    m_next = 0;
  }

  // Moves to the best evaluated neighbour while one is strictly better than the current point
  // (the best improving move of a batch; with batches of one, first improvement). The other
  // improving moves seen, best first, are retried first from the new point (the same decision
  // set to the same value), where in a nearly separable objective they usually still improve.
  void settle() {
    for (;;) {
      const auto cur = m_known.find(m_current);
      if (cur == m_known.end()) return;
      std::vector<std::pair<double, size_t>> better;  // (objective, index in m_moves)
      for (size_t i = 0; i < m_moves.size(); ++i) {
        const auto it = m_known.find(m_moves[i]);
        if (it != m_known.end() && it->second < cur->second) better.emplace_back(it->second, i);
      }
      if (better.empty()) return;
      std::stable_sort(better.begin(), better.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      const Genotype to = m_moves[better.front().second];
      std::vector<Genotype> first;
      for (size_t k = 1; k < better.size(); ++k) {
        const Genotype& m = m_moves[better[k].second];
        for (size_t d = 0; d < m.size(); ++d) {
          if (m[d] == m_current[d]) continue;  // the decision this move changes
          if (to[d] == m_current[d]) {         // not the one the step changes
            Genotype g = to;
            g[d] = m[d];
            first.push_back(std::move(g));
          }
          break;
        }
      }
      set_current(to, first);
    }
  }

  Space m_space;
  est::SplitMix64 m_rng;
  int m_restarts;
  Genotype m_start;
  bool m_started = false;
  bool m_done = false;
  int m_restarts_used = 0;
  Genotype m_current;
  std::vector<Genotype> m_moves;  // neighbours of m_current in the order they are tried
  size_t m_next = 0;
  std::vector<Genotype> m_pending;
  std::map<Genotype, double> m_known;  // objective of every evaluated genotype
};

}  // namespace

namespace {

using Factory = std::function<std::unique_ptr<Algorithm>(Space, uint64_t, const AlgorithmOptions&)>;

template <typename A>
Factory factory() {
  return [](Space s, uint64_t seed, const AlgorithmOptions& o) {
    return std::make_unique<A>(std::move(s), seed, o);
  };
}

const std::vector<std::pair<std::string, Factory>>& factories() {
  static const std::vector<std::pair<std::string, Factory>> table = {
      {"random", factory<RandomSearch>()},
      {"evolution", factory<Evolution>()},
      {"rl", factory<Reinforce>()},
      {"local", factory<LocalSearch>()},
      {"zeroshot-evolution", factory<ZeroshotEvolution>()},
  };
  return table;
}

}  // namespace

const std::vector<std::string>& algorithm_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& f : factories()) v.push_back(f.first);
    return v;
  }();
  return names;
}

std::unique_ptr<Algorithm> make_algorithm(const std::string& name,
                                          const std::vector<int>& cardinalities,
                                          const std::vector<bool>& ordered, uint64_t seed,
                                          const AlgorithmOptions& o) {
  const auto& names = algorithm_names();
  const auto& table = factories();
  const auto entry =
      std::find_if(table.begin(), table.end(), [&](const auto& f) { return f.first == name; });
  if (entry == table.end()) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    std::string msg = fmt::format("unknown search algorithm '{}'; expected one of: {}", name, list);
    const std::string hint = did_you_mean(name, names);
    if (!hint.empty()) msg += fmt::format(" (did you mean '{}'?)", hint);
    throw InputError(msg);
  }
  DiagnosticSink sink;
  auto bad = [&](const std::string& path, const std::string& value, const std::string& msg) {
    sink.add(SourceLoc{}, path, value, msg);
  };
  if (cardinalities.empty()) bad("cardinalities", "", "the search space has no decisions");
  for (size_t d = 0; d < cardinalities.size(); ++d)
    if (cardinalities[d] < 1)
      bad(fmt::format("cardinalities[{}]", d), std::to_string(cardinalities[d]),
          "a decision needs at least one option");
  if (!ordered.empty() && ordered.size() != cardinalities.size())
    bad("ordered", std::to_string(ordered.size()),
        fmt::format("one flag per decision ({}) or none", cardinalities.size()));
  if (o.population < 1) bad("population", std::to_string(o.population), "expected >= 1");
  if (o.sample < 1) bad("sample", std::to_string(o.sample), "expected >= 1");
  if (!(o.learning_rate > 0) || !std::isfinite(o.learning_rate))
    bad("learning_rate", fmt::format("{}", o.learning_rate), "expected a finite value > 0");
  if (!(o.entropy >= 0) || !std::isfinite(o.entropy))
    bad("entropy", fmt::format("{}", o.entropy), "expected a finite value >= 0");
  if (o.restarts < 0) bad("restarts", std::to_string(o.restarts), "expected >= 0");
  if (o.prefilter_pool < 0)
    bad("prefilter_pool", std::to_string(o.prefilter_pool), "expected >= 0 (0: 4 x population)");
  sink.throw_if_any();

  Space space(cardinalities, ordered);
  if (!o.start.empty()) space.check(o.start, "start");
  if (!o.start_free.empty() && o.start_free.size() != cardinalities.size())
    throw InputError(fmt::format("start_free: {} flags; expected one per decision ({})",
                                 o.start_free.size(), cardinalities.size()));
  return entry->second(std::move(space), seed, o);
}

}  // namespace nax::search
