// Invariants of every simulation: latency bounded below by compute and by DRAM traffic, bytes
// moved cover what the network needs, MACs simulated equal the graph's, results deterministic and
// independent of what the simulator ran before.
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "hw/lower/lower.hpp"
#include "hw/sim/simulator.hpp"
#include "models/ir/analysis.hpp"
#include "models/spec/model_spec.hpp"
#include "models/zoo/zoo.hpp"

using namespace nax;

namespace {

struct Case {
  std::string model;
  std::string chip;
};

void check_invariants(const Case& c) {
  INFO(c.model << " on " << c.chip);
  const ir::Graph g = spec::build_graph(zoo::build(c.model));
  const hw::ChipParams chip = hw::load_chip(c.chip);
  const hw::Program p = hw::lower(g, chip);
  const hw::RunResult r = hw::Simulator::instance().run(p, chip);
  const ir::GraphStats st = ir::analyze(g, {}, {chip.activation_bytes(), chip.weight_bytes()});

  CHECK(r.macs == st.macs);
  // Compute bound: every MAC on one of rows x cols PEs.
  const double pes = static_cast<double>(chip.mac_array.rows) * chip.mac_array.cols;
  CHECK(static_cast<double>(r.total_cycles) >= static_cast<double>(st.macs) / pes);
  // DRAM-traffic bound.
  const hw::DramConfig dram = hw::DramConfig::from_chip(chip);
  if (!dram.ideal) {
    const double bytes = static_cast<double>(r.dram_read_bytes + r.dram_write_bytes);
    CHECK(static_cast<double>(r.total_cycles) >= bytes / dram.bytes_per_cycle);
  }
  // Bytes the network needs: every weight and the input read once, the output written once.
  int64_t in_bytes = 0, out_bytes = 0;
  for (ir::TensorId t : g.inputs()) in_bytes += ir::numel(g.shape(t)) * chip.activation_bytes();
  for (ir::TensorId t : g.outputs()) out_bytes += ir::numel(g.shape(t)) * chip.activation_bytes();
  CHECK(r.dram_read_bytes >= st.weight_bytes + in_bytes);
  CHECK(r.dram_write_bytes >= out_bytes);
  // Every command ran, in dependency order, and the layers cover the run.
  REQUIRE(r.commands.size() == p.cmds.size());
  size_t early = 0, late = 0;
  for (size_t i = 0; i < p.cmds.size(); ++i) {
    for (uint32_t d : p.cmds[i].deps) early += r.commands[i].issue < r.commands[d].done;
    late += r.commands[i].done > r.total_cycles;
  }
  CHECK(early == 0);  // no command issued before a dependency was done
  CHECK(late == 0);
  // Same inputs, same result: again, and after another program on the same simulator.
  const hw::RunResult again = hw::Simulator::instance().run(p, chip);
  CHECK(again.total_cycles == r.total_cycles);
  CHECK(again.energy_uj == r.energy_uj);
  const hw::ChipParams other = hw::load_chip("tiny");
  hw::Simulator::instance().run(hw::lower(spec::build_graph(zoo::build("nas-bench-macro")), other),
                                other);
  const hw::RunResult after = hw::Simulator::instance().run(p, chip);
  CHECK(after.total_cycles == r.total_cycles);
  CHECK(after.dram_read_bytes == r.dram_read_bytes);
  for (size_t i = 0; i < p.cmds.size(); ++i) {
    if (after.commands[i].issue != r.commands[i].issue ||
        after.commands[i].done != r.commands[i].done) {
      FAIL_CHECK("command " << i << " timed differently after another program");
      break;
    }
  }
}

}  // namespace

TEST_CASE("invariants hold for mobilenet_v2 on every preset", "[invariants]") {
  for (const auto& chip : hw::preset_names()) check_invariants({"mobilenet_v2", chip});
}
TEST_CASE("invariants hold for detection, segmentation and NAS networks", "[invariants]") {
  for (const char* m : {"person_detector", "lraspp_mobilenet_v3_large", "efficientnet_b0",
                        "resnet18", "nb201", "nas-bench-macro"}) {
    check_invariants({m, "default"});
    check_invariants({m, "edgetpu-like"});
  }
}
