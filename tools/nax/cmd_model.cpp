// `nax model info|list|export`: what a network is (layers, MACs, params, activation memory).
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "hw/chip/chip.hpp"
#include "models/ir/analysis.hpp"
#include "models/model_source.hpp"
#include "models/onnx/onnx_export.hpp"
#include "models/zoo/zoo.hpp"
#include "tools/nax/cli.hpp"

namespace nax::cli {
namespace {

constexpr const char* kDefaultModel = "mobilenet_v2";

struct InfoOptions {
  std::string model = kDefaultModel;
  std::string chip;
  std::vector<std::string> overrides;
  std::string json;
  bool quiet = false;
};

nlohmann::json info_json(const Model& m, const ir::GraphStats& st, const ir::ElementBytes& eb,
                         const std::string& chip_name) {
  const ir::Graph& g = m.graph;
  nlohmann::json j;
  j["tool_version"] = version();
  j["model"] = {{"name", m.name}, {"source", m.source}, {"kind", m.kind}, {"hash", m.hash}};
  if (!chip_name.empty()) j["chip"] = chip_name;
  j["activation_bytes_per_element"] = eb.activation;  // 0: each tensor's own type
  j["weight_bytes_per_element"] = eb.weight;
  j["macs"] = st.macs;
  j["vector_ops"] = st.vector_ops;
  j["params"] = st.params;
  j["weight_bytes"] = st.weight_bytes;
  j["peak_activation_bytes"] = st.peak_activation_bytes;
  j["peak_layer"] =
      st.peak_step >= 0 ? g.op(st.layers[static_cast<size_t>(st.peak_step)].op).name : "";
  nlohmann::json inputs = nlohmann::json::array();
  for (ir::TensorId t : g.inputs()) {
    inputs.push_back({{"name", g.tensor(t).name},
                      {"shape", g.shape(t)},
                      {"dtype", ir::dtype_name(g.tensor(t).dtype)}});
  }
  j["inputs"] = inputs;
  nlohmann::json outputs = nlohmann::json::array();
  for (ir::TensorId t : g.outputs())
    outputs.push_back({{"name", g.tensor(t).name}, {"shape", g.shape(t)}});
  j["outputs"] = outputs;
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& L : st.layers) {
    const ir::Op& op = g.op(L.op);
    nlohmann::json in_shapes = nlohmann::json::array();
    for (ir::TensorId t : op.inputs) in_shapes.push_back(g.shape(t));
    layers.push_back({{"name", op.name},
                      {"op", ir::op_name(op.kind)},
                      {"attrs", ir::attrs_str(op)},
                      {"block", op.meta.block},
                      {"block_type", op.meta.block_type},
                      {"role", op.meta.role},
                      {"input_shapes", in_shapes},
                      {"output_shape", g.shape(op.output)},
                      {"macs", L.macs},
                      {"vector_ops", L.vector_ops},
                      {"params", L.params},
                      {"input_bytes", L.input_bytes},
                      {"output_bytes", L.output_bytes},
                      {"live_bytes", L.live_bytes}});
  }
  j["layers"] = layers;
  return j;
}

void run_info(const InfoOptions& o) {
  const Model m = load_model(o.model);
  ir::ElementBytes eb;  // tensor types, 1-byte weights
  std::string chip_name;
  if (!o.chip.empty()) {
    const hw::ChipParams chip = hw::load_chip(o.chip, o.overrides);
    eb.activation = chip.activation_bytes();
    eb.weight = chip.weight_bytes();
    chip_name = chip.name;
  }
  const ir::GraphStats st = ir::analyze(m.graph, {}, eb);
  if (!o.json.empty()) write_json(info_json(m, st, eb, chip_name), o.json);
  if (o.quiet || o.json == "-") return;

  const ir::Graph& g = m.graph;
  Table t({"#", "layer", "op", "attrs", "output", "MACs", "params", "act bytes", "live bytes"},
          {true, false, false, false, false, true, true, true, true});
  int i = 0;
  for (const auto& L : st.layers) {
    const ir::Op& op = g.op(L.op);
    t.row({std::to_string(i++), op.name, ir::op_name(op.kind), ir::attrs_str(op),
           ir::shape_str(g.shape(op.output)), L.macs ? human(static_cast<double>(L.macs)) : "",
           L.params ? human(static_cast<double>(L.params)) : "",
           human_bytes(static_cast<double>(L.input_bytes + L.output_bytes)),
           human_bytes(static_cast<double>(L.live_bytes))});
  }
  std::cout << fmt::format("model {} ({}, hash {})\n", m.name, m.source, m.hash);
  std::cout << t.str();
  const std::string peak_layer =
      st.peak_step >= 0 ? g.op(st.layers[static_cast<size_t>(st.peak_step)].op).name : "-";
  std::cout << fmt::format(
      "\n{} layers  MACs {} ({})  params {} ({})  weights {}  peak activations {} at {}\n",
      st.layers.size(), grouped(st.macs), human(static_cast<double>(st.macs)), grouped(st.params),
      human(static_cast<double>(st.params)), human_bytes(static_cast<double>(st.weight_bytes)),
      human_bytes(static_cast<double>(st.peak_activation_bytes)), peak_layer);
  std::cout << (eb.activation > 0
                    ? fmt::format("bytes per element: activations {}, weights {} (chip {})\n",
                                  eb.activation, eb.weight, chip_name)
                    : fmt::format(
                          "bytes per element: activations as each tensor's type, weights {}\n",
                          eb.weight));
}

void run_list(bool json) {
  auto& reg = zoo::ZooRegistry::instance();
  if (json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& n : reg.names()) {
      const auto* e = reg.find(n);
      nlohmann::json params = nlohmann::json::array();
      for (const auto& d : e->params) {
        params.push_back({{"name", d.path},
                          {"type", type_name(d.type)},
                          {"default", d.default_ ? format_value(*d.default_) : ""},
                          {"description", d.description}});
      }
      nlohmann::json item = {{"name", n}, {"description", e->description}, {"params", params}};
      if (e->reference) {
        item["reference"] = {{"macs", e->reference->macs},
                             {"params", e->reference->params},
                             {"source", e->reference->source}};
      }
      j.push_back(item);
    }
    write_json(j, "-");
    return;
  }
  Table t({"model", "parameters", "description"});
  for (const auto& n : reg.names()) {
    const auto* e = reg.find(n);
    std::string params;
    for (const auto& d : e->params) {
      if (!params.empty()) params += ",";
      params += d.path + "=" + (d.default_ ? format_value(*d.default_) : "?");
    }
    t.row({n, params, e->description});
  }
  std::cout << t.str();
}

}  // namespace

void add_model_commands(CLI::App& app) {
  CLI::App* model = app.add_subcommand("model", "Inspect, list and export networks");
  model->require_subcommand(1);

  auto info_opts = std::make_shared<InfoOptions>();
  CLI::App* info = model->add_subcommand(
      "info", "Per-layer table (op, shapes, MACs, params, activation bytes) and totals");
  info->add_option("--model,-m", info_opts->model,
                   "zoo name with parameters, a model .yaml or an .onnx file")
      ->capture_default_str();
  info->add_option("--chip", info_opts->chip,
                   "count activation/weight bytes with this chip's data widths (preset or YAML)");
  info->add_option("-p", info_opts->overrides, "chip override key.path=value (with --chip)");
  info->add_option("--json", info_opts->json, "write the result as JSON to PATH ('-' for stdout)");
  info->add_flag("--quiet,-q", info_opts->quiet, "no table on the terminal");
  info->footer(
      "Examples:\n"
      "  nax model info --model mobilenet_v2:width=0.75,resolution=160\n"
      "  nax model info --model net.onnx --json info.json\n"
      "  nax model info --model mobilenet_v2:s3.type=fused_ibn --chip default");
  info->callback([info_opts] { run_info(*info_opts); });

  auto list_json = std::make_shared<bool>(false);
  CLI::App* list = model->add_subcommand("list", "The zoo: model names, parameters, descriptions");
  list->add_flag("--json", *list_json, "print JSON instead of a table");
  list->footer("Example:\n  nax model list");
  list->callback([list_json] { run_list(*list_json); });

  auto exp_model = std::make_shared<std::string>(kDefaultModel);
  auto exp_out = std::make_shared<std::string>("-");
  auto exp_onnx = std::make_shared<std::string>();
  auto exp_onnx_opts = std::make_shared<onnx::ExportOptions>();
  CLI::App* exp = model->add_subcommand(
      "export", "Write a model as a block-level YAML description, or as ONNX (--onnx)");
  exp->add_option("--model,-m", *exp_model,
                  "zoo name with parameters or a model .yaml (an .onnx file too with --onnx)")
      ->capture_default_str();
  CLI::Option* out_opt =
      exp->add_option("--out,-o", *exp_out, "output .yaml ('-' for stdout)")->capture_default_str();
  exp->add_option("--onnx", *exp_onnx,
                  "write the network as ONNX (opset 13, batch norms folded, seeded random "
                  "weights) to FILE; then the YAML is written only when --out is given");
  exp->add_flag("--shape-only", exp_onnx_opts->shape_only,
                "with --onnx: weights as graph inputs without data (a small file)");
  exp->add_option("--seed", exp_onnx_opts->seed, "with --onnx: seed of the random weights")
      ->capture_default_str();
  exp->footer(
      "Examples:\n  nax model export --model mobilenet_v2:s2.type=fused_ibn -o mine.yaml\n"
      "  nax model export --model nb201 --onnx nb201.onnx");
  exp->callback([exp_model, exp_out, exp_onnx, exp_onnx_opts, out_opt] {
    const Model m = load_model(*exp_model);
    if (!exp_onnx->empty()) {
      onnx::export_onnx_file(m.graph, *exp_onnx, *exp_onnx_opts);
      if (out_opt->count() == 0) {
        fmt::print("{}: {} as ONNX opset {}, {} ops, {}\n", *exp_onnx, m.name, onnx::kExportOpset,
                   m.graph.ops().size(),
                   exp_onnx_opts->shape_only
                       ? std::string("shape-only (weights without data)")
                       : fmt::format("random weights (seed {})", exp_onnx_opts->seed));
        return;
      }
    }
    if (!m.spec)
      throw InputError("--model " + *exp_model +
                       ": an ONNX graph has no block-level description to export");
    write_text(spec::write_model_yaml(*m.spec), *exp_out);
  });
}

}  // namespace nax::cli
