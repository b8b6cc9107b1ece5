// `nax config` and `nax describe` end to end: the resolved dump checks clean and keeps its hash.
#include <catch2/catch.hpp>

#include <fstream>

#include "tests/integration/run_nax.hpp"

using nax::test::run_nax;

TEST_CASE("a dumped chip passes config check with the same hash", "[cli]") {
  const auto d =
      run_nax("config dump --chip default -p mac_array.rows=64 -o dumped_chip.yaml", "dump");
  REQUIRE(d.code == 0);
  const auto c = run_nax("config check dumped_chip.yaml", "check");
  CHECK(c.code == 0);
  const std::string text = nax::test::slurp("dumped_chip.yaml");
  const size_t h = text.find("# hash ");
  REQUIRE(h != std::string::npos);
  CHECK(c.out.find(text.substr(h + 7, 16)) != std::string::npos);
  std::remove("dumped_chip.yaml");
}

TEST_CASE("config errors exit 2 and are all reported", "[cli]") {
  {
    std::ofstream f("bad_chip.yaml");
    f << "name: x\nclock_mhz: -5\nmac_array: {rows: 32, colz: 32}\nsram: {capacity_kib: 64}\n";
  }
  const auto r = run_nax("config check bad_chip.yaml", "badchip");
  CHECK(r.code == 2);
  CHECK(r.err.find("bad_chip.yaml:2:12: clock_mhz = -5") != std::string::npos);
  CHECK(r.err.find("bad_chip.yaml:3:23: mac_array.colz = 32: unknown key; did you mean "
                   "mac_array.cols?") != std::string::npos);
  std::remove("bad_chip.yaml");
  const auto p = run_nax("config dump --chip default -p mac_array.rowz=64", "badp");
  CHECK(p.code == 2);
  CHECK(p.err.find("mac_array.rowz = 64: no such key; did you mean mac_array.rows?") !=
        std::string::npos);
  const auto u = run_nax("config dump --chip defualt", "badpreset");
  CHECK(u.code == 2);
  CHECK(u.err.find("did you mean default?") != std::string::npos);
}

TEST_CASE("describe lists every chip key and every block type", "[cli]") {
  const auto d = run_nax("describe", "describe");
  REQUIRE(d.code == 0);
  for (const char* key :
       {"clock_mhz", "mac_array.dataflow", "sram.bank_bytes_per_cycle", "dma.burst_bytes",
        "dram.bandwidth_gb_per_s", "depthwise_on", "energy.mac_pj", "area.pe_um2"}) {
    CHECK(d.out.find(key) != std::string::npos);
  }
  const auto b = run_nax("describe --blocks", "describeb");
  REQUIRE(b.code == 0);
  for (const char* type : {"ibn", "fused_ibn", "ssd_predictor", "nb201_cell", "lraspp_head"}) {
    CHECK(b.out.find(type) != std::string::npos);
  }
}
