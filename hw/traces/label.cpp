#include "hw/traces/label.hpp"

#include <map>

#include "hw/lower/lower.hpp"
#include "hw/sim/simulator.hpp"
#include "models/ir/analysis.hpp"

namespace nax::hw {

est::DecomposeOptions decompose_options(const ChipParams& chip) {
  est::DecomposeOptions o;
  o.fuse_activations = chip.mac_array.fused_activations;
  return o;
}

NetworkLabel label_network(const ir::Graph& g, const ChipParams& chip) {
  const Program p = lower(g, chip);
  const RunResult r = Simulator::instance().run(p, chip);
  NetworkLabel out;
  out.model_hash = ir::graph_hash(g);
  out.chip_hash = chip.hash;
  out.total_cycles = r.total_cycles;
  out.energy_uj = r.energy_uj;
  std::vector<est::Unit> units = est::decompose(g, decompose_options(chip));
  std::vector<int> unit_of_op(g.ops().size(), -1);
  for (size_t ui = 0; ui < units.size(); ++ui) {
    for (int o : units[ui].ops) unit_of_op[static_cast<size_t>(o)] = static_cast<int>(ui);
  }
  out.units.resize(units.size());
  std::vector<bool> first_seen(units.size(), false);
  // mW x (1 / MHz) us = nJ; per cycle: static_mw / clock_mhz nJ = static_mw / clock_mhz / 1e3 uJ.
  const double static_uj_per_cycle = chip.energy.static_mw / chip.clock_mhz / 1e3;
  for (size_t li = 0; li < p.layers.size(); ++li) {
    const LayerPlan& L = p.layers[li];
    const LayerResult& R = r.layers[li];
    const int ui = unit_of_op[static_cast<size_t>(L.ops.front())];
    if (ui < 0) throw std::logic_error("label_network: a layer outside every unit");
    UnitLabel& u = out.units[static_cast<size_t>(ui)];
    for (int o : L.ops) {
      if (unit_of_op[static_cast<size_t>(o)] != ui) {
        throw std::logic_error("label_network: layer '" + L.name + "' spans two units");
      }
    }
    if (!first_seen[static_cast<size_t>(ui)]) {
      first_seen[static_cast<size_t>(ui)] = true;
      u.input_on_chip = L.input_on_chip;
    }
    u.output_on_chip = L.output_on_chip;
    u.cycles += R.cycles;
    u.dram_read_bytes += R.dram_read_bytes;
    u.dram_write_bytes += R.dram_write_bytes;
    u.energy_uj += R.energy_uj + static_cast<double>(R.cycles) * static_uj_per_cycle;
  }
  for (size_t ui = 0; ui < units.size(); ++ui) out.units[ui].unit = std::move(units[ui]);
  return out;
}

}  // namespace nax::hw
