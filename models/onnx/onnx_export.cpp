// ONNX export: one pass over the ops in graph order (a topological order), each mapped to the node
// pattern listed in onnx_export.hpp. Weights are created as the ops need them, from one SplitMix64
// stream, so the bytes depend on the graph and the seed only.
#include "models/onnx/onnx_export.hpp"

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include <climits>
#include <cmath>
#include <cstring>
#include <fstream>
#include <unordered_set>

#include "models/estimate/sampler.hpp"
#include "models/ir/analysis.hpp"

namespace nax::onnx {
namespace {

using ir::OpKind;
using ir::Shape;
using ::onnx::NodeProto;
using ::onnx::TensorProto;

constexpr int kIrVersion = 7;  // the IR version of opset 13 (ONNX 1.8)
constexpr float kBnEpsilon = 1e-5f;

void set_shape(::onnx::ValueInfoProto* vi, const std::string& name, const Shape& dims) {
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(TensorProto::FLOAT);
  auto* shape = tt->mutable_shape();
  for (int64_t d : dims) shape->add_dim()->set_dim_value(d);
}

void attr_int(NodeProto* n, const char* name, int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::INT);
  a->set_i(v);
}

void attr_ints(NodeProto* n, const char* name, const std::vector<int64_t>& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

void attr_float(NodeProto* n, const char* name, float v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::FLOAT);
  a->set_f(v);
}

void attr_string(NodeProto* n, const char* name, const std::string& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::STRING);
  a->set_s(v);
}

// Little-endian float32 bytes, as TensorProto.raw_data stores them on every host.
std::string raw_floats(const std::vector<float>& v) {
  std::string raw(v.size() * 4, '\0');
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, &v[i], 4);
    for (int b = 0; b < 4; ++b)
      raw[i * 4 + static_cast<size_t>(b)] = static_cast<char>(bits >> (8 * b));
  }
  return raw;
}

class Exporter {
 public:
  Exporter(const ir::Graph& g, const ExportOptions& opts)
      : m_g(g), m_opts(opts), m_rng(est::SplitMix64::for_sample(opts.seed, 0)) {}

  std::string run();

 private:
  // Names.
  std::string unique(const std::string& base);
  const std::string& name_of(ir::TensorId t) const { return m_names.at(static_cast<size_t>(t)); }

  // Constants. `weight_slot`: the tensor feeds a slot the importer recognises as a weight, so in
  // shape-only mode it is a graph input without data.
  std::string random_weight(const std::string& name, const Shape& dims, double bound,
                            bool weight_slot = true);
  std::string fill_weight(const std::string& name, const Shape& dims, float value);
  std::string floats(const std::string& name, const Shape& dims, const std::vector<float>& v,
                     bool weight_slot = false);
  std::string ints(const std::string& name, const std::vector<int64_t>& v);

  NodeProto* node(const std::string& type, const std::string& name,
                  const std::vector<std::string>& inputs, const std::string& output);
  void export_op(const ir::Op& op);
  void conv(const ir::Op& op);
  void fully_connected(const ir::Op& op);
  void pool(const ir::Op& op);
  void binary(const ir::Op& op);

  const ir::Graph& m_g;
  ExportOptions m_opts;
  est::SplitMix64 m_rng;
  ::onnx::ModelProto m_model;
  ::onnx::GraphProto* m_graph = nullptr;
  std::vector<std::string> m_names;  // per tensor: its unique ONNX name
  std::unordered_set<std::string> m_used;
};

std::string Exporter::unique(const std::string& base) {
  const std::string b = base.empty() ? "t" : base;
  std::string name = b;
  for (int i = 1; m_used.count(name); ++i) name = fmt::format("{}_{}", b, i);
  m_used.insert(name);
  return name;
}

std::string Exporter::floats(const std::string& name, const Shape& dims,
                             const std::vector<float>& v, bool weight_slot) {
  const std::string n = unique(name);
  if (weight_slot && m_opts.shape_only) {
    set_shape(m_graph->add_input(), n, dims);
    return n;
  }
  TensorProto* t = m_graph->add_initializer();
  t->set_name(n);
  t->set_data_type(TensorProto::FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  t->set_raw_data(raw_floats(v));
  return n;
}

std::string Exporter::random_weight(const std::string& name, const Shape& dims, double bound,
                                    bool weight_slot) {
  if (weight_slot && m_opts.shape_only) return floats(name, dims, {}, true);
  std::vector<float> v(static_cast<size_t>(ir::numel(dims)));
  for (float& x : v) x = static_cast<float>((2 * m_rng.uniform01() - 1) * bound);
  return floats(name, dims, v, weight_slot);
}

std::string Exporter::fill_weight(const std::string& name, const Shape& dims, float value) {
  if (m_opts.shape_only) return floats(name, dims, {}, true);
  return floats(name, dims, std::vector<float>(static_cast<size_t>(ir::numel(dims)), value), true);
}

std::string Exporter::ints(const std::string& name, const std::vector<int64_t>& v) {
  const std::string n = unique(name);
  TensorProto* t = m_graph->add_initializer();
  t->set_name(n);
  t->set_data_type(TensorProto::INT64);
  t->add_dims(static_cast<int64_t>(v.size()));
  for (int64_t x : v) t->add_int64_data(x);
  return n;
}

NodeProto* Exporter::node(const std::string& type, const std::string& name,
                          const std::vector<std::string>& inputs, const std::string& output) {
  NodeProto* n = m_graph->add_node();
  n->set_op_type(type);
  n->set_name(name);
  for (const auto& i : inputs) n->add_input(i);
  n->add_output(output);
  return n;
}

std::string Exporter::run() {
  if (m_g.ops().empty()) {
    throw InputError(fmt::format("graph '{}' has no ops: nothing to export as ONNX", m_g.name));
  }
  m_model.set_ir_version(kIrVersion);
  m_model.set_producer_name("nax");
  auto* opset = m_model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kExportOpset);
  auto add_meta = [&](const char* key, const std::string& value) {
    auto* p = m_model.add_metadata_props();
    p->set_key(key);
    p->set_value(value);
  };
  add_meta("nax.graph_hash", ir::graph_hash(m_g));
  if (!m_g.tensors().empty()) add_meta("nax.dtype", ir::dtype_name(m_g.tensors()[0].dtype));
  m_graph = m_model.mutable_graph();
  m_graph->set_name(m_g.name.empty() ? "nax" : m_g.name);

  m_names.assign(m_g.tensors().size(), "");
  for (ir::TensorId t : m_g.inputs()) {
    m_names[static_cast<size_t>(t)] = unique(m_g.tensor(t).name);
    set_shape(m_graph->add_input(), name_of(t), m_g.shape(t));
  }
  for (const ir::Op& op : m_g.ops()) {
    m_names[static_cast<size_t>(op.output)] = unique(m_g.tensor(op.output).name);
  }
  for (const ir::Op& op : m_g.ops()) export_op(op);

  std::unordered_set<ir::TensorId> outputs(m_g.outputs().begin(), m_g.outputs().end());
  for (ir::TensorId t : m_g.outputs()) set_shape(m_graph->add_output(), name_of(t), m_g.shape(t));
  for (const ir::Op& op : m_g.ops()) {
    if (!outputs.count(op.output)) {
      set_shape(m_graph->add_value_info(), name_of(op.output), m_g.shape(op.output));
    }
  }
  const size_t size = m_model.ByteSizeLong();
  if (size > static_cast<size_t>(INT_MAX)) {
    throw Error(
        fmt::format("graph '{}': the ONNX model would have {} bytes, more than protobuf's "
                    "2 GiB limit (export it with shape_only)",
                    m_g.name, size));
  }
  std::string bytes;
  if (!m_model.SerializeToString(&bytes)) throw Error("cannot serialize the ONNX model");
  return bytes;
}

void Exporter::export_op(const ir::Op& op) {
  const std::string& out = name_of(op.output);
  const std::string x = op.inputs.empty() ? std::string() : name_of(op.inputs[0]);
  switch (op.kind) {
    case OpKind::kConv2d:
      conv(op);
      return;
    case OpKind::kFullyConnected:
      fully_connected(op);
      return;
    case OpKind::kMaxPool:
    case OpKind::kAvgPool:
      pool(op);
      return;
    case OpKind::kGlobalAvgPool:
      node("GlobalAveragePool", op.name, {x}, out);
      return;
    case OpKind::kGlobalMaxPool:
      node("GlobalMaxPool", op.name, {x}, out);
      return;
    case OpKind::kAdd:
    case OpKind::kSub:
    case OpKind::kMul:
    case OpKind::kDiv:
      binary(op);
      return;
    case OpKind::kConcat: {
      std::vector<std::string> ins;
      for (ir::TensorId t : op.inputs) ins.push_back(name_of(t));
      attr_int(node("Concat", op.name, ins, out), "axis", op.attr<ir::AxisAttrs>().axis);
      return;
    }
    case OpKind::kRelu:
      node("Relu", op.name, {x}, out);
      return;
    case OpKind::kRelu6:
    case OpKind::kClip: {
      const ir::ClipAttrs c =
          op.kind == OpKind::kRelu6 ? ir::ClipAttrs{0.f, 6.f} : op.attr<ir::ClipAttrs>();
      std::vector<std::string> ins = {x, "", ""};
      if (!std::isinf(c.min)) ins[1] = floats(op.name + ".min", {}, {c.min});
      if (!std::isinf(c.max)) ins[2] = floats(op.name + ".max", {}, {c.max});
      while (ins.back().empty()) ins.pop_back();
      node("Clip", op.name, ins, out);
      return;
    }
    case OpKind::kLeakyRelu:
      attr_float(node("LeakyRelu", op.name, {x}, out), "alpha",
                 op.attr<ir::LeakyReluAttrs>().alpha);
      return;
    case OpKind::kHardSwish: {
      const std::string gate = unique(op.name + ".hardsigmoid");
      NodeProto* h = node("HardSigmoid", gate, {x}, gate);
      attr_float(h, "alpha", 1.f / 6.f);
      attr_float(h, "beta", 0.5f);
      node("Mul", op.name, {x, gate}, out);
      return;
    }
    case OpKind::kHardSigmoid: {
      NodeProto* h = node("HardSigmoid", op.name, {x}, out);
      attr_float(h, "alpha", op.attr<ir::HardSigmoidAttrs>().alpha);
      attr_float(h, "beta", op.attr<ir::HardSigmoidAttrs>().beta);
      return;
    }
    case OpKind::kSigmoid:
      node("Sigmoid", op.name, {x}, out);
      return;
    case OpKind::kSilu: {
      const std::string gate = unique(op.name + ".sigmoid");
      node("Sigmoid", gate, {x}, gate);
      node("Mul", op.name, {x, gate}, out);
      return;
    }
    case OpKind::kTanh:
      node("Tanh", op.name, {x}, out);
      return;
    case OpKind::kBatchNorm: {
      const Shape c = {m_g.shape(op.inputs[0])[1]};
      NodeProto* n =
          node("BatchNormalization", op.name,
               {x, fill_weight(op.name + ".scale", c, 1.f), fill_weight(op.name + ".shift", c, 0.f),
                fill_weight(op.name + ".mean", c, 0.f), fill_weight(op.name + ".var", c, 1.f)},
               out);
      attr_float(n, "epsilon", kBnEpsilon);
      return;
    }
    case OpKind::kResize: {
      const auto& a = op.attr<ir::ResizeAttrs>();
      const Shape& xs = m_g.shape(op.inputs[0]);
      const std::string sizes = ints(op.name + ".sizes", {xs[0], xs[1], a.out_h, a.out_w});
      attr_string(node("Resize", op.name, {x, "", "", sizes}, out), "mode", a.mode);
      return;
    }
    case OpKind::kReshape: {
      const Shape& s = m_g.shape(op.output);
      node("Reshape", op.name, {x, ints(op.name + ".shape", {s.begin(), s.end()})}, out);
      return;
    }
    case OpKind::kFlatten:
      attr_int(node("Flatten", op.name, {x}, out), "axis", op.attr<ir::AxisAttrs>().axis);
      return;
    case OpKind::kTranspose: {
      const auto& perm = op.attr<ir::TransposeAttrs>().perm;
      attr_ints(node("Transpose", op.name, {x}, out), "perm", {perm.begin(), perm.end()});
      return;
    }
    case OpKind::kSoftmax:
      attr_int(node("Softmax", op.name, {x}, out), "axis", op.attr<ir::AxisAttrs>().axis);
      return;
    case OpKind::kPad: {
      const auto& a = op.attr<ir::PadAttrs>();
      attr_string(node("Pad", op.name, {x, ints(op.name + ".pads", a.pads)}, out), "mode", a.mode);
      return;
    }
    case OpKind::kZeros:
      node("Mul", op.name, {x, floats(op.name + ".zero", {}, {0.f})}, out);
      return;
  }
  throw InputError(
      fmt::format("op '{}' ({}): no ONNX export for this op kind", op.name, ir::op_name(op.kind)));
}

void Exporter::conv(const ir::Op& op) {
  const auto& a = op.attr<ir::ConvAttrs>();
  const int64_t cin = m_g.shape(op.inputs[0])[1];
  const int64_t fan_in = cin / a.groups * a.kernel_h * a.kernel_w;
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  std::vector<std::string> ins = {
      name_of(op.inputs[0]),
      random_weight(op.name + ".weight", {a.out_channels, cin / a.groups, a.kernel_h, a.kernel_w},
                    bound)};
  const bool folded = a.bn && m_opts.fold_bn;
  if (a.bias) {
    ins.push_back(random_weight(op.name + ".bias", {a.out_channels}, bound));
  } else if (folded) {  // a fresh batch norm (shift 0, mean 0) folds to a zero bias
    ins.push_back(fill_weight(op.name + ".bias", {a.out_channels}, 0.f));
  }
  const bool separate_bn = a.bn && !m_opts.fold_bn;
  const std::string conv_out = separate_bn ? unique(op.name + ".conv") : name_of(op.output);
  NodeProto* n = node("Conv", op.name, ins, conv_out);
  attr_ints(n, "kernel_shape", {a.kernel_h, a.kernel_w});
  attr_ints(n, "strides", {a.stride_h, a.stride_w});
  attr_ints(n, "pads", {a.pad_top, a.pad_left, a.pad_bottom, a.pad_right});
  attr_ints(n, "dilations", {a.dilation_h, a.dilation_w});
  attr_int(n, "group", a.groups);
  if (separate_bn) {
    const Shape c = {a.out_channels};
    NodeProto* bn =
        node("BatchNormalization", op.name + ".bn",
             {conv_out, fill_weight(op.name + ".bn.scale", c, 1.f),
              fill_weight(op.name + ".bn.shift", c, 0.f), fill_weight(op.name + ".bn.mean", c, 0.f),
              fill_weight(op.name + ".bn.var", c, 1.f)},
             name_of(op.output));
    attr_float(bn, "epsilon", kBnEpsilon);
  }
}

void Exporter::fully_connected(const ir::Op& op) {
  const auto& a = op.attr<ir::FcAttrs>();
  const Shape& xs = m_g.shape(op.inputs[0]);
  const int64_t in = xs.back();
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  const std::string& x = name_of(op.inputs[0]);
  const std::string& out = name_of(op.output);
  if (xs.size() == 2) {
    std::vector<std::string> ins = {
        x, random_weight(op.name + ".weight", {a.out_features, in}, bound)};
    if (a.bias) ins.push_back(random_weight(op.name + ".bias", {a.out_features}, bound));
    attr_int(node("Gemm", op.name, ins, out), "transB", 1);
    return;
  }
  const std::string w = random_weight(op.name + ".weight", {in, a.out_features}, bound);
  if (!a.bias) {
    node("MatMul", op.name, {x, w}, out);
    return;
  }
  const std::string prod = unique(op.name + ".matmul");
  node("MatMul", op.name, {x, w}, prod);
  // Add's operand is not a weight slot for the importer: the bias keeps its data.
  node("Add", op.name + ".bias_add",
       {prod, random_weight(op.name + ".bias", {a.out_features}, bound, false)}, out);
}

void Exporter::pool(const ir::Op& op) {
  const auto& a = op.attr<ir::PoolAttrs>();
  const bool avg = op.kind == OpKind::kAvgPool;
  NodeProto* n =
      node(avg ? "AveragePool" : "MaxPool", op.name, {name_of(op.inputs[0])}, name_of(op.output));
  attr_ints(n, "kernel_shape", {a.kernel_h, a.kernel_w});
  attr_ints(n, "strides", {a.stride_h, a.stride_w});
  attr_ints(n, "pads", {a.pad_top, a.pad_left, a.pad_bottom, a.pad_right});
  if (a.ceil_mode) attr_int(n, "ceil_mode", 1);
  if (avg) attr_int(n, "count_include_pad", a.count_include_pad ? 1 : 0);
}

void Exporter::binary(const ir::Op& op) {
  static const char* kTypes[] = {"Add", "Sub", "Mul", "Div"};
  const char* type = kTypes[static_cast<int>(op.kind) - static_cast<int>(OpKind::kAdd)];
  std::vector<std::string> ins;
  for (ir::TensorId t : op.inputs) ins.push_back(name_of(t));
  if (op.inputs.size() == 1) {
    // A constant operand: a scale near 1 for Mul/Div, a small shift for Add/Sub.
    const Shape& dims = op.attr<ir::ConstOperandAttrs>().const_shape;
    const bool scale = op.kind == OpKind::kMul || op.kind == OpKind::kDiv;
    std::vector<float> v(static_cast<size_t>(ir::numel(dims)));
    for (float& x : v) {
      const double u = m_rng.uniform01();
      x = static_cast<float>(scale ? 0.5 + u : 0.2 * u - 0.1);
    }
    ins.push_back(floats(op.name + ".const", dims, v));
  }
  node(type, op.name, ins, name_of(op.output));
}

}  // namespace

std::string export_onnx_bytes(const ir::Graph& g, const ExportOptions& opts) {
  return Exporter(g, opts).run();
}

void export_onnx_file(const ir::Graph& g, const std::string& path, const ExportOptions& opts) {
  const std::string bytes = export_onnx_bytes(g, opts);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw Error(fmt::format("{}: cannot open for writing", path));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.close();
  if (!f) throw Error(fmt::format("{}: cannot write the ONNX model", path));
}

}  // namespace nax::onnx
