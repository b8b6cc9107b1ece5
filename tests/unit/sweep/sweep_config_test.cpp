// Sweep descriptions: what parses, and every config error with its file:line:col.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "hw/sweep/sweep_config.hpp"

using namespace nax;
using namespace nax::hw::sweep;

namespace {

std::vector<std::string> errors(const std::string& yaml) {
  std::vector<std::string> out;
  try {
    parse_sweep_config(yaml, "s.yaml");
  } catch (const InputError& e) {
    for (const auto& d : e.diagnostics()) out.push_back(d.str());
  }
  return out;
}

bool has(const std::vector<std::string>& errs, const std::string& text) {
  for (const auto& e : errs)
    if (e.find(text) != std::string::npos) return true;
  return false;
}

const std::string kGood =
    "name: t\n"                                 // 1
    "base: tiny\n"                              // 2
    "axes:\n"                                   // 3
    "  - key: mac_array.rows\n"                 // 4
    "    values: [8, 16]\n"                     // 5
    "  - key: dram.bandwidth_gb_per_s\n"        // 6
    "    values: [4, 8.5]\n"                    // 7
    "filters: ['mac_array.rows >= 8']\n"        // 8
    "models: [mobilenet_v2, ../m/net.yaml]\n";  // 9

}  // namespace

TEST_CASE("sweep config: a good description parses", "[unit][sweep]") {
  const SweepConfig c = parse_sweep_config(kGood, "configs/sweeps/s.yaml");
  CHECK(c.name == "t");
  CHECK(c.base == "tiny");
  CHECK(c.mode == Mode::kCartesian);
  REQUIRE(c.axes.size() == 2);
  CHECK(c.axes[0].key == "mac_array.rows");
  CHECK(c.axes[0].override_text(1) == "mac_array.rows=16");
  CHECK(std::get<double>(c.axes[1].values[1]) == 8.5);
  REQUIRE(c.filters.size() == 1);
  CHECK(c.filters[0].op == Filter::Op::kGe);
  CHECK(c.filters[0].lhs.key == "mac_array.rows");
  CHECK(std::get<double>(c.filters[0].rhs.literal) == 8.0);
  REQUIRE(c.models.size() == 2);
  CHECK(c.models[0].arg == "mobilenet_v2");
  CHECK(c.models[1].arg == "configs/m/net.yaml");  // relative to the file
  CHECK(c.models[1].loc.line == 9);
  // The hash follows the content.
  CHECK(parse_sweep_config(kGood, "x.yaml").hash == parse_sweep_config(kGood, "y.yaml").hash);
  std::string other = kGood;
  other.replace(other.find("[8, 16]"), 7, "[8, 32]");
  CHECK(parse_sweep_config(other, "x.yaml").hash != c.hash);
}

TEST_CASE("sweep config: errors are located and reported together", "[unit][sweep]") {
  const auto e = errors(
      "name: t\n"                                              // 1
      "axis: []\n"                                             // 2
      "mode: zipped\n"                                         // 3
      "axes:\n"                                                // 4
      "  - key: mac_array.row\n"                               // 5
      "    values: [8]\n"                                      // 6
      "  - key: sram.capacity_kib\n"                           // 7
      "    values: [256, big, 0]\n"                            // 8
      "  - key: dma.channels\n"                                // 9
      "    valus: [1]\n"                                       // 10
      "filters: ['mac_array.rows ~ 3', 'depthwise_on < 3']\n"  // 11
      "models: []\n");                                         // 12
  CHECK(has(e, "s.yaml:2:1: axis: unknown key"));
  CHECK(has(e, "did you mean axes?"));
  CHECK(has(e, "s.yaml:3:7: mode = zipped: expected cartesian or zip"));
  CHECK(has(e, "s.yaml:5:10: axes[0].key = mac_array.row: not a chip key"));
  CHECK(has(e, "did you mean mac_array.rows?"));
  CHECK(has(e, "s.yaml:8:19: axes[1].values[1] = big: sram.capacity_kib:"));
  CHECK(has(e, "s.yaml:8:24: axes[1].values[2] = 0: sram.capacity_kib:"));
  CHECK(has(e, "s.yaml:10:5: axes[2].valus: unknown axis key"));
  CHECK(has(e, "axes[2].values"));
  CHECK(has(e, "s.yaml:11:11: filters[0] = mac_array.rows ~ 3: expected"));
  CHECK(has(e, "filters[1] = depthwise_on < 3: depthwise_on is enum: only == and != compare it"));
  CHECK(has(e, "s.yaml:12:9: models = <sequence>: expected a non-empty sequence"));
}

TEST_CASE("sweep config: zip lengths, duplicates, missing keys", "[unit][sweep]") {
  const auto zip = errors(
      "name: z\n"
      "mode: zip\n"
      "axes:\n"
      "  - key: mac_array.rows\n"
      "    values: [8, 16]\n"
      "  - key: mac_array.cols\n"
      "    values: [8]\n"
      "models: [mobilenet_v2]\n");
  CHECK(has(zip, "s.yaml:6:10: axes = mac_array.cols: mode zip needs axes of one length"));
  // Zip allows repeated values on one axis, not repeated combinations.
  CHECK(errors("name: z\nmode: zip\naxes:\n  - {key: mac_array.rows, values: [8, 16, 16]}\n"
               "  - {key: mac_array.cols, values: [8, 8, 16]}\nmodels: [mobilenet_v2]\n")
            .empty());
  CHECK(has(errors("name: z\nmode: zip\naxes:\n  - {key: mac_array.rows, values: [8, 8]}\n"
                   "models: [mobilenet_v2]\n"),
            "repeats an earlier combination"));
  CHECK(has(errors("name: d\naxes:\n  - {key: mac_array.rows, values: [8, 8]}\n"
                   "models: [mobilenet_v2]\n"),
            "duplicate value of mac_array.rows"));
  CHECK(has(errors("name: d\naxes:\n  - {key: mac_array.rows, values: [8]}\n"
                   "  - {key: mac_array.rows, values: [16]}\nmodels: [mobilenet_v2]\n"),
            "duplicate axis"));
  const auto missing = errors("base: default\n");
  CHECK(has(missing, "name"));
  CHECK(has(missing, "axes"));
  CHECK(has(missing, "models"));
  CHECK(has(errors("[1, 2]\n"), "s.yaml:1:1"));
  CHECK(has(errors("name: [\n"), "s.yaml:"));  // YAML syntax error, located
}
