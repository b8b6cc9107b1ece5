// Chip descriptions: every kind of config error, with its exact located message.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "hw/chip/chip.hpp"

using namespace nax;
using namespace nax::hw;

namespace {

// The smallest valid chip: the required keys only.
const std::string kBase =
    "name: t\n"               // line 1
    "clock_mhz: 1000\n"       // line 2
    "mac_array:\n"            // line 3
    "  rows: 32\n"            // line 4
    "  cols: 32\n"            // line 5
    "sram:\n"                 // line 6
    "  capacity_kib: 512\n";  // line 7

// Every diagnostic of parsing `yaml` (as chip.yaml), formatted; empty when it parses.
std::vector<std::string> errors(const std::string& yaml, const std::vector<std::string>& ov = {}) {
  std::vector<std::string> out;
  try {
    parse_chip(yaml, "chip.yaml", ov);
  } catch (const InputError& e) {
    for (const auto& d : e.diagnostics()) out.push_back(d.str());
  }
  return out;
}

std::string one_error(const std::string& yaml, const std::vector<std::string>& ov = {}) {
  const auto e = errors(yaml, ov);
  if (e.size() != 1) {
    std::string all;
    for (const auto& s : e) all += "\n  " + s;
    FAIL_CHECK("expected exactly one error, got " << e.size() << ":" << all);
    return "";
  }
  return e[0];
}

}  // namespace

TEST_CASE("the base chip is valid", "[chip][errors]") {
  CHECK(errors(kBase).empty());
}

TEST_CASE("an unknown nested key is an error with a did-you-mean hint", "[chip][errors]") {
  // A dotted key is not a path: YAML sections nest.
  CHECK(one_error(kBase + "mac_array.x: 1\n") ==
        "chip.yaml:8:1: mac_array.x = 1: unknown key; did you mean mac_array?");
  CHECK(one_error("name: t\nclock_mhz: 1000\nmac_array:\n  rows: 32\n  cols: 32\n"
                  "  dataflw: os\nsram:\n  capacity_kib: 512\n") ==
        "chip.yaml:6:3: mac_array.dataflw = os: unknown key; did you mean mac_array.dataflow?");
  CHECK(one_error(kBase + "dram:\n  bandwidth_gbps: 12\n") ==
        "chip.yaml:9:3: dram.bandwidth_gbps = 12: unknown key; did you mean "
        "dram.bandwidth_gb_per_s?");
}

TEST_CASE("an unknown top-level key is an error", "[chip][errors]") {
  CHECK(one_error(kBase + "frobnicate: 1\n") ==
        "chip.yaml:8:1: frobnicate = 1: unknown key; expected one of name, description, "
        "clock_mhz, mac_array, vector_unit, sram, dma, dram, data, depthwise_on, energy, area");
  CHECK(one_error(kBase + "energi:\n  mac_pj: 1\n") ==
        "chip.yaml:8:1: energi = <mapping>: unknown key; did you mean energy?");
}

TEST_CASE("a value of the wrong type is an error", "[chip][errors]") {
  CHECK(one_error(kBase + "dma:\n  channels: four\n") ==
        "chip.yaml:9:13: dma.channels = four: expected an integer in [1, 64]");
  CHECK(one_error(kBase + "dma:\n  channels: 2.5\n") ==
        "chip.yaml:9:13: dma.channels = 2.5: expected an integer in [1, 64]");
  CHECK(one_error(kBase + "dram:\n  ideal: maybe\n") ==
        "chip.yaml:9:10: dram.ideal = maybe: expected true or false");
  CHECK(one_error(kBase + "dram:\n  latency_ns: [1, 2]\n") ==
        "chip.yaml:9:15: dram.latency_ns = <sequence>: expected a number in [0, 1000000], got a "
        "sequence");
  CHECK(one_error(kBase + "vector_unit: 8\n") ==
        "chip.yaml:8:14: vector_unit = 8: expected a mapping of keys, got a scalar");
  CHECK(one_error(kBase + "vector_unit:\n  ops: pool\n") ==
        "chip.yaml:9:8: vector_unit.ops = pool: expected a list of names, each one of dwconv, "
        "pool, eltwise, activation, requant, resize, softmax, got a scalar");
}

TEST_CASE("a section given as a scalar does not also report its keys missing", "[chip][errors]") {
  CHECK(one_error("name: t\nclock_mhz: 1000\nmac_array: 32\nsram:\n  capacity_kib: 512\n") ==
        "chip.yaml:3:12: mac_array = 32: expected a mapping of keys, got a scalar");
}

TEST_CASE("negative sizes are errors", "[chip][errors]") {
  CHECK(one_error("name: t\nclock_mhz: 1000\nmac_array:\n  rows: 32\n  cols: 32\nsram:\n"
                  "  capacity_kib: -512\n") ==
        "chip.yaml:7:17: sram.capacity_kib = -512: expected an integer in [1, 1048576]; a size "
        "cannot be negative");
  CHECK(one_error(kBase + "dram:\n  latency_ns: -5\n") ==
        "chip.yaml:9:15: dram.latency_ns = -5: expected a number in [0, 1000000]; cannot be "
        "negative");
}

TEST_CASE("zero banks is an error", "[chip][errors]") {
  CHECK(one_error(kBase + "  banks: 0\n") ==
        "chip.yaml:8:10: sram.banks = 0: expected an integer power of two in [1, 1024]; zero is "
        "not allowed");
}

TEST_CASE("non-powers of two are errors where a power of two is required", "[chip][errors]") {
  CHECK(one_error(kBase + "  banks: 12\n") ==
        "chip.yaml:8:10: sram.banks = 12: expected an integer power of two in [1, 1024]; 12 is "
        "not a power of two");
  CHECK(one_error(kBase + "  bank_bytes_per_cycle: 24\n") ==
        "chip.yaml:8:25: sram.bank_bytes_per_cycle = 24: expected an integer power of two in [1, "
        "4096]; 24 is not a power of two");
  CHECK(one_error(kBase + "dma:\n  burst_bytes: 48\n") ==
        "chip.yaml:9:16: dma.burst_bytes = 48: expected an integer power of two in [1, 65536]; 48 "
        "is not a power of two");
}

TEST_CASE("out-of-range values are errors", "[chip][errors]") {
  CHECK(one_error("name: t\nclock_mhz: 1000\nmac_array:\n  rows: 5000\n  cols: 32\nsram:\n"
                  "  capacity_kib: 512\n") ==
        "chip.yaml:4:9: mac_array.rows = 5000: expected an integer in [1, 4096]; 5000 is above "
        "the maximum");
  CHECK(one_error(kBase + "dram:\n  bandwidth_gb_per_s: 0.0001\n") ==
        "chip.yaml:9:23: dram.bandwidth_gb_per_s = 0.0001: expected a number in [0.001, 100000]; "
        "0.0001 is below the minimum");
  CHECK(one_error(kBase + "data:\n  weight_bits: 0\n") ==
        "chip.yaml:9:16: data.weight_bits = 0: expected an integer in [1, 32]; zero is not "
        "allowed");
}

TEST_CASE("a bad enum value is an error with a did-you-mean hint", "[chip][errors]") {
  CHECK(one_error(kBase + "depthwise_on: vector_uint\n") ==
        "chip.yaml:8:15: depthwise_on = vector_uint: expected one of mac_array, vector_unit; did "
        "you mean vector_unit?");
  CHECK(one_error(kBase + "depthwise_on: vector\n") ==
        "chip.yaml:8:15: depthwise_on = vector: expected one of mac_array, vector_unit");
  CHECK(one_error(kBase + "mac_array2: 1\n") ==
        "chip.yaml:8:1: mac_array2 = 1: unknown key; did you mean mac_array?");
  CHECK(one_error(kBase + "vector_unit:\n  ops: [pool, dwconw]\n") ==
        "chip.yaml:9:8: vector_unit.ops = <sequence>: 'dwconw' is not one of dwconv, pool, "
        "eltwise, activation, requant, resize, softmax; did you mean dwconv?");
}

TEST_CASE("a missing required key is an error located at its section", "[chip][errors]") {
  CHECK(one_error("name: t\nclock_mhz: 1000\nmac_array:\n  rows: 32\nsram:\n"
                  "  capacity_kib: 512\n") ==
        "chip.yaml:3:1: mac_array.cols: missing required key (integer, PEs: columns of the "
        "systolic MAC array (output channels); the parallelism factor)");
  CHECK(one_error("clock_mhz: 1000\nmac_array:\n  rows: 32\n  cols: 32\nsram:\n"
                  "  capacity_kib: 512\n") ==
        "chip.yaml:1:1: name: missing required key (string: short name of the chip, shown in "
        "results)");
}

TEST_CASE("several missing keys are each located at their own section", "[chip][errors]") {
  CHECK(errors("clock_mhz: 1000\n"
               "mac_array:\n"
               "  dataflow: os\n"
               "sram:\n"
               "  banks: 4\n") ==
        std::vector<std::string>{
            "chip.yaml:1:1: name: missing required key (string: short name of the chip, shown in "
            "results)",
            "chip.yaml:2:1: mac_array.rows: missing required key (integer, PEs: rows of the "
            "systolic MAC array (input channels / reduction dimension))",
            "chip.yaml:2:1: mac_array.cols: missing required key (integer, PEs: columns of the "
            "systolic MAC array (output channels); the parallelism factor)",
            "chip.yaml:4:1: sram.capacity_kib: missing required key (integer, KiB: total on-chip "
            "SRAM; with split, must equal ifmap_kib + weight_kib + ofmap_kib)"});
}

TEST_CASE("a key given twice is an error", "[chip][errors]") {
  CHECK(one_error(kBase + "  capacity_kib: 1024\n") ==
        "chip.yaml:8:3: sram.capacity_kib: key given twice");
  CHECK(one_error(kBase + "clock_mhz: 500\n") == "chip.yaml:8:1: clock_mhz: key given twice");
}

TEST_CASE("an override of a key that does not exist is an error", "[chip][errors]") {
  CHECK(one_error(kBase, {"mac_array.rwos=64"}) ==
        "-p: mac_array.rwos = 64: no such key; did you mean mac_array.rows?");
  CHECK(one_error(kBase, {"sram=64"}) == "-p: sram = 64: no such key");
  CHECK(one_error(kBase, {"mac_array.rows"}) == "-p: mac_array.rows: expected key.path=value");
}

TEST_CASE("an override with a bad value is an error", "[chip][errors]") {
  CHECK(one_error(kBase, {"mac_array.rows=abc"}) ==
        "-p: mac_array.rows = abc: expected an integer in [1, 4096]");
  CHECK(one_error(kBase, {"sram.banks=6"}) ==
        "-p: sram.banks = 6: expected an integer power of two in [1, 1024]; 6 is not a power of "
        "two");
  CHECK(one_error(kBase, {"mac_array.dataflow=ow"}) ==
        "-p: mac_array.dataflow = ow: expected one of ws, os, is; did you mean os?");
}

TEST_CASE("an SRAM too small for one minimal tile is an error naming bytes", "[chip][errors]") {
  // 64x64 int8: weights 4096 B + inputs 64 B + accumulators 256 B = 4416 B, doubled 8832 B.
  CHECK(one_error("name: t\nclock_mhz: 1000\nmac_array:\n  rows: 64\n  cols: 64\nsram:\n"
                  "  capacity_kib: 8\n") ==
        "chip.yaml:7:17: sram.capacity_kib = 8: SRAM too small to hold one minimal tile: needs "
        "8832 bytes (64x64 weights x 1 B = 4096 B + 64 input activations x 1 B = 64 B + 64 "
        "accumulators x 4 B = 256 B, doubled for double buffering), has 8192 bytes");
  // Without double buffering it fits.
  CHECK(errors("name: t\nclock_mhz: 1000\nmac_array:\n  rows: 64\n  cols: 64\nsram:\n"
               "  capacity_kib: 8\n  double_buffering: false\n")
            .empty());
  // Split: each buffer holds its own part.
  CHECK(one_error("name: t\nclock_mhz: 1000\nmac_array:\n  rows: 64\n  cols: 64\nsram:\n"
                  "  organization: split\n  capacity_kib: 10\n  ifmap_kib: 1\n  weight_kib: 8\n"
                  "  ofmap_kib: 1\n  banks: 1\ndata:\n  weight_bits: 16\n") ==
        "chip.yaml:10:15: sram.weight_kib = 8: weight SRAM too small to hold one minimal tile's "
        "part: needs 16384 bytes (64x64 weights x 2 B = 8192 B, doubled for double buffering), "
        "has 8192 bytes");
  // Overrides are checked too, and the problem is located at the override.
  CHECK(one_error(kBase, {"sram.capacity_kib=4", "mac_array.rows=128", "mac_array.cols=128"}) ==
        "-p: sram.capacity_kib = 4: SRAM too small to hold one minimal tile: needs 34048 bytes "
        "(128x128 weights x 1 B = 16384 B + 128 input activations x 1 B = 128 B + 128 "
        "accumulators x 4 B = 512 B, doubled for double buffering), has 4096 bytes");
}

TEST_CASE("split SRAM sizes must add up to the capacity", "[chip][errors]") {
  const std::string split =
      "name: t\nclock_mhz: 1000\nmac_array:\n  rows: 32\n  cols: 32\nsram:\n"
      "  organization: split\n  capacity_kib: 100\n  ifmap_kib: 64\n  weight_kib: 64\n"
      "  ofmap_kib: 64\n";
  CHECK(one_error(split) ==
        "chip.yaml:8:17: sram.capacity_kib = 100: with sram.organization: split, expected the sum "
        "sram.ifmap_kib + sram.weight_kib + sram.ofmap_kib = 64 + 64 + 64 = 192");
  CHECK(errors(split, {"sram.capacity_kib=192"}).empty());
  CHECK(one_error("name: t\nclock_mhz: 1000\nmac_array:\n  rows: 32\n  cols: 32\nsram:\n"
                  "  organization: split\n  capacity_kib: 128\n  ifmap_kib: 64\n"
                  "  weight_kib: 64\n") ==
        "chip.yaml: sram.ofmap_kib = 0 (default): with sram.organization: split, each of "
        "sram.ifmap_kib, sram.weight_kib and sram.ofmap_kib must be at least 1");
}

TEST_CASE("split sizes with a unified SRAM are an error", "[chip][errors]") {
  CHECK(one_error(kBase + "  weight_kib: 64\n") ==
        "chip.yaml:8:15: sram.weight_kib = 64: only used with sram.organization: split (a unified "
        "SRAM is sized by sram.capacity_kib); expected 0 or no key");
}

TEST_CASE("the SRAM must divide into whole bank rows", "[chip][errors]") {
  CHECK(one_error(kBase + "  banks: 1024\n  bank_bytes_per_cycle: 1024\n") ==
        "chip.yaml:7:17: sram.capacity_kib = 512: 524288 bytes do not divide into sram.banks = "
        "1024 banks of whole sram.bank_bytes_per_cycle = 1024-byte rows; expected a multiple of "
        "1048576 bytes");
}

TEST_CASE("depthwise on the vector unit needs dwconv in its ops", "[chip][errors]") {
  CHECK(one_error(kBase + "depthwise_on: vector_unit\nvector_unit:\n  ops: [pool, eltwise]\n") ==
        "chip.yaml:8:15: depthwise_on = vector_unit: the vector unit does not run dwconv "
        "(vector_unit.ops = [pool, eltwise]); add dwconv to vector_unit.ops or set depthwise_on: "
        "mac_array");
  CHECK(errors(kBase + "depthwise_on: vector_unit\n").empty());
}

TEST_CASE("accumulators must be at least as wide as the operands", "[chip][errors]") {
  CHECK(one_error(kBase + "data:\n  activation_bits: 16\n  accumulator_bits: 8\n") ==
        "chip.yaml:10:21: data.accumulator_bits = 8: expected at least 16, the wider of "
        "data.activation_bits = 16 and data.weight_bits = 8");
}

TEST_CASE("the name must not be empty", "[chip][errors]") {
  CHECK(one_error("name: ''\nclock_mhz: 1000\nmac_array:\n  rows: 32\n  cols: 32\nsram:\n"
                  "  capacity_kib: 512\n") == "chip.yaml:1:7: name: expected a non-empty name");
}

TEST_CASE("an empty file is an error", "[chip][errors]") {
  const std::string msg =
      "chip.yaml: file is empty; expected a chip description (a YAML mapping with keys such as "
      "name, clock_mhz, mac_array and sram)";
  CHECK(one_error("") == msg);
  CHECK(one_error("\n\n   \n") == msg);
  CHECK(one_error("# only a comment\n") == msg);
}

TEST_CASE("garbage is an error", "[chip][errors]") {
  CHECK(one_error(std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16)) ==
        "chip.yaml: file contains NUL bytes; expected YAML text");
  CHECK(one_error("just some words") ==
        "chip.yaml:1:1: expected a chip description (a YAML mapping with keys such as name, "
        "clock_mhz, mac_array and sram), got a scalar");
  CHECK(one_error("- a\n- b\n") ==
        "chip.yaml:1:1: expected a chip description (a YAML mapping with keys such as name, "
        "clock_mhz, mac_array and sram), got a sequence");
  CHECK(one_error("name: [unclosed\n") ==
        "chip.yaml:2:1: invalid YAML: end of sequence flow not found");
}

TEST_CASE("every problem in a file is reported together", "[chip][errors]") {
  const auto e = errors(
      "name: t\n"                     // 1
      "clock_mhz: fast\n"             // 2
      "mac_array:\n"                  // 3
      "  rows: 64\n"                  // 4
      "  colz: 64\n"                  // 5
      "  dataflow: wss\n"             // 6
      "sram:\n"                       // 7
      "  capacity_kib: -5\n"          // 8
      "  banks: 0\n"                  // 9
      "  bank_bytes_per_cycle: 24\n"  // 10
      "  banks: 4\n"                  // 11
      "frobnicate: 1\n"               // 12
      "depthwise_on: vector_unit\n"   // 13
      "vector_unit:\n"                // 14
      "  ops: [pool]\n",              // 15
      {"dma.chanels=2", "dram.latency_ns=-1"});
  const std::vector<std::string> want = {
      "chip.yaml:2:12: clock_mhz = fast: expected a number in [1, 100000]",
      "chip.yaml:5:3: mac_array.colz = 64: unknown key; did you mean mac_array.cols?",
      "chip.yaml:6:13: mac_array.dataflow = wss: expected one of ws, os, is; did you mean ws?",
      "chip.yaml:8:17: sram.capacity_kib = -5: expected an integer in [1, 1048576]; a size cannot "
      "be negative",
      "chip.yaml:9:10: sram.banks = 0: expected an integer power of two in [1, 1024]; zero is not "
      "allowed",
      "chip.yaml:10:25: sram.bank_bytes_per_cycle = 24: expected an integer power of two in [1, "
      "4096]; 24 is not a power of two",
      "chip.yaml:11:3: sram.banks: key given twice",
      "chip.yaml:12:1: frobnicate = 1: unknown key; expected one of name, description, "
      "clock_mhz, mac_array, vector_unit, sram, dma, dram, data, depthwise_on, energy, area",
      "-p: dma.chanels = 2: no such key; did you mean dma.channels?",
      "-p: dram.latency_ns = -1: expected a number in [0, 1000000]; cannot be negative",
      "chip.yaml:3:1: mac_array.cols: missing required key (integer, PEs: columns of the "
      "systolic MAC array (output channels); the parallelism factor)",
      "chip.yaml:13:15: depthwise_on = vector_unit: the vector unit does not run dwconv "
      "(vector_unit.ops = [pool]); add dwconv to vector_unit.ops or set depthwise_on: mac_array",
  };
  CHECK(e == want);
}

TEST_CASE("a flood of problems is capped with a count of the rest", "[chip][errors]") {
  std::string yaml = kBase;
  for (int i = 0; i < 300; ++i) yaml += "junk_" + std::to_string(i) + ": 1\n";
  const auto e = errors(yaml);
  REQUIRE(e.size() == 101);
  CHECK(e.front().rfind("chip.yaml:8:1: junk_0 = 1: unknown key", 0) == 0);
  CHECK(e.back() == "chip.yaml: ... and 200 more problems");
}

TEST_CASE("an unknown preset is an error listing the presets", "[chip][errors]") {
  CHECK_THROWS_WITH(load_chip("defualt"),
                    "--chip = defualt: unknown chip preset; did you mean default? (presets: "
                    "default, edgetpu-like, eyeriss-like, scalesim-os-32x32, scalesim-ws-32x32, "
                    "server, tiny; or a path to a chip .yaml file)");
  CHECK_THROWS_AS(load_chip("zzz"), InputError);
}
