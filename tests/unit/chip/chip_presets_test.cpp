// Chip presets and the resolved dump: every preset round-trips (dump -> parse gives the same chip
// and hash), the embedded presets are the files in configs/chips, defaults match `default`.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "hw/chip/chip.hpp"
#include "models/common/yaml_io.hpp"

using namespace nax;
using namespace nax::hw;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Same resolved value for every declared key (hashed or not).
void check_same_values(const ChipParams& a, const ChipParams& b) {
  for (const auto& d : chip_schema().decls()) {
    INFO("key " << d.path);
    CHECK(format_value(a.values.entry(d.path).value) == format_value(b.values.entry(d.path).value));
    CHECK(a.values.entry(d.path).value.index() == b.values.entry(d.path).value.index());
  }
}

}  // namespace

TEST_CASE("the expected presets are compiled in", "[chip][presets]") {
  CHECK(preset_names() == std::vector<std::string>{"default", "edgetpu-like", "eyeriss-like",
                                                   "scalesim-os-32x32", "scalesim-ws-32x32",
                                                   "server", "tiny"});
}

TEST_CASE("every preset round-trips through dump with the same chip and hash", "[chip][presets]") {
  for (const auto& name : preset_names()) {
    INFO("preset " << name);
    const ChipParams chip = load_chip(name);
    CHECK(chip.name == name);
    CHECK(chip.hash.size() == 16);
    const std::string dumped = dump_chip(chip);
    const ChipParams again = parse_chip(dumped, name + ".dump.yaml");
    CHECK(again.hash == chip.hash);
    CHECK(again.name == chip.name);
    CHECK(again.description == chip.description);
    check_same_values(chip, again);
    CHECK(dump_chip(again) == dumped);  // the dump is a fixed point
    // The struct carries the same numbers.
    CHECK(again.mac_array.rows == chip.mac_array.rows);
    CHECK(again.mac_array.dataflow == chip.mac_array.dataflow);
    CHECK(again.sram.capacity_kib == chip.sram.capacity_kib);
    CHECK(again.dram.bandwidth_gb_per_s == chip.dram.bandwidth_gb_per_s);
    CHECK(again.energy.mac_pj == chip.energy.mac_pj);
    CHECK(again.area.sram_mm2_per_mib == chip.area.sram_mm2_per_mib);
  }
}

TEST_CASE("overridden chips round-trip too", "[chip][presets]") {
  const ChipParams chip = load_chip(
      "default", {"mac_array.rows=64", "dram.bandwidth_gb_per_s=12.8", "vector_unit.ops=[pool]",
                  "description='with: colons # and hashes'", "name=yes"});
  const ChipParams again = parse_chip(dump_chip(chip), "x.yaml");
  CHECK(again.hash == chip.hash);
  CHECK(again.name == "yes");
  CHECK(again.description == "with: colons # and hashes");
  CHECK(again.vector_unit.ops == std::vector<std::string>{"pool"});
  check_same_values(chip, again);
}

TEST_CASE("the embedded presets are the files in configs/chips", "[chip][presets]") {
  for (const auto& name : preset_names()) {
    INFO("preset " << name);
    const std::string path = std::string(NAX_SOURCE_DIR) + "/configs/chips/" + name + ".yaml";
    CHECK(preset_text(name) == read_file(path));
    const ChipParams from_file = load_chip(path);
    CHECK(from_file.hash == load_chip(name).hash);
  }
}

TEST_CASE("every preset file starts with a comment saying where its numbers come from",
          "[chip][presets]") {
  for (const auto& name : preset_names()) {
    INFO("preset " << name);
    const std::string& text = preset_text(name);
    CHECK(text.rfind("# " + name + ":", 0) == 0);
    CHECK(text.find("come from") != std::string::npos);
  }
}

TEST_CASE("the schema defaults are the default preset's values", "[chip][presets]") {
  const ChipParams def = load_chip("default");
  for (const auto& d : chip_schema().decls()) {
    if (!d.default_ || !d.hashed) continue;
    INFO("key " << d.path);
    CHECK(format_value(*d.default_) == format_value(def.values.entry(d.path).value));
  }
  // A file with only the required keys, sized like default, is the same hardware.
  const ChipParams minimal = parse_chip(
      "name: m\nclock_mhz: 1000\nmac_array:\n  rows: 32\n  cols: 32\nsram:\n"
      "  capacity_kib: 2048\n",
      "m.yaml");
  CHECK(minimal.hash == def.hash);
}

TEST_CASE("the presets have the documented shapes", "[chip][presets]") {
  const ChipParams ws = load_chip("scalesim-ws-32x32");
  CHECK(ws.mac_array.rows == 32);
  CHECK(ws.mac_array.cols == 32);
  CHECK(ws.mac_array.dataflow == Dataflow::kWeightStationary);
  CHECK_FALSE(ws.mac_array.overlap_preload);
  CHECK(ws.dram.ideal);
  CHECK(ws.sram.organization == SramOrganization::kSplit);
  CHECK(ws.sram.ifmap_kib == 64);
  CHECK(ws.sram.weight_kib == 64);
  CHECK(ws.sram.ofmap_kib == 64);
  const ChipParams os = load_chip("scalesim-os-32x32");
  CHECK(os.mac_array.dataflow == Dataflow::kOutputStationary);
  CHECK(os.dram.ideal);
  CHECK_FALSE(os.mac_array.overlap_preload);
  CHECK(os.hash != ws.hash);

  const ChipParams ey = load_chip("eyeriss-like");
  CHECK(ey.num_pes() == 168);
  CHECK(ey.sram.capacity_kib == 108);
  CHECK(ey.activation_bytes() == 2);
  CHECK(load_chip("edgetpu-like").mac_array.rows == 64);
  CHECK(load_chip("server").num_pes() == 128 * 128);
  const ChipParams tiny = load_chip("tiny");
  CHECK(tiny.num_pes() == 256);
  CHECK(tiny.sram_bytes() < 1024 * 1024);
  const ChipParams def = load_chip("default");
  CHECK(def.parallelism_factor() == 32);
  CHECK(def.clock_mhz == 1000.0);
}

TEST_CASE("the hash covers the hardware, not the name", "[chip][presets]") {
  const std::string base = load_chip("default").hash;
  CHECK(load_chip("default", {"name=other", "description=x"}).hash == base);
  CHECK(load_chip("default", {"mac_array.rows=64"}).hash != base);
  CHECK(load_chip("default", {"energy.mac_pj=0.2"}).hash != base);
  // Writing a value differently (1000 vs 1000.0, 2048 vs 2048) does not change the hash.
  CHECK(load_chip("default", {"clock_mhz=1000"}).hash == base);
  CHECK(load_chip("default", {"mac_array.rows=32"}).hash == base);
}

TEST_CASE("the struct follows the resolved values", "[chip]") {
  const ChipParams c = load_chip("default", {"mac_array.dataflow=is", "depthwise_on=vector_unit",
                                             "sram.double_buffering=false", "data.weight_bits=4",
                                             "dma.channels=3", "area.other_mm2=2.5"});
  CHECK(c.mac_array.dataflow == Dataflow::kInputStationary);
  CHECK(std::string(dataflow_name(c.mac_array.dataflow)) == "is");
  CHECK(c.depthwise_on == DepthwiseMapping::kVectorUnit);
  CHECK(std::string(depthwise_mapping_name(c.depthwise_on)) == "vector_unit");
  CHECK_FALSE(c.sram.double_buffering);
  CHECK(c.weight_bytes() == 1);
  CHECK(c.dma.channels == 3);
  CHECK(c.area.other_mm2 == 2.5);
  CHECK(c.vector_unit.runs("dwconv"));
  CHECK_FALSE(c.vector_unit.runs("conv"));
  CHECK(c.values.entry("dma.channels").loc.file == "-p");
  CHECK(c.values.entry("dma.burst_bytes").loc.file == "configs/chips/default.yaml");
}

TEST_CASE("the minimal tile is one fold of weights, one input row and one accumulator row",
          "[chip]") {
  ChipParams c = load_chip("default");  // 32x32, int8, 32-bit accumulators, double buffered
  MinimalTile t = minimal_tile(c);
  CHECK(t.weight_bytes == 2 * 32 * 32);
  CHECK(t.input_bytes == 2 * 32);
  CHECK(t.accumulator_bytes == 2 * 32 * 4);
  CHECK(t.total_bytes() == 2 * (1024 + 32 + 128));
  const ChipParams ey = load_chip("eyeriss-like", {"sram.double_buffering=false"});
  t = minimal_tile(ey);  // 12x14, 16-bit operands and partial sums
  CHECK(t.weight_bytes == 12 * 14 * 2);
  CHECK(t.input_bytes == 12 * 2);
  CHECK(t.accumulator_bytes == 14 * 2);
}

TEST_CASE("an SRAM that just holds the minimal tile is accepted, one KiB less is not", "[chip]") {
  // 128x128 int8 not double buffered: 16384 + 128 + 512 = 17024 B -> 17 KiB (17408 B) fits.
  const std::string yaml =
      "name: t\nclock_mhz: 1000\nmac_array:\n  rows: 128\n  cols: 128\nsram:\n"
      "  double_buffering: false\n  banks: 1\n  capacity_kib: ";
  CHECK_NOTHROW(parse_chip(yaml + "17\n", "t.yaml"));
  CHECK_THROWS_AS(parse_chip(yaml + "16\n", "t.yaml"), InputError);
}

TEST_CASE("a --chip value is a path when it has a slash or a YAML suffix", "[chip]") {
  CHECK(is_chip_path("configs/chips/default.yaml"));
  CHECK(is_chip_path("./default"));
  CHECK(is_chip_path("mine.yaml"));
  CHECK(is_chip_path("mine.yml"));
  CHECK_FALSE(is_chip_path("default"));
  CHECK_FALSE(is_chip_path("scalesim-ws-32x32"));
}

TEST_CASE("every numeric parameter has its unit in its key name", "[chip]") {
  const std::vector<std::string> suffixes = {
      "_mhz", "_cycles",      "_kib", "_bytes", "_bits", "_gb_per_s",    "_ns",
      "_pj",  "_pj_per_byte", "_mw",  "_um2",   "_mm2",  "_mm2_per_mib", "_bytes_per_cycle"};
  // Counts are named by what they count.
  const std::vector<std::string> counts = {"rows",     "cols",           "lanes",          "banks",
                                           "channels", "ports_per_bank", "max_outstanding"};
  for (const auto& d : chip_schema().decls()) {
    INFO("key " << d.path);
    CHECK_FALSE(d.description.empty());
    if (d.type != ParamType::kInt && d.type != ParamType::kFloat) continue;
    CHECK_FALSE(d.unit.empty());
    const std::string key = d.path.substr(d.path.rfind('.') + 1);
    bool ok = std::find(counts.begin(), counts.end(), key) != counts.end();
    for (const auto& s : suffixes) {
      ok = ok || (key.size() > s.size() && key.compare(key.size() - s.size(), s.size(), s) == 0);
    }
    CHECK(ok);
  }
}
