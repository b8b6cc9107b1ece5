// The trace store: schema, keys, insert and deduplication rules, run bookkeeping, merges and the
// errors for files that are not (current) trace stores.
#include <sqlite3.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>

#include "models/common/error.hpp"
#include "models/estimate/trace_store.hpp"

using namespace nax;
using namespace nax::est;

namespace {

// A fresh path in the working directory, removed (with its WAL files) on destruction.
struct TempDb {
  std::string path;
  explicit TempDb(const std::string& tag)
      : path("nax_ut_store_" + tag + "_" + std::to_string(::getpid()) + ".db") {
    remove_all();
  }
  ~TempDb() { remove_all(); }
  void remove_all() const {
    for (const char* ext : {"", "-wal", "-shm"}) std::remove((path + ext).c_str());
  }
};

UnitRow unit(const std::string& hash, bool in, bool out, const std::string& net, uint64_t cycles) {
  UnitRow u;
  u.chip_hash = "chipA";
  u.key = {hash, in, out};
  u.unit_type = "ibn";
  u.unit_json = "{\"type\":\"ibn\",\"net\":\"" + net + "\"}";
  u.network_hash = net;
  u.cycles = cycles;
  u.dram_read_bytes = 100;
  u.dram_write_bytes = 50;
  u.energy_uj = 1.25;
  return u;
}

NetworkRow network(const std::string& hash, const std::string& source, std::vector<UnitKey> keys) {
  NetworkRow n;
  n.chip_hash = "chipA";
  n.network_hash = hash;
  n.source = source;
  n.spec_yaml = "name: x\n";
  n.total_cycles = 1000;
  n.energy_uj = 3.5;
  n.units = std::move(keys);
  return n;
}

void exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}

}  // namespace

TEST_CASE("unit keys print and parse", "[trace_store]") {
  const UnitKey k{"3f2a9c0d11e4b7a8", true, false};
  CHECK(k.str() == "3f2a9c0d11e4b7a8:10");
  CHECK(UnitKey::parse("3f2a9c0d11e4b7a8:10") == k);
  CHECK(UnitKey::parse("ab:01").output_on_chip);
  for (const char* bad : {"", "abc", "abc:2", "abc:1", ":11", "abc:111", "abc:1x"}) {
    INFO(bad);
    CHECK_THROWS_AS(UnitKey::parse(bad), InputError);
  }
  CHECK(UnitKey{"a", false, true} < UnitKey{"a", true, false});
}

TEST_CASE("a new store has the current schema and reopens read-only", "[trace_store]") {
  TempDb t("new");
  {
    TraceStore s(t.path, TraceStore::Mode::kReadWrite);
    CHECK(s.schema_version() == kTraceSchemaVersion);
    CHECK(s.count_units() == 0);
    CHECK(s.chips().empty());
  }
  TraceStore r(t.path, TraceStore::Mode::kReadOnly);
  CHECK(r.schema_version() == kTraceSchemaVersion);
  CHECK_THROWS_AS(TraceStore::Batch(r), Error);
}

TEST_CASE("units are one row per (chip, unit hash, context), the smallest network hash winning",
          "[trace_store]") {
  TempDb t("dedup");
  TraceStore s(t.path, TraceStore::Mode::kReadWrite);
  {
    TraceStore::Batch b(s);
    b.add_chip({"chipA", "default", "name: default\n"});
    b.add_chip({"chipA", "other name", "ignored"});
    CHECK(b.add_unit(unit("u1", true, true, "net5", 10)));
    CHECK(b.add_unit(unit("u1", false, true, "net5", 11)));       // another context: another row
    CHECK_FALSE(b.add_unit(unit("u1", true, true, "net9", 99)));  // larger network hash: kept
    CHECK_FALSE(b.add_unit(unit("u1", true, true, "net2", 12)));  // smaller: replaces the labels
    CHECK(b.add_network(network("net2", "sample seed=1 index=7", {{"u1", true, true}})));
    CHECK_FALSE(b.add_network(network("net2", "sample seed=1 index=3", {})));  // smaller source
    CHECK_FALSE(b.add_network(network("net2", "sample seed=1 index=9", {})));
    b.commit();
  }
  CHECK(s.count_units() == 2);
  CHECK(s.count_units("chipA") == 2);
  CHECK(s.count_units("chipB") == 0);
  const auto u = s.unit("chipA", {"u1", true, true});
  REQUIRE(u);
  CHECK(u->cycles == 12);
  CHECK(u->network_hash == "net2");
  CHECK(u->unit_json.find("net2") != std::string::npos);
  CHECK(u->dram_read_bytes == 100);
  CHECK(u->energy_uj == 1.25);
  CHECK_FALSE(s.unit("chipA", {"u1", true, false}));
  const auto nets = s.networks();
  REQUIRE(nets.size() == 1);
  CHECK(nets[0].source == "sample seed=1 index=3");
  CHECK(nets[0].units.empty());
  REQUIRE(s.chips().size() == 1);
  CHECK(s.chips()[0].name == "default");
  CHECK(s.chip("chipA")->yaml == "name: default\n");
  CHECK_FALSE(s.chip("nope"));
  // Rows come ordered by key; the visitor can stop early.
  const auto rows = s.units();
  REQUIRE(rows.size() == 2);
  CHECK_FALSE(rows[0].key.input_on_chip);
  int visited = 0;
  s.for_each_unit([&](const UnitRow&) { return ++visited < 1; });
  CHECK(visited == 1);
}

TEST_CASE("a batch that is not committed leaves nothing", "[trace_store]") {
  TempDb t("rollback");
  TraceStore s(t.path, TraceStore::Mode::kReadWrite);
  {
    TraceStore::Batch b(s);
    b.add_unit(unit("u1", true, true, "n", 1));
  }
  CHECK(s.count_units() == 0);
  {
    TraceStore::Batch b(s);
    b.add_unit(unit("u1", true, true, "n", 1));
    b.rollback();
  }
  CHECK(s.count_units() == 0);
}

TEST_CASE("network unit lists keep their order and repeats", "[trace_store]") {
  TempDb t("netorder");
  TraceStore s(t.path, TraceStore::Mode::kReadWrite);
  const std::vector<UnitKey> keys = {{"b", true, false}, {"a", false, false}, {"b", true, false}};
  {
    TraceStore::Batch b(s);
    b.add_network(network("n1", "model mobilenet_v2", keys));
    b.commit();
  }
  const auto n = s.networks("chipA");
  REQUIRE(n.size() == 1);
  CHECK(n[0].units == keys);
  CHECK(n[0].total_cycles == 1000);
  CHECK(n[0].spec_yaml == "name: x\n");
}

TEST_CASE("run bookkeeping gives where a run continues", "[trace_store]") {
  TempDb t("runs");
  TraceStore s(t.path, TraceStore::Mode::kReadWrite);
  const RunKey run{"chipA", 7, 1, 3};  // indices 1, 4, 7, ...
  CHECK(s.progress(run).next_index == 1);
  CHECK(s.runs("chipA", 7).empty());
  s.set_run_targets(run, 500, 0);
  {
    TraceStore::Batch b(s);
    b.mark_done(run, 1, true, 12, "n1");
    b.mark_done(run, 4, false, 0, "", "does not fit");
    b.mark_done(run, 7, true, 30, "n7");
    b.commit();
  }
  const RunProgress p = s.progress(run);
  CHECK(p.indices_done == 3);
  CHECK(p.infeasible == 1);
  CHECK(p.new_units == 42);
  CHECK(p.next_index == 10);
  CHECK(p.target_count == 500);
  const auto runs = s.runs("chipA", 7);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].shard_index == 1);
  CHECK(runs[0].shard_count == 3);
  CHECK(s.runs("chipA", 8).empty());
  CHECK(s.runs("chipB", 7).empty());
}

TEST_CASE("merges are unions whatever the order", "[trace_store]") {
  TempDb a("ma"), b("mb"), ab("mab"), ba("mba");
  {
    TraceStore s(a.path, TraceStore::Mode::kReadWrite);
    TraceStore::Batch t(s);
    t.add_chip({"chipA", "default", "y"});
    t.add_unit(unit("u1", true, true, "net5", 10));
    t.add_unit(unit("u2", true, true, "net5", 20));
    t.add_network(network("net5", "sample seed=1 index=0", {{"u1", true, true}}));
    t.mark_done({"chipA", 1, 0, 2}, 0, true, 2, "net5");
    t.commit();
  }
  {
    TraceStore s(b.path, TraceStore::Mode::kReadWrite);
    TraceStore::Batch t(s);
    t.add_chip({"chipA", "default", "y"});
    t.add_unit(unit("u1", true, true, "net3", 11));
    t.add_unit(unit("u3", false, false, "net3", 30));
    t.add_network(network("net3", "sample seed=1 index=1", {{"u3", false, false}}));
    t.mark_done({"chipA", 1, 1, 2}, 1, true, 2, "net3");
    t.commit();
  }
  TraceStore s1(ab.path, TraceStore::Mode::kReadWrite);
  CHECK(s1.merge_from(a.path) == 2);
  CHECK(s1.merge_from(b.path) == 1);
  CHECK(s1.merge_from(b.path) == 0);  // again: nothing new
  TraceStore s2(ba.path, TraceStore::Mode::kReadWrite);
  s2.merge_from(b.path);
  s2.merge_from(a.path);
  const auto u1 = s1.units(), u2 = s2.units();
  REQUIRE(u1.size() == 3);
  REQUIRE(u2.size() == 3);
  for (size_t i = 0; i < u1.size(); ++i) {
    CHECK(u1[i].key == u2[i].key);
    CHECK(u1[i].network_hash == u2[i].network_hash);
    CHECK(u1[i].cycles == u2[i].cycles);
    CHECK(u1[i].unit_json == u2[i].unit_json);
  }
  CHECK(s1.unit("chipA", {"u1", true, true})->cycles == 11);  // from net3 < net5
  CHECK(s1.count_networks() == 2);
  CHECK(s1.chips().size() == 1);
  CHECK(s1.runs("chipA", 1).size() == 2);
  CHECK(s1.progress({"chipA", 1, 1, 2}).next_index == 3);
}

TEST_CASE("files that are not current trace stores are input errors naming the file",
          "[trace_store]") {
  TempDb t("errors");
  auto message = [](const std::string& path, TraceStore::Mode mode) {
    try {
      TraceStore s(path, mode);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  // Missing file, read-only.
  CHECK(message(t.path, TraceStore::Mode::kReadOnly).find("no such trace store") !=
        std::string::npos);
  // A directory.
  CHECK(message(".", TraceStore::Mode::kReadWrite).find("is a directory") != std::string::npos);
  // Not SQLite.
  { std::ofstream(t.path) << "chip_hash,unit_hash\nabc,def\n" << std::string(5000, 'x'); }
  for (auto mode : {TraceStore::Mode::kReadOnly, TraceStore::Mode::kReadWrite}) {
    const std::string m = message(t.path, mode);
    CHECK(m.find(t.path) != std::string::npos);
    CHECK(m.find("not an SQLite database") != std::string::npos);
  }
  t.remove_all();
  // SQLite, but another application's.
  exec(t.path, "CREATE TABLE people (name TEXT)");
  CHECK(message(t.path, TraceStore::Mode::kReadWrite).find("not a nax trace store") !=
        std::string::npos);
  t.remove_all();
  // A newer schema.
  { TraceStore s(t.path, TraceStore::Mode::kReadWrite); }
  exec(t.path, "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
  const std::string m = message(t.path, TraceStore::Mode::kReadOnly);
  CHECK(m.find("schema version 99 is newer") != std::string::npos);
  CHECK(m.find(t.path) != std::string::npos);
  // An empty SQLite file opened read-only.
  t.remove_all();
  exec(t.path, "PRAGMA user_version = 0");
  CHECK(message(t.path, TraceStore::Mode::kReadOnly).find("not a nax trace store") !=
        std::string::npos);
}
