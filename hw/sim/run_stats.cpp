#include "hw/sim/run_stats.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

namespace nax::hw::sim {

Cycle union_cycles(std::vector<std::pair<Cycle, Cycle>>& spans) {
  std::sort(spans.begin(), spans.end());
  Cycle total = 0, cur_start = 0, cur_end = 0;
  bool open = false;
  for (const auto& [s, e] : spans) {
    if (e <= s) continue;
    if (!open || s > cur_end) {
      if (open) total += cur_end - cur_start;
      cur_start = s;
      cur_end = e;
      open = true;
    } else {
      cur_end = std::max(cur_end, e);
    }
  }
  if (open) total += cur_end - cur_start;
  return total;
}

namespace {

constexpr double kUjPerPj = 1e-6;

struct LayerAcc {
  Cycle start = std::numeric_limits<Cycle>::max();
  Cycle end = 0;
  int64_t array_macs = 0;
  std::vector<std::pair<Cycle, Cycle>> compute_spans, dma_spans;
};

std::string unit_name(int u) {
  if (u == 0) return "mac_array";
  if (u == 1) return "vector_unit";
  return "dma.ch" + std::to_string(u - 2);
}

double ratio(double num, double den) {
  return den > 0 ? num / den : 0.0;
}

}  // namespace

RunResult summarize(const Program& program, const ChipParams& chip, RunTrace trace,
                    const MemoryCounters& mem, const std::string& top) {
  const auto& e = chip.energy;
  RunResult r;
  if (trace.commands.size() != program.cmds.size())
    throw std::logic_error("summarize: the trace does not match the program");
  r.total_cycles = trace.end;
  r.kernel_activations = trace.activations;
  r.latency_ms = static_cast<double>(r.total_cycles) / (chip.clock_mhz * 1000.0);
  const double pes = static_cast<double>(chip.num_pes());
  const double lanes = chip.vector_unit.lanes;

  const int num_units = 2 + std::max(chip.dma.channels, program.dma_channels);
  std::vector<std::vector<std::pair<Cycle, Cycle>>> unit_spans(static_cast<size_t>(num_units));
  std::vector<int64_t> unit_cmds(static_cast<size_t>(num_units), 0);
  std::vector<int64_t> unit_bytes(static_cast<size_t>(num_units), 0);
  std::vector<LayerAcc> acc(program.layers.size());
  r.layers.resize(program.layers.size());
  int64_t array_macs = 0;

  for (size_t i = 0; i < program.cmds.size(); ++i) {
    const Command& c = program.cmds[i];
    const CommandTiming& t = trace.commands[i];
    const auto u = static_cast<size_t>(unit_index(c));
    unit_spans[u].emplace_back(t.issue, t.done);
    ++unit_cmds[u];
    int64_t macs = 0, vops = 0, dram_rd = 0, dram_wr = 0;
    switch (c.unit) {
      case UnitKind::kMacArray:
        macs = c.array.macs;
        break;
      case UnitKind::kVector:
        vops = c.vector.element_ops;
        break;
      case UnitKind::kDma:
        (c.dma.store ? dram_wr : dram_rd) = c.dma.bytes;
        unit_bytes[u] += c.dma.bytes;
        break;
    }
    array_macs += macs;
    r.vector_element_ops += vops;
    r.dram_read_bytes += dram_rd;
    r.dram_write_bytes += dram_wr;
    r.sram_read_bytes += c.sram.read_bytes;
    r.sram_write_bytes += c.sram.write_bytes;
    if (c.layer < 0) continue;
    const auto l = static_cast<size_t>(c.layer);
    LayerAcc& a = acc[l];
    LayerResult& L = r.layers[l];
    a.start = std::min(a.start, t.issue);
    a.end = std::max(a.end, t.done);
    a.array_macs += macs;
    (c.unit == UnitKind::kDma ? a.dma_spans : a.compute_spans).emplace_back(t.issue, t.done);
    ++L.commands;
    if (c.unit != UnitKind::kDma) ++L.compute_commands;
    L.vector_element_ops += vops;
    L.dram_read_bytes += dram_rd;
    L.dram_write_bytes += dram_wr;
    L.sram_read_bytes += c.sram.read_bytes;
    L.sram_write_bytes += c.sram.write_bytes;
  }

  // Layers.
  Cycle prev_end = 0;
  int64_t graph_macs = 0;
  for (size_t l = 0; l < program.layers.size(); ++l) {
    const LayerPlan& plan = program.layers[l];
    LayerAcc& a = acc[l];
    LayerResult& L = r.layers[l];
    L.name = plan.name;
    L.op = plan.op;
    L.macs = plan.macs;
    graph_macs += plan.macs;
    if (L.commands == 0) {  // a view (no data moved): an empty span where the previous ended
      a.start = a.end = prev_end;
    }
    L.start_cycle = a.start;
    L.end_cycle = a.end;
    L.cycles = a.end - a.start;
    prev_end = std::max(prev_end, a.end);
    L.compute_busy_cycles = union_cycles(a.compute_spans);
    L.dma_busy_cycles = union_cycles(a.dma_spans);
    L.bound = L.dma_busy_cycles > L.compute_busy_cycles ? "memory" : "compute";
    const double cyc = static_cast<double>(L.cycles);
    L.utilization = plan.unit == UnitKind::kMacArray
                        ? ratio(static_cast<double>(L.macs), cyc * pes)
                        : ratio(static_cast<double>(L.vector_element_ops), cyc * lanes);
    L.energy_uj = kUjPerPj * (static_cast<double>(a.array_macs) * e.mac_pj +
                              static_cast<double>(L.sram_read_bytes) * e.sram_read_pj_per_byte +
                              static_cast<double>(L.sram_write_bytes) * e.sram_write_pj_per_byte +
                              static_cast<double>(L.dram_read_bytes + L.dram_write_bytes) *
                                  e.dram_pj_per_byte +
                              static_cast<double>(L.vector_element_ops) * e.vector_op_pj);
    L.kernel_activations = trace.layer_activations.empty() ? 0 : trace.layer_activations[l];
  }
  r.macs = program.layers.empty() ? array_macs : graph_macs;

  // Energy (hw/MACHINE.md): useful MACs, SRAM and DRAM bytes, vector element ops, static power.
  r.energy.mac_uj = kUjPerPj * static_cast<double>(array_macs) * e.mac_pj;
  r.energy.sram_uj =
      kUjPerPj * (static_cast<double>(r.sram_read_bytes) * e.sram_read_pj_per_byte +
                  static_cast<double>(r.sram_write_bytes) * e.sram_write_pj_per_byte);
  r.energy.dram_uj =
      kUjPerPj * static_cast<double>(r.dram_read_bytes + r.dram_write_bytes) * e.dram_pj_per_byte;
  r.energy.vector_uj = kUjPerPj * static_cast<double>(r.vector_element_ops) * e.vector_op_pj;
  r.energy.static_uj = e.static_mw * r.latency_ms;  // mW x ms = uJ
  r.energy_uj = r.energy.mac_uj + r.energy.sram_uj + r.energy.dram_uj + r.energy.vector_uj +
                r.energy.static_uj;

  // Units: the MAC array, the vector unit and every DMA channel of the chip.
  const double total = static_cast<double>(r.total_cycles);
  for (int u = 0; u < num_units; ++u) {
    UnitResult ur;
    ur.name = unit_name(u);
    ur.busy_cycles = union_cycles(unit_spans[static_cast<size_t>(u)]);
    ur.utilization = ratio(static_cast<double>(ur.busy_cycles), total);
    ur.commands = unit_cmds[static_cast<size_t>(u)];
    r.units.push_back(std::move(ur));
  }

  // The stats dump: names from the module tree.
  auto stat = [&](const std::string& name, double v, const char* unit, const char* desc) {
    r.stats.push_back({top + "." + name, v, unit, desc});
  };
  const auto d = [](auto v) { return static_cast<double>(v); };
  stat("controller.commands", d(program.cmds.size()), "commands", "commands issued");
  stat("controller.kernel_activations", d(r.kernel_activations), "activations",
       "controller process activations (the only process)");
  stat("controller.total_cycles", d(r.total_cycles), "cycles", "last command done");
  for (const UnitResult& ur : r.units) {
    stat(ur.name + ".busy_cycles", d(ur.busy_cycles), "cycles",
         "union of the unit's [issue, done) spans");
    stat(ur.name + ".utilization", ur.utilization, "ratio", "busy cycles / total cycles");
    stat(ur.name + ".commands", d(ur.commands), "commands", "commands the unit ran");
  }
  stat("mac_array.macs", d(array_macs), "MACs", "useful multiply-accumulates");
  stat("mac_array.mac_utilization", ratio(d(array_macs), total * pes), "ratio",
       "MACs / (total cycles x rows x cols)");
  stat("vector_unit.element_ops", d(r.vector_element_ops), "ops", "vector element operations");
  for (int u = 2; u < num_units; ++u)
    stat(unit_name(u) + ".bytes", d(unit_bytes[static_cast<size_t>(u)]), "B",
         "bytes the channel moved");
  stat("sram.read_bytes", d(r.sram_read_bytes), "B", "bytes read from SRAM");
  stat("sram.write_bytes", d(r.sram_write_bytes), "B", "bytes written to SRAM");
  stat("sram.requests", d(mem.sram_requests), "requests", "SRAM requests served");
  stat("sram.conflict_cycles", d(mem.sram_conflict_cycles), "cycles",
       "cycles requests waited for busy bank ports, summed over requests");
  stat("dram.read_bytes", d(r.dram_read_bytes), "B", "bytes read from DRAM");
  stat("dram.write_bytes", d(r.dram_write_bytes), "B", "bytes written to DRAM");
  stat("dram.transfers", d(mem.dram_transfers), "transfers", "DMA transfers served");
  stat("dram.bus_busy_cycles", d(mem.dram_bus_ticks) / d(kTicksPerCycle), "cycles",
       "data bus occupancy");
  stat("dram.bus_utilization", ratio(d(mem.dram_bus_ticks) / d(kTicksPerCycle), total), "ratio",
       "data bus occupancy / total cycles");
  stat("energy.mac_uj", r.energy.mac_uj, "uJ", "MACs x mac_pj");
  stat("energy.sram_uj", r.energy.sram_uj, "uJ", "SRAM bytes read and written");
  stat("energy.dram_uj", r.energy.dram_uj, "uJ", "DRAM bytes x dram_pj_per_byte");
  stat("energy.vector_uj", r.energy.vector_uj, "uJ", "vector element ops x vector_op_pj");
  stat("energy.static_uj", r.energy.static_uj, "uJ", "static_mw x latency");
  stat("energy.total_uj", r.energy_uj, "uJ", "sum of the above");
  r.commands = std::move(trace.commands);
  return r;
}

}  // namespace nax::hw::sim
