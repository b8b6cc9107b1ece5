// Chip descriptions from hostile input: every one is a clear InputError, never a crash or a hang.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

#include "hw/chip/chip.hpp"

using namespace nax;
using namespace nax::hw;
namespace fs = std::filesystem;

namespace {

// A fresh directory under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    m_path = fs::temp_directory_path() / ("nax_chip_test_" + std::to_string(rd()));
    fs::create_directories(m_path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(m_path, ec);
  }
  std::string write(const std::string& name, const std::string& bytes) const {
    const std::string p = (m_path / name).string();
    std::ofstream out(p, std::ios::binary);
    out << bytes;
    return p;
  }
  std::string path() const { return m_path.string(); }

 private:
  fs::path m_path;
};

std::vector<std::string> file_errors(const std::string& path) {
  try {
    load_chip_file(path);
  } catch (const InputError& e) {
    std::vector<std::string> out;
    for (const auto& d : e.diagnostics()) out.push_back(d.str());
    return out;
  }
  return {};
}

std::string one_file_error(const std::string& path) {
  const auto e = file_errors(path);
  REQUIRE(e.size() == 1);
  return e[0];
}

std::vector<std::string> text_errors(const std::string& text) {
  try {
    parse_chip(text, "x.yaml");
  } catch (const InputError& e) {
    std::vector<std::string> out;
    for (const auto& d : e.diagnostics()) out.push_back(d.str());
    return out;
  }
  return {};
}

// Billion laughs: nine aliases of nine aliases of ..., 9^depth leaves if expanded.
std::string yaml_bomb_anchors(int depth) {
  std::string s = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i <= depth; ++i) {
    const std::string prev = "*a" + std::to_string(i - 1);
    s += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 9; ++j) s += (j ? ", " : "") + prev;
    s += "]\n";
  }
  return s;
}

template <typename F>
double seconds(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("an empty file is an InputError", "[chip][robust]") {
  TempDir dir;
  const std::string p = dir.write("empty.yaml", "");
  CHECK(one_file_error(p) ==
        p + ": file is empty; expected a chip description (a YAML mapping with keys such as "
            "name, clock_mhz, mac_array and sram)");
}

TEST_CASE("a missing file, a directory and a device are InputErrors", "[chip][robust]") {
  TempDir dir;
  CHECK(one_file_error(dir.path() + "/nope.yaml") == dir.path() + "/nope.yaml: no such file");
  CHECK(one_file_error(dir.path()) == dir.path() + ": is a directory; expected a chip .yaml file");
  if (fs::exists("/dev/null")) {
    CHECK(one_file_error("/dev/null") ==
          "/dev/null: not a regular file; expected a chip .yaml "
          "file");
  }
  // Through --chip too.
  CHECK_THROWS_WITH(load_chip(dir.path() + "/nope.yaml"), dir.path() + "/nope.yaml: no such file");
}

TEST_CASE("random bytes are an InputError", "[chip][robust]") {
  TempDir dir;
  std::mt19937 rng(12345);
  std::string bytes(4096, '\0');
  for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
  bytes[100] = '\0';
  const std::string p = dir.write("garbage.yaml", bytes);
  CHECK(one_file_error(p) == p + ": file contains NUL bytes; expected YAML text");

  // Without NUL bytes: whatever yaml-cpp makes of them, the answer is an InputError.
  for (unsigned seed = 0; seed < 300; ++seed) {
    std::mt19937 r(seed);
    std::string text(1 + r() % 2048, ' ');
    for (char& c : text) c = static_cast<char>(1 + r() % 255);
    INFO("seed " << seed);
    CHECK_THROWS_AS(parse_chip(text, "r.yaml"), InputError);
  }
  // Random printable YAML-ish punctuation, which reaches deeper into the parser.
  const std::string alphabet = "[]{}:,-?*&!|>'\"%@` #\n\t abc123.";
  for (unsigned seed = 0; seed < 300; ++seed) {
    std::mt19937 r(seed);
    std::string text(1 + r() % 512, ' ');
    for (char& c : text) c = alphabet[r() % alphabet.size()];
    INFO("seed " << seed);
    CHECK_THROWS_AS(parse_chip(text, "r.yaml"), InputError);
  }
}

TEST_CASE("a YAML bomb is an InputError, quickly", "[chip][robust]") {
  // 9^12 (about 2.8e11) leaves if anything expanded the aliases.
  const std::string bomb = yaml_bomb_anchors(12);
  double t = seconds([&] {
    const auto e = text_errors(bomb);
    REQUIRE(e.size() == 18);  // 13 unknown keys + 5 missing required keys
    CHECK(e[0] ==
          "x.yaml:1:1: a0 = <sequence>: unknown key; expected one of name, description, "
          "clock_mhz, mac_array, vector_unit, sram, dma, dram, data, depthwise_on, "
          "energy, area");
  });
  CHECK(t < 5.0);
  // The bomb where values are read.
  const std::string base =
      "name: t\nclock_mhz: 1000\nmac_array:\n  rows: 32\n  cols: 32\nsram:\n  capacity_kib: 512\n";
  t = seconds([&] {
    const auto e = text_errors(bomb + base + "vector_unit:\n  ops: *a12\nenergy: *a12\n");
    REQUIRE(e.size() >= 2);
    CHECK(e[e.size() - 2] ==
          "x.yaml:13:6: vector_unit.ops = <sequence>: expected a list of names, each one of "
          "dwconv, pool, eltwise, activation, requant, resize, softmax");
    CHECK(e.back() ==
          "x.yaml:13:6: energy = <sequence>: expected a mapping of keys, got a "
          "sequence");
  });
  CHECK(t < 5.0);
  // A bomb of mappings.
  std::string map_bomb = "m0: &m0 {k0: lol, k1: lol, k2: lol}\n";
  for (int i = 1; i <= 12; ++i) {
    const std::string prev = "*m" + std::to_string(i - 1);
    map_bomb += "m" + std::to_string(i) + ": &m" + std::to_string(i) + " {k0: " + prev +
                ", k1: " + prev + ", k2: " + prev + "}\n";
  }
  t = seconds([&] {
    const auto e = text_errors(base + "mac_array2: 1\n" + map_bomb + "dma: *m12\n");
    CHECK_FALSE(e.empty());
  });
  CHECK(t < 5.0);
}

TEST_CASE("deep nesting is an InputError", "[chip][robust]") {
  TempDir dir;
  const std::string flow = std::string(100000, '[') + std::string(100000, ']');
  const std::string p = dir.write("deep.yaml", flow);
  CHECK(one_file_error(p) == p + ": invalid YAML: nested too deeply");
  std::string block;
  for (int i = 0; i < 50000; ++i) block += "- ";
  block += "x\n";
  CHECK(text_errors(block) == std::vector<std::string>{"x.yaml: invalid YAML: nested too deeply"});
  std::string maps = "name: t\nclock_mhz: 1000\nmac_array: ";
  for (int i = 0; i < 200000; ++i) maps += "{a: ";
  CHECK(text_errors(maps) == std::vector<std::string>{"x.yaml: invalid YAML: nested too deeply"});
  // Deep but within the parser's limit: an ordinary type error.
  const std::string ok_depth = "name: " + std::string(300, '[') + std::string(300, ']') + "\n";
  const auto e = text_errors(ok_depth);
  REQUIRE_FALSE(e.empty());
  CHECK(e[0] == "x.yaml:1:7: name = <sequence>: expected a string, got a sequence");
}

TEST_CASE("a 20 MB file is an InputError", "[chip][robust]") {
  TempDir dir;
  std::string big = "name: t\n";
  big += "description: " + std::string(20 * 1024 * 1024, 'x') + "\n";
  const std::string p = dir.write("big.yaml", big);
  CHECK(one_file_error(p) == p + ": file is " + std::to_string(big.size()) +
                                 " bytes; a chip description is at most 1048576 bytes");
  CHECK(text_errors(std::string(2 * 1024 * 1024, '#')) ==
        std::vector<std::string>{
            "x.yaml: file is 2097152 bytes; a chip description is at most 1048576 bytes"});
}

TEST_CASE("odd but valid text in strings survives a dump", "[chip][robust]") {
  const std::string base =
      "clock_mhz: 1000\nmac_array:\n  rows: 32\n  cols: 32\nsram:\n  capacity_kib: 512\n";
  for (const std::string name : {"\"tab\\there\"", "\"new\\nline\"", "'# not a comment'",
                                 "\"\\xff\\u00e9\"", "'true'", "'123'", "\"{x: 1}\""}) {
    INFO("name " << name);
    const ChipParams c = parse_chip("name: " + name + "\n" + base, "s.yaml");
    const ChipParams again = parse_chip(dump_chip(c), "s2.yaml");
    CHECK(again.name == c.name);
    CHECK(again.hash == c.hash);
  }
  // Bytes that are not UTF-8 do not crash the dump.
  const ChipParams raw = parse_chip("name: \xff\xfe\n" + base, "raw.yaml");
  CHECK_NOTHROW(dump_chip(raw));
}
