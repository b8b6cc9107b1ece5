// Sweep points: cartesian and zip expansion, filters, infeasible chips recorded with the reason,
// and a run in which they are never simulated.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "hw/chip/area.hpp"
#include "hw/sweep/analysis.hpp"
#include "hw/sweep/points.hpp"
#include "hw/sweep/run.hpp"

using namespace nax;
using namespace nax::hw;
using namespace nax::hw::sweep;

namespace {

std::vector<std::string> labels(const Expansion& e) {
  std::vector<std::string> out;
  for (const auto& p : e.points) out.push_back(point_label(p));
  return out;
}

}  // namespace

TEST_CASE("sweep points: cartesian order, the last axis fastest", "[unit][sweep]") {
  const SweepConfig c = parse_sweep_config(
      "name: c\naxes:\n  - {key: mac_array.rows, values: [8, 16]}\n"
      "  - {key: sram.capacity_kib, values: [256, 512, 1024]}\nmodels: [mobilenet_v2]\n",
      "c.yaml");
  const Expansion e = expand_points(c);
  CHECK(e.combinations == 6);
  CHECK(e.filtered_out == 0);
  CHECK(labels(e) == std::vector<std::string>{
                         "mac_array.rows=8 sram.capacity_kib=256",
                         "mac_array.rows=8 sram.capacity_kib=512",
                         "mac_array.rows=8 sram.capacity_kib=1024",
                         "mac_array.rows=16 sram.capacity_kib=256",
                         "mac_array.rows=16 sram.capacity_kib=512",
                         "mac_array.rows=16 sram.capacity_kib=1024",
                     });
  for (const auto& p : e.points) {
    REQUIRE(p.feasible);
    CHECK(p.id == p.chip->hash);
    CHECK(p.area_mm2 == chip_area_mm2(*p.chip));
    CHECK(p.chip->name == "default");
  }
  CHECK(e.points[4].chip->mac_array.rows == 16);
  CHECK(e.points[4].chip->sram.capacity_kib == 512);
  CHECK(e.points[0].id != e.points[1].id);
}

TEST_CASE("sweep points: zip and filters", "[unit][sweep]") {
  const SweepConfig z = parse_sweep_config(
      "name: z\nmode: zip\naxes:\n  - {key: mac_array.rows, values: [8, 16, 32]}\n"
      "  - {key: mac_array.cols, values: [8, 16, 8]}\nmodels: [mobilenet_v2]\n",
      "z.yaml");
  CHECK(labels(expand_points(z)) == std::vector<std::string>{
                                        "mac_array.rows=8 mac_array.cols=8",
                                        "mac_array.rows=16 mac_array.cols=16",
                                        "mac_array.rows=32 mac_array.cols=8",
                                    });
  // Two keys compared; a key against a literal; a non-axis key takes the base chip's value
  // (default: dram.bandwidth_gb_per_s 17, dataflow ws).
  const SweepConfig f = parse_sweep_config(
      "name: f\naxes:\n  - {key: mac_array.rows, values: [8, 16, 32]}\n"
      "  - {key: mac_array.cols, values: [8, 16, 32]}\n"
      "filters:\n  - mac_array.rows == mac_array.cols\n  - mac_array.rows < 32\n"
      "  - dram.bandwidth_gb_per_s > 10\n  - mac_array.dataflow == ws\n"
      "models: [mobilenet_v2]\n",
      "f.yaml");
  const Expansion e = expand_points(f);
  CHECK(e.combinations == 9);
  CHECK(e.filtered_out == 7);
  CHECK(labels(e) == std::vector<std::string>{"mac_array.rows=8 mac_array.cols=8",
                                              "mac_array.rows=16 mac_array.cols=16"});
  CHECK(e.points[1].index == 1);
  const SweepConfig none = parse_sweep_config(
      "name: n\naxes:\n  - {key: mac_array.rows, values: [8]}\nfilters: ['dram.ideal == true']\n"
      "models: [mobilenet_v2]\n",
      "n.yaml");
  CHECK(expand_points(none).points.empty());
}

TEST_CASE("sweep points: a chip that fails validation is infeasible with the reason",
          "[unit][sweep]") {
  const SweepConfig c = parse_sweep_config(
      "name: i\naxes:\n  - {key: mac_array.rows, values: [8, 64]}\n"
      "  - {key: sram.capacity_kib, values: [2, 2048]}\nmodels: [mobilenet_v2]\n",
      "i.yaml");
  const Expansion e = expand_points(c);
  REQUIRE(e.points.size() == 4);
  CHECK(e.points[0].feasible);  // 8x32 fits a minimal tile in 2 KiB
  CHECK(e.points[1].feasible);
  CHECK_FALSE(e.points[2].feasible);  // 64x64 does not
  CHECK(e.points[2].reason.rfind("sram.capacity_kib = 2: SRAM too small to hold one minimal tile",
                                 0) == 0);
  CHECK(e.points[2].id.rfind("invalid-", 0) == 0);
  CHECK_FALSE(e.points[2].chip);
  CHECK(e.points[3].feasible);

  // A bad base chip is a config error at `base`.
  const SweepConfig bad = parse_sweep_config(
      "name: b\nbase: no-such-chip\naxes:\n  - {key: mac_array.rows, values: [8]}\n"
      "models: [mobilenet_v2]\n",
      "b.yaml");
  try {
    expand_points(bad);
    FAIL("expected an InputError");
  } catch (const InputError& err) {
    REQUIRE(!err.diagnostics().empty());
    CHECK(err.diagnostics()[0].str().rfind("b.yaml:2:7: base = no-such-chip", 0) == 0);
  }
}

TEST_CASE("sweep run: infeasible points are recorded, not run, shards split, the store is reused",
          "[unit][sweep]") {
  const SweepConfig c = parse_sweep_config(
      "name: r\naxes:\n  - {key: mac_array.rows, values: [8, 64]}\n"
      "  - {key: sram.capacity_kib, values: [2, 2048]}\n"
      "models: ['mobilenet_v2:width=0.35,resolution=32']\n",
      "r.yaml");
  RunOptions o;
  o.simulator_id = "test";
  // Rejections first: after SystemC has run, exceptions upset AddressSanitizer (sim_test.cpp).
  {
    RunOptions bad = o;
    bad.shard_index = 2;
    bad.shard_count = 2;
    CHECK_THROWS_AS(run_sweep(c, bad, {}), InputError);
    bad = o;
    bad.jobs = 0;
    CHECK_THROWS_AS(run_sweep(c, bad, {}), InputError);
  }
  const SweepRun run = run_sweep(c, o, {});
  REQUIRE(run.expansion.points.size() == 4);
  CHECK(run.share.size() == 4);
  CHECK_FALSE(run.interrupted);
  CHECK(run.simulated == 3);  // 3 feasible chips x 1 model; the infeasible one is not simulated
  CHECK(run.reused == 0);
  CHECK_FALSE(run.results[2][0]);
  // 8x32 with 2 KiB is a valid chip, but the stem convolution's smallest tile does not fit: an
  // infeasible pair, with the lowering's reason.
  REQUIRE(run.results[0][0]);
  CHECK_FALSE(run.results[0][0]->feasible);
  CHECK(run.results[0][0]->reason.find("smallest tile") != std::string::npos);
  for (size_t p : {1, 3}) {
    REQUIRE(run.results[p][0]);
    const PairResult& r = *run.results[p][0];
    REQUIRE(r.feasible);
    CHECK(r.latency_ms > 0);
    CHECK(r.energy_uj > 0);
    CHECK(r.mac_array_utilization > 0);
    CHECK(r.mac_array_utilization <= 1);
    CHECK(r.dram_read_bytes > 0);
  }
  // The 64x64 / 2 MiB chip has the most area.
  CHECK(run.expansion.points[3].area_mm2 > run.expansion.points[1].area_mm2);
  // A result equals a direct simulation of the same pair.
  const PairResult direct = simulate_pair(*run.expansion.points[3].chip, run.models[0].graph);
  CHECK(direct.latency_ms == run.results[3][0]->latency_ms);
  CHECK(direct.energy_uj == run.results[3][0]->energy_uj);
  const PairResult back = pair_from_json(to_json(direct));
  CHECK(back.latency_ms == direct.latency_ms);
  CHECK(back.dram_write_bytes == direct.dram_write_bytes);
  // Shard 1/2 owns points 1 and 3.
  RunOptions s = o;
  s.shard_index = 1;
  s.shard_count = 2;
  const SweepRun half = run_sweep(c, s, {});
  CHECK(half.share == std::vector<size_t>{1, 3});
  CHECK(half.simulated == 2);
  CHECK(half.results[1][0]->latency_ms == run.results[1][0]->latency_ms);
  CHECK(half.results[3][0]->latency_ms == run.results[3][0]->latency_ms);

  // A file store: a second run needs resume and then simulates nothing.
  const std::string db = (std::filesystem::temp_directory_path() /
                          ("nax_unit_sweep_" + std::to_string(::getpid()) + ".db"))
                             .string();
  std::filesystem::remove(db);
  RunOptions f;
  f.simulator_id = "test";
  f.db = db;
  CHECK(run_sweep(c, f, {}).simulated == 3);
  // (Without resume a second run is refused: tested end to end in cli_sweep_test.cpp, where the
  // refusing process has not run SystemC.)
  f.resume = true;
  const SweepRun again = run_sweep(c, f, {});
  CHECK(again.simulated == 0);
  CHECK(again.reused == 3);
  CHECK(again.results[3][0]->latency_ms == run.results[3][0]->latency_ms);
  CHECK(again.results[0][0]->reason == run.results[0][0]->reason);
  // Another simulator id is another key: everything runs again.
  f.simulator_id = "test2";
  CHECK(run_sweep(c, f, {}).simulated == 3);
  for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(db + ext);
}
