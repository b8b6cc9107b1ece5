#include "hw/sweep/run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>

#include "hw/lower/lower.hpp"
#include "hw/sim/simulator.hpp"
#include "models/common/hash.hpp"
#include "models/common/sqlite_db.hpp"
#include "models/common/workers.hpp"
#include "models/model_source.hpp"

namespace nax::hw::sweep {

using db::Db;
using db::Stmt;

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

constexpr const char* kFormat = "nax-sweep";
constexpr int kSchemaVersion = 1;
constexpr double kCommitSeconds = 1.0;

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chips(chip_hash TEXT PRIMARY KEY, yaml TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results(chip_hash TEXT NOT NULL, model_hash TEXT NOT NULL,
  simulator TEXT NOT NULL, model TEXT NOT NULL, feasible INTEGER NOT NULL, reason TEXT NOT NULL,
  latency_ms REAL NOT NULL, energy_uj REAL NOT NULL, cycles INTEGER NOT NULL,
  mac_array_utilization REAL NOT NULL, vector_unit_utilization REAL NOT NULL,
  mac_efficiency REAL NOT NULL,
  dram_read_bytes INTEGER NOT NULL, dram_write_bytes INTEGER NOT NULL,
  PRIMARY KEY(chip_hash, model_hash, simulator));
CREATE TABLE IF NOT EXISTS runs(sweep_hash TEXT NOT NULL, shard_index INTEGER NOT NULL,
  shard_count INTEGER NOT NULL, name TEXT NOT NULL, config TEXT NOT NULL,
  PRIMARY KEY(sweep_hash, shard_index, shard_count));
)sql";

class SweepStore : public Db {
 public:
  explicit SweepStore(const std::string& file) {
    open_store(file, kFormat, kSchema, kSchemaVersion, "a nax sweep store");
  }

  std::optional<PairResult> result(const std::string& chip, const std::string& model,
                                   const std::string& sim) {
    Stmt s(
        *this,
        "SELECT feasible, reason, latency_ms, energy_uj, cycles, mac_array_utilization, "
        "vector_unit_utilization, dram_read_bytes, dram_write_bytes, mac_efficiency FROM results "
        "WHERE "
        "chip_hash = ? AND model_hash = ? AND simulator = ?",
        true);
    s.bind(1, chip).bind(2, model).bind(3, sim);
    if (!s.step()) return std::nullopt;
    PairResult r;
    r.feasible = s.i64(0) != 0;
    r.reason = s.text(1);
    r.latency_ms = s.f64(2);
    r.energy_uj = s.f64(3);
    r.cycles = s.i64(4);
    r.mac_array_utilization = s.f64(5);
    r.vector_unit_utilization = s.f64(6);
    r.dram_read_bytes = s.i64(7);
    r.dram_write_bytes = s.i64(8);
    r.mac_efficiency = s.f64(9);
    return r;
  }

  void put(const std::string& chip, const std::string& model_hash, const std::string& sim,
           const std::string& model, const PairResult& r) {
    Stmt s(*this, "INSERT OR IGNORE INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
           true);
    s.bind(1, chip)
        .bind(2, model_hash)
        .bind(3, sim)
        .bind(4, model)
        .bind(5, int64_t{r.feasible ? 1 : 0})
        .bind(6, r.reason)
        .bind(7, r.latency_ms)
        .bind(8, r.energy_uj)
        .bind(9, r.cycles)
        .bind(10, r.mac_array_utilization)
        .bind(11, r.vector_unit_utilization)
        .bind(12, r.mac_efficiency)
        .bind(13, r.dram_read_bytes)
        .bind(14, r.dram_write_bytes)
        .run();
  }

  void put_chip(const std::string& hash, const std::string& yaml) {
    Stmt s(*this, "INSERT OR IGNORE INTO chips VALUES (?, ?)", true);
    s.bind(1, hash).bind(2, yaml).run();
  }
};

// A transaction that commits when asked and rolls back when dropped.
class Txn {
 public:
  explicit Txn(Db& db) : m_db(db) { m_db.exec("BEGIN IMMEDIATE"); }
  ~Txn() {
    if (m_open) sqlite3_exec(m_db.db, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    m_db.exec("COMMIT");
    m_open = false;
  }

 private:
  Db& m_db;
  bool m_open = true;
};

struct Task {
  size_t point = 0;
  std::vector<size_t> models;  // the models this point still needs
};

}  // namespace

nlohmann::json to_json(const PairResult& r) {
  return {{"feasible", r.feasible},
          {"reason", r.reason},
          {"latency_ms", r.latency_ms},
          {"energy_uj", r.energy_uj},
          {"cycles", r.cycles},
          {"mac_array_utilization", r.mac_array_utilization},
          {"vector_unit_utilization", r.vector_unit_utilization},
          {"mac_efficiency", r.mac_efficiency},
          {"dram_read_bytes", r.dram_read_bytes},
          {"dram_write_bytes", r.dram_write_bytes}};
}

PairResult pair_from_json(const nlohmann::json& j) {
  PairResult r;
  r.feasible = j.at("feasible").get<bool>();
  r.reason = j.at("reason").get<std::string>();
  r.latency_ms = j.at("latency_ms").get<double>();
  r.energy_uj = j.at("energy_uj").get<double>();
  r.cycles = j.at("cycles").get<int64_t>();
  r.mac_array_utilization = j.at("mac_array_utilization").get<double>();
  r.vector_unit_utilization = j.at("vector_unit_utilization").get<double>();
  r.mac_efficiency = j.at("mac_efficiency").get<double>();
  r.dram_read_bytes = j.at("dram_read_bytes").get<int64_t>();
  r.dram_write_bytes = j.at("dram_write_bytes").get<int64_t>();
  return r;
}

PairResult simulate_pair(const ChipParams& chip, const ir::Graph& graph) {
  PairResult r;
  Program program;
  try {
    program = lower(graph, chip);
  } catch (const InputError& e) {
    r.reason = one_line(e);
    return r;
  } catch (const Error& e) {
    r.reason = e.what();
    return r;
  }
  const RunResult run = Simulator::instance().run(program, chip);
  r.feasible = true;
  r.latency_ms = run.latency_ms;
  r.energy_uj = run.energy_uj;
  r.cycles = static_cast<int64_t>(run.total_cycles);
  for (const auto& u : run.units) {
    if (u.name == "mac_array") r.mac_array_utilization = u.utilization;
    if (u.name == "vector_unit") r.vector_unit_utilization = u.utilization;
  }
  if (run.total_cycles > 0 && chip.num_pes() > 0) {
    r.mac_efficiency = static_cast<double>(run.macs) / (static_cast<double>(run.total_cycles) *
                                                        static_cast<double>(chip.num_pes()));
  }
  r.dram_read_bytes = run.dram_read_bytes;
  r.dram_write_bytes = run.dram_write_bytes;
  return r;
}

std::vector<SweepModel> load_sweep_models(const SweepConfig& config) {
  std::vector<SweepModel> out;
  DiagnosticSink sink;
  for (size_t i = 0; i < config.models.size(); ++i) {
    const ModelRef& ref = config.models[i];
    try {
      Model m = load_model(ref.arg);
      out.push_back({ref.arg, m.name, m.hash, std::move(m.graph)});
    } catch (const InputError& e) {
      sink.add(ref.loc, fmt::format("models[{}]", i), ref.arg, "the model does not load:");
      for (const auto& d : e.diagnostics()) sink.add(d);
    }
  }
  sink.throw_if_any();
  return out;
}

std::string sweep_fingerprint(const std::string& sweep_hash, const Expansion& expansion,
                              const std::vector<SweepModel>& models) {
  Fnv1a64 h;
  h.update(sweep_hash);
  for (const auto& p : expansion.points) {
    h.update("\npoint ");
    h.update(p.id);
    h.update(p.feasible ? " ok" : " infeasible");
  }
  for (const auto& m : models) {
    h.update("\nmodel ");
    h.update(m.hash);
  }
  return hex64(h.value());
}

SweepRun run_sweep(const SweepConfig& config, const RunOptions& o, const RunHooks& hooks) {
  if (o.jobs < 1) throw InputError("-j must be >= 1");
  if (o.jobs > 1 && hooks.evaluate)
    throw InputError("-j N forks workers of this process; with --mpi the MPI ranks do the work");
  if (o.shard_count < 1 || o.shard_index < 0 || o.shard_index >= o.shard_count)
    throw InputError("--shard i/n needs 0 <= i < n");
  const auto t0 = Clock::now();
  SweepRun run;
  run.sweep_hash = config.hash;
  run.expansion = expand_points(config);
  run.models = load_sweep_models(config);
  const auto& points = run.expansion.points;
  const size_t n_models = run.models.size();
  run.results.assign(points.size(), std::vector<std::optional<PairResult>>(n_models));

  SweepStore store(o.db);
  if (o.only_points.empty()) {  // a sample is a cache lookup, not a run of the sweep
    Stmt s(
        store,
        "SELECT count(*) FROM runs WHERE sweep_hash = ? AND shard_index = ? AND shard_count = ?");
    s.bind(1, config.hash).bind(2, int64_t{o.shard_index}).bind(3, int64_t{o.shard_count});
    const bool exists = s.step() && s.i64(0) > 0;
    if (exists && !o.resume)
      throw InputError(fmt::format(
          "{}: already holds sweep '{}' (config {}, shard {}/{}): pass --resume to continue it, "
          "or use another --db",
          o.db, config.name, config.hash, o.shard_index, o.shard_count));
    Stmt r(store, "INSERT OR IGNORE INTO runs VALUES (?, ?, ?, ?, ?)");
    r.bind(1, config.hash)
        .bind(2, int64_t{o.shard_index})
        .bind(3, int64_t{o.shard_count})
        .bind(4, config.name)
        .bind(5, config.file)
        .run();
  }

  // What this process owns, and what of it the store already holds.
  std::vector<Task> tasks;
  RunProgress progress;
  for (const auto& p : points) {
    if (static_cast<int>(p.index % static_cast<size_t>(o.shard_count)) != o.shard_index) continue;
    if (!o.only_points.empty() &&
        !std::binary_search(o.only_points.begin(), o.only_points.end(), p.index))
      continue;
    run.share.push_back(p.index);
    if (!p.feasible) continue;
    Task t{p.index, {}};
    for (size_t m = 0; m < n_models; ++m) {
      ++progress.total;
      run.results[p.index][m] = store.result(p.id, run.models[m].hash, o.simulator_id);
      if (run.results[p.index][m]) {
        ++run.reused;
        ++progress.done;
      } else {
        t.models.push_back(m);
      }
    }
    if (!t.models.empty()) tasks.push_back(std::move(t));
  }

  std::unique_ptr<Txn> txn;
  auto txn_start = Clock::now();
  auto commit = [&] {
    if (txn) txn->commit();
    txn.reset();
  };
  auto last_report = Clock::now();
  auto report = [&](bool force) {
    progress.seconds = since(t0);
    if (hooks.progress && (force || since(last_report) >= 0.25)) {
      last_report = Clock::now();
      hooks.progress(progress);
    }
  };
  auto record = [&](size_t point, size_t model, PairResult r) {
    if (!txn) {
      txn = std::make_unique<Txn>(store);
      txn_start = Clock::now();
    }
    const Point& p = points[point];
    store.put_chip(p.id, dump_chip(*p.chip));
    store.put(p.id, run.models[model].hash, o.simulator_id, run.models[model].arg, r);
    run.results[point][model] = std::move(r);
    ++run.simulated;
    ++progress.done;
    ++progress.session;
    if (since(txn_start) >= kCommitSeconds) commit();
  };
  auto stop = [&] { return hooks.stop_requested && hooks.stop_requested(); };
  report(true);

  // One process's share of the tasks: every step-th from `first`. `emit` returns false to stop.
  // A lowering refusal is caught after this process may have run SystemC (as hw/traces does for
  // infeasible samples); in sanitizer builds that exception can upset AddressSanitizer's stack
  // bookkeeping (google/sanitizers#189). Lowering every pair first would avoid it, but lowering is
  // most of a pair's time (`nax bench sim`: 25 ms of 27 for mobilenet_v2), so it would nearly
  // double a sweep, and keeping the programs costs megabytes per pair.
  auto process = [&](size_t first, size_t step, const auto& emit) {
    for (size_t k = first; k < tasks.size(); k += step) {
      for (size_t m : tasks[k].models) {
        const size_t p = tasks[k].point;
        if (!emit(p, m, simulate_pair(*points[p].chip, run.models[m].graph))) return;
      }
    }
  };
  if (hooks.evaluate) {
    std::vector<PairTask> todo;
    std::vector<std::vector<char>> asked(points.size(), std::vector<char>(n_models, 0));
    for (const auto& t : tasks) {
      for (size_t m : t.models) {
        todo.push_back({t.point, m});
        asked[t.point][m] = 1;
      }
    }
    try {
      hooks.evaluate(
          run, todo,
          [&](size_t p, size_t m, PairResult r) {
            if (p >= points.size() || m >= n_models || !asked[p][m] || run.results[p][m])
              throw Error(
                  fmt::format("sweep evaluator: a result for point {} model {} that was not asked "
                              "for or came twice",
                              p, m));
            record(p, m, std::move(r));
            report(false);
          },
          stop);
    } catch (...) {
      commit();
      throw;
    }
  } else if (o.jobs == 1 || tasks.size() <= 1) {
    process(0, 1, [&](size_t p, size_t m, PairResult r) {
      record(p, m, std::move(r));
      report(false);
      return !stop();
    });
  } else {
    const int jobs = static_cast<int>(std::min<size_t>(static_cast<size_t>(o.jobs), tasks.size()));
    ForkPool pool(jobs, [&](int w, const ForkPool::Send& send) {
      process(static_cast<size_t>(w), static_cast<size_t>(jobs),
              [&](size_t p, size_t m, const PairResult& r) {
                return send({{"point", p}, {"model", m}, {"result", to_json(r)}});
              });
    });
    int64_t expected = 0;
    for (const auto& t : tasks) expected += static_cast<int64_t>(t.models.size());
    int64_t received = 0;
    while (received < expected && !stop()) {
      for (const auto& [worker, m] : pool.poll(250)) {
        if (m.contains("error")) {
          commit();
          throw Error(
              fmt::format("sweep worker {} failed: {}", worker, m.at("error").get<std::string>()));
        }
        record(m.at("point").get<size_t>(), m.at("model").get<size_t>(),
               pair_from_json(m.at("result")));
        ++received;
      }
      if (received < expected && !pool.any_open()) {
        commit();
        throw Error(fmt::format(
            "sweep workers exited with {} of {} results; what is committed stays (--resume "
            "continues)",
            received, expected));
      }
      report(false);
    }
  }
  commit();
  run.interrupted = progress.done < progress.total;
  run.seconds = since(t0);
  report(true);
  return run;
}

int64_t merge_stores(const std::string& out, const std::vector<std::string>& inputs) {
  namespace fs = std::filesystem;
  if (out.empty()) throw InputError("merge: the output store needs a path");
  for (const auto& in : inputs) {
    if (!fs::is_regular_file(in)) throw InputError(in + ": no such sweep store");
    std::error_code ec;
    if (fs::exists(out) && fs::equivalent(in, out, ec))
      throw InputError(in + ": is the output store; merge other stores into it");
    SweepStore check(in);  // the format check
  }
  SweepStore store(out);
  int64_t added = 0;
  for (const auto& in : inputs) {
    {
      Stmt a(store, "ATTACH DATABASE ? AS src");
      a.bind(1, in).run();
    }
    try {
      Txn txn(store);
      const int before = sqlite3_total_changes(store.db);
      store.exec("INSERT OR IGNORE INTO results SELECT * FROM src.results");
      added += sqlite3_total_changes(store.db) - before;
      store.exec("INSERT OR IGNORE INTO chips SELECT * FROM src.chips");
      store.exec("INSERT OR IGNORE INTO runs SELECT * FROM src.runs");
      txn.commit();
    } catch (...) {
      sqlite3_exec(store.db, "DETACH DATABASE src", nullptr, nullptr, nullptr);
      throw;
    }
    store.exec("DETACH DATABASE src");
  }
  return added;
}

}  // namespace nax::hw::sweep
