// The validation harness's arithmetic (nas/accuracy/validate.hpp) on hand-made rows: which
// correlations it reports, rank ensembles, networks a signal could not score, and names.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "models/common/error.hpp"
#include "nas/accuracy/validate.hpp"

using namespace nax::accuracy;

namespace {

ValidationRow row(double acc, double a, double b, int64_t params) {
  ValidationRow r;
  r.arch = std::to_string(acc);
  r.accuracy = acc;
  r.params = params;
  r.flops = 2 * params;
  r.values = {{"a", a}, {"b", b}};
  return r;
}

const Correlation& find(const std::vector<Correlation>& cs, const std::string& name) {
  for (const auto& c : cs) {
    if (c.name == name) return c;
  }
  FAIL("no correlation named " << name);
  return cs.front();
}

}  // namespace

TEST_CASE("correlate reports each signal, #params, FLOPs and rank ensembles", "[validate]") {
  ValidationRun run;
  run.signals = {"a", "b"};
  // a ranks the networks perfectly, b in reverse, params with one pair swapped (rho 0.8).
  run.rows = {row(10, 1, 4, 10), row(20, 2, 3, 30), row(30, 3, 2, 20), row(40, 4, 1, 40)};
  const auto cs = correlate(run);
  CHECK(find(cs, "a").spearman == Approx(1.0));
  CHECK(find(cs, "a").kendall == Approx(1.0));
  CHECK(find(cs, "a").kind == "proxy");
  CHECK(find(cs, "b").spearman == Approx(-1.0));
  CHECK(find(cs, "#params").kind == "baseline");
  CHECK(find(cs, "#params").spearman == Approx(0.8));
  CHECK(find(cs, "FLOPs").spearman == Approx(0.8));
  // The mean rank of a and b is constant: no information, correlation 0.
  CHECK(find(cs, "a+b").kind == "ensemble");
  CHECK(find(cs, "a+b").spearman == Approx(0.0));
  CHECK(find(cs, "a").n == 4);
}

TEST_CASE("a network a signal could not score is left out of that signal only", "[validate]") {
  ValidationRun run;
  run.signals = {"a", "b"};
  run.rows = {row(10, 1, 1, 1), row(20, std::nan(""), 2, 2), row(30, 3, 3, 3),
              row(40, 4, std::numeric_limits<double>::infinity(), 4)};
  const auto cs = correlate(run);
  CHECK(find(cs, "a").n == 3);
  CHECK(find(cs, "a").spearman == Approx(1.0));
  CHECK(find(cs, "b").n == 3);
  CHECK(find(cs, "#params").n == 4);
}

TEST_CASE("naslib runs also compare each proxy with NASLib's published values", "[validate]") {
  ValidationRun run;
  run.options.set = ValidationSet::kNaslib;
  run.signals = {"synflow"};
  for (int i = 0; i < 5; ++i) {
    ValidationRow r;
    r.arch = std::to_string(i);
    r.accuracy = i;
    r.params = 1;
    r.values["synflow"] = i * i;
    r.published["synflow"] = 10 - i;  // NASLib ranks them the other way
    run.rows.push_back(r);
  }
  const auto cs = correlate(run);
  const auto& impl = find(cs, "synflow vs NASLib synflow");
  CHECK(impl.kind == "implementation");
  CHECK(impl.spearman == Approx(-1.0));
  CHECK(find(cs, "synflow").spearman == Approx(1.0));
}

TEST_CASE("validation set names", "[validate]") {
  CHECK(parse_validation_set("nb201") == ValidationSet::kNb201);
  CHECK(parse_validation_set("nas-bench-macro") == ValidationSet::kMacro);
  CHECK(parse_validation_set("naslib") == ValidationSet::kNaslib);
  CHECK(std::string(validation_set_name(ValidationSet::kMacro)) == "nas-bench-macro");
  CHECK_THROWS_WITH(parse_validation_set("macro"),
                    Catch::Contains("expected nb201, nas-bench-macro or naslib"));
  CHECK(naslib_proxy_names().at("jacob_cov") == "jacov");
}

TEST_CASE("correlate reports the default score when its proxies were computed", "[validate]") {
  ValidationRun run;
  run.signals = {"jacob_cov", "meco", "naswot"};
  // Each proxy alone is half right; their standardised sum ranks the networks exactly.
  const double jc[] = {-33.0, -32.0, -33.0, -32.0}, me[] = {0.1, 0.1, 2.0, 2.0},
               nw[] = {1500, 1500, 1500, 1700};
  for (int i = 0; i < 4; ++i) {
    ValidationRow r;
    r.arch = std::to_string(i);
    r.accuracy = 10.0 * (i + 1);
    r.params = 1;
    r.values = {{"jacob_cov", jc[i]}, {"meco", me[i]}, {"naswot", nw[i]}};
    run.rows.push_back(r);
  }
  const auto table = correlate(run);  // kept: find() returns a reference into it
  const auto& s = find(table, "score (jacob_cov+meco+naswot)");
  CHECK(s.kind == "score");
  CHECK(s.spearman == Approx(1.0));
  CHECK(find(table, "jacob_cov").spearman < 1.0);
}

TEST_CASE("a run without the score's proxies reports no score", "[validate]") {
  ValidationRun run;
  run.signals = {"a", "b"};
  run.rows = {row(10, 1, 4, 10), row(20, 2, 3, 30)};
  for (const auto& c : correlate(run)) CHECK(c.kind != "score");
}
