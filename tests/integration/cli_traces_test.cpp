// `nax traces` end to end: a small run, -j 2 == -j 1, shards merged == the unsharded run, resume
// after kill -9 and after Ctrl-C without losing or duplicating rows, CSV export, --model, and
// bad inputs (exit 2 with a message naming the problem).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "hw/chip/chip.hpp"
#include "models/estimate/trace_store.hpp"
#include "models/estimate/unit_json.hpp"
#include "tests/integration/run_nax.hpp"

using nax::test::spawn;
using nax::test::wait_exit;

using nax::test::run_nax;
using nax::test::slurp;
using namespace nax;

namespace {

std::string db_path(const std::string& tag) {
  const std::string p = "nax_it_traces_" + tag + ".db";
  for (const char* ext : {"", "-wal", "-shm"}) std::remove((p + ext).c_str());
  return p;
}

void remove_db(const std::string& p) {
  for (const char* ext : {"", "-wal", "-shm"}) std::remove((p + ext).c_str());
}

// The content of a store that must not depend on how it was produced: every unit row and every
// network row (run bookkeeping aside), in key order.
std::vector<std::string> content(const std::string& path) {
  const est::TraceStore s(path, est::TraceStore::Mode::kReadOnly);
  std::vector<std::string> out;
  for (const auto& c : s.chips()) out.push_back("chip " + c.hash + " " + c.name + "\n" + c.yaml);
  s.for_each_unit([&](const est::UnitRow& u) {
    nlohmann::json j = {u.chip_hash,       u.key.str(),        u.unit_type,
                        u.unit_json,       u.network_hash,     u.cycles,
                        u.dram_read_bytes, u.dram_write_bytes, u.energy_uj};
    out.push_back("unit " + j.dump());
    return true;
  });
  s.for_each_network([&](const est::NetworkRow& n) {
    nlohmann::json keys = nlohmann::json::array();
    for (const auto& k : n.units) keys.push_back(k.str());
    nlohmann::json j = {n.chip_hash,    n.network_hash, n.source, n.spec_yaml,
                        n.total_cycles, n.energy_uj,    keys};
    out.push_back("network " + j.dump());
    return true;
  });
  return out;
}

int64_t units_in(const std::string& path) {
  try {
    const est::TraceStore s(path, est::TraceStore::Mode::kReadOnly);
    return s.count_units();
  } catch (const std::exception&) {
    return 0;  // not created yet
  }
}

// Waits until the store holds at least `rows` unit rows (or the process ended); true when the
// process is still running.
bool wait_rows(pid_t pid, const std::string& db, int64_t rows) {
  return nax::test::wait_until(pid, [&] { return units_in(db) >= rows; });
}

// RFC 4180 fields of a CSV text.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(field);
      field.clear();
    } else if (c == '\n') {
      rows.back().push_back(field);
      field.clear();
      rows.emplace_back();
    } else {
      field += c;
    }
    any = true;
  }
  if (!rows.back().empty() || !field.empty()) rows.back().push_back(field);
  if (rows.back().empty()) rows.pop_back();
  (void)any;
  return rows;
}

}  // namespace

TEST_CASE("nax traces labels sampled networks into a store", "[cli][traces]") {
  const std::string db = db_path("small");
  const auto r =
      run_nax("traces --count 150 --seed 3 --db " + db + " --json traces.json", "traces_small");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("new unit rows") != std::string::npos);
  const auto j = nlohmann::json::parse(slurp("traces.json"));
  std::remove("traces.json");
  CHECK(j.at("new_units").get<int64_t>() >= 150);
  CHECK(j.at("interrupted") == false);
  const hw::ChipParams chip = hw::load_chip("default");
  {
    const est::TraceStore s(db, est::TraceStore::Mode::kReadOnly);
    CHECK(s.count_units(chip.hash) == j.at("new_units").get<int64_t>());
    CHECK(s.count_networks(chip.hash) ==
          j.at("run_indices").get<int64_t>() - j.at("infeasible").get<int64_t>());
    // The chip's YAML resolves to the same chip.
    REQUIRE(s.chips().size() == 1);
    CHECK(hw::parse_chip(s.chips()[0].yaml, "store").hash == chip.hash);
    // Every unit row is a valid unit description; every network's units are rows.
    std::set<std::string> keys;
    s.for_each_unit([&](const est::UnitRow& u) {
      const est::Unit unit = est::unit_from_json(nlohmann::json::parse(u.unit_json));
      CHECK(unit.hash == u.key.unit_hash);
      // A concat whose inputs are written into its slices is a view: no data moves.
      CHECK((u.cycles > 0 || u.unit_type == "concat"));
      keys.insert(u.key.str());
      return true;
    });
    uint64_t unit_cycle_total = 0;
    s.for_each_network([&](const est::NetworkRow& n) {
      CHECK(n.source.rfind("sample seed=3 index=", 0) == 0);
      CHECK(!n.spec_yaml.empty());
      CHECK(n.total_cycles > 0);
      for (const auto& k : n.units) CHECK(keys.count(k.str()) == 1);
      unit_cycle_total += n.total_cycles;
      return true;
    });
    CHECK(unit_cycle_total > 0);
  }
  const auto info = run_nax("traces info --db " + db, "traces_info");
  CHECK(info.code == 0);
  CHECK(info.out.find("ibn") != std::string::npos);
  remove_db(db);
}

TEST_CASE("nax traces -j 2 writes the same store as -j 1", "[cli][traces]") {
  const std::string a = db_path("j1"), b = db_path("j2");
  REQUIRE(run_nax("traces --count 300 --seed 4 --db " + a + " -j 1", "traces_j1").code == 0);
  REQUIRE(run_nax("traces --count 300 --seed 4 --db " + b + " -j 2", "traces_j2").code == 0);
  const auto ca = content(a), cb = content(b);
  CHECK(ca.size() > 300);
  CHECK(ca == cb);
  remove_db(a);
  remove_db(b);
}

TEST_CASE("shards 0/2 and 1/2 merged equal the unsharded run", "[cli][traces]") {
  const std::string whole = db_path("whole"), s0 = db_path("s0"), s1 = db_path("s1"),
                    merged = db_path("merged");
  REQUIRE(run_nax("traces --networks 16 --seed 5 --db " + whole, "traces_whole").code == 0);
  REQUIRE(run_nax("traces --networks 16 --seed 5 --shard 0/2 --db " + s0, "traces_s0").code == 0);
  REQUIRE(run_nax("traces --networks 16 --seed 5 --shard 1/2 -j 2 --db " + s1, "traces_s1").code ==
          0);
  const auto m = run_nax("traces merge --db " + merged + " " + s0 + " " + s1, "traces_merge");
  INFO(m.err);
  REQUIRE(m.code == 0);
  const auto cw = content(whole), cm = content(merged);
  CHECK(cw.size() > 100);
  CHECK(cw == cm);
  {
    // The shards each did their half of the indices.
    const est::TraceStore s(s0, est::TraceStore::Mode::kReadOnly);
    const std::string chip = hw::load_chip("default").hash;
    CHECK(s.progress({chip, 5, 0, 2}).indices_done == 8);
    CHECK(s.progress({chip, 5, 0, 2}).next_index == 16);
  }
  for (const auto& p : {whole, s0, s1, merged}) remove_db(p);
}

TEST_CASE("a run killed with SIGKILL resumes to the same store as an uninterrupted run",
          "[cli][traces]") {
  const std::string ref = db_path("ref"), cut = db_path("cut");
  const std::string common = "--count 800 --seed 6 --batch-units 32 --progress none";
  REQUIRE(run_nax("traces " + common + " --db " + ref, "traces_ref").code == 0);
  const pid_t pid = spawn({"traces", "--count", "800", "--seed", "6", "--batch-units", "32",
                           "--progress", "none", "-j", "2", "--db", cut},
                          "traces_cut");
  const bool running = wait_rows(pid, cut, 100);
  ::kill(pid, SIGKILL);
  wait_exit(pid);
  REQUIRE(running);  // killed mid-run
  const int64_t rows = units_in(cut);
  CHECK(rows >= 100);
  CHECK(rows < 800);
  // Without --resume the store is not touched.
  const auto again = run_nax("traces " + common + " --db " + cut, "traces_again");
  CHECK(again.code == 2);
  CHECK(again.err.find("--resume") != std::string::npos);
  const auto res = run_nax("traces " + common + " --db " + cut + " --resume", "traces_resume");
  INFO(res.err);
  REQUIRE(res.code == 0);
  CHECK(content(cut) == content(ref));
  // Resuming a finished run adds nothing.
  REQUIRE(run_nax("traces " + common + " --db " + cut + " --resume", "traces_resume2").code == 0);
  CHECK(content(cut) == content(ref));
  remove_db(ref);
  remove_db(cut);
  for (const char* f : {"nax_it_traces_cut.out", "nax_it_traces_cut.err"}) std::remove(f);
}

TEST_CASE("Ctrl-C commits what is complete, says how to resume and exits 130", "[cli][traces]") {
  const std::string ref = db_path("ref_int"), cut = db_path("int");
  REQUIRE(
      run_nax("traces --count 800 --seed 8 --progress none --db " + ref, "traces_ref_int").code ==
      0);
  const pid_t pid = spawn({"traces", "--count", "800", "--seed", "8", "--batch-units", "16",
                           "--progress", "lines", "--db", cut},
                          "traces_int");
  const bool running = wait_rows(pid, cut, 50);
  ::kill(pid, SIGINT);
  const int code = wait_exit(pid);
  REQUIRE(running);
  CHECK(code == 130);
  const std::string err = slurp("nax_it_traces_int.err");
  CHECK(err.find("interrupted") != std::string::npos);
  CHECK(err.find("--resume") != std::string::npos);
  CHECK(units_in(cut) >= 50);
  const auto res = run_nax("traces --count 800 --seed 8 --progress none --db " + cut + " --resume",
                           "traces_int_resume");
  REQUIRE(res.code == 0);
  CHECK(content(cut) == content(ref));
  remove_db(ref);
  remove_db(cut);
  for (const char* f : {"nax_it_traces_int.out", "nax_it_traces_int.err"}) std::remove(f);
}

TEST_CASE("a worker that dies stops the run with an error and --resume completes it",
          "[cli][traces]") {
  const std::string db = db_path("worker");
  const pid_t pid = spawn({"traces", "--count", "800", "--seed", "10", "-j", "2", "--batch-units",
                           "16", "--progress", "none", "--db", db},
                          "traces_worker");
  const bool running = wait_rows(pid, db, 32);
  // The workers are the run's children.
  std::ifstream kids("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  pid_t worker = -1;
  kids >> worker;
  if (worker > 0) ::kill(worker, SIGKILL);
  const int code = wait_exit(pid);
  REQUIRE(running);
  REQUIRE(worker > 0);
  CHECK(code == 1);
  CHECK(slurp("nax_it_traces_worker.err").find("exited before labelling") != std::string::npos);
  const auto res =
      run_nax("traces --count 800 --seed 10 --progress none --db " + db + " --resume", "traces_w2");
  REQUIRE(res.code == 0);
  CHECK(units_in(db) >= 800);
  remove_db(db);
  for (const char* f : {"nax_it_traces_worker.out", "nax_it_traces_worker.err"}) std::remove(f);
}

TEST_CASE("nax traces export writes one CSV row per unit or network", "[cli][traces]") {
  const std::string db = db_path("export");
  REQUIRE(run_nax("traces --networks 6 --seed 9 --db " + db, "traces_export_gen").code == 0);
  const auto r = run_nax("traces export --db " + db + " --csv units.csv", "traces_export");
  REQUIRE(r.code == 0);
  const auto rows = parse_csv(slurp("units.csv"));
  std::remove("units.csv");
  const est::TraceStore s(db, est::TraceStore::Mode::kReadOnly);
  REQUIRE(static_cast<int64_t>(rows.size()) == s.count_units() + 1);
  const auto& h = rows[0];
  REQUIRE(h.size() == 21);
  CHECK(h[0] == "chip_hash");
  CHECK(h[4] == "unit_type");
  CHECK(h[16] == "cycles");
  for (size_t i = 1; i < rows.size(); ++i) {
    REQUIRE(rows[i].size() == h.size());
    CHECK((std::stoll(rows[i][16]) > 0 || rows[i][4] == "concat"));
    CHECK((rows[i][2] == "0" || rows[i][2] == "1"));
  }
  const auto rn = run_nax("traces export --networks --db " + db + " --csv -", "traces_export_n");
  REQUIRE(rn.code == 0);
  const auto nrows = parse_csv(rn.out);
  REQUIRE(static_cast<int64_t>(nrows.size()) == s.count_networks() + 1);
  for (size_t i = 1; i < nrows.size(); ++i) {
    REQUIRE(nrows[i].size() == 7);
    const auto keys = nlohmann::json::parse(nrows[i][6]);  // quoted JSON with commas and quotes
    CHECK(static_cast<int64_t>(keys.size()) == std::stoll(nrows[i][5]));
  }
  remove_db(db);
}

TEST_CASE("nax traces --model labels every unit of whole networks", "[cli][traces]") {
  const std::string db = db_path("model");
  const auto r = run_nax(
      "traces --db " + db + " --model mobilenet_v2:width=0.35,resolution=96 --model resnet18",
      "traces_model");
  INFO(r.err);
  REQUIRE(r.code == 0);
  const est::TraceStore s(db, est::TraceStore::Mode::kReadOnly);
  const auto nets = s.networks();
  REQUIRE(nets.size() == 2);
  std::set<std::string> sources;
  for (const auto& n : nets) {
    sources.insert(n.source);
    CHECK(!n.spec_yaml.empty());
    for (const auto& k : n.units) CHECK(s.unit(n.chip_hash, k).has_value());
  }
  CHECK(sources.count("model mobilenet_v2:width=0.35,resolution=96") == 1);
  CHECK(sources.count("model resnet18") == 1);
  // Labelling again adds nothing.
  REQUIRE(run_nax("traces --db " + db + " --model resnet18", "traces_model2").code == 0);
  CHECK(s.count_networks() == 2);
  remove_db(db);
}

TEST_CASE("nax traces rejects bad input with exit code 2 and a message", "[cli][traces]") {
  const std::string db = db_path("bad");
  const std::string tiny = db_path("bad_tiny"), out = db_path("bad_out");
  { std::ofstream("nax_it_traces_notdb.txt") << "unit_hash,cycles\n" << std::string(4096, 'x'); }
  REQUIRE(run_nax("traces --networks 1 --seed 1 --db " + db, "traces_bad_gen").code == 0);
  REQUIRE(
      run_nax("traces --networks 1 --seed 1 --chip tiny --db " + tiny, "traces_bad_tiny").code ==
      0);
  struct Case {
    std::string args, message;
  };
  const std::vector<Case> cases = {
      {"traces --db x.db", "nothing to label"},
      {"traces --count 10", "--db"},
      {"traces --count 10 --db x.db --shard 2/2", "--shard"},
      {"traces --count 10 --db x.db --shard one/two", "--shard"},
      {"traces --count 10 --db x.db -j 0", "-j"},
      {"traces --count 10 --db nax_it_traces_notdb.txt", "not an SQLite database"},
      {"traces --count 10 --db .", "is a directory"},
      {"traces --count 10 --seed 2 --chip tiny --db " + db, "holds traces of chip 'default'"},
      {"traces --networks 2 --seed 1 --db " + db, "pass --resume"},
      {"traces --networks 2 --seed 1 --shard 0/2 --resume --db " + db, "shard"},
      {"traces --count 10 --db x.db --model no_such_model", "no_such_model"},
      {"traces export --db nax_it_missing.db --csv x.csv", "no such trace store"},
      {"traces export --db nax_it_traces_notdb.txt --csv x.csv", "not an SQLite database"},
      {"traces merge --db " + out + " " + db + " " + tiny, "merge stores of one chip"},
      {"traces merge --db " + db + " " + db, "is the output store"},
  };
  for (const auto& c : cases) {
    INFO(c.args);
    const auto r = run_nax(c.args, "traces_bad");
    CHECK(r.code == 2);
    INFO(r.err);
    CHECK(r.err.find(c.message) != std::string::npos);
  }
  std::remove("nax_it_traces_notdb.txt");
  remove_db("x.db");
  for (const auto& p : {db, tiny, out}) remove_db(p);
}
