// `nax sim`: lower a network onto a chip and run it through the SystemC simulator; per-layer
// table and totals on the terminal, JSON, CSV and a Chrome trace-event timeline (Perfetto).
//
// Timeline: one process "npu"; a "layers" track (more when layers overlap in time, so spans on a
// track never overlap), then one track per unit (MAC array, vector unit, each DMA channel that
// ran something). Timestamps are microseconds at the chip clock (cycle / clock_mhz); every event
// carries its exact cycles in args. Unit spans show [start, accept): the cycles the unit's input
// was taken by the command (the MAC array's stream, the vector unit's instruction issue, a DMA
// channel's whole transfer), so they never overlap on a track; issue (a new fold's preload starts
// there) and done (results out, SRAM served) are in args. Per-command spans stop after
// --timeline-limit events (in issue order); layer spans are always written.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <iterator>
#include <memory>
#include <numeric>

#include "hw/chip/chip.hpp"
#include "hw/lower/lower.hpp"
#include "hw/sim/simulator.hpp"
#include "models/common/csv.hpp"
#include "models/ir/analysis.hpp"
#include "models/ir/subgraph.hpp"
#include "models/model_source.hpp"
#include "tools/nax/cli.hpp"

namespace nax::cli {
namespace {

struct SimOptions {
  std::string chip = "default";
  std::vector<std::string> overrides;
  std::string model = "mobilenet_v2";
  std::string json;
  std::string csv;
  std::string timeline;
  int64_t timeline_limit = 20000;
  bool layer_by_layer = false;
  bool quiet = false;
  std::string subgraph;  // comma-separated op, block or stage names
};

struct SimRun {
  Model model;
  hw::ChipParams chip;
  hw::Program program;
  hw::RunResult result;
  int64_t params = 0;
};

std::string pct(double v) {
  return fmt::format("{:.1f}%", 100.0 * v);
}

double share(const hw::LayerResult& L, const hw::RunResult& r) {
  return r.total_cycles ? static_cast<double>(L.cycles) / static_cast<double>(r.total_cycles) : 0;
}

const char* placement(const hw::LayerPlan& p) {
  return p.output_on_chip ? "on-chip" : "spilled";
}

nlohmann::json chip_values(const hw::ChipParams& chip) {
  nlohmann::json values = nlohmann::json::object();
  for (const auto& d : hw::chip_schema().decls()) {
    const ParamValue& v = chip.values.entry(d.path).value;
    std::visit([&](const auto& x) { values[d.path] = x; }, v);
  }
  return values;
}

nlohmann::json layer_json(const hw::LayerPlan& p, const hw::LayerResult& L,
                          const hw::RunResult& r) {
  return {{"name", L.name},
          {"op", L.op},
          {"fused", p.fused},
          {"unit", hw::unit_kind_name(p.unit)},
          {"output_shape", p.output_shape},
          {"macs", L.macs},
          {"params", p.params},
          {"cycles", L.cycles},
          {"start_cycle", L.start_cycle},
          {"end_cycle", L.end_cycle},
          {"share", share(L, r)},
          {"utilization", L.utilization},
          {"bound", L.bound},
          {"dram_read_bytes", L.dram_read_bytes},
          {"dram_write_bytes", L.dram_write_bytes},
          {"sram_read_bytes", L.sram_read_bytes},
          {"sram_write_bytes", L.sram_write_bytes},
          {"energy_uj", L.energy_uj},
          {"tiles", p.tiles},
          {"folds", p.folds},
          {"mapping", p.mapping},
          {"on_chip", p.output_on_chip},
          {"input_on_chip", p.input_on_chip},
          {"sram_peak_bytes", p.sram_peak_bytes},
          {"est_cycles", p.est_cycles},
          {"commands", L.commands},
          {"compute_busy_cycles", L.compute_busy_cycles},
          {"dma_busy_cycles", L.dma_busy_cycles},
          {"kernel_activations", L.kernel_activations}};
}

nlohmann::json result_json(const SimRun& s) {
  const hw::RunResult& r = s.result;
  nlohmann::json j;
  j["tool_version"] = version();
  j["chip"] = {{"name", s.chip.name},
               {"hash", s.chip.hash},
               {"description", s.chip.description},
               {"values", chip_values(s.chip)}};
  j["model"] = {{"name", s.model.name},
                {"source", s.model.source},
                {"kind", s.model.kind},
                {"hash", s.model.hash}};
  j["clock_mhz"] = s.chip.clock_mhz;
  j["total_cycles"] = r.total_cycles;
  j["latency_ms"] = r.latency_ms;
  j["macs"] = r.macs;
  j["params"] = s.params;
  j["mac_utilization"] = r.total_cycles
                             ? static_cast<double>(r.macs) / (static_cast<double>(r.total_cycles) *
                                                              static_cast<double>(s.chip.num_pes()))
                             : 0.0;
  j["dram_read_bytes"] = r.dram_read_bytes;
  j["dram_write_bytes"] = r.dram_write_bytes;
  j["sram_read_bytes"] = r.sram_read_bytes;
  j["sram_write_bytes"] = r.sram_write_bytes;
  j["vector_element_ops"] = r.vector_element_ops;
  j["energy_uj"] = r.energy_uj;
  j["energy"] = {{"mac_uj", r.energy.mac_uj},
                 {"sram_uj", r.energy.sram_uj},
                 {"dram_uj", r.energy.dram_uj},
                 {"vector_uj", r.energy.vector_uj},
                 {"static_uj", r.energy.static_uj}};
  j["commands"] = s.program.cmds.size();
  j["kernel_activations"] = r.kernel_activations;
  j["delta_cycles"] = r.delta_cycles;
  nlohmann::json layers = nlohmann::json::array();
  for (size_t i = 0; i < r.layers.size(); ++i)
    layers.push_back(layer_json(s.program.layers[i], r.layers[i], r));
  j["layers"] = layers;
  nlohmann::json units = nlohmann::json::array();
  for (const auto& u : r.units) {
    units.push_back({{"name", u.name},
                     {"busy_cycles", u.busy_cycles},
                     {"utilization", u.utilization},
                     {"commands", u.commands}});
  }
  j["units"] = units;
  nlohmann::json stats = nlohmann::json::object();
  for (const auto& st : r.stats)
    stats[st.name] = {{"value", st.value}, {"unit", st.unit}, {"description", st.description}};
  j["stats"] = stats;
  return j;
}

std::string result_csv(const SimRun& s) {
  const std::vector<std::string> cols = {"name",
                                         "op",
                                         "fused",
                                         "unit",
                                         "output_shape",
                                         "macs",
                                         "params",
                                         "cycles",
                                         "start_cycle",
                                         "end_cycle",
                                         "share",
                                         "utilization",
                                         "bound",
                                         "dram_read_bytes",
                                         "dram_write_bytes",
                                         "sram_read_bytes",
                                         "sram_write_bytes",
                                         "energy_uj",
                                         "tiles",
                                         "folds",
                                         "mapping",
                                         "on_chip",
                                         "input_on_chip",
                                         "sram_peak_bytes",
                                         "est_cycles",
                                         "commands",
                                         "compute_busy_cycles",
                                         "dma_busy_cycles",
                                         "kernel_activations"};
  std::string out;
  for (size_t c = 0; c < cols.size(); ++c) out += (c ? "," : "") + cols[c];
  out += "\n";
  for (size_t i = 0; i < s.result.layers.size(); ++i) {
    const nlohmann::json j = layer_json(s.program.layers[i], s.result.layers[i], s.result);
    for (size_t c = 0; c < cols.size(); ++c) {
      const nlohmann::json& v = j.at(cols[c]);
      std::string cell;
      if (v.is_string())
        cell = v.get<std::string>();
      else if (cols[c] == "output_shape")
        cell = ir::shape_str(v.get<ir::Shape>());
      else
        cell = v.dump();
      out += (c ? "," : "") + csv_field(cell);
    }
    out += "\n";
  }
  return out;
}

// Chrome trace-event JSON text; sets *written to the number of command spans.
std::string timeline_json(const SimRun& s, int64_t limit, int64_t* written) {
  const hw::RunResult& r = s.result;
  const hw::Program& p = s.program;
  const double mhz = s.chip.clock_mhz;
  auto us = [mhz](hw::Cycle c) { return static_cast<double>(c) / mhz; };
  nlohmann::json ev = nlohmann::json::array();
  constexpr int kPid = 1;
  auto track = [&](int tid, const std::string& name) {
    ev.push_back({{"name", "thread_name"},
                  {"ph", "M"},
                  {"pid", kPid},
                  {"tid", tid},
                  {"args", {{"name", name}}}});
    ev.push_back({{"name", "thread_sort_index"},
                  {"ph", "M"},
                  {"pid", kPid},
                  {"tid", tid},
                  {"args", {{"sort_index", tid}}}});
  };
  ev.push_back({{"name", "process_name"},
                {"ph", "M"},
                {"pid", kPid},
                {"args", {{"name", fmt::format("npu: {} on {}", s.model.name, s.chip.name)}}}});

  // Layers: greedy interval colouring, so spans on one track never overlap.
  std::vector<size_t> order(r.layers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return r.layers[a].start_cycle < r.layers[b].start_cycle;
  });
  std::vector<hw::Cycle> lane_end;
  nlohmann::json layer_ev = nlohmann::json::array();
  for (size_t i : order) {
    const hw::LayerResult& L = r.layers[i];
    if (L.commands == 0) continue;
    size_t lane = 0;
    while (lane < lane_end.size() && lane_end[lane] > L.start_cycle) ++lane;
    if (lane == lane_end.size()) lane_end.push_back(0);
    lane_end[lane] = L.end_cycle;
    layer_ev.push_back({{"name", L.name},
                        {"cat", "layer"},
                        {"ph", "X"},
                        {"pid", kPid},
                        {"tid", 1 + static_cast<int>(lane)},
                        {"ts", us(L.start_cycle)},
                        {"dur", us(L.end_cycle) - us(L.start_cycle)},
                        {"args",
                         {{"op", L.op},
                          {"start_cycle", L.start_cycle},
                          {"end_cycle", L.end_cycle},
                          {"macs", L.macs},
                          {"utilization", L.utilization},
                          {"bound", L.bound},
                          {"mapping", p.layers[i].mapping}}}});
  }
  for (size_t lane = 0; lane < lane_end.size(); ++lane)
    track(1 + static_cast<int>(lane), lane ? fmt::format("layers ({})", lane + 1) : "layers");

  // Units.
  constexpr int kUnitTid = 100;
  for (size_t u = 0; u < r.units.size(); ++u) {
    if (r.units[u].commands > 0 || u < 2) track(kUnitTid + static_cast<int>(u), r.units[u].name);
  }
  std::vector<uint32_t> cmds(p.cmds.size());
  std::iota(cmds.begin(), cmds.end(), 0u);
  std::stable_sort(cmds.begin(), cmds.end(), [&](uint32_t a, uint32_t b) {
    return r.commands[a].start < r.commands[b].start;
  });
  if (static_cast<int64_t>(cmds.size()) > limit) cmds.resize(static_cast<size_t>(limit));
  *written = static_cast<int64_t>(cmds.size());

  // The command spans are written as text directly: tens of thousands of small JSON objects
  // built as nlohmann::json cost more than the whole simulation.
  std::vector<std::string> layer_names(p.layers.size());
  for (size_t l = 0; l < p.layers.size(); ++l)
    layer_names[l] = nlohmann::json(p.layers[l].name).dump();
  std::string out = "{\"traceEvents\":[";
  bool first = true;
  auto sep = [&] {
    if (!first) out += ",\n";
    first = false;
  };
  for (const auto& e : ev) sep(), out += e.dump();
  for (const auto& e : layer_ev) sep(), out += e.dump();
  for (uint32_t i : cmds) {
    const hw::Command& c = p.cmds[i];
    const hw::CommandTiming& t = r.commands[i];
    const int unit = c.unit == hw::UnitKind::kMacArray ? 0
                     : c.unit == hw::UnitKind::kVector ? 1
                                                       : 2 + c.channel;
    const std::string layer = c.layer >= 0 ? layer_names[static_cast<size_t>(c.layer)] : "\"\"";
    std::string name;
    if (c.unit == hw::UnitKind::kDma) {
      const std::string what = !c.dma.what.empty() ? c.dma.what
                               : c.layer >= 0      ? p.layers[static_cast<size_t>(c.layer)].name
                                                   : "";
      name = nlohmann::json(fmt::format("{} {}", c.dma.store ? "store" : "load", what)).dump();
    } else {
      name = layer.substr(0, layer.size() - 1) + fmt::format(" #{}\"", c.tile);
    }
    std::string extra;
    if (c.unit == hw::UnitKind::kDma) {
      extra = fmt::format("\"bytes\":{}", c.dma.bytes);
    } else if (c.unit == hw::UnitKind::kMacArray) {
      extra = fmt::format("\"vectors\":{},\"rows_used\":{},\"cols_used\":{},\"macs\":{}",
                          c.array.seg.vectors, c.array.seg.rows_used, c.array.seg.cols_used,
                          c.array.macs);
    } else {
      extra = fmt::format("\"issues\":{}", c.vector.issues);
    }
    sep();
    fmt::format_to(std::back_inserter(out),
                   "{{\"name\":{},\"cat\":\"{}\",\"ph\":\"X\",\"pid\":{},\"tid\":{},\"ts\":{},"
                   "\"dur\":{},\"args\":{{\"command\":{},\"layer\":{},\"tile\":{},\"issue\":{},"
                   "\"start\":{},\"accept\":{},\"done\":{},{}}}}}",
                   name, hw::unit_kind_name(c.unit), kPid, kUnitTid + unit, us(t.start),
                   us(t.accept) - us(t.start), i, layer, c.tile, t.issue, t.start, t.accept, t.done,
                   extra);
  }
  const nlohmann::json other = {{"tool_version", version()},
                                {"chip", s.chip.name},
                                {"chip_hash", s.chip.hash},
                                {"model", s.model.name},
                                {"model_hash", s.model.hash},
                                {"clock_mhz", mhz},
                                {"time_unit", "microseconds at the chip clock (cycle / clock_mhz)"},
                                {"command_spans", *written},
                                {"commands", p.cmds.size()}};
  out += "],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":" + other.dump() + "}\n";
  return out;
}

void print_summary(const SimRun& s, int64_t timeline_spans, const SimOptions& o) {
  const hw::RunResult& r = s.result;
  const hw::Program& p = s.program;
  std::cout << fmt::format("model {} (hash {}) on chip {} (hash {}), nax {}\n", s.model.name,
                           s.model.hash, s.chip.name, s.chip.hash, version());
  Table t(
      {"#", "layer", "op", "shape", "MACs", "cycles", "share", "util", "bound", "DRAM", "output"},
      {true, false, false, false, true, true, true, true, false, true, false});
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const hw::LayerResult& L = r.layers[i];
    const hw::LayerPlan& plan = p.layers[i];
    std::string op = L.op;
    if (!plan.fused.empty()) op += "+" + plan.fused;
    if (!plan.compute) {
      t.row({std::to_string(i), L.name, op, ir::shape_str(plan.output_shape), "", "", "", "",
             "view", "", ""});
      continue;
    }
    t.row({std::to_string(i), L.name, op, ir::shape_str(plan.output_shape),
           L.macs ? human(static_cast<double>(L.macs)) : "",
           grouped(static_cast<int64_t>(L.cycles)), pct(share(L, r)), pct(L.utilization), L.bound,
           human_bytes(static_cast<double>(L.dram_read_bytes + L.dram_write_bytes)),
           placement(plan)});
  }
  std::cout << t.str() << "\n";
  const double pes = static_cast<double>(s.chip.num_pes());
  const double util =
      r.total_cycles ? static_cast<double>(r.macs) / (static_cast<double>(r.total_cycles) * pes)
                     : 0.0;
  std::cout << fmt::format("total      {} cycles = {:.3f} ms at {} MHz ({:.1f} inferences/s)\n",
                           grouped(static_cast<int64_t>(r.total_cycles)), r.latency_ms,
                           s.chip.clock_mhz, r.latency_ms > 0 ? 1000.0 / r.latency_ms : 0.0);
  std::cout << fmt::format("MACs       {} ({}), MAC array utilisation {} of {} PEs\n",
                           grouped(r.macs), human(static_cast<double>(r.macs)), pct(util),
                           s.chip.num_pes());
  std::cout << fmt::format(
      "energy     {:.1f} uJ: MAC {:.1f}, SRAM {:.1f}, DRAM {:.1f}, vector {:.1f}, static {:.1f}\n",
      r.energy_uj, r.energy.mac_uj, r.energy.sram_uj, r.energy.dram_uj, r.energy.vector_uj,
      r.energy.static_uj);
  std::cout << fmt::format("DRAM       read {}, write {}   SRAM read {}, write {}\n",
                           human_bytes(static_cast<double>(r.dram_read_bytes)),
                           human_bytes(static_cast<double>(r.dram_write_bytes)),
                           human_bytes(static_cast<double>(r.sram_read_bytes)),
                           human_bytes(static_cast<double>(r.sram_write_bytes)));
  std::string units;
  for (const auto& u : r.units) {
    if (!units.empty()) units += ", ";
    units += u.name + " " + pct(u.utilization);
  }
  std::cout << "busy       " << units << "\n";
  std::cout << fmt::format("simulated  {} commands in {} kernel activations\n",
                           grouped(static_cast<int64_t>(p.cmds.size())),
                           grouped(static_cast<int64_t>(r.kernel_activations)));
  if (!o.timeline.empty() && timeline_spans < static_cast<int64_t>(p.cmds.size())) {
    std::cout << fmt::format("timeline   {} of {} command spans (--timeline-limit)\n",
                             grouped(timeline_spans), grouped(static_cast<int64_t>(p.cmds.size())));
  }
}

// Keeps the ops named by `names` (comma-separated: an op name, a block name such as "s2.1", or
// a stage name such as "s2"), their inputs from the rest becoming graph inputs.
void restrict_to_subgraph(Model& m, const std::string& names) {
  std::vector<int> keep;
  std::vector<std::string> known;
  for (const auto& op : m.graph.ops()) {
    if (!op.meta.block.empty()) known.push_back(op.meta.block);
  }
  size_t pos = 0;
  while (pos <= names.size()) {
    size_t comma = names.find(',', pos);
    if (comma == std::string::npos) comma = names.size();
    const std::string name = names.substr(pos, comma - pos);
    pos = comma + 1;
    if (name.empty()) continue;
    size_t before = keep.size();
    for (size_t i = 0; i < m.graph.ops().size(); ++i) {
      const ir::Op& op = m.graph.op(static_cast<int>(i));
      const std::string& b = op.meta.block;
      if (op.name == name || b == name || b.rfind(name + ".", 0) == 0) {
        keep.push_back(static_cast<int>(i));
      }
    }
    if (keep.size() == before) {
      std::string msg =
          "--subgraph " + name + ": no op, block or stage of " + m.name + " has this name";
      const std::string hint = did_you_mean(name, known);
      if (!hint.empty()) msg += "; did you mean " + hint + "?";
      throw InputError(msg);
    }
  }
  if (keep.empty()) throw InputError("--subgraph: expected op, block or stage names");
  m.graph = ir::extract_subgraph(m.graph, keep);
  m.name += "[" + names + "]";
  m.graph.name = m.name;
  m.hash = ir::graph_hash(m.graph);
}

void run_sim(const SimOptions& o) {
  SimRun s;
  s.chip = hw::load_chip(o.chip, o.overrides);
  s.model = load_model(o.model);
  if (!o.subgraph.empty()) restrict_to_subgraph(s.model, o.subgraph);
  s.params = ir::analyze(s.model.graph).params;
  hw::LowerOptions lo;
  lo.keep_on_chip = !o.layer_by_layer;
  s.program = hw::lower(s.model.graph, s.chip, lo);
  s.result = hw::Simulator::instance().run(s.program, s.chip);

  int64_t spans = 0;
  if (!o.timeline.empty())  // compact: tens of thousands of events
    write_text(timeline_json(s, o.timeline_limit, &spans), o.timeline);
  if (!o.csv.empty()) write_text(result_csv(s), o.csv);
  if (!o.json.empty()) write_json(result_json(s), o.json);
  if (o.quiet || o.json == "-" || o.csv == "-" || o.timeline == "-") return;
  print_summary(s, spans, o);
}

}  // namespace

void add_sim_commands(CLI::App& app) {
  auto o = std::make_shared<SimOptions>();
  CLI::App* sim = app.add_subcommand(
      "sim",
      "Simulate a network on a chip (SystemC): per-layer cycles, utilisation, traffic, energy");
  sim->add_option("--chip", o->chip, "chip preset or YAML file")->capture_default_str();
  sim->add_option("-p", o->overrides, "chip override key.path=value (repeatable)");
  sim->add_option("--model,-m", o->model,
                  "zoo name with parameters, a model .yaml or an .onnx file")
      ->capture_default_str();
  sim->add_option("--json", o->json, "write the result as JSON to PATH ('-' for stdout)");
  sim->add_option("--csv", o->csv, "write one row per layer as CSV to PATH ('-' for stdout)");
  sim->add_option("--timeline", o->timeline,
                  "write a Chrome trace-event timeline to PATH (open it in ui.perfetto.dev)");
  sim->add_option("--timeline-limit", o->timeline_limit,
                  "most per-command spans in the timeline (layer spans are always written)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sim->add_flag(
      "--layer-by-layer", o->layer_by_layer,
      "no on-chip reuse: every layer reads its inputs from and writes its output to DRAM");
  sim->add_option("--subgraph", o->subgraph,
                  "simulate only these ops, blocks or stages (comma-separated names, e.g. "
                  "s2.1 or s3,s4); their other inputs start in DRAM");
  sim->add_flag("--quiet,-q", o->quiet, "no table on the terminal");
  sim->footer(
      "Examples:\n"
      "  nax sim\n"
      "  nax sim --model mobilenet_v2:width=0.75,resolution=160 --chip edgetpu-like --json r.json\n"
      "  nax sim --chip default -p mac_array.rows=64 -p dram.bandwidth_gb_per_s=8 --csv "
      "layers.csv\n"
      "  nax sim --model net.onnx --timeline trace.json   # open trace.json in ui.perfetto.dev\n"
      "  nax sim --model mobilenet_v2:s2.type=fused_ibn --subgraph s2   # one stage");
  sim->callback([o] { run_sim(*o); });
}

}  // namespace nax::cli
