// `nax advise` end to end on a small model description, simulated and unscored (fast): the JSON
// keys, the ranked table, `--apply` writing a model nax loads, `--from`, and bad input (exit 2).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "tests/integration/run_nax.hpp"

using nax::test::run_nax;
using nax::test::slurp;

namespace {

std::string tag(const std::string& name) {
  return "cli_advise_" + std::to_string(getpid()) + "_" + name;
}

// A small IBN model with unaligned channels (each test case is its own process: pid-named files).
const std::string& tiny_model() {
  static const std::string path = [] {
    const std::string p = tag("tiny.yaml");
    std::ofstream(p) << R"(name: tiny_ibn
input: {channels: 3, height: 96, width: 96}
stages:
  - name: stem
    fixed_depth: true
    blocks:
      - {type: conv, out: 15, kernel: 3, stride: 2}
  - name: s1
    blocks:
      - {type: ibn, out: 17, expansion: 3, stride: 1, repeats: 2}
  - name: s2
    blocks:
      - {type: ibn, out: 40, expansion: 3, stride: 2, repeats: 2}
  - name: s3
    blocks:
      - {type: ibn, out: 97, expansion: 6, stride: 2, repeats: 3}
  - name: head
    fixed_depth: true
    blocks:
      - {type: conv, out: 127, kernel: 1}
      - {type: global_pool}
      - {type: fc, out: 11}
)";
    return p;
  }();
  return path;
}

struct Cleanup {
  ~Cleanup() {
    for (const char* f : {"tiny.yaml", "out.yaml", "advice.json", "from.yaml"})
      std::remove(tag(f).c_str());
  }
} cleanup;

}  // namespace

TEST_CASE("nax advise --json: the suggestions with their measurements", "[cli][advise]") {
  const auto r =
      run_nax("advise --model " + tiny_model() + " --latency simulate --no-score --json -", "adv");
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  for (const char* k : {"model", "chip", "tool_version", "baseline", "suggestions", "notes"}) {
    INFO(k);
    CHECK(j.contains(k));
  }
  CHECK(j.at("chip").at("parallelism") == 32);
  CHECK(j.at("baseline").at("latency_ms").get<double>() > 0);
  const auto& s = j.at("suggestions");
  REQUIRE(s.size() >= 4);
  double last_gain = 1e9;
  for (const auto& e : s) {
    for (const char* k :
         {"rule", "description", "changes", "latency_ms_before", "latency_ms_after", "gain_pct",
          "simulated_latency_ms_before", "simulated_latency_ms_after", "score_delta",
          "params_delta", "peak_activation_bytes_delta", "macs_delta"}) {
      INFO(k);
      CHECK(e.contains(k));
    }
    CHECK(e.at("score_delta").is_null());  // --no-score
    CHECK(e.at("simulated_latency_ms_after") == e.at("latency_ms_after"));
    CHECK(e.at("gain_pct").get<double>() <= last_gain);  // ranked
    last_gain = e.at("gain_pct").get<double>();
    CHECK_FALSE(e.at("changes").empty());
  }
  CHECK_FALSE(j.contains("applied"));
}

TEST_CASE("nax advise prints a ranked table, and --apply writes a model nax loads",
          "[cli][advise]") {
  const std::string out = tag("out.yaml"), json = tag("advice.json");
  const auto r = run_nax("advise -m " + tiny_model() + " --latency simulate --no-score --apply " +
                             out + " --json " + json,
                         "adv_apply");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("suggestion") != std::string::npos);
  CHECK(r.out.find("applied -> " + out) != std::string::npos);
  const auto j = nlohmann::json::parse(slurp(json));
  REQUIRE(j.contains("applied"));
  const auto& a = j.at("applied");
  CHECK_FALSE(a.at("combined").empty());
  CHECK(a.at("gain_pct").get<double>() > 0);
  const auto info = run_nax("model info --model " + out + " --json -", "adv_info");
  INFO(info.err);
  REQUIRE(info.code == 0);
  // The model written is the one measured.
  const auto sim = run_nax("sim --model " + out + " -q --json -", "adv_sim");
  REQUIRE(sim.code == 0);
  CHECK(nlohmann::json::parse(sim.out).at("latency_ms").get<double>() ==
        Approx(a.at("latency_ms_after").get<double>()));

  // Its patterns transfer back onto the original.
  const auto t = run_nax("advise -m " + tiny_model() + " --from " + out +
                             " --rules transfer --latency simulate --no-score --json -",
                         "adv_from");
  INFO(t.err);
  REQUIRE(t.code == 0);
  const auto tj = nlohmann::json::parse(t.out);
  CHECK(tj.contains("transfer"));
}

TEST_CASE("nax advise: bad input exits 2 with a message", "[cli][advise]") {
  auto r = run_nax("advise --model " + tag("missing.yaml") + " --latency simulate", "adv_bad");
  CHECK(r.code == 2);
  CHECK(r.err.find("missing.yaml") != std::string::npos);
  r = run_nax("advise --model no_such_zoo_model --latency simulate", "adv_bad2");
  CHECK(r.code == 2);
  CHECK(r.err.find("no_such_zoo_model") != std::string::npos);
  r = run_nax("advise --model " + tiny_model() + " --latency sometimes", "adv_bad3");
  CHECK(r.code == 2);
  r = run_nax("advise --model " + tiny_model() + " --rules fuse,algn --latency simulate",
              "adv_bad4");
  CHECK(r.code == 2);
  CHECK(r.err.find("did you mean align?") != std::string::npos);
  r = run_nax("advise --model " + tiny_model() + " --rules transfer --latency simulate",
              "adv_bad5");
  CHECK(r.code == 2);
  CHECK(r.err.find("--from") != std::string::npos);
}
