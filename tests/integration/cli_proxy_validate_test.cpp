// `nax proxy validate` end to end on small samples (the real benchmark data in nas/data, the
// CIFAR-10 test fixture), the rows file (resume, refusal of other options), and `nax proxy`'s
// oracle and external evaluator.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <string>

#include "tests/integration/run_nax.hpp"

using nax::test::run_nax;
using nax::test::slurp;

namespace {

const std::string kCifar = std::string(" --cifar ") + NAX_FIXTURES + "/cifar10";

int lines_in(const std::string& path) {
  std::ifstream in(path);
  std::string l;
  int n = 0;
  while (std::getline(in, l)) n += !l.empty();
  return n;
}

}  // namespace

TEST_CASE("nax proxy validate: correlations, baselines and the NASLib implementation check",
          "[cli][proxy]") {
  const std::string rows = "nax_it_validate.rows";
  std::remove(rows.c_str());
  const std::string args = "proxy validate -b naslib --sample 6 --seed 3 --proxy synflow,meco" +
                           kCifar + " --progress none --rows " + rows + " --json -";
  const auto r = run_nax(args, "validate");
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j.at("benchmark") == "naslib");
  CHECK(j.at("networks") == 6);
  REQUIRE(j.at("rows").size() == 6);
  for (const auto& row : j.at("rows")) {
    CHECK(row.at("values").contains("synflow"));
    CHECK(row.at("values").contains("meco"));
    CHECK(row.at("published").contains("synflow"));  // NASLib's own value
    CHECK(row.at("accuracy").get<double>() > 0);
    CHECK(row.at("params").get<int64_t>() > 0);
  }
  bool impl = false, params = false, flops = false, ens = false;
  for (const auto& c : j.at("correlations")) {
    const std::string name = c.at("name");
    impl = impl || name == "synflow vs NASLib synflow";
    params = params || name == "#params";
    flops = flops || name == "FLOPs";
    ens = ens || name == "synflow+meco";
    CHECK(c.at("spearman").get<double>() >= -1.0);
    CHECK(c.at("spearman").get<double>() <= 1.0);
    // nax's synflow is NASLib's (same init, data, log): it ranks the cells the same way.
    if (name == "synflow vs NASLib synflow") CHECK(c.at("spearman").get<double>() > 0.9);
  }
  CHECK(impl);
  CHECK(params);
  CHECK(flops);
  CHECK(ens);
  CHECK(lines_in(rows) == 7);  // the options line and one row per network

  // A rerun reads the rows back and scores nothing new: the same numbers.
  const auto again = run_nax(args, "validate_again");
  REQUIRE(again.code == 0);
  const auto j2 = nlohmann::json::parse(again.out);
  CHECK(j2.at("correlations") == j.at("correlations"));
  CHECK(lines_in(rows) == 7);

  // A larger sample reuses the six rows and adds the rest.
  const auto more = run_nax("proxy validate -b naslib --sample 8 --seed 3 --proxy synflow,meco" +
                                kCifar + " --progress none --rows " + rows + " -q",
                            "validate_more");
  REQUIRE(more.code == 0);
  CHECK(lines_in(rows) == 9);

  // Other options cannot reuse the rows.
  const auto other = run_nax("proxy validate -b naslib --sample 6 --seed 3 --proxy synflow" +
                                 kCifar + " --progress none --rows " + rows,
                             "validate_other");
  CHECK(other.code == 2);
  CHECK(other.err.find("other options") != std::string::npos);
  std::remove(rows.c_str());

  // A file that is not a rows file is refused, naming it and the line.
  {
    std::ofstream junk(rows);
    junk << "arch,accuracy\n";
  }
  const auto bad = run_nax("proxy validate -b naslib --sample 2 --proxy synflow" + kCifar +
                               " --progress none --rows " + rows,
                           "validate_junk");
  CHECK(bad.code == 2);
  CHECK(bad.err.find(rows + ":1") != std::string::npos);
  CHECK(bad.err.find("not a rows file of nax proxy validate") != std::string::npos);
  std::remove(rows.c_str());
}

TEST_CASE("nax proxy validate: bad benchmark names and samples exit 2", "[cli][proxy]") {
  const auto bad = run_nax("proxy validate -b nb2O1", "validate_bad");
  CHECK(bad.code == 2);
  CHECK(bad.err.find("unknown benchmark 'nb2O1'") != std::string::npos);
  CHECK(bad.err.find("did you mean 'nb201'") != std::string::npos);
  const auto big = run_nax("proxy validate -b nas-bench-macro --sample 7000", "validate_big");
  CHECK(big.code == 2);
  CHECK(big.err.find("6561") != std::string::npos);
}

TEST_CASE("nax proxy: a benchmark network's published accuracy and an external evaluator",
          "[cli][proxy]") {
  const std::string script = std::string(NAX_FIXTURES) + "/accuracy_cmd/eval.sh";
  const auto r = run_nax(
      "proxy -m nas-bench-macro:arch=01220210 --no-proxies --accuracy-dir nax_it_acc "
      "--accuracy-cmd 'sh " +
          script + " percent {onnx} {yaml} {name}' --json -",
      "proxy_oracle");
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j.at("oracle").at("benchmark") == "nas-bench-macro");
  CHECK(j.at("oracle").at("accuracy").get<double>() == Approx(90.9167).epsilon(1e-4));
  CHECK(j.at("external").at("accuracy").get<double>() == Approx(72.5));
  CHECK(j.at("scores").empty());
  // A modified network has no published accuracy.
  const auto mod = run_nax(
      "proxy -m nas-bench-macro:arch=01220210,channels=16 --no-proxies "
      "--json -",
      "proxy_oracle_mod");
  REQUIRE(mod.code == 0);
  CHECK_FALSE(nlohmann::json::parse(mod.out).contains("oracle"));
  std::system("rm -rf nax_it_acc");
}

TEST_CASE("nax proxy validate: worker processes give the single process's numbers",
          "[cli][proxy]") {
  const std::string args = "proxy validate -b naslib --sample 4 --seed 5 --proxy synflow,meco" +
                           kCifar + " --progress none --json -";
  const auto one = run_nax(args + " -j 1", "validate_j1");
  const auto two = run_nax(args + " -j 2", "validate_j2");
  INFO(one.err << two.err);
  REQUIRE(one.code == 0);
  REQUIRE(two.code == 0);
  auto a = nlohmann::json::parse(one.out), b = nlohmann::json::parse(two.out);
  CHECK(a.at("correlations") == b.at("correlations"));
  REQUIRE(a.at("rows").size() == b.at("rows").size());
  for (size_t i = 0; i < a.at("rows").size(); ++i) {
    CHECK(a["rows"][i]["arch"] == b["rows"][i]["arch"]);
    CHECK(a["rows"][i]["values"] == b["rows"][i]["values"]);
  }
}
