// Declared-once parameters: parsing, located errors, overrides, defaults, dump and hash text.
#include <catch2/catch.hpp>

#include <algorithm>

#include "models/common/params.hpp"
#include "models/common/yaml_io.hpp"

using namespace nax;

namespace {

Schema test_schema() {
  return Schema({
      ParamDecl::integer("array.rows", "PEs", 32, 1, 4096, "rows").pow2(),
      ParamDecl::number("clock_mhz", "MHz", std::nullopt, 1, 10000, "clock"),
      ParamDecl::enumeration("array.dataflow", {"ws", "os", "is"}, std::string("ws"), "dataflow"),
      ParamDecl::boolean("array.overlap", true, "overlap"),
      ParamDecl::string_list("ops", {"pool", "eltwise"}, std::vector<std::string>{"pool"}, "ops"),
      ParamDecl::string("name", std::string("x"), "name").unhashed(),
  });
}

std::vector<std::string> errors_of(const std::string& yaml) {
  const Schema s = test_schema();
  ParamSet ps;
  DiagnosticSink sink;
  s.parse(parse_yaml(yaml, "t.yaml"), "t.yaml", ps, sink);
  s.fill_defaults(ps, SourceLoc{"t.yaml", 1, 1}, sink);
  std::vector<std::string> out;
  for (const auto& d : sink.diagnostics()) out.push_back(d.str());
  return out;
}

}  // namespace

TEST_CASE("every problem in a document is reported, located", "[params]") {
  const auto e = errors_of(
      "array:\n"
      "  rows: 48\n"
      "  dataflow: wss\n"
      "  overlap: maybe\n"
      "  rowz: 3\n"
      "ops: [pool, conv]\n");
  REQUIRE(e.size() == 6);
  CHECK(e[0] == "t.yaml:2:9: array.rows = 48: expected an integer power of two in [1, 4096]");
  CHECK(e[1] == "t.yaml:3:13: array.dataflow = wss: expected one of ws, os, is; did you mean ws?");
  CHECK(e[2] == "t.yaml:4:12: array.overlap = maybe: expected true or false");
  CHECK(e[3] == "t.yaml:5:3: array.rowz = 3: unknown key; did you mean array.rows?");
  CHECK(e[4] == "t.yaml:6:6: ops = <sequence>: 'conv' is not one of pool, eltwise");
  CHECK(e[5] == "t.yaml:1:1: clock_mhz: missing required key (number, MHz: clock)");
}

TEST_CASE("type errors name what was given", "[params]") {
  const auto e = errors_of("clock_mhz: [1, 2]\narray: 5\n");
  REQUIRE(e.size() == 2);
  CHECK(e[0] ==
        "t.yaml:1:12: clock_mhz = <sequence>: expected a number in [1, 10000], got a sequence");
  CHECK(e[1] == "t.yaml:2:8: array = 5: expected a mapping of keys, got a scalar");
}

TEST_CASE("duplicate keys and unknown top-level keys", "[params]") {
  const auto e = errors_of("clock_mhz: 100\nclock_mhz: 200\nfoo: 1\n");
  REQUIRE(e.size() == 2);
  CHECK(e[0] == "t.yaml:2:1: clock_mhz: key given twice");
  CHECK(e[1] == "t.yaml:3:1: foo = 1: unknown key; expected one of array, clock_mhz, ops, name");
}

TEST_CASE("overrides are checked like file values", "[params]") {
  const Schema s = test_schema();
  ParamSet ps;
  DiagnosticSink sink;
  s.apply_override("array.rows=64", ps, sink);
  s.apply_override("array.row=64", ps, sink);
  s.apply_override("array.rows=abc", ps, sink);
  s.apply_override("clock_mhz", ps, sink);
  REQUIRE(sink.size() == 3);
  CHECK(ps.get_int("array.rows") == 64);
  CHECK(sink.diagnostics()[0].str() == "-p: array.row = 64: no such key; did you mean array.rows?");
  CHECK(sink.diagnostics()[1].str() ==
        "-p: array.rows = abc: expected an integer power of two in [1, 4096]");
  CHECK(sink.diagnostics()[2].str() == "-p: clock_mhz: expected key.path=value");
}

TEST_CASE("resolved values dump to YAML that parses back identically", "[params]") {
  const Schema s = test_schema();
  ParamSet ps;
  DiagnosticSink sink;
  s.parse(parse_yaml("clock_mhz: 800\narray: {rows: 16}\n", "a.yaml"), "a.yaml", ps, sink);
  s.fill_defaults(ps, {}, sink);
  REQUIRE(sink.empty());
  const std::string dumped = s.emit_yaml(ps);
  ParamSet again;
  s.parse(parse_yaml(dumped, "b.yaml"), "b.yaml", again, sink);
  s.fill_defaults(again, {}, sink);
  REQUIRE(sink.empty());
  CHECK(s.canonical_text(ps) == s.canonical_text(again));
  CHECK(s.canonical_text(ps) ==
        "array.rows=16\nclock_mhz=800\narray.dataflow=ws\narray.overlap=true\nops=[pool]\n");
}

TEST_CASE("hostile YAML is an error and never a crash", "[params]") {
  CHECK_THROWS_AS(parse_yaml("a: [1, 2", "x.yaml"), InputError);
  CHECK_THROWS_AS(parse_yaml(std::string(5000, '['), "x.yaml"), InputError);
  CHECK_THROWS_WITH(parse_yaml(std::string("a\0b", 3), "x.yaml"),
                    "x.yaml: file contains NUL bytes; expected YAML text");
  // A billion-laughs document parses (aliases are shared), and the schema walk does not expand it.
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'k'; ++c) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + static_cast<char>(c - 1);
    bomb += "]\n";
  }
  bomb += "array: *k\n";
  const auto e = errors_of(bomb);
  // yaml-cpp locates an alias at its anchor.
  CHECK(std::count(e.begin(), e.end(),
                   "t.yaml:11:4: array = <sequence>: expected a mapping of keys, got a sequence") ==
        1);
}

TEST_CASE("did_you_mean suggests only plausible typos", "[params]") {
  CHECK(did_you_mean("rowz", {"rows", "cols"}) == "rows");
  CHECK(did_you_mean("capacity_kb", {"capacity_kib", "banks"}) == "capacity_kib");
  CHECK(did_you_mean("zzzzzz", {"rows", "cols"}).empty());
}
