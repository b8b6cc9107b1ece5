// SQLite plumbing shared by nax's stores (the trace store, the search store): an open database
// with a cache of prepared write statements, and a statement wrapper that throws nax::Error with
// the file and SQLite's message.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <string>

#include "models/common/error.hpp"

namespace nax::db {

struct Db {
  std::string path;
  sqlite3* db = nullptr;
  int version = 0;
  bool read_only = false;

  std::map<std::string, sqlite3_stmt*> cache;  // prepared write statements, reused

  ~Db() {
    for (auto& kv : cache) sqlite3_finalize(kv.second);
    if (db) sqlite3_close_v2(db);
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(path + ": " + what + ": " + (db ? sqlite3_errmsg(db) : "cannot open"));
  }

  // Opens (creating) a store of `format` at `file` ("" = in memory): WAL on files, busy timeout,
  // and a file that is not SQLite, or SQLite without {meta: format = `format`}, refused as an
  // InputError naming `what` ("a nax sweep store"); then `schema` (CREATE IF NOT EXISTS ...,
  // with a table meta(key, value)) and the format and schema version recorded.
  void open_store(const std::string& file, const std::string& format, const char* schema,
                  int schema_version, const std::string& what);

  void exec(const char* sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
      const std::string m = msg ? msg : "unknown error";
      sqlite3_free(msg);
      throw Error(path + ": " + m);
    }
  }
};

// A prepared statement. Cached ones (the write statements, never nested) are kept by the store
// and reset on destruction; the others are finalized.
class Stmt {
 public:
  Stmt(const Db& impl, const char* sql, bool cached = false) : m_impl(impl), m_cached(cached) {
    if (cached) {
      auto& cache = const_cast<Db&>(impl).cache;
      const auto it = cache.find(sql);
      if (it != cache.end()) {
        m_stmt = it->second;
        return;
      }
    }
    if (sqlite3_prepare_v2(impl.db, sql, -1, &m_stmt, nullptr) != SQLITE_OK) {
      impl.fail(std::string("cannot prepare `") + sql + "`");
    }
    if (cached) const_cast<Db&>(impl).cache[sql] = m_stmt;
  }
  ~Stmt() {
    if (m_cached) {
      sqlite3_reset(m_stmt);
      sqlite3_clear_bindings(m_stmt);
    } else {
      sqlite3_finalize(m_stmt);
    }
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, const std::string& s) {
    sqlite3_bind_text(m_stmt, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, int64_t v) {
    sqlite3_bind_int64(m_stmt, i, v);
    return *this;
  }
  Stmt& bind(int i, double v) {
    sqlite3_bind_double(m_stmt, i, v);
    return *this;
  }
  Stmt& bind_null(int i) {
    sqlite3_bind_null(m_stmt, i);
    return *this;
  }
  // True when a row is available.
  bool step() {
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    m_impl.fail("query failed");
  }
  void run() {
    step();
    sqlite3_reset(m_stmt);
  }
  std::string text(int c) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, c));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(m_stmt, c))) : std::string();
  }
  int64_t i64(int c) const { return sqlite3_column_int64(m_stmt, c); }
  double f64(int c) const { return sqlite3_column_double(m_stmt, c); }
  bool null(int c) const { return sqlite3_column_type(m_stmt, c) == SQLITE_NULL; }

 private:
  const Db& m_impl;
  bool m_cached = false;
  sqlite3_stmt* m_stmt = nullptr;
};

inline void Db::open_store(const std::string& file, const std::string& format, const char* schema,
                           int schema_version, const std::string& what) {
  path = file.empty() ? ":memory:" : file;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    const std::string msg = db ? sqlite3_errmsg(db) : "cannot open";
    throw InputError(path + ": cannot open: " + msg);
  }
  sqlite3_busy_timeout(db, 60000);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT)
    throw InputError(path + ": not an SQLite database (expected " + what + ")");
  if (!file.empty()) exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=NORMAL");
  bool has_tables = false;
  {
    Stmt s(*this, "SELECT count(*) FROM sqlite_master WHERE type = 'table'");
    has_tables = s.step() && s.i64(0) > 0;
  }
  if (has_tables) {
    bool ok = false;
    try {
      Stmt s(*this, "SELECT value FROM meta WHERE key = 'format'");
      ok = s.step() && s.text(0) == format;
    } catch (const Error&) {
      ok = false;
    }
    if (!ok) throw InputError(path + ": an SQLite database, but not " + what);
  }
  exec(schema);
  Stmt f(*this, "INSERT OR IGNORE INTO meta VALUES ('format', ?)");
  f.bind(1, format).run();
  Stmt v(*this, "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)");
  v.bind(1, std::to_string(schema_version)).run();
}

}  // namespace nax::db
