#include "nas/search/driver.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "models/common/csv.hpp"
#include "models/common/error.hpp"
#include "models/common/hash.hpp"
#include "models/common/sqlite_db.hpp"
#include "models/common/workers.hpp"
#include "models/common/yaml_io.hpp"
#include "models/ir/analysis.hpp"
#include "nas/accuracy/score.hpp"

namespace nax::search {

using db::Db;
using db::Stmt;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr const char* kFormat = "nax-search";
constexpr int kSchemaVersion = 1;
constexpr size_t kMaxSpaceBytes = 4 << 20;

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS latency(arch_hash TEXT NOT NULL, oracle TEXT NOT NULL,
  chip_hash TEXT NOT NULL, latency_ms REAL NOT NULL, PRIMARY KEY(arch_hash, oracle, chip_hash));
CREATE TABLE IF NOT EXISTS scores(arch_hash TEXT NOT NULL, score_key TEXT NOT NULL, score REAL,
  reason TEXT NOT NULL, PRIMARY KEY(arch_hash, score_key));
CREATE TABLE IF NOT EXISTS runs(run_id TEXT PRIMARY KEY, label TEXT NOT NULL,
  config TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS steps(run_id TEXT NOT NULL, step INTEGER NOT NULL,
  batch_start INTEGER NOT NULL, batch_size INTEGER NOT NULL, genotype TEXT NOT NULL,
  model TEXT NOT NULL, metrics TEXT NOT NULL, PRIMARY KEY(run_id, step));
CREATE TABLE IF NOT EXISTS energy(arch_hash TEXT NOT NULL, oracle TEXT NOT NULL,
  chip_hash TEXT NOT NULL, energy_uj REAL NOT NULL, PRIMARY KEY(arch_hash, oracle, chip_hash));
)sql";

std::string genotype_text(const Genotype& g) {
  std::string s;
  for (size_t i = 0; i < g.size(); ++i) s += (i ? "," : "") + std::to_string(g[i]);
  return s;
}

// Length-prefixed JSON on a pipe (the format of ForkPool's messages).
bool write_message(int fd, const nlohmann::json& j) {
  const std::string body = j.dump();
  std::string msg(8, '\0');
  uint64_t n = body.size();
  for (int i = 0; i < 8; ++i)
    msg[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  msg += body;
  size_t off = 0;
  while (off < msg.size()) {
    const ssize_t w = ::write(fd, msg.data() + off, msg.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    off += static_cast<size_t>(w);
  }
  return true;
}

bool read_exact(int fd, char* p, size_t n) {
  size_t off = 0;
  while (off < n) {
    const ssize_t r = ::read(fd, p + off, n - off);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    off += static_cast<size_t>(r);
  }
  return true;
}

bool read_message(int fd, nlohmann::json& out) {
  unsigned char len[8];
  if (!read_exact(fd, reinterpret_cast<char*>(len), 8)) return false;
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t{len[i]} << (8 * i);
  std::string body(n, '\0');
  if (!read_exact(fd, body.data(), n)) return false;
  out = nlohmann::json::parse(body);
  return true;
}

}  // namespace

// ---- objectives ----

const char* objective_name(Objective o) {
  switch (o) {
    case Objective::kLatency:
      return "latency_ms";
    case Objective::kParamBytes:
      return "param_bytes";
    case Objective::kPeakActivation:
      return "peak_activation_bytes";
    case Objective::kScore:
      return "score";
    case Objective::kEnergy:
      return "energy_uj";
  }
  return "?";
}

bool parse_objective(const std::string& s, Objective& out) {
  for (Objective o : {Objective::kLatency, Objective::kParamBytes, Objective::kPeakActivation,
                      Objective::kScore, Objective::kEnergy}) {
    if (s == objective_name(o)) {
      out = o;
      return true;
    }
  }
  return false;
}

double Step::objective(Objective o) const {
  const Metrics& m = metrics;
  if (!m.feasible) return kInf;
  switch (o) {
    case Objective::kLatency:
      return m.latency_ms ? *m.latency_ms : kInf;
    case Objective::kParamBytes:
      return static_cast<double>(m.param_bytes);
    case Objective::kPeakActivation:
      return static_cast<double>(m.peak_activation_bytes);
    case Objective::kScore:
      return m.score ? -*m.score : kInf;
    case Objective::kEnergy:
      return m.energy_uj ? *m.energy_uj : kInf;
  }
  return kInf;
}

// ---- the store ----

class SearchStore : public Db {
 public:
  explicit SearchStore(const std::string& file) {
    open_store(file, kFormat, kSchema, kSchemaVersion, "a nax search store");
  }

  std::optional<double> latency(const std::string& arch, const std::string& oracle,
                                const std::string& chip) {
    Stmt s(*this,
           "SELECT latency_ms FROM latency WHERE arch_hash = ? AND oracle = ? AND chip_hash = ?",
           true);
    s.bind(1, arch).bind(2, oracle).bind(3, chip);
    if (s.step()) return s.f64(0);
    return std::nullopt;
  }
  void put_latency(const std::string& arch, const std::string& oracle, const std::string& chip,
                   double ms) {
    Stmt s(*this, "INSERT OR REPLACE INTO latency VALUES (?, ?, ?, ?)", true);
    s.bind(1, arch).bind(2, oracle).bind(3, chip).bind(4, ms).run();
  }
  std::optional<double> energy(const std::string& arch, const std::string& oracle,
                               const std::string& chip) {
    Stmt s(*this,
           "SELECT energy_uj FROM energy WHERE arch_hash = ? AND oracle = ? AND chip_hash = ?",
           true);
    s.bind(1, arch).bind(2, oracle).bind(3, chip);
    if (s.step()) return s.f64(0);
    return std::nullopt;
  }
  void put_energy(const std::string& arch, const std::string& oracle, const std::string& chip,
                  double uj) {
    Stmt s(*this, "INSERT OR REPLACE INTO energy VALUES (?, ?, ?, ?)", true);
    s.bind(1, arch).bind(2, oracle).bind(3, chip).bind(4, uj).run();
  }
  // (found, score or nullopt with reason)
  bool score(const std::string& arch, const std::string& key, std::optional<double>& value,
             std::string& reason) {
    Stmt s(*this, "SELECT score, reason FROM scores WHERE arch_hash = ? AND score_key = ?", true);
    s.bind(1, arch).bind(2, key);
    if (!s.step()) return false;
    value = s.null(0) ? std::nullopt : std::optional<double>(s.f64(0));
    reason = s.text(1);
    return true;
  }
  void put_score(const std::string& arch, const std::string& key, const std::optional<double>& v,
                 const std::string& reason) {
    Stmt s(*this, "INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?)", true);
    s.bind(1, arch).bind(2, key);
    if (v)
      s.bind(3, *v);
    else
      s.bind_null(3);
    s.bind(4, reason).run();
  }
};

// ---- workers that compute scores ----

// Persistent forked workers: each reads requests {"i", "yaml"} from its own pipe and answers
// {"i", "score" | null, "why"} through the ForkPool's.
class ScorePool {
 public:
  ScorePool(int jobs, const ScoreOptions& o) {
    m_req.resize(static_cast<size_t>(jobs), -1);
    std::vector<int> read_ends(static_cast<size_t>(jobs), -1);
    for (int w = 0; w < jobs; ++w) {
      int fds[2];
      if (::pipe(fds) != 0) throw Error("cannot create a pipe for the score workers");
      read_ends[static_cast<size_t>(w)] = fds[0];
      m_req[static_cast<size_t>(w)] = fds[1];
    }
    const std::vector<int> writes = m_req;
    m_pool =
        std::make_unique<ForkPool>(jobs, [read_ends, writes, o](int w, const ForkPool::Send& send) {
          for (int fd : writes) ::close(fd);
          const int in = read_ends[static_cast<size_t>(w)];
          nlohmann::json req;
          while (read_message(in, req)) {
            const spec::ModelSpec m =
                spec::read_model_yaml(req.at("yaml").get<std::string>(), "<candidate>");
            std::string why;
            const auto sc = candidate_score(m, o, &why);
            nlohmann::json r = {{"i", req.at("i")}, {"why", why}};
            r["score"] = sc ? nlohmann::json(*sc) : nlohmann::json();
            if (!send(r)) break;
          }
        });
    for (int fd : read_ends) ::close(fd);
  }
  ~ScorePool() {
    for (int fd : m_req)
      if (fd >= 0) ::close(fd);
  }

  // Scores every model (index -> yaml); returns index -> (score, why).
  std::map<int, std::pair<std::optional<double>, std::string>> run(
      const std::vector<std::pair<int, std::string>>& jobs) {
    std::map<int, std::pair<std::optional<double>, std::string>> out;
    size_t next = 0;
    std::vector<bool> busy(m_req.size(), false);
    auto feed = [&](size_t w) {
      if (next >= jobs.size()) return;
      if (!write_message(m_req[w], {{"i", jobs[next].first}, {"yaml", jobs[next].second}}))
        throw Error("a score worker exited");
      busy[w] = true;
      ++next;
    };
    for (size_t w = 0; w < m_req.size(); ++w) feed(w);
    while (out.size() < jobs.size()) {
      if (!m_pool->any_open()) throw Error("the score workers exited");
      for (const auto& [w, msg] : m_pool->poll(1000)) {
        if (msg.contains("error")) throw Error("score worker: " + msg["error"].get<std::string>());
        const int i = msg.at("i").get<int>();
        out[i] = {msg["score"].is_null() ? std::nullopt
                                         : std::optional<double>(msg["score"].get<double>()),
                  msg.value("why", std::string())};
        busy[static_cast<size_t>(w)] = false;
        feed(static_cast<size_t>(w));
      }
    }
    return out;
  }

 private:
  std::vector<int> m_req;
  std::unique_ptr<ForkPool> m_pool;
};

// ---- Searcher ----

namespace {

std::string score_key(const ScoreOptions& o) {
  return o.key();
}

bool needs_score(const SearchConfig& c) {
  return c.score.enabled && (c.constraints.min_score || c.objective == Objective::kScore);
}

// What an infeasible candidate is told as: worse than any feasible objective (kPenaltyBase), and
// worse the further it misses its constraints (relative excess over each budget, relative shortfall
// of the score), so a search whose start is infeasible (a memory budget below the baseline) moves
// toward the feasible region instead of wandering among equal infinities. A candidate that failed
// to build or score stays +inf.
constexpr double kPenaltyBase = 1e6;

double penalty(const Metrics& m, const Constraints& c) {
  double excess = 0;
  bool measured = false;
  auto over = [&](double v, double bound) {
    if (bound > 0 && v > bound) {
      excess += v / bound - 1;
      measured = true;
    }
  };
  if (c.max_param_bytes)
    over(static_cast<double>(m.param_bytes), static_cast<double>(*c.max_param_bytes));
  if (c.max_peak_activation_bytes)
    over(static_cast<double>(m.peak_activation_bytes),
         static_cast<double>(*c.max_peak_activation_bytes));
  if (c.weights_fit_sram && m.reason.find("SRAM") != std::string::npos) {
    excess += 1;
    measured = true;
  }
  if (c.max_area_mm2 && m.area_mm2) over(*m.area_mm2, *c.max_area_mm2);
  if (c.max_latency_ms && m.latency_ms) over(*m.latency_ms, *c.max_latency_ms);
  if (c.min_macs && m.macs < *c.min_macs && m.macs > 0)
    over(static_cast<double>(*c.min_macs), static_cast<double>(m.macs));
  if (c.min_score && m.score && *m.score < *c.min_score) {
    excess += (*c.min_score - *m.score) / std::max(1.0, std::abs(*c.min_score));
    measured = true;
  }
  if (!measured) return kInf;
  return kPenaltyBase * (1 + excess);
}

// The objectives measured before the score (a candidate that cannot beat the best on them need not
// be scored).
bool measured_first(Objective o) {
  return o == Objective::kLatency || o == Objective::kEnergy;
}

// zeroshot-evolution ranks its prefilter pool by the score, so it needs every score.
bool lazy(const SearchConfig& c) {
  return c.lazy_score && measured_first(c.objective) && c.constraints.min_score &&
         c.algorithm != "zeroshot-evolution";
}

}  // namespace

Searcher::Searcher(const SearchSpace& space, LatencyOracle& latency, const ChipLimits& chip,
                   const SearchConfig& config, const std::string& db, bool resume)
    : Searcher(space, std::make_unique<FixedChip>(latency, chip), nullptr, config, db, resume) {}

Searcher::Searcher(const SearchSpace& space, ChipProvider& chips, const SearchConfig& config,
                   const std::string& db, bool resume)
    : Searcher(space, nullptr, &chips, config, db, resume) {}

Searcher::Searcher(const SearchSpace& space, std::unique_ptr<FixedChip> fixed, ChipProvider* chips,
                   const SearchConfig& config, const std::string& db, bool resume)
    : m_space(space),
      m_fixed(std::move(fixed)),
      m_chips(m_fixed ? *m_fixed : *chips),
      m_config(config),
      m_store(std::make_unique<SearchStore>(db)),
      m_score_key(score_key(config.score)) {
  if (m_config.batch < 1) throw InputError("search batch must be at least 1");
  if (m_config.jobs < 1) throw InputError("search jobs must be at least 1");
  if (m_fixed && space.has_chip())
    throw InputError(fmt::format(
        "{}: the space has chip decisions: this search runs on one chip (joint chip + network "
        "search is `nax search`)",
        space.file()));
  const CandidateChip& base = m_chips.base();
  if (!base.valid()) throw InputError("search: the base chip is not valid: " + base.error);
  if (m_config.objective == Objective::kEnergy && !base.latency->measures_energy())
    throw InputError(fmt::format(
        "objective energy_uj: the latency oracle {} does not measure energy (the simulator does: "
        "--latency simulate)",
        base.latency->id()));
  const LatencyOracle& latency = *base.latency;
  const ChipLimits& chip = base.limits;
  nlohmann::json id = {{"space", content_hash(read_text_file(space.file(), kMaxSpaceBytes))},
                       {"space_name", space.name()},
                       {"curated", space.options().curated},
                       {"variant", space.options().variant},
                       {"parallelism", space.options().parallelism},
                       {"algorithm", config.algorithm},
                       {"population", config.algorithm_options.population},
                       {"sample", config.algorithm_options.sample},
                       {"learning_rate", config.algorithm_options.learning_rate},
                       {"entropy", config.algorithm_options.entropy},
                       {"restarts", config.algorithm_options.restarts},
                       {"prefilter_pool", config.algorithm_options.prefilter_pool},
                       {"start", genotype_text(config.algorithm_options.start)},
                       {"seed", config.seed},
                       {"batch", config.batch},
                       {"objective", objective_name(config.objective)},
                       {"constraints", config.constraints.to_json()},
                       {"score", config.score.enabled ? m_score_key : "none"},
                       {"lazy_score", lazy(config)},
                       {"chip", chip.hash},
                       {"oracle", latency.id()}};
  if (!config.algorithm_options.start_free.empty()) {
    std::string free;
    for (bool f : config.algorithm_options.start_free) free += f ? '1' : '0';
    id["start_free"] = free;
  }
  m_run_id = content_hash(id.dump());
  Stmt s(*m_store, "SELECT count(*) FROM steps WHERE run_id = ?");
  s.bind(1, m_run_id);
  const int64_t n = s.step() ? s.i64(0) : 0;
  if (n > 0 && !resume)
    throw InputError(fmt::format(
        "{}: already holds {} steps of this search (run {}): pass --resume to continue it, or "
        "use another --db",
        db, n, m_run_id));
  Stmt r(*m_store, "INSERT OR IGNORE INTO runs VALUES (?, ?, ?)");
  r.bind(1, m_run_id).bind(2, config.label).bind(3, id.dump()).run();
}

Searcher::~Searcher() = default;

Metrics Searcher::evaluate_model(const spec::ModelSpec& m, bool with_score,
                                 const std::vector<std::string>& chip_overrides) {
  const CandidateChip& chip = m_chips.chip(chip_overrides);
  const ir::Graph g = spec::build_graph(m);
  if (!chip.valid()) {
    // The network's numbers (on the base chip's data widths) for the record; no chip.
    Metrics r = static_metrics(g, m_chips.base().limits, {});
    r.chip_hash.clear();
    r.area_mm2.reset();
    r.chip_overrides = chip_overrides;
    r.feasible = false;
    r.reason = "invalid chip: " + chip.error;
    return r;
  }
  Metrics r = static_metrics(g, chip.limits, m_config.constraints);
  r.chip_overrides = chip_overrides;
  if (!r.feasible) return r;
  LatencyOracle& latency = *chip.latency;
  const std::string& chip_hash = chip.limits.hash;
  r.latency_ms = m_store->latency(r.arch_hash, latency.id(), chip_hash);
  if (latency.measures_energy())
    r.energy_uj = m_store->energy(r.arch_hash, latency.id(), chip_hash);
  if (!r.latency_ms || (latency.measures_energy() && !r.energy_uj)) {
    const LatencyOracle::Measurement ms = latency.measure(g);
    r.latency_ms = ms.latency_ms;
    r.energy_uj = ms.energy_uj;
    m_store->put_latency(r.arch_hash, latency.id(), chip_hash, ms.latency_ms);
    if (ms.energy_uj) m_store->put_energy(r.arch_hash, latency.id(), chip_hash, *ms.energy_uj);
  }
  if (!check_measured(r, m_config.constraints)) return r;
  if (with_score && m_config.score.enabled) {
    std::string why;
    if (!m_store->score(r.arch_hash, m_score_key, r.score, why)) {
      r.score = candidate_score(m, m_config.score, &why);
      m_store->put_score(r.arch_hash, m_score_key, r.score, why);
    }
    if (!r.score) {
      r.feasible = false;
      r.reason = why;
      return r;
    }
    check_measured(r, m_config.constraints);
  }
  return r;
}

Step Searcher::evaluate_baseline() {
  Step s;
  s.index = -1;
  s.genotype = m_space.baseline();
  spec::ModelSpec m = m_space.base();
  s.model_name = m.name;
  s.metrics = evaluate_model(m, true);
  if (s.metrics.score && m_config.score.enabled &&
      m_config.score.source == AccuracySource::kScore) {
    // The score's noise: the baseline scored with further seeds (cached like any score).
    std::vector<double> v = {*s.metrics.score};
    for (int k = 1; k < kNoiseSeeds; ++k) {
      ScoreOptions o = m_config.score;
      o.seed += static_cast<uint64_t>(k);
      const std::string key = score_key(o);
      std::optional<double> sc;
      std::string why;
      if (!m_store->score(s.metrics.arch_hash, key, sc, why)) {
        sc = candidate_score(m, o, &why);
        m_store->put_score(s.metrics.arch_hash, key, sc, why);
      }
      if (sc) v.push_back(*sc);
    }
    double mean = 0, var = 0;
    for (double x : v) mean += x / static_cast<double>(v.size());
    for (double x : v) var += (x - mean) * (x - mean);
    if (v.size() > 1) s.metrics.score_sd = std::sqrt(var / static_cast<double>(v.size() - 1));
  }
  return s;
}

std::vector<Metrics> Searcher::evaluate_batch(const std::vector<Genotype>& batch,
                                              const std::optional<double>& best_objective) {
  std::vector<Metrics> out(batch.size());
  std::vector<spec::ModelSpec> models;
  models.reserve(batch.size());
  // Static metrics and latency, here (fast); collect the scores to compute.
  std::vector<std::pair<int, std::string>> jobs;
  std::map<std::string, std::vector<size_t>> waiting;  // arch hash -> batch positions
  for (size_t i = 0; i < batch.size(); ++i) {
    models.push_back(m_space.realize(batch[i]));
    out[i] = evaluate_model(models.back(), false, m_space.chip_overrides(batch[i]));
    Metrics& r = out[i];
    if (!r.feasible || !needs_score(m_config)) continue;
    if (lazy(m_config) && best_objective) {
      Step unscored;
      unscored.metrics = r;
      if (unscored.objective(m_config.objective) >= *best_objective) continue;
    }
    std::string why;
    if (m_store->score(r.arch_hash, m_score_key, r.score, why)) {
      if (!r.score) {
        r.feasible = false;
        r.reason = why;
      }
      check_measured(r, m_config.constraints);
      continue;
    }
    auto& w = waiting[r.arch_hash];
    if (w.empty()) jobs.emplace_back(static_cast<int>(i), spec::write_model_yaml(models.back()));
    w.push_back(i);
  }
  if (jobs.empty()) return out;
  std::map<int, std::pair<std::optional<double>, std::string>> scores;
  if (m_config.jobs <= 1 || jobs.size() == 1) {
    for (const auto& [i, yaml] : jobs) {
      std::string why;
      const auto sc = candidate_score(models[static_cast<size_t>(i)], m_config.score, &why);
      scores[i] = {sc, why};
    }
  } else {
    ScorePool pool(std::min<int>(m_config.jobs, static_cast<int>(jobs.size())), m_config.score);
    scores = pool.run(jobs);
  }
  for (const auto& [i, res] : scores) {
    const std::string& arch = out[static_cast<size_t>(i)].arch_hash;
    m_store->put_score(arch, m_score_key, res.first, res.second);
    for (size_t pos : waiting[arch]) {
      Metrics& r = out[pos];
      r.score = res.first;
      if (!r.score) {
        r.feasible = false;
        r.reason = res.second;
      } else {
        check_measured(r, m_config.constraints);
      }
    }
  }
  return out;
}

SearchOutcome Searcher::run(const SearchHooks& hooks) {
  const auto t0 = std::chrono::steady_clock::now();
  SearchOutcome res;
  res.run_id = m_run_id;
  auto algo = make_algorithm(m_config.algorithm, m_space.cardinalities(), m_space.ordered(),
                             m_config.seed, m_config.algorithm_options);
  // The stored log: step -> (batch start, batch size, genotype, model, metrics).
  struct Logged {
    int batch_start = 0, batch_size = 0;
    std::string genotype, model, metrics;
  };
  std::map<int, Logged> log;
  {
    Stmt s(*m_store,
           "SELECT step, batch_start, batch_size, genotype, model, metrics FROM steps WHERE "
           "run_id = ? ORDER BY step");
    s.bind(1, m_run_id);
    while (s.step())
      log[static_cast<int>(s.i64(0))] = {static_cast<int>(s.i64(1)), static_cast<int>(s.i64(2)),
                                         s.text(3), s.text(4), s.text(5)};
  }
  const bool need_score = needs_score(m_config);
  std::optional<double> best;  // best feasible objective (scored, when lazy)
  SearchProgress prog;
  prog.budget = m_config.budget;
  int done = 0;
  while (done < m_config.budget) {
    const auto it = log.find(done);
    const bool from_log = it != log.end();
    const int n =
        from_log ? it->second.batch_size : std::min(m_config.batch, m_config.budget - done);
    const std::vector<Genotype> asks = algo->ask(n);
    if (asks.empty()) {
      res.exhausted = true;
      break;
    }
    std::optional<double> best_measured;
    if (measured_first(m_config.objective)) best_measured = best;
    std::vector<Metrics> metrics;
    std::vector<bool> cached(asks.size(), false);
    if (from_log) {
      for (size_t i = 0; i < asks.size(); ++i) {
        const auto l = log.find(done + static_cast<int>(i));
        if (l == log.end() || l->second.genotype != genotype_text(asks[i]))
          throw InputError(fmt::format(
              "{}: the stored log of run {} does not match what the algorithm asks at step {} "
              "(another nax or space version?): use another --db",
              m_store->path, m_run_id, done + static_cast<int>(i)));
        metrics.push_back(Metrics::from_json(nlohmann::json::parse(l->second.metrics)));
        cached[i] = true;
      }
      res.resumed += static_cast<int>(asks.size());
    } else {
      metrics = evaluate_batch(asks, best_measured);
      m_store->exec("BEGIN IMMEDIATE");
      for (size_t i = 0; i < asks.size(); ++i) {
        Stmt s(*m_store, "INSERT INTO steps VALUES (?, ?, ?, ?, ?, ?, ?)", true);
        s.bind(1, m_run_id)
            .bind(2, int64_t{done} + static_cast<int64_t>(i))
            .bind(3, int64_t{done})
            .bind(4, static_cast<int64_t>(asks.size()))
            .bind(5, genotype_text(asks[i]))
            .bind(6, m_space.realize(asks[i]).name)
            .bind(7, metrics[i].to_json().dump())
            .run();
      }
      m_store->exec("COMMIT");
      res.evaluated += static_cast<int>(asks.size());
    }
    std::vector<Observation> obs;
    for (size_t i = 0; i < asks.size(); ++i) {
      Step st;
      st.index = done + static_cast<int>(i);
      st.genotype = asks[i];
      st.model_name = m_space.realize(asks[i]).name;
      st.metrics = metrics[i];
      st.cached = cached[i];
      const double o = st.objective(m_config.objective);
      const double told = std::isfinite(o) ? o : penalty(st.metrics, m_config.constraints);
      obs.push_back({asks[i], told, std::isfinite(told), st.metrics.score});
      if (std::isfinite(o) && (!need_score || st.metrics.score) && (!best || o < *best)) best = o;
      if (!st.metrics.feasible) ++prog.infeasible;
      res.steps.push_back(std::move(st));
    }
    algo->tell(obs);
    done += static_cast<int>(asks.size());
    prog.done = done;
    prog.evaluated = res.evaluated;
    prog.best = best;
    prog.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (hooks.progress) hooks.progress(prog);
    if (hooks.stop_requested && hooks.stop_requested() && done < m_config.budget) {
      res.interrupted = true;
      break;
    }
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.best = best_step(res.steps, m_config.objective, need_score);
  std::vector<std::vector<double>> pts;
  std::vector<int> idx;
  std::set<std::string> seen;
  for (size_t i = 0; i < res.steps.size(); ++i) {
    const Metrics& m = res.steps[i].metrics;
    if (!m.feasible || !m.latency_ms || (m_config.score.enabled && need_score && !m.score))
      continue;
    if (!seen.insert(m.arch_hash + " " + m.chip_hash).second) continue;
    if (m_config.objective == Objective::kEnergy && !m.energy_uj) continue;
    std::vector<double> p = {*m.latency_ms,
                             static_cast<double>(m.param_bytes + m.peak_activation_bytes)};
    if (m.score) p.push_back(-*m.score);
    // Area and energy (constant across a one-chip search's area: no effect there).
    p.push_back(m.area_mm2.value_or(0));
    if (m_config.objective == Objective::kEnergy) p.push_back(*m.energy_uj);
    pts.push_back(p);
    idx.push_back(static_cast<int>(i));
  }
  for (int k : pareto_front(pts)) res.pareto.push_back(idx[static_cast<size_t>(k)]);
  return res;
}

// ---- results ----

std::vector<int> pareto_front(const std::vector<std::vector<double>>& points) {
  std::vector<int> front;
  for (size_t i = 0; i < points.size(); ++i) {
    bool dominated = false;
    for (size_t j = 0; j < points.size() && !dominated; ++j) {
      if (i == j) continue;
      bool all_le = true, any_lt = false;
      for (size_t k = 0; k < points[i].size(); ++k) {
        if (points[j][k] > points[i][k]) all_le = false;
        if (points[j][k] < points[i][k]) any_lt = true;
      }
      // Equal points: keep the first.
      dominated = all_le && (any_lt || j < i);
    }
    if (!dominated) front.push_back(static_cast<int>(i));
  }
  std::stable_sort(front.begin(), front.end(), [&](int a, int b) {
    return points[static_cast<size_t>(a)][0] < points[static_cast<size_t>(b)][0];
  });
  return front;
}

std::optional<int> best_step(const std::vector<Step>& steps, Objective o, bool need_score) {
  std::optional<int> best;
  double bv = kInf;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (need_score && !steps[i].metrics.score) continue;
    const double v = steps[i].objective(o);
    if (std::isfinite(v) && v < bv) {
      bv = v;
      best = static_cast<int>(i);
    }
  }
  return best;
}

std::optional<int> evaluations_to_reach(const std::vector<Step>& steps, Objective o, double target,
                                        double tolerance, bool need_score) {
  double bv = kInf;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (need_score && !steps[i].metrics.score) continue;
    bv = std::min(bv, steps[i].objective(o));
    const double bound = target >= 0 ? target * (1 + tolerance) : target * (1 - tolerance);
    if (bv <= bound) return static_cast<int>(i) + 1;
  }
  return std::nullopt;
}

std::string steps_csv(const SearchSpace& space, const std::vector<Step>& steps,
                      const std::vector<int>& which) {
  std::string s =
      "step,model,feasible,reason,latency_ms,param_bytes,peak_activation_bytes,macs,score,cached,"
      "energy_uj,area_mm2,chip_hash";
  for (const auto& d : space.decisions()) s += "," + d.name;
  s += "\n";
  auto row = [&](const Step& st) {
    const Metrics& m = st.metrics;
    s += fmt::format("{},{},{},{},{},{},{},{},{},{}", st.index, csv_field(st.model_name),
                     m.feasible ? 1 : 0, csv_field(m.reason),
                     m.latency_ms ? fmt::format("{:.6f}", *m.latency_ms) : "", m.param_bytes,
                     m.peak_activation_bytes, m.macs,
                     m.score ? fmt::format("{:.6f}", *m.score) : "", st.cached ? 1 : 0);
    s += fmt::format(",{},{},{}", m.energy_uj ? fmt::format("{:.6f}", *m.energy_uj) : "",
                     m.area_mm2 ? fmt::format("{:.6f}", *m.area_mm2) : "", m.chip_hash);
    for (size_t d = 0; d < space.decisions().size() && d < st.genotype.size(); ++d)
      s += "," + space.decisions()[d].values[static_cast<size_t>(st.genotype[d])];
    s += "\n";
  };
  if (which.empty()) {
    for (const auto& st : steps) row(st);
  } else {
    for (int i : which) row(steps[static_cast<size_t>(i)]);
  }
  return s;
}

}  // namespace nax::search
