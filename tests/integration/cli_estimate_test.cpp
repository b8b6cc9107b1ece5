// `nax fit` and `nax estimate` end to end on a tiny trace store: the metrics and the estimator
// file, the estimate table and JSON, the chip check, bad files, exit codes.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdio>
#include <string>

#include "tests/integration/run_nax.hpp"

using nax::test::run_nax;
using nax::test::slurp;

namespace {

// One small store and estimator per process (each test case is its own process under ctest;
// names carry the pid so that parallel ctest runs do not share files).
std::string tag(const std::string& name) {
  return "cli_est_" + std::to_string(getpid()) + "_" + name;
}

// Removes this process's files when it exits.
struct Cleanup {
  ~Cleanup() {
    for (const char* f : {"traces.db", "traces.db-wal", "traces.db-shm", "est.json", "fit.json"})
      std::remove(tag(f).c_str());
  }
};

const std::string& db_file() {
  static Cleanup cleanup;
  static const std::string db = tag("traces.db");
  return db;
}

const std::string& estimator_file() {
  static const std::string est = [] {
    const std::string db = db_file(), out = tag("est.json");
    std::remove(db.c_str());
    const auto t =
        run_nax("traces --chip default --count 400 --seed 3 --db " + db + " -q", "est_traces");
    REQUIRE(t.code == 0);
    const auto f = run_nax("fit --db " + db + " --out " + out + " --json " + tag("fit.json") +
                               " --eval-random 3 --zoo mobilenet_v2 "
                               "--trees 20 -q",
                           "est_fit");
    INFO(f.err);
    REQUIRE(f.code == 0);
    return out;
  }();
  return est;
}

}  // namespace

TEST_CASE("nax fit writes an estimator file and its held-out metrics", "[cli][estimate]") {
  const std::string est = estimator_file();
  const auto j = nlohmann::json::parse(slurp(est));
  CHECK(j.at("format") == "nax-latency-estimator");
  for (const char* k : {"schema_version", "feature_schema_version", "chip_hash", "chip", "form",
                        "training", "dataset"}) {
    INFO(k);
    CHECK(j.contains(k));
  }
  CHECK(j.at("chip").at("name") == "default");
  const auto m = nlohmann::json::parse(slurp(tag("fit.json")));
  for (const char* model : {"flops", "lookup", "raw_trees", "hw"}) {
    INFO(model);
    const auto& u = m.at("report").at("models").at(model).at("units");
    for (const char* k : {"within5", "within10", "mape_pct", "rmspe_pct", "kendall", "spearman"})
      CHECK(u.contains(k));
    CHECK(m.at("report").at("models").at(model).at("networks").contains("zoo"));
  }
  CHECK(m.at("report").at("form_selection").contains("chosen"));
  // The terminal report: the comparison table and the zoo table.
  const auto r = run_nax("fit --db " + db_file() + " --out " + tag("est2.json") +
                             " --eval-random 0 --zoo mobilenet_v2 --trees 10 --form trees",
                         "est_fit_table");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("(a) FLOPs-proportional") != std::string::npos);
  CHECK(r.out.find("(d) nax hardware-aware") != std::string::npos);
  CHECK(r.out.find("mobilenet_v2") != std::string::npos);
  std::remove(tag("est2.json").c_str());
}

TEST_CASE("nax estimate prints the per-unit breakdown and writes JSON", "[cli][estimate]") {
  const std::string est = estimator_file();
  const auto r = run_nax("estimate --estimator " + est +
                             " --model mobilenet_v2:width=0.5,resolution=128 --json est_out.json",
                         "est_run");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("total") != std::string::npos);
  CHECK(r.out.find("s2.1") != std::string::npos);
  const auto j = nlohmann::json::parse(slurp("est_out.json"));
  std::remove("est_out.json");
  for (const char* k : {"total_cycles", "latency_ms", "subgraphs", "chip", "model", "clock_mhz"}) {
    INFO(k);
    CHECK(j.contains(k));
  }
  double sum = 0;
  for (const auto& s : j.at("subgraphs")) {
    CHECK(s.contains("name"));
    CHECK(s.contains("type"));
    sum += s.at("cycles").get<double>();
  }
  CHECK(sum == Approx(j.at("total_cycles").get<double>()));
  CHECK(j.at("latency_ms").get<double>() ==
        Approx(j.at("total_cycles").get<double>() / j.at("clock_mhz").get<double>() / 1e3));
  // --json - writes JSON only.
  const auto s = run_nax("estimate -e " + est + " -m mobilenet_v2 --json -", "est_stdout");
  REQUIRE(s.code == 0);
  CHECK(nlohmann::json::parse(s.out).contains("subgraphs"));
}

TEST_CASE("nax estimate --simulate compares with the simulator", "[cli][estimate]") {
  const std::string est = estimator_file();
  const auto r = run_nax("estimate -e " + est +
                             " -m mobilenet_v2:width=0.5,resolution=128 --chip default "
                             "--simulate --json est_sim.json",
                         "est_sim");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("simulated") != std::string::npos);
  const auto j = nlohmann::json::parse(slurp("est_sim.json"));
  std::remove("est_sim.json");
  CHECK(j.contains("simulated_total_cycles"));
  CHECK(std::abs(j.at("error").get<double>()) < 0.2);
  CHECK(j.at("subgraphs").at(0).contains("simulated_cycles"));
}

TEST_CASE("nax estimate on another chip is an error unless forced", "[cli][estimate]") {
  const std::string est = estimator_file();
  const auto r = run_nax("estimate -e " + est + " -m mobilenet_v2 --chip tiny", "est_chip");
  CHECK(r.code == 2);
  CHECK(r.err.find("--force") != std::string::npos);
  const auto f =
      run_nax("estimate -e " + est + " -m mobilenet_v2 --chip tiny --force", "est_force");
  CHECK(f.code == 0);
  CHECK(f.out.find("warning") != std::string::npos);
  const auto same = run_nax("estimate -e " + est + " -m mobilenet_v2 --chip default", "est_same");
  CHECK(same.code == 0);
}

TEST_CASE("bad inputs to nax fit and nax estimate exit with 2 and say why", "[cli][estimate]") {
  {
    const auto r = run_nax("estimate -e no_such_file.json -m mobilenet_v2", "est_missing");
    CHECK(r.code == 2);
    CHECK(r.err.find("no_such_file.json") != std::string::npos);
  }
  {
    std::FILE* f = std::fopen("est_garbage.json", "w");
    std::fputs("{\"format\": \"something-else\"}", f);
    std::fclose(f);
    const auto r = run_nax("estimate -e est_garbage.json -m mobilenet_v2", "est_garbage");
    CHECK(r.code == 2);
    CHECK(r.err.find("not a nax latency estimator") != std::string::npos);
    std::remove("est_garbage.json");
  }
  {
    const auto r = run_nax("fit --db no_such.db --out x.json", "fit_missing");
    CHECK(r.code == 2);
    CHECK(r.err.find("no_such.db") != std::string::npos);
  }
  {
    estimator_file();
    const auto r = run_nax("fit --db " + db_file(), "fit_no_out");
    CHECK(r.code == 2);
  }
  {
    const auto r = run_nax("fit --db " + db_file() + " --out x.json --form magic", "fit_form");
    CHECK(r.code == 2);
    CHECK(r.err.find("magic") != std::string::npos);
  }
  {
    const auto r =
        run_nax("fit --db " + db_file() + " --out x.json --chip-aware --holdout-chip default",
                "fit_aware_one_chip");
    CHECK(r.code == 2);
    CHECK(r.err.find("two chips") != std::string::npos);
  }
}

TEST_CASE("nax bench estimate reports predictions per second and the speed-up",
          "[cli][estimate][slow]") {
  const std::string est = estimator_file();
  const auto r =
      run_nax("bench estimate -e " + est + " --repeat 1 -m mobilenet_v2 --json bench_est.json",
              "bench_est");
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(slurp("bench_est.json"));
  std::remove("bench_est.json");
  CHECK(j.at("unit_predictions").at("predictions_per_s").get<double>() > 0);
  CHECK(j.at("whole_network").at(0).at("speedup").get<double>() > 1);
}
