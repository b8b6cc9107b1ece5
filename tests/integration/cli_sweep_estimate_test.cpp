// `nax sweep --estimator auto` end to end on a 2 x 2 sweep of one small model: the estimator is
// fitted on the sweep's own chips (into a private cache) and reused by the next run, every pair
// is estimated, the check re-simulates points and reports the error with check.csv, a repeated
// run gives the same bytes, and bad combinations exit 2 with the reason.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/run_nax.hpp"

using nax::test::run_nax;
using nax::test::slurp;
namespace fs = std::filesystem;

namespace {

std::string tmp(const std::string& name) {
  return nax::test::tmp_path("sweep_est", name);
}

const char* kSweep =
    "name: est\n"
    "base: default\n"
    "axes:\n"
    "  - key: mac_array.rows\n"
    "    values: [32, 64]\n"
    "  - key: dram.bandwidth_gb_per_s\n"
    "    values: [8, 17]\n"
    "models: ['mobilenet_v2:width=0.35,resolution=96']\n";

}  // namespace

TEST_CASE("nax sweep --estimator auto: fitted once on the sweep's chips, checked by simulation",
          "[integration]") {
  const std::string cfg = tmp("est.yaml"), cache = tmp("cache"), a = tmp("a"), b = tmp("b");
  for (const auto& d : {cache, a, b}) fs::remove_all(d);
  std::ofstream(cfg) << kSweep;
  ::setenv("NAX_CACHE_DIR", cache.c_str(), 1);  // inherited by the runs; keeps ~/.cache clean
  const std::string args = "sweep --config " + cfg +
                           " --estimator auto --fit-chips 2 --fit-units 600 --check 2 -j 2 "
                           "--no-plots --out ";
  const auto r1 = run_nax(args + a, "est1");
  INFO(r1.err);
  REQUIRE(r1.code == 0);
  CHECK(r1.err.find("fitting a chip-aware estimator for this sweep: 2 of its chips") !=
        std::string::npos);
  const nlohmann::json j = nlohmann::json::parse(slurp(a + "/sweep.json"));
  CHECK(j["by"] == "estimator");
  CHECK(j["estimator"]["chip_aware"] == true);
  CHECK(j["estimator"]["chips"].size() == 2);
  // Every pair estimated, with latency, energy and area.
  REQUIRE(j["points"].size() == 4);
  for (const auto& p : j["points"]) {
    CHECK(p["latency_ms"].get<double>() > 0);
    CHECK(p["energy_uj"].get<double>() > 0);
    CHECK(p["area_mm2"].get<double>() > 0);
  }
  // The check: 2 random points plus the estimated front, re-simulated and compared.
  const auto& check = j["check"];
  CHECK(check["points"].get<int>() >= 2);
  CHECK(check["all"]["pairs"].get<int>() == check["points"].get<int>());
  CHECK(check["all"]["latency"]["mape_pct"].get<double>() < 30);
  CHECK(check["all"]["energy"]["mape_pct"].get<double>() < 30);
  const std::string csv = slurp(a + "/check.csv");
  CHECK(csv.rfind("point,overrides,model,est_latency_ms,sim_latency_ms", 0) == 0);
  CHECK(static_cast<int>(std::count(csv.begin(), csv.end(), '\n')) ==
        1 + check["points"].get<int>());

  // The next run reuses the cached estimator (no labelling) and gives the same bytes.
  const auto r2 = run_nax(args + b, "est2");
  INFO(r2.err);
  REQUIRE(r2.code == 0);
  CHECK(r2.err.find("fitting") == std::string::npos);
  CHECK(r2.out.find("estimates by " + j["estimator"]["file"].get<std::string>()) !=
        std::string::npos);
  CHECK(slurp(a + "/points.csv") == slurp(b + "/points.csv"));
  CHECK(slurp(a + "/check.csv") == slurp(b + "/check.csv"));

  // An estimator of one chip, and --shard, are refused with the reason.
  const std::string one_chip = j["estimator"]["file"].get<std::string>();
  const auto r3 =
      run_nax("sweep --config " + cfg + " --estimator " + one_chip + " --shard 0/2", "est3");
  CHECK(r3.code == 2);
  CHECK(r3.err.find("drop --shard") != std::string::npos);
  const auto r4 = run_nax("sweep --config " + cfg + " --estimator " + cfg, "est4");
  CHECK(r4.code == 2);
  CHECK(r4.err.find(cfg) != std::string::npos);
  ::unsetenv("NAX_CACHE_DIR");
  for (const auto& d : {cache, a, b}) fs::remove_all(d);
  fs::remove(cfg);
}

TEST_CASE("nax sweep --estimator auto: Ctrl-C while fitting keeps the labels and says how to go on",
          "[integration]") {
  const std::string cfg = tmp("int.yaml"), cache = tmp("int_cache"), out = tmp("int_out");
  for (const auto& d : {cache, out}) fs::remove_all(d);
  std::ofstream(cfg) << kSweep;
  ::setenv("NAX_CACHE_DIR", cache.c_str(), 1);
  // Far more units than the test waits for: the labelling of the first chip is under way when
  // Ctrl-C comes (to the whole process group, the delegated `nax traces` included).
  const pid_t pid =
      nax::test::spawn({"sweep", "--config", cfg, "--estimator", "auto", "--fit-chips", "2",
                        "--fit-units", "500000", "--check", "0", "--no-plots", "--out", out},
                       "est_int", true);
  std::string store;
  auto labelled = [&] {
    std::error_code ec;
    for (const auto& d : fs::directory_iterator(cache + "/estimators", ec)) {
      const std::string db = (d.path() / "chip0.db").string();
      if (d.is_directory() && nax::test::count_rows(db, "units") > 0) {
        store = db;
        return true;
      }
    }
    return false;
  };
  REQUIRE(nax::test::wait_until(pid, labelled));
  ::kill(-pid, SIGINT);
  const int code = nax::test::wait_exit(pid);
  ::unsetenv("NAX_CACHE_DIR");
  const std::string err = slurp("nax_it_est_int.err");
  INFO(err);
  CHECK(code == 130);
  CHECK(err.find("interrupted while fitting the sweep's estimator") != std::string::npos);
  CHECK(err.find("--estimator auto --check 0 --fit-chips 2 --fit-units 500000") !=
        std::string::npos);
  // The labelled units stay for the next run; no estimator was written.
  CHECK(nax::test::count_rows(store, "units") > 0);
  bool fitted = false;
  for (const auto& f : fs::directory_iterator(cache + "/estimators"))
    fitted |= f.path().extension() == ".json";
  CHECK_FALSE(fitted);
  for (const char* f : {"nax_it_est_int.out", "nax_it_est_int.err"}) std::remove(f);
  for (const auto& d : {cache, out}) fs::remove_all(d);
  fs::remove(cfg);
}
