// `nax` end to end: version, help, model info/list/export and exit codes.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/run_nax.hpp"

using nax::test::run_nax;

TEST_CASE("nax --version and --help", "[cli]") {
  const auto v = run_nax("--version");
  CHECK(v.code == 0);
  CHECK(v.out.rfind("nax ", 0) == 0);
  const auto h = run_nax("--help");
  CHECK(h.code == 0);
  CHECK(h.out.find("Examples:") != std::string::npos);
  const auto none = run_nax("");
  CHECK(none.code == 2);
  const auto bad = run_nax("frobnicate");
  CHECK(bad.code == 2);
  for (const char* sub : {"model", "model info", "model list", "model export", "config",
                          "config check", "config dump", "config list", "describe"}) {
    const auto s = run_nax(std::string(sub) + " --help");
    INFO(sub);
    CHECK(s.code == 0);
    CHECK(s.out.find("Example") != std::string::npos);
  }
}

TEST_CASE("nax model info prints the table and writes JSON", "[cli]") {
  const auto r = run_nax("model info --model mobilenet_v2 --json info.json", "info");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("MACs 300,774,272") != std::string::npos);
  CHECK(r.out.find("params 3,504,872") != std::string::npos);
  const auto j = nlohmann::json::parse(nax::test::slurp("info.json"));
  CHECK(j.at("macs") == 300774272);
  CHECK(j.at("params") == 3504872);
  CHECK(j.at("peak_activation_bytes").get<int64_t>() > 0);
  REQUIRE(j.at("layers").size() == 100);
  CHECK(j["layers"][0].at("name") == "stem.0.conv");
  CHECK(j["layers"][0].at("op") == "Conv2d");
  CHECK(j["layers"][0].at("macs") == 10838016);
  CHECK(j.at("model").at("hash").get<std::string>().size() == 16);
  std::remove("info.json");
}

TEST_CASE("nax model info --json - writes only JSON to stdout", "[cli]") {
  const auto r = run_nax("model info --model mobilenet_v2:width=0.5,resolution=128 --json -", "js");
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j.at("inputs")[0].at("shape") == std::vector<int>{1, 3, 128, 128});
}

TEST_CASE("bad models exit 2 with a message naming the problem", "[cli]") {
  auto r = run_nax("model info --model mobilenet_v9", "bad1");
  CHECK(r.code == 2);
  CHECK(r.err.find("did you mean mobilenet_v2?") != std::string::npos);
  r = run_nax("model info --model no_such_file.yaml", "bad2");
  CHECK(r.code == 2);
  CHECK(r.err == "nax: error: no_such_file.yaml: cannot open file\n");
  r = run_nax("model info --model mobilenet_v2:s3.1.kernel=4", "bad3");
  CHECK(r.code == 2);
  CHECK(r.err.find("s3.1.kernel = 4: expected an odd kernel size") != std::string::npos);
}

TEST_CASE("nax model export writes YAML that loads back to the same graph", "[cli]") {
  const auto e =
      run_nax("model export --model mobilenet_v2:s2.type=fused_ibn -o exported.yaml", "exp");
  REQUIRE(e.code == 0);
  const auto a = run_nax("model info --model mobilenet_v2:s2.type=fused_ibn --json -", "expa");
  const auto b = run_nax("model info --model exported.yaml --json -", "expb");
  REQUIRE(a.code == 0);
  REQUIRE(b.code == 0);
  CHECK(nlohmann::json::parse(a.out).at("model").at("hash") ==
        nlohmann::json::parse(b.out).at("model").at("hash"));
  std::remove("exported.yaml");
}

TEST_CASE("nax model export --onnx writes a model that imports to the same MACs", "[cli]") {
  const auto e = run_nax("model export --model nb201:cells=2 --onnx exported.onnx", "onnx");
  REQUIRE(e.code == 0);
  CHECK(e.out == "exported.onnx: nb201 as ONNX opset 13, 98 ops, random weights (seed 0)\n");
  const auto a = run_nax("model info --model nb201:cells=2 --json -", "onnxa");
  const auto b = run_nax("model info --model exported.onnx --json -", "onnxb");
  REQUIRE(a.code == 0);
  REQUIRE(b.code == 0);
  const auto ja = nlohmann::json::parse(a.out), jb = nlohmann::json::parse(b.out);
  CHECK(ja.at("macs") == jb.at("macs"));
  CHECK(ja.at("layers").size() == jb.at("layers").size());
  std::remove("exported.onnx");
  const auto both = run_nax("model export --model nb201 --onnx exported.onnx -o -", "onnxy");
  CHECK(both.out.rfind("# nax model description", 0) == 0);
  std::remove("exported.onnx");
}

TEST_CASE("the same model gives byte-identical JSON and YAML every run", "[cli]") {
  const std::string onnx =
      std::string(NAX_SOURCE_DIR) + "/tests/fixtures/onnx/efficientnet_b0.onnx";
  for (const std::string& m : {std::string("person_detector"), onnx}) {
    const auto a = run_nax("model info --json - --model " + m, "det1");
    const auto b = run_nax("model info --json - --model " + m, "det2");
    REQUIRE(a.code == 0);
    CHECK(a.out == b.out);
  }
  const auto x = run_nax("model export --model efficientnet_edgetpu_s", "dety1");
  const auto y = run_nax("model export --model efficientnet_edgetpu_s", "dety2");
  CHECK(x.out == y.out);
}
