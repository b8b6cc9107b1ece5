// `nax search` and `nax study` end to end on the camera classifier (32x32, so the trainability
// score runs in a fraction of a second): the score constraint and memory budgets, -j 2 gives -j 1's
// results, a stored run refuses to run again without --resume and resumes from its log with
// nothing evaluated again, Ctrl-C keeps the finished batches, exported models load, bad input is
// refused with its location, and a study writes the JSON keys of the CLI contract and its report.
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/integration/run_nax.hpp"

using nax::test::run_nax;
using nax::test::slurp;
namespace fs = std::filesystem;

namespace {

const std::string kSpace = std::string(NAX_SOURCE_DIR) + "/configs/spaces/camera-classifier.yaml";

std::string tmp(const std::string& name) {
  return nax::test::tmp_path("search", name);
}

nlohmann::json parse(const std::string& s) {
  INFO(s);
  return nlohmann::json::parse(s);
}

}  // namespace

TEST_CASE("nax search: scored search, -j 2 equals -j 1, resume from the log", "[integration]") {
  const std::string db = tmp("a.db"), out = tmp("out");
  fs::remove(db);
  fs::remove_all(out);
  const std::string common = "search --space " + kSpace +
                             " --variant v2 --latency simulate --budget 16 --algorithm evolution "
                             "--population 8 --min-score baseline-sd --max-param-bytes 150% -q "
                             "--proxy-batch 32 --cifar " +
                             std::string(NAX_FIXTURES) + "/cifar10";
  const auto one = run_nax(common + " -j 1 --json -", "s1");
  INFO(one.err);
  REQUIRE(one.code == 0);
  const auto two = run_nax(common + " -j 2 --db " + db + " --out " + out + " --json -", "s2");
  INFO(two.err);
  REQUIRE(two.code == 0);
  const auto j1 = parse(one.out), j2 = parse(two.out);
  REQUIRE(j1["evaluations"] == 16);
  for (const char* k : {"baseline", "results", "pareto", "constraints"}) REQUIRE(j2.contains(k));
  // The same numbers whatever the worker count (paths differ: only -j 2 exported).
  REQUIRE(j1["results"].size() == j2["results"].size());
  for (size_t i = 0; i < j1["results"].size(); ++i) {
    for (const char* k :
         {"model", "latency_ms", "score", "params", "peak_activation_bytes", "macs"})
      REQUIRE(j1["results"][i][k] == j2["results"][i][k]);
  }
  REQUIRE(j1["baseline"]["score"] == j2["baseline"]["score"]);
  REQUIRE(j2["constraints"].contains("min_score"));
  REQUIRE(j2["constraints"]["min_score"].get<double>() < j2["baseline"]["score"].get<double>());
  // Every reported candidate meets the constraints.
  for (const auto& r : j2["results"]) {
    REQUIRE(r["feasible"] == true);
    REQUIRE(r["score"].get<double>() >= j2["constraints"]["min_score"].get<double>());
    REQUIRE(r["param_bytes"].get<int64_t>() <= j2["constraints"]["max_param_bytes"].get<int64_t>());
    REQUIRE(fs::exists(r["model_path"].get<std::string>()));
    REQUIRE(fs::exists(r["onnx_path"].get<std::string>()));
    // The exported model loads and is the candidate.
    const auto info =
        run_nax("model info --model " + r["model_path"].get<std::string>() + " --json -", "info");
    REQUIRE(info.code == 0);
    REQUIRE(parse(info.out)["params"] == r["params"]);
  }
  REQUIRE(fs::exists(out + "/steps.csv"));
  REQUIRE(fs::exists(out + "/pareto.csv"));

  // The store holds the run: again without --resume is refused, with it nothing is evaluated.
  const auto again = run_nax(common + " --db " + db, "s3");
  REQUIRE(again.code == 2);
  REQUIRE_THAT(again.err, Catch::Contains("--resume"));
  const auto resumed = run_nax(common + " --db " + db + " --resume --json -", "s4");
  INFO(resumed.err);
  REQUIRE(resumed.code == 0);
  const auto j3 = parse(resumed.out);
  REQUIRE(j3["resumed"] == 16);
  REQUIRE(j3["evaluated_now"] == 0);
  REQUIRE(j3["results"][0]["model"] == j2["results"][0]["model"]);
  fs::remove(db);
  fs::remove(db + "-wal");
  fs::remove(db + "-shm");
  fs::remove_all(out);
}

TEST_CASE("nax search: bad input is refused with its location", "[integration]") {
  const std::string bad = tmp("bad.yaml");
  {
    std::ofstream f(bad);
    f << "name: bad\nbase: camera_classifier_nope\nstages:\n  s1: {type: [ibn, fused_ibn]}\n";
  }
  const auto r = run_nax("search --space " + bad + " --latency simulate --no-score", "bad1");
  REQUIRE(r.code == 2);
  REQUIRE_THAT(r.err, Catch::Contains(bad));
  const auto v =
      run_nax("search --space " + kSpace + " --variant v9 --latency simulate --no-score", "bad2");
  REQUIRE(v.code == 2);
  REQUIRE_THAT(v.err, Catch::Contains("v9"));
  const auto a = run_nax("search --space " + kSpace +
                             " --algorithm annealing --latency simulate "
                             "--no-score",
                         "bad3");
  REQUIRE(a.code == 2);
  REQUIRE_THAT(a.err, Catch::Contains("evolution"));
  const auto m = run_nax(
      "search --space " + kSpace + " --latency simulate --no-score --max-param-bytes lots", "bad4");
  REQUIRE(m.code == 2);
  REQUIRE_THAT(m.err, Catch::Contains("max_param_bytes"));
  fs::remove(bad);
}

TEST_CASE("nax study: a study writes the contract's JSON keys and its report", "[integration]") {
  const std::string study = tmp("study.yaml"), out = tmp("study_out");
  fs::remove_all(out);
  {
    std::ofstream f(study);
    f << "name: tiny\nspace: " << kSpace
      << "\nlatency: simulate\nobjective: latency_ms\nconstraints: {min_score: none, "
         "max_param_bytes: 120%}\nsearch: {algorithm: evolution, budget: 16, batch: 8, seed: 1, "
         "population: 8}\nvariants: [v2]\nseed_reported: {v2: 35}\n";
  }
  const auto r = run_nax("study " + study + " --out " + out +
                             " --no-plots -q --json - --proxy-batch 32 --cifar " +
                             std::string(NAX_FIXTURES) + "/cifar10",
                         "study");
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = parse(r.out);
  REQUIRE(j["results"].size() == 1);
  for (const auto* row : {&j["baseline"], &j["results"][0]}) {
    for (const char* k : {"variant", "latency_ms", "reduction_pct", "score", "params",
                          "peak_activation_bytes", "macs", "simulated_latency_ms", "model_path"})
      REQUIRE(row->contains(k));
  }
  REQUIRE(j["results"][0]["variant"] == "v2");
  REQUIRE(j["baseline"]["score"].is_number());  // scored with the tree's CIFAR-10 images
  REQUIRE(j["results"][0]["simulated_latency_ms"].get<double>() <=
          j["baseline"]["simulated_latency_ms"].get<double>());
  REQUIRE(fs::exists(out + "/report.md"));
  REQUIRE_THAT(slurp(out + "/report.md"), Catch::Contains("| v2 |"));
  // Bad study files are located.
  {
    std::ofstream f(study);
    f << "name: tiny\nspace: " << kSpace << "\nsearch: {budgett: 3}\n";
  }
  const auto bad = run_nax("study " + study + " --no-plots -q", "study_bad");
  REQUIRE(bad.code == 2);
  REQUIRE_THAT(bad.err, Catch::Contains(":3:") && Catch::Contains("budgett"));
  const auto unknown = run_nax("study no-such-study", "study_unknown");
  REQUIRE(unknown.code == 2);
  REQUIRE_THAT(unknown.err, Catch::Contains("person-detector"));
  fs::remove(study);
  fs::remove_all(out);
}

TEST_CASE("nax search: Ctrl-C keeps the finished batches, says how to resume and exits 130",
          "[integration]") {
  const std::string db = tmp("int.db");
  for (const char* suf : {"", "-wal", "-shm"}) fs::remove(db + suf);
  auto steps_in = [&] { return nax::test::count_rows(db, "steps"); };
  const std::vector<std::string> args = {
      "search",     "--space",     kSpace,   "--variant", "v4",      "--latency", "simulate",
      "--no-score", "--algorithm", "random", "--budget",  "1000000", "--db",      db};
  const pid_t pid = nax::test::spawn(args, "search_int");
  const bool running = nax::test::wait_until(pid, [&] { return steps_in() >= 40; });
  ::kill(pid, SIGINT);
  const int code = nax::test::wait_exit(pid);
  REQUIRE(running);
  CHECK(code == 130);
  const std::string err = slurp("nax_it_search_int.err");
  CHECK_THAT(err, Catch::Contains("interrupted") && Catch::Contains("--resume"));
  const int64_t kept = steps_in();
  REQUIRE(kept >= 40);
  REQUIRE(kept % 8 == 0);  // whole batches
  // Resume to a budget a little past what was kept: the log answers, 8 more are evaluated.
  const auto r = run_nax("search --space " + kSpace +
                             " --variant v4 --latency simulate --no-score --algorithm random "
                             "--budget " +
                             std::to_string(kept + 8) + " --db " + db + " --resume -q --json -",
                         "search_int_resume");
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = parse(r.out);
  CHECK(j["resumed"] == kept);
  CHECK(j["evaluated_now"] == 8);
  for (const char* suf : {"", "-wal", "-shm"}) fs::remove(db + suf);
  for (const char* f : {"nax_it_search_int.out", "nax_it_search_int.err"}) std::remove(f);
}
