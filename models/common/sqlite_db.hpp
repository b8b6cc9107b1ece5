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

}  // namespace nax::db
