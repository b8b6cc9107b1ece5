// `nax proxy` end to end on a tiny NAS-Bench-201 network and the CIFAR-10 test fixture: the
// table, the JSON (score, scores, seconds, model, seed, data, tool_version), determinism across
// processes, and bad input (exit code 2).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

#include "tests/integration/run_nax.hpp"

using nax::test::run_nax;

namespace {

const std::string kModel = "--model nb201:channels=4,cells=1";
const std::string kCifar = std::string(" --cifar ") + NAX_FIXTURES + "/cifar10";

nlohmann::json run_json(const std::string& args, const std::string& tag) {
  const auto r = run_nax("proxy " + kModel + kCifar + " " + args + " --json -", tag);
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(r.out);
}

}  // namespace

TEST_CASE("nax proxy prints a table of every proxy with its value and time", "[cli][proxy]") {
  const auto r = run_nax("proxy " + kModel + kCifar + " --batch 8 --seed 2", "proxy_table");
  INFO(r.err);
  REQUIRE(r.code == 0);
  for (const char* name :
       {"naswot", "synflow", "snip", "grad_norm", "jacob_cov", "zen", "zico", "meco"}) {
    CHECK(r.out.find(name) != std::string::npos);
  }
  CHECK(r.out.find("proxy") != std::string::npos);
  CHECK(r.out.find("seconds") != std::string::npos);
  CHECK(r.out.find("score (jacob_cov+meco+naswot)") != std::string::npos);
}

TEST_CASE("nax proxy --json: score, scores, seconds, model, seed, data, tool_version",
          "[cli][proxy]") {
  const auto j =
      run_json("--proxy synflow,meco,snip,jacob_cov,naswot --batch 16 --seed 7", "proxy_json");
  REQUIRE(j.contains("scores"));
  CHECK(j["scores"].size() == 5);
  for (const char* name : {"synflow", "meco", "snip"}) {
    CHECK(j["scores"][name].is_number());
    CHECK(j["seconds"][name].get<double>() >= 0);
  }
  CHECK(j["seconds"]["total"].get<double>() > 0);
  // The default score: robustly standardised jacob_cov + meco + naswot (nas/accuracy/score.hpp).
  CHECK(j["score_definition"] == "jacob_cov+meco+naswot");
  const double expect = (j["scores"]["jacob_cov"].get<double>() + 32.33) / 0.5453 +
                        (j["scores"]["meco"].get<double>() - 0.13) / 0.9093 +
                        (j["scores"]["naswot"].get<double>() - 1550.0) / 99.3;
  CHECK(j["score"].get<double>() == Approx(expect));
  CHECK(j["model"]["name"] == "nb201");
  CHECK(j["model"]["hash"].get<std::string>().size() == 16);
  CHECK(j["seed"] == 7);
  CHECK(j["data"] == "cifar10");
  CHECK(j["tool_version"].is_string());
  CHECK(j["libtorch_version"].is_string());

  // Another process, the same seed: the same numbers; without the score's proxies, no score.
  const auto again = run_json("--proxy snip,synflow --batch 16 --seed 7", "proxy_json2");
  CHECK(again["scores"]["snip"] == j["scores"]["snip"]);
  CHECK(again["scores"]["synflow"] == j["scores"]["synflow"]);
  CHECK(again["score"].is_null());
  // Gaussian data: synflow (all-ones input) unchanged, snip changed.
  const auto gauss =
      run_json("--proxy snip,synflow --batch 16 --seed 7 --data gaussian", "proxy_json3");
  CHECK(gauss["data"] == "gaussian");
  CHECK(gauss["scores"]["synflow"] == j["scores"]["synflow"]);
  CHECK(gauss["scores"]["snip"] != j["scores"]["snip"]);
}

TEST_CASE("nax proxy: bad input exits 2 with a message", "[cli][proxy]") {
  auto r = run_nax("proxy " + kModel + kCifar + " --proxy synflow,snipp", "proxy_bad_name");
  CHECK(r.code == 2);
  CHECK(r.err.find("unknown proxy 'snipp'") != std::string::npos);
  CHECK(r.err.find("did you mean 'snip'") != std::string::npos);
  r = run_nax("proxy " + kModel + " --data imagenet", "proxy_bad_data");
  CHECK(r.code == 2);
  r = run_nax("proxy --proxy synflow", "proxy_no_model");
  CHECK(r.code == 2);
  CHECK(r.err.find("--model") != std::string::npos);
  r = run_nax("proxy --model nb201:arch=bogus --proxy synflow", "proxy_bad_model");
  CHECK(r.code == 2);
  r = run_nax("proxy " + kModel + kCifar + " --proxy naswot --batch 500", "proxy_big_batch");
  CHECK(r.code == 2);
  CHECK(r.err.find("500") != std::string::npos);
  r = run_nax("proxy " + kModel + " --proxy synflow --threads 0", "proxy_threads");
  CHECK(r.code == 2);
}
