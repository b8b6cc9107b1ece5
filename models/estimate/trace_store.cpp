#include "models/estimate/trace_store.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "models/common/error.hpp"
#include "models/common/sqlite_db.hpp"

namespace nax::est {

// ---- UnitKey ----

std::string UnitKey::str() const {
  return unit_hash + ":" + (input_on_chip ? "1" : "0") + (output_on_chip ? "1" : "0");
}

UnitKey UnitKey::parse(const std::string& s) {
  const size_t c = s.rfind(':');
  if (c == std::string::npos || c == 0 || s.size() != c + 3 ||
      (s[c + 1] != '0' && s[c + 1] != '1') || (s[c + 2] != '0' && s[c + 2] != '1')) {
    throw InputError("malformed unit key '" + s + "': expected <unit_hash>:<0|1><0|1>");
  }
  UnitKey k;
  k.unit_hash = s.substr(0, c);
  k.input_on_chip = s[c + 1] == '1';
  k.output_on_chip = s[c + 2] == '1';
  return k;
}

bool UnitKey::operator<(const UnitKey& o) const {
  return std::tie(unit_hash, input_on_chip, output_on_chip) <
         std::tie(o.unit_hash, o.input_on_chip, o.output_on_chip);
}

namespace {

// The schema, version 1 (traces/README.md documents every column).
const char* kSchemaV1 = R"sql(
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE chips (
  hash TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  yaml TEXT NOT NULL
);
CREATE TABLE units (
  chip_hash TEXT NOT NULL,
  unit_hash TEXT NOT NULL,
  input_on_chip INTEGER NOT NULL,
  output_on_chip INTEGER NOT NULL,
  unit_type TEXT NOT NULL,
  unit_json TEXT NOT NULL,
  network_hash TEXT NOT NULL,
  cycles INTEGER NOT NULL,
  dram_read_bytes INTEGER NOT NULL,
  dram_write_bytes INTEGER NOT NULL,
  energy_uj REAL NOT NULL,
  PRIMARY KEY (chip_hash, unit_hash, input_on_chip, output_on_chip)
) WITHOUT ROWID;
CREATE TABLE networks (
  chip_hash TEXT NOT NULL,
  network_hash TEXT NOT NULL,
  source TEXT NOT NULL,
  spec_yaml TEXT NOT NULL,
  total_cycles INTEGER NOT NULL,
  energy_uj REAL NOT NULL,
  num_units INTEGER NOT NULL,
  unit_keys TEXT NOT NULL,
  PRIMARY KEY (chip_hash, network_hash)
) WITHOUT ROWID;
CREATE TABLE runs (
  chip_hash TEXT NOT NULL,
  seed INTEGER NOT NULL,
  shard_index INTEGER NOT NULL,
  shard_count INTEGER NOT NULL,
  target_count INTEGER NOT NULL,
  target_networks INTEGER NOT NULL,
  PRIMARY KEY (chip_hash, seed, shard_index, shard_count)
);
CREATE TABLE run_indices (
  chip_hash TEXT NOT NULL,
  seed INTEGER NOT NULL,
  shard_index INTEGER NOT NULL,
  shard_count INTEGER NOT NULL,
  sample_index INTEGER NOT NULL,
  feasible INTEGER NOT NULL,
  new_units INTEGER NOT NULL,
  network_hash TEXT NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY (chip_hash, seed, shard_index, shard_count, sample_index)
) WITHOUT ROWID;
)sql";

const char* kFormat = "nax-traces";

}  // namespace

// ---- SQLite plumbing ----

namespace {

using db::Db;
using db::Stmt;

std::string keys_json(const std::vector<UnitKey>& keys) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& k : keys) a.push_back(k.str());
  return a.dump();
}

std::vector<UnitKey> parse_keys(const std::string& path, const std::string& text) {
  std::vector<UnitKey> out;
  try {
    const auto a = nlohmann::json::parse(text);
    for (const auto& k : a) out.push_back(UnitKey::parse(k.get<std::string>()));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path + ": malformed unit key list in the networks table: " + e.what());
  }
  return out;
}

UnitRow unit_row(const Stmt& s) {
  UnitRow u;
  u.chip_hash = s.text(0);
  u.key.unit_hash = s.text(1);
  u.key.input_on_chip = s.i64(2) != 0;
  u.key.output_on_chip = s.i64(3) != 0;
  u.unit_type = s.text(4);
  u.unit_json = s.text(5);
  u.network_hash = s.text(6);
  u.cycles = static_cast<uint64_t>(s.i64(7));
  u.dram_read_bytes = s.i64(8);
  u.dram_write_bytes = s.i64(9);
  u.energy_uj = s.f64(10);
  return u;
}

const char* kUnitCols =
    "chip_hash, unit_hash, input_on_chip, output_on_chip, unit_type, unit_json, network_hash, "
    "cycles, dram_read_bytes, dram_write_bytes, energy_uj";
const char* kNetworkCols =
    "chip_hash, network_hash, source, spec_yaml, total_cycles, energy_uj, num_units, unit_keys";

NetworkRow network_row(const std::string& path, const Stmt& s) {
  NetworkRow n;
  n.chip_hash = s.text(0);
  n.network_hash = s.text(1);
  n.source = s.text(2);
  n.spec_yaml = s.text(3);
  n.total_cycles = static_cast<uint64_t>(s.i64(4));
  n.energy_uj = s.f64(5);
  n.units = parse_keys(path, s.text(7));
  return n;
}

int64_t seed_i64(uint64_t seed) {
  return static_cast<int64_t>(seed);
}

}  // namespace

struct TraceStore::Impl : Db {};

TraceStore::TraceStore(const std::string& path, Mode mode) : m_impl(std::make_unique<Impl>()) {
  Impl& d = *m_impl;
  d.path = path;
  d.read_only = mode == Mode::kReadOnly;
  struct stat st {};
  const bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) throw InputError(path + ": is a directory, not a trace store");
  if (!exists && d.read_only) throw InputError(path + ": no such trace store");
  const int flags =
      d.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (sqlite3_open_v2(path.c_str(), &d.db, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    const std::string msg = d.db ? sqlite3_errmsg(d.db) : "cannot open";
    throw InputError(path + ": cannot open: " + msg);
  }
  sqlite3_busy_timeout(d.db, 60000);
  // The first read tells an SQLite file from anything else.
  int64_t tables = 0;
  bool has_meta = false;
  {
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v2(d.db, "SELECT name FROM sqlite_master WHERE type = 'table'", -1, &s,
                                nullptr);
    if (rc == SQLITE_OK) {
      while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        ++tables;
        const auto* n = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
        if (n && std::string(n) == "meta") has_meta = true;
      }
    }
    sqlite3_finalize(s);
    if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT) {
      throw InputError(path + ": not an SQLite database (expected a nax trace store)");
    }
    if (rc != SQLITE_DONE) d.fail("cannot read the schema");
  }
  if (tables == 0) {
    if (d.read_only) throw InputError(path + ": empty SQLite database, not a nax trace store");
    d.exec("PRAGMA journal_mode=WAL");
    d.exec("BEGIN IMMEDIATE");
    // Another process may have created the schema meanwhile.
    Stmt again(d, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
    again.step();
    if (again.i64(0) == 0) {
      d.exec(kSchemaV1);
      Stmt m(d, "INSERT INTO meta (key, value) VALUES (?, ?)");
      m.bind(1, std::string("format")).bind(2, std::string(kFormat)).run();
      m.bind(1, std::string("schema_version")).bind(2, std::to_string(kTraceSchemaVersion)).run();
    }
    d.exec("COMMIT");
    has_meta = true;
  }
  if (!has_meta) {
    throw InputError(path + ": an SQLite database but not a nax trace store (no meta table)");
  }
  std::string format, version;
  {
    Stmt s(d, "SELECT key, value FROM meta WHERE key IN ('format', 'schema_version')");
    while (s.step()) (s.text(0) == "format" ? format : version) = s.text(1);
  }
  if (format != kFormat) {
    throw InputError(path + ": an SQLite database but not a nax trace store (meta.format is '" +
                     format + "', expected '" + kFormat + "')");
  }
  try {
    d.version = std::stoi(version);
  } catch (const std::exception&) {
    throw InputError(path + ": malformed schema_version '" + version + "' in the meta table");
  }
  if (d.version > kTraceSchemaVersion) {
    throw InputError(path + ": trace store schema version " + std::to_string(d.version) +
                     " is newer than this nax reads (" + std::to_string(kTraceSchemaVersion) +
                     "); use a newer nax");
  }
  if (d.version < 1) throw InputError(path + ": unknown schema_version " + version);
  if (!d.read_only) {
    d.exec("PRAGMA journal_mode=WAL");
    // WAL + NORMAL: a committed transaction survives a killed process (not a power loss).
    d.exec("PRAGMA synchronous=NORMAL");
  }
}

TraceStore::~TraceStore() = default;
TraceStore::TraceStore(TraceStore&&) noexcept = default;
TraceStore& TraceStore::operator=(TraceStore&&) noexcept = default;

const std::string& TraceStore::path() const {
  return m_impl->path;
}

int TraceStore::schema_version() const {
  return m_impl->version;
}

std::vector<ChipRow> TraceStore::chips() const {
  Stmt s(*m_impl, "SELECT hash, name, yaml FROM chips ORDER BY hash");
  std::vector<ChipRow> out;
  while (s.step()) out.push_back({s.text(0), s.text(1), s.text(2)});
  return out;
}

std::optional<ChipRow> TraceStore::chip(const std::string& hash) const {
  Stmt s(*m_impl, "SELECT hash, name, yaml FROM chips WHERE hash = ?");
  s.bind(1, hash);
  if (!s.step()) return std::nullopt;
  return ChipRow{s.text(0), s.text(1), s.text(2)};
}

int64_t TraceStore::count_units(const std::string& chip_hash) const {
  Stmt s(*m_impl, chip_hash.empty() ? "SELECT count(*) FROM units"
                                    : "SELECT count(*) FROM units WHERE chip_hash = ?");
  if (!chip_hash.empty()) s.bind(1, chip_hash);
  s.step();
  return s.i64(0);
}

int64_t TraceStore::count_networks(const std::string& chip_hash) const {
  Stmt s(*m_impl, chip_hash.empty() ? "SELECT count(*) FROM networks"
                                    : "SELECT count(*) FROM networks WHERE chip_hash = ?");
  if (!chip_hash.empty()) s.bind(1, chip_hash);
  s.step();
  return s.i64(0);
}

void TraceStore::for_each_unit(const std::function<bool(const UnitRow&)>& f,
                               const std::string& chip_hash) const {
  const std::string sql = std::string("SELECT ") + kUnitCols + " FROM units" +
                          (chip_hash.empty() ? "" : " WHERE chip_hash = ?") +
                          " ORDER BY chip_hash, unit_hash, input_on_chip, output_on_chip";
  Stmt s(*m_impl, sql.c_str());
  if (!chip_hash.empty()) s.bind(1, chip_hash);
  while (s.step()) {
    if (!f(unit_row(s))) break;
  }
}

std::vector<UnitRow> TraceStore::units(const std::string& chip_hash) const {
  std::vector<UnitRow> out;
  for_each_unit(
      [&](const UnitRow& u) {
        out.push_back(u);
        return true;
      },
      chip_hash);
  return out;
}

std::optional<UnitRow> TraceStore::unit(const std::string& chip_hash, const UnitKey& key) const {
  const std::string sql = std::string("SELECT ") + kUnitCols +
                          " FROM units WHERE chip_hash = ? AND unit_hash = ? AND input_on_chip = ? "
                          "AND output_on_chip = ?";
  Stmt s(*m_impl, sql.c_str());
  s.bind(1, chip_hash)
      .bind(2, key.unit_hash)
      .bind(3, int64_t{key.input_on_chip})
      .bind(4, int64_t{key.output_on_chip});
  if (!s.step()) return std::nullopt;
  return unit_row(s);
}

void TraceStore::for_each_network(const std::function<bool(const NetworkRow&)>& f,
                                  const std::string& chip_hash) const {
  const std::string sql = std::string("SELECT ") + kNetworkCols + " FROM networks" +
                          (chip_hash.empty() ? "" : " WHERE chip_hash = ?") +
                          " ORDER BY chip_hash, network_hash";
  Stmt s(*m_impl, sql.c_str());
  if (!chip_hash.empty()) s.bind(1, chip_hash);
  while (s.step()) {
    if (!f(network_row(m_impl->path, s))) break;
  }
}

std::vector<NetworkRow> TraceStore::networks(const std::string& chip_hash) const {
  std::vector<NetworkRow> out;
  for_each_network(
      [&](const NetworkRow& n) {
        out.push_back(n);
        return true;
      },
      chip_hash);
  return out;
}

std::vector<RunKey> TraceStore::runs(const std::string& chip_hash, uint64_t seed) const {
  Stmt s(*m_impl,
         "SELECT DISTINCT shard_index, shard_count FROM run_indices WHERE chip_hash = ? AND seed = "
         "? ORDER BY shard_count, shard_index");
  s.bind(1, chip_hash).bind(2, seed_i64(seed));
  std::vector<RunKey> out;
  while (s.step()) {
    out.push_back({chip_hash, seed, static_cast<int>(s.i64(0)), static_cast<int>(s.i64(1))});
  }
  return out;
}

RunProgress TraceStore::progress(const RunKey& run) const {
  RunProgress p;
  p.next_index = run.shard_index;
  {
    Stmt s(*m_impl,
           "SELECT sample_index, feasible, new_units FROM run_indices WHERE chip_hash = ? AND "
           "seed = ? AND shard_index = ? AND shard_count = ? ORDER BY sample_index");
    s.bind(1, run.chip_hash)
        .bind(2, seed_i64(run.seed))
        .bind(3, int64_t{run.shard_index})
        .bind(4, int64_t{run.shard_count});
    while (s.step()) {
      ++p.indices_done;
      if (s.i64(1) == 0) ++p.infeasible;
      p.new_units += s.i64(2);
      // Indices are committed in order, so the done ones are a prefix of the shard's sequence;
      // the first gap (if a store was edited by hand) is where work continues.
      if (s.i64(0) == p.next_index) p.next_index += run.shard_count;
    }
  }
  Stmt t(*m_impl,
         "SELECT target_count, target_networks FROM runs WHERE chip_hash = ? AND seed = ? AND "
         "shard_index = ? AND shard_count = ?");
  t.bind(1, run.chip_hash)
      .bind(2, seed_i64(run.seed))
      .bind(3, int64_t{run.shard_index})
      .bind(4, int64_t{run.shard_count});
  if (t.step()) {
    p.target_count = t.i64(0);
    p.target_networks = t.i64(1);
  }
  return p;
}

void TraceStore::set_run_targets(const RunKey& run, int64_t target_count, int64_t target_networks) {
  Batch b(*this);
  Stmt s(*m_impl,
         "INSERT INTO runs (chip_hash, seed, shard_index, shard_count, target_count, "
         "target_networks) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (chip_hash, seed, shard_index, "
         "shard_count) DO UPDATE SET target_count = max(target_count, excluded.target_count), "
         "target_networks = max(target_networks, excluded.target_networks)");
  s.bind(1, run.chip_hash)
      .bind(2, seed_i64(run.seed))
      .bind(3, int64_t{run.shard_index})
      .bind(4, int64_t{run.shard_count})
      .bind(5, target_count)
      .bind(6, target_networks)
      .run();
  b.commit();
}

// ---- Batch ----

TraceStore::Batch::Batch(TraceStore& store) : m_store(store) {
  if (store.m_impl->read_only) throw Error(store.path() + ": opened read-only");
  store.m_impl->exec("BEGIN IMMEDIATE");
  m_open = true;
}

TraceStore::Batch::~Batch() {
  if (m_open) sqlite3_exec(m_store.m_impl->db, "ROLLBACK", nullptr, nullptr, nullptr);
}

void TraceStore::Batch::commit() {
  if (!m_open) return;
  m_store.m_impl->exec("COMMIT");
  m_open = false;
}

void TraceStore::Batch::rollback() {
  if (!m_open) return;
  m_store.m_impl->exec("ROLLBACK");
  m_open = false;
}

void TraceStore::Batch::add_chip(const ChipRow& c) {
  Stmt s(*m_store.m_impl, "INSERT OR IGNORE INTO chips (hash, name, yaml) VALUES (?, ?, ?)", true);
  s.bind(1, c.hash).bind(2, c.name).bind(3, c.yaml).run();
}

namespace {

// The insert and the keep-the-smallest-network update of a unit (network) row number their
// parameters alike: these bind a row's key and columns to ?1-?11 (?1-?8).
Stmt& bind_unit(Stmt& s, const UnitRow& u) {
  return s.bind(1, u.chip_hash)
      .bind(2, u.key.unit_hash)
      .bind(3, int64_t{u.key.input_on_chip})
      .bind(4, int64_t{u.key.output_on_chip})
      .bind(5, u.unit_type)
      .bind(6, u.unit_json)
      .bind(7, u.network_hash)
      .bind(8, static_cast<int64_t>(u.cycles))
      .bind(9, u.dram_read_bytes)
      .bind(10, u.dram_write_bytes)
      .bind(11, u.energy_uj);
}

Stmt& bind_network(Stmt& s, const NetworkRow& n, const std::string& keys) {
  return s.bind(1, n.chip_hash)
      .bind(2, n.network_hash)
      .bind(3, n.source)
      .bind(4, n.spec_yaml)
      .bind(5, static_cast<int64_t>(n.total_cycles))
      .bind(6, n.energy_uj)
      .bind(7, static_cast<int64_t>(n.units.size()))
      .bind(8, keys);
}

}  // namespace

bool TraceStore::Batch::add_unit(const UnitRow& u) {
  const Impl& d = *m_store.m_impl;
  Stmt ins(d,
           "INSERT OR IGNORE INTO units (chip_hash, unit_hash, input_on_chip, output_on_chip, "
           "unit_type, unit_json, network_hash, cycles, dram_read_bytes, dram_write_bytes, "
           "energy_uj) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
           true);
  bind_unit(ins, u).run();
  if (sqlite3_changes(d.db) > 0) return true;
  Stmt up(d,
          "UPDATE units SET unit_type = ?5, unit_json = ?6, network_hash = ?7, cycles = ?8, "
          "dram_read_bytes = ?9, dram_write_bytes = ?10, energy_uj = ?11 WHERE chip_hash = ?1 AND "
          "unit_hash = ?2 AND input_on_chip = ?3 AND output_on_chip = ?4 AND network_hash > ?7",
          true);
  bind_unit(up, u).run();
  return false;
}

bool TraceStore::Batch::add_network(const NetworkRow& n) {
  const Impl& d = *m_store.m_impl;
  const std::string keys = keys_json(n.units);
  Stmt ins(d,
           "INSERT OR IGNORE INTO networks (chip_hash, network_hash, source, spec_yaml, "
           "total_cycles, energy_uj, num_units, unit_keys) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
           true);
  bind_network(ins, n, keys).run();
  if (sqlite3_changes(d.db) > 0) return true;
  Stmt up(d,
          "UPDATE networks SET source = ?3, spec_yaml = ?4, total_cycles = ?5, energy_uj = ?6, "
          "num_units = ?7, unit_keys = ?8 WHERE chip_hash = ?1 AND network_hash = ?2 AND "
          "source > ?3",
          true);
  bind_network(up, n, keys).run();
  return false;
}

void TraceStore::Batch::mark_done(const RunKey& run, int64_t index, bool feasible,
                                  int64_t new_units, const std::string& network_hash,
                                  const std::string& reason) {
  Stmt s(*m_store.m_impl,
         "INSERT OR REPLACE INTO run_indices (chip_hash, seed, shard_index, shard_count, "
         "sample_index, feasible, new_units, network_hash, reason) VALUES (?, ?, ?, ?, ?, ?, ?, "
         "?, ?)",
         true);
  s.bind(1, run.chip_hash)
      .bind(2, seed_i64(run.seed))
      .bind(3, int64_t{run.shard_index})
      .bind(4, int64_t{run.shard_count})
      .bind(5, index)
      .bind(6, int64_t{feasible})
      .bind(7, new_units)
      .bind(8, network_hash)
      .bind(9, reason)
      .run();
}

// ---- merge ----

int64_t TraceStore::merge_from(const std::string& other_path) {
  const TraceStore other(other_path, Mode::kReadOnly);
  int64_t added = 0;
  Batch b(*this);
  for (const auto& c : other.chips()) b.add_chip(c);
  other.for_each_unit([&](const UnitRow& u) {
    added += b.add_unit(u) ? 1 : 0;
    return true;
  });
  other.for_each_network([&](const NetworkRow& n) {
    b.add_network(n);
    return true;
  });
  {
    Stmt s(*other.m_impl,
           "SELECT chip_hash, seed, shard_index, shard_count, sample_index, feasible, new_units, "
           "network_hash, reason FROM run_indices");
    while (s.step()) {
      const RunKey run{s.text(0), static_cast<uint64_t>(s.i64(1)), static_cast<int>(s.i64(2)),
                       static_cast<int>(s.i64(3))};
      b.mark_done(run, s.i64(4), s.i64(5) != 0, s.i64(6), s.text(7), s.text(8));
    }
  }
  {
    Stmt s(*other.m_impl,
           "SELECT chip_hash, seed, shard_index, shard_count, target_count, target_networks FROM "
           "runs");
    Stmt ins(*m_impl,
             "INSERT INTO runs (chip_hash, seed, shard_index, shard_count, target_count, "
             "target_networks) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (chip_hash, seed, "
             "shard_index, shard_count) DO UPDATE SET target_count = max(target_count, "
             "excluded.target_count), target_networks = max(target_networks, "
             "excluded.target_networks)");
    while (s.step()) {
      ins.bind(1, s.text(0))
          .bind(2, s.i64(1))
          .bind(3, s.i64(2))
          .bind(4, s.i64(3))
          .bind(5, s.i64(4))
          .bind(6, s.i64(5))
          .run();
    }
  }
  b.commit();
  return added;
}

}  // namespace nax::est
