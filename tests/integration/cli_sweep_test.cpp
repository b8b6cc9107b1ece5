// `nax sweep` end to end on a 2 x 2 sweep of one small model: -j 2 and shards give the
// single-process numbers, a finished sweep is refused without --resume and simulates nothing with
// it, an infeasible chip is recorded with its reason, and a bad description exits 2 at its line.
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/run_nax.hpp"

using nax::test::run_nax;
using nax::test::slurp;
namespace fs = std::filesystem;

namespace {

std::string tmp(const std::string& name) {
  return nax::test::tmp_path("sweep", name);
}

// 2 x 2 points: rows 8 / 64 x SRAM 2 KiB / 512 KiB (cols 32). 64x32 cannot hold a minimal tile in
// 2 KiB (an infeasible chip); 8x32 with 2 KiB is valid but too small for the model's stem (an
// infeasible pair); the 512 KiB chips run.
const char* kSweep =
    "name: it\n"
    "base: default\n"
    "axes:\n"
    "  - key: mac_array.rows\n"
    "    values: [8, 64]\n"
    "  - key: sram.capacity_kib\n"
    "    values: [2, 512]\n"
    "models: ['mobilenet_v2:width=0.35,resolution=96']\n";

std::string write_config(const std::string& name, const std::string& text) {
  const std::string path = tmp(name);
  std::ofstream(path) << text;
  return path;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

nlohmann::json parse(const std::string& s) {
  INFO(s);
  return nlohmann::json::parse(s);
}

}  // namespace

TEST_CASE("nax sweep: -j 2 equals -j 1, the outputs, infeasible chips and pairs", "[integration]") {
  const std::string cfg = write_config("a.yaml", kSweep);
  const std::string one = tmp("one"), two = tmp("two");
  fs::remove_all(one);
  fs::remove_all(two);
  const auto r1 = run_nax("sweep --config " + cfg + " -j 1 --out " + one, "sw1");
  INFO(r1.err);
  REQUIRE(r1.code == 0);
  CHECK(r1.out.find("sweep 'it': 4 points (1 infeasible chip, 0 filtered out) x 1 model; 3 "
                    "pairs (1 refused by the lowering)") != std::string::npos);
  CHECK(lines(slurp(one + "/pareto.csv")).size() > 1);
  CHECK(r1.out.find("latency-area front over all models") != std::string::npos);
  const auto r2 = run_nax("sweep --config " + cfg + " -j 2 --no-plots --out " + two + " -q", "sw2");
  INFO(r2.err);
  REQUIRE(r2.code == 0);
  CHECK(r2.out.empty());
  const std::string csv = slurp(one + "/points.csv");
  REQUIRE(lines(csv).size() == 5);  // header + 4 points x 1 model
  CHECK(csv == slurp(two + "/points.csv"));
  CHECK(slurp(one + "/pareto.csv") == slurp(two + "/pareto.csv"));

  const auto j = parse(slurp(two + "/sweep.json"));
  for (const char* k : {"points", "pareto", "sensitivity", "counts", "axes", "models"})
    REQUIRE(j.contains(k));
  REQUIRE(j["points"].size() == 4);
  CHECK(j["counts"]["simulated"] == 3);  // the infeasible chip is never simulated
  CHECK(j["counts"]["infeasible_points"] == 1);
  const auto& bad = j["points"][2];  // rows 64, 2 KiB
  CHECK(bad["overrides"]["mac_array.rows"] == 64);
  CHECK(bad["overrides"]["sram.capacity_kib"] == 2);
  REQUIRE(bad.contains("infeasible"));
  CHECK(bad["infeasible"].get<std::string>().find("SRAM too small") != std::string::npos);
  CHECK_FALSE(bad.contains("area_mm2"));
  const auto& refused = j["points"][0];  // rows 8, 2 KiB: the chip is valid, the model is not
  REQUIRE(refused.contains("infeasible"));
  CHECK(refused["infeasible"].get<std::string>().find("smallest tile") != std::string::npos);
  CHECK(refused["area_mm2"].get<double>() > 0);
  const auto& good = j["points"][3];  // rows 64, 512 KiB
  REQUIRE(good.contains("latency_ms"));
  CHECK(good["latency_ms"].get<double>() > 0);
  CHECK(good["energy_uj"].get<double>() > 0);
  CHECK(good["area_mm2"].get<double>() > j["points"][1]["area_mm2"].get<double>());
  CHECK(good["model"] == "mobilenet_v2:width=0.35,resolution=96");
  // Two chips run the model: the 8x32 is smaller, the 64x32 faster; both are on the
  // latency-area front.
  bool found = false;
  for (const auto& f : j["pareto"]) {
    if (f["front"] == "latency_area" && f["model"] == "all") {
      found = true;
      REQUIRE(f["points"].size() == 2);
      CHECK(f["points"][0]["point"] == 3);
      CHECK(f["points"][1]["point"] == 1);
    }
  }
  CHECK(found);
  // The simulation agrees with `nax sim` on the same chip.
  const auto sim = run_nax(
      "sim --model mobilenet_v2:width=0.35,resolution=96 -p mac_array.rows=64 -p "
      "sram.capacity_kib=512 --json -",
      "sw_sim");
  REQUIRE(sim.code == 0);
  CHECK(parse(sim.out)["latency_ms"] == good["latency_ms"]);
  CHECK(parse(sim.out)["energy_uj"] == good["energy_uj"]);
  fs::remove_all(one);
  fs::remove_all(two);
  fs::remove(cfg);
}

TEST_CASE("nax sweep: shards cover the single run, resume simulates nothing", "[integration]") {
  const std::string cfg = write_config("b.yaml", kSweep);
  const std::string all = tmp("all"), s0 = tmp("s0"), s1 = tmp("s1"), db = tmp("shared.db");
  for (const auto& d : {all, s0, s1}) fs::remove_all(d);
  fs::remove(db);
  REQUIRE(run_nax("sweep --config " + cfg + " -q --no-plots --out " + all, "sh").code == 0);
  const auto a = run_nax(
      "sweep --config " + cfg + " -q --shard 0/2 --db " + db + " --no-plots --out " + s0, "sh0");
  INFO(a.err);
  REQUIRE(a.code == 0);
  const auto b = run_nax(
      "sweep --config " + cfg + " -q --shard 1/2 --db " + db + " --no-plots --out " + s1, "sh1");
  INFO(b.err);
  REQUIRE(b.code == 0);
  // The two shards' rows are the single run's rows.
  const auto whole = lines(slurp(all + "/points.csv"));
  auto l0 = lines(slurp(s0 + "/points.csv")), l1 = lines(slurp(s1 + "/points.csv"));
  CHECK(l0.size() == 3);
  CHECK(l1.size() == 3);
  std::vector<std::string> merged(l0.begin() + 1, l0.end());
  merged.insert(merged.end(), l1.begin() + 1, l1.end());
  std::vector<std::string> want(whole.begin() + 1, whole.end());
  std::sort(merged.begin(), merged.end());
  std::sort(want.begin(), want.end());
  CHECK(merged == want);

  // The whole sweep on the shards' store: nothing simulated, the single run's table.
  const auto m = run_nax(
      "sweep --config " + cfg + " --db " + db + " --no-plots --out " + s0 + " --json -", "shm");
  INFO(m.err);
  REQUIRE(m.code == 0);
  CHECK(parse(m.out)["counts"]["simulated"] == 0);
  CHECK(parse(m.out)["counts"]["reused"] == 3);  // 3 valid chips x 1 model
  CHECK(slurp(s0 + "/points.csv") == slurp(all + "/points.csv"));

  // Shards with their own stores (other machines): merged, then the whole sweep is the single run.
  const std::string m0 = tmp("m0.db"), m1 = tmp("m1.db"), merged_db = tmp("merged.db");
  for (const auto& f : {m0, m1, merged_db}) fs::remove(f);
  REQUIRE(run_nax("sweep --config " + cfg + " -q --shard 0/2 --db " + m0, "mg0").code == 0);
  REQUIRE(run_nax("sweep --config " + cfg + " -q --shard 1/2 --db " + m1, "mg1").code == 0);
  const auto mg = run_nax("sweep merge --db " + merged_db + " " + m0 + " " + m1, "mg");
  INFO(mg.err);
  REQUIRE(mg.code == 0);
  CHECK(mg.out.find(": 3 new results") != std::string::npos);
  CHECK(run_nax("sweep merge --db " + merged_db + " " + tmp("none.db"), "mgbad").code == 2);
  CHECK(run_nax("sweep merge --db " + merged_db + " " + cfg, "mgbad2").code == 2);
  const auto mj = run_nax(
      "sweep --config " + cfg + " --db " + merged_db + " --no-plots --out " + s1 + " --json -",
      "mgall");
  INFO(mj.err);
  REQUIRE(mj.code == 0);
  CHECK(parse(mj.out)["counts"]["simulated"] == 0);
  CHECK(slurp(s1 + "/points.csv") == slurp(all + "/points.csv"));
  for (const auto& f : {m0, m1, merged_db})
    for (const char* suf : {"", "-wal", "-shm"}) fs::remove(f + suf);

  // A finished sweep is refused without --resume; with it nothing is simulated again.
  const auto again = run_nax("sweep --config " + cfg + " -q --no-plots --out " + all, "sha");
  CHECK(again.code == 2);
  CHECK(again.err.find("--resume") != std::string::npos);
  const auto resumed =
      run_nax("sweep --config " + cfg + " --no-plots --out " + all + " --resume --json -", "shr");
  INFO(resumed.err);
  REQUIRE(resumed.code == 0);
  CHECK(parse(resumed.out)["counts"]["simulated"] == 0);
  CHECK(slurp(all + "/points.csv") == slurp(s0 + "/points.csv"));
  for (const auto& d : {all, s0, s1}) fs::remove_all(d);
  fs::remove(db);
  fs::remove(db + "-wal");
  fs::remove(db + "-shm");
  fs::remove(cfg);
}

TEST_CASE("nax sweep: bad input exits 2 with file:line", "[integration]") {
  const std::string cfg = write_config("bad.yaml",
                                       "name: bad\n"
                                       "axes:\n"
                                       "  - key: mac_array.rows\n"
                                       "    values: [16, 32]\n"
                                       "  - key: sram.capacity\n"
                                       "    values: [512]\n"
                                       "models: [mobilenet_v2]\n");
  const auto r = run_nax("sweep --config " + cfg, "bad");
  CHECK(r.code == 2);
  CHECK(r.err.find(cfg + ":5:10: axes[1].key = sram.capacity: not a chip key") !=
        std::string::npos);
  CHECK(r.err.find("did you mean sram.capacity_kib?") != std::string::npos);
  const std::string model = write_config("badm.yaml",
                                         "name: badm\n"
                                         "axes: [{key: mac_array.rows, values: [16]}]\n"
                                         "models: [no_such_net]\n");
  const auto m = run_nax("sweep --config " + model, "badm");
  CHECK(m.code == 2);
  CHECK(m.err.find(model + ":3:10: models[0] = no_such_net") != std::string::npos);
  CHECK(run_nax("sweep --config " + cfg + " --shard 2/2", "bads").code == 2);
  CHECK(run_nax("sweep --config " + tmp("missing.yaml"), "badf").code == 2);
  fs::remove(cfg);
  fs::remove(model);
}

TEST_CASE("nax sweep: Ctrl-C keeps the finished pairs, --resume does the rest", "[integration]") {
  // 8 x 8 arrays x resnet18: several seconds with -j 2, interrupted after the first commit (the
  // store commits about once a second).
  const std::string cfg =
      write_config("int.yaml",
                   "name: int\n"
                   "axes:\n"
                   "  - {key: mac_array.rows, values: [8, 12, 16, 24, 32, 48, 64, 96]}\n"
                   "  - {key: mac_array.cols, values: [8, 12, 16, 24, 32, 48, 64, 96]}\n"
                   "models: [resnet18]\n");
  const std::string db = tmp("int.db");
  for (const char* suf : {"", "-wal", "-shm"}) fs::remove(db + suf);
  auto rows_in = [&] { return nax::test::count_rows(db, "results"); };
  const pid_t pid =
      nax::test::spawn({"sweep", "--config", cfg, "-j", "2", "--db", db, "-q"}, "sweep_int");
  const bool running = nax::test::wait_until(pid, [&] { return rows_in() >= 1; });
  ::kill(pid, SIGINT);
  const int code = nax::test::wait_exit(pid);
  REQUIRE(running);
  CHECK(code == 130);
  const std::string err = slurp("nax_it_sweep_int.err");
  CHECK_THAT(err, Catch::Contains("interrupted") && Catch::Contains("--resume"));
  const int64_t kept = rows_in();
  REQUIRE(kept >= 1);
  REQUIRE(kept < 64);
  const auto r = run_nax("sweep --config " + cfg + " -j 2 --db " + db + " --resume --json -",
                         "sweep_int_resume");
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = parse(r.out);
  CHECK(j["counts"]["reused"] == kept);
  CHECK(j["counts"]["simulated"] == 64 - kept);
  CHECK(j["interrupted"] == false);
  CHECK(rows_in() == 64);
  for (const auto& p : j["points"]) CHECK(p.contains("latency_ms"));
  for (const char* suf : {"", "-wal", "-shm"}) fs::remove(db + suf);
  for (const char* f : {"nax_it_sweep_int.out", "nax_it_sweep_int.err"}) std::remove(f);
  fs::remove(cfg);
}
