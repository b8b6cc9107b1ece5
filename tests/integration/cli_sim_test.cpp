// `nax sim` end to end: the default run, JSON keys, CSV, the Perfetto timeline, determinism,
// exit codes, and the CLI agreeing with the C++ API on the same program.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <set>
#include <sstream>
#include <string>

#include "hw/chip/chip.hpp"
#include "hw/lower/lower.hpp"
#include "hw/sim/simulator.hpp"
#include "models/model_source.hpp"
#include "tests/integration/run_nax.hpp"

using nax::test::run_nax;
using nax::test::slurp;

namespace {

const char* kSmall = "mobilenet_v2:width=0.5,resolution=96";

}  // namespace

TEST_CASE("nax sim with no arguments simulates mobilenet_v2 on the default chip", "[cli][sim]") {
  const auto r = run_nax("sim --json sim.json", "sim_default");
  REQUIRE(r.code == 0);
  CHECK(r.err.empty());
  CHECK(r.out.find("mobilenet_v2") != std::string::npos);
  CHECK(r.out.find("total") != std::string::npos);
  CHECK(r.out.find("stem.0.conv") != std::string::npos);
  const auto j = nlohmann::json::parse(slurp("sim.json"));
  std::remove("sim.json");
  for (const char* k : {"tool_version", "chip", "model", "total_cycles", "latency_ms", "macs",
                        "params", "dram_read_bytes", "dram_write_bytes", "energy_uj", "layers",
                        "units", "stats", "kernel_activations", "commands"}) {
    INFO(k);
    CHECK(j.contains(k));
  }
  CHECK(j.at("chip").at("name") == "default");
  CHECK(j.at("chip").at("hash").get<std::string>().size() == 16);
  CHECK(j.at("model").at("name") == "mobilenet_v2");
  CHECK(j.at("model").at("hash").get<std::string>().size() == 16);
  CHECK(j.at("macs") == 300774272);
  CHECK(j.at("params") == 3504872);
  const auto cycles = j.at("total_cycles").get<int64_t>();
  CHECK(cycles > 0);
  CHECK(j.at("latency_ms").get<double>() == Approx(cycles / 1e6));
  CHECK(j.at("dram_read_bytes").get<int64_t>() > 0);
  CHECK(j.at("dram_write_bytes").get<int64_t>() > 0);
  CHECK(j.at("energy_uj").get<double>() > 0);
  // Kernel activations are bounded by the commands, not the cycles.
  CHECK(j.at("kernel_activations").get<int64_t>() <= j.at("commands").get<int64_t>() + 2);
  REQUIRE(j.at("layers").size() > 50);
  int64_t macs = 0;
  for (const auto& L : j.at("layers")) {
    for (const char* k : {"name", "op", "macs", "cycles", "start_cycle", "end_cycle", "utilization",
                          "bound", "dram_read_bytes", "dram_write_bytes", "tiles", "folds",
                          "mapping", "on_chip", "kernel_activations"}) {
      INFO(k);
      CHECK(L.contains(k));
    }
    CHECK(L.at("end_cycle").get<int64_t>() <= cycles);
    CHECK(L.at("end_cycle").get<int64_t>() - L.at("start_cycle").get<int64_t>() ==
          L.at("cycles").get<int64_t>());
    CHECK((L.at("bound") == "compute" || L.at("bound") == "memory"));
    macs += L.at("macs").get<int64_t>();
  }
  CHECK(macs == 300774272);
  CHECK(j["layers"][0].at("name") == "stem.0.conv");
  std::set<std::string> units;
  for (const auto& u : j.at("units")) {
    units.insert(u.at("name").get<std::string>());
    CHECK(u.at("utilization").get<double>() >= 0);
    CHECK(u.at("utilization").get<double>() <= 1);
    CHECK(u.contains("busy_cycles"));
  }
  CHECK(units.count("mac_array") == 1);
  CHECK(units.count("vector_unit") == 1);
  CHECK(units.count("dma.ch0") == 1);
  CHECK(j.at("stats").contains("npu.dma.ch0.busy_cycles"));
}

TEST_CASE("nax sim --timeline writes a Chrome trace with one track per unit", "[cli][sim]") {
  const auto r = run_nax(
      std::string("sim -q --model ") + kSmall + " --timeline trace.json --timeline-limit 300",
      "sim_tl");
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(slurp("trace.json"));
  std::remove("trace.json");
  REQUIRE(j.at("traceEvents").is_array());
  std::set<std::string> tracks;
  int commands = 0, layers = 0;
  for (const auto& e : j.at("traceEvents")) {
    if (e.at("ph") == "M" && e.at("name") == "thread_name")
      tracks.insert(e.at("args").at("name").get<std::string>());
    if (e.at("ph") != "X") continue;
    CHECK(e.at("dur").get<double>() >= 0);
    CHECK(e.at("ts").get<double>() >= 0);
    (e.at("cat") == "layer" ? layers : commands)++;
  }
  CHECK(tracks.count("layers") == 1);
  CHECK(tracks.count("mac_array") == 1);
  CHECK(tracks.count("vector_unit") == 1);
  CHECK(tracks.count("dma.ch0") == 1);
  CHECK(commands == 300);
  CHECK(layers > 50);
  CHECK(j.at("otherData").at("command_spans") == 300);
}

TEST_CASE("nax sim --csv writes one row per layer", "[cli][sim]") {
  const auto r = run_nax(std::string("sim --model ") + kSmall + " --csv -", "sim_csv");
  REQUIRE(r.code == 0);
  std::istringstream in(r.out);
  std::string header, line;
  std::getline(in, header);
  CHECK(header.rfind("name,op,", 0) == 0);
  for (const char* col : {",cycles,", ",utilization,", ",bound,", ",dram_read_bytes,", ",on_chip,",
                          ",kernel_activations"}) {
    INFO(col);
    CHECK(header.find(col) != std::string::npos);
  }
  int rows = 0;
  while (std::getline(in, line)) ++rows;
  const auto j = run_nax(std::string("sim --model ") + kSmall + " --json -", "sim_csvj");
  REQUIRE(j.code == 0);
  CHECK(rows == static_cast<int>(nlohmann::json::parse(j.out).at("layers").size()));
}

TEST_CASE("nax sim is deterministic and agrees with the C++ API", "[cli][sim]") {
  const std::string args = std::string("sim --model ") + kSmall + " --chip tiny --json -";
  const auto a = run_nax(args, "sim_det1");
  const auto b = run_nax(args, "sim_det2");
  REQUIRE(a.code == 0);
  CHECK(a.out == b.out);
  const auto j = nlohmann::json::parse(a.out);

  const nax::Model m = nax::load_model(kSmall);
  const nax::hw::ChipParams chip = nax::hw::load_chip("tiny");
  const nax::hw::Program p = nax::hw::lower(m.graph, chip);
  // Another program first: results do not depend on what ran before.
  nax::hw::Simulator::instance().run(nax::hw::lower(m.graph, nax::hw::load_chip("default")),
                                     nax::hw::load_chip("default"));
  const nax::hw::RunResult r = nax::hw::Simulator::instance().run(p, chip);
  CHECK(j.at("total_cycles") == r.total_cycles);
  CHECK(j.at("dram_read_bytes") == r.dram_read_bytes);
  CHECK(j.at("layers").size() == r.layers.size());
}

TEST_CASE("nax sim options: overrides, layer-by-layer, help", "[cli][sim]") {
  const std::string base = std::string("sim --json - --model ") + kSmall;
  const auto def = run_nax(base, "sim_o1");
  const auto wide = run_nax(base + " -p dram.bandwidth_gb_per_s=4", "sim_o2");
  const auto lbl = run_nax(base + " --layer-by-layer", "sim_o3");
  REQUIRE(def.code == 0);
  REQUIRE(wide.code == 0);
  REQUIRE(lbl.code == 0);
  const auto jd = nlohmann::json::parse(def.out);
  const auto jw = nlohmann::json::parse(wide.out);
  const auto jl = nlohmann::json::parse(lbl.out);
  CHECK(jw.at("chip").at("hash") != jd.at("chip").at("hash"));
  CHECK(jw.at("total_cycles").get<int64_t>() >= jd.at("total_cycles").get<int64_t>());
  CHECK(jl.at("dram_read_bytes").get<int64_t>() + jl.at("dram_write_bytes").get<int64_t>() >=
        jd.at("dram_read_bytes").get<int64_t>() + jd.at("dram_write_bytes").get<int64_t>());
  const auto h = run_nax("sim --help", "sim_help");
  CHECK(h.code == 0);
  CHECK(h.out.find("Examples:") != std::string::npos);
  CHECK(h.out.find("--timeline") != std::string::npos);
}

TEST_CASE("nax sim: bad chips and models exit 2", "[cli][sim]") {
  auto r = run_nax("sim --chip no_such_chip", "sim_bad1");
  CHECK(r.code == 2);
  CHECK(r.err.find("no_such_chip") != std::string::npos);
  r = run_nax("sim -p mac_array.rowz=64", "sim_bad2");
  CHECK(r.code == 2);
  CHECK(r.err.find("mac_array.rowz") != std::string::npos);
  r = run_nax("sim --model mobilenet_v9", "sim_bad3");
  CHECK(r.code == 2);
  CHECK(r.err.find("mobilenet_v2") != std::string::npos);
  r = run_nax("sim --model no_such_file.onnx", "sim_bad4");
  CHECK(r.code == 2);
  r = run_nax("sim --timeline-limit -3", "sim_bad5");
  CHECK(r.code == 2);
}

TEST_CASE("nax bench sim prints its figures and agrees with SCALE-Sim's cycles", "[cli][bench]") {
  const auto r = nax::test::run_nax("bench sim --repeat 1 --json bench.json", "bench");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("SCALE-Sim comparison") != std::string::npos);
  const auto j = nlohmann::json::parse(nax::test::slurp("bench.json"));
  REQUIRE(j.at("scalesim").size() == 2);
  for (const auto& s : j["scalesim"]) {
    CHECK(s.at("cycles_equal") == true);
    CHECK(s.at("layers").size() == 7);
  }
  CHECK(j.at("scaling").size() == 3);
  CHECK(j.at("whole_network").at("commands").get<int64_t>() > 0);
  std::remove("bench.json");
}
