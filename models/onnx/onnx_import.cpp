// ONNX import. How it works:
//
// 1. The file is read whole (up to 2 GiB) and parsed as an onnx::ModelProto; the default-domain
//    opset must be 11 to 17 (opsets outside that range are rejected: ops changed meaning there,
//    e.g. ReduceMean's axes became an input in opset 18, and nothing outside it is tested).
// 2. Every op type is checked up front; all unsupported nodes are reported together, each as
//    "unsupported op 'X' (node 'n', opset N)".
// 3. Nodes are sorted topologically (stable: file order where possible; a cycle is an error).
// 4. Each ONNX name maps to a Value: an activation (a tensor of the ir::Graph) or a constant.
//    Constants are initializers, Constant nodes, weights declared as graph inputs without data
//    (shape-only files: an input is a weight when every use is a weight slot - Conv W/B, Gemm
//    B/C, MatMul B, BatchNormalization scale/B/mean/var - possibly through Identity or other
//    layout ops such as Transpose, which then propagate the weight's shape), and
//    everything folded from them. Shape and Size of an activation are constants too (the graph
//    knows every shape), so shape arithmetic folds to the sizes that Resize/Reshape/Pad need.
// 5. Two-node patterns are fused by deferring the first node while its output has exactly one
//    consumer of the right type; the consumer then either fuses it or, by reading the output,
//    emits it unchanged:
//      Conv -> BatchNormalization          Conv2d with bn = true
//      Relu -> Clip(<=0, 6)                Relu6 (torch exports F.relu6 this way)
//      Sigmoid(x) -> Mul(x, .)             Silu (an SE gate Mul(y, sigmoid(s)) stays as is)
//      HardSigmoid(x; 1/6, 1/2) -> Mul(x, .)   HardSwish
//      MatMul(x, W) -> Add(., b)           FullyConnected with bias
//    Single-node mappings: Clip(0, 6) -> Relu6, Clip(0, inf) -> Relu, ReduceMean over [2, 3] ->
//    GlobalAvgPool (+ Flatten when keepdims = 0), Gemm/MatMul with constant B -> FullyConnected,
//    Mul by a constant of zeros (broadcast into the activation's shape) -> Zeros (PyTorch's
//    export of x.mul(0.), NAS-Bench-201's "none"),
//    Squeeze/Unsqueeze of an activation -> Reshape, Identity/Dropout -> alias.
//
// Parameter counts follow the file: a Conv bias counts 1 per channel even when it is a batch
// norm folded at export (indistinguishable from a real bias); only an explicit
// BatchNormalization counts 2 per channel (PyTorch's convention). Binary ops with a constant
// operand keep its shape (ConstOperandAttrs) but not its side: c - x imports like x - c.
#include "models/onnx/onnx_import.hpp"

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <queue>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "models/onnx/onnx_const.hpp"

namespace nax::onnx {
namespace {

using detail::attr_float;
using detail::attr_int;
using detail::attr_ints;
using detail::attr_string;
using detail::ConstTensor;
using detail::ints_str;
using detail::NodeError;
using ir::OpKind;
using ir::Shape;
using ir::TensorId;
using NodeProto = ::onnx::NodeProto;

constexpr int kMinOpset = 11;
constexpr int kMaxOpset = 17;
constexpr int64_t kMaxFileBytes = (int64_t{1} << 31) - 1;  // protobuf's limit: 2 GiB - 1
constexpr int64_t kEagerDecodeElements = 1024;  // larger initializers are decoded on demand
constexpr size_t kMaxListedUnsupported = 20;
// Sanity limits that keep a corrupt or hostile file from overflowing the analyses (int64 MACs,
// params and bytes); real networks are orders of magnitude below them.
constexpr double kMaxTensorElements = 4294967296.0;  // 2^32 per tensor
constexpr double kMaxOpWork = 1e15;                  // MACs, params or vector ops of one op
constexpr double kMaxTotalWork = 1e17;               // all ops together
constexpr int64_t kMaxWindow = 1 << 16;              // kernel, stride, dilation, pad
constexpr int64_t kMaxDim = int64_t{1} << 32;

double numel_d(const Shape& s) {
  double n = 1;
  for (int64_t d : s) n *= static_cast<double>(d);
  return n;
}

// Exporters' default graph names, replaced by the file stem.
bool is_generic_graph_name(const std::string& s) {
  return s.empty() || s == "torch_jit" || s == "torch-jit-export" || s == "main_graph";
}

// Input slots that hold weights: their data never matters, and in shape-only files they are
// graph inputs without data.
bool is_weight_slot(const std::string& op, int slot) {
  if (op == "Conv" || op == "ConvTranspose" || op == "Gemm") return slot == 1 || slot == 2;
  if (op == "MatMul") return slot == 1;
  if (op == "BatchNormalization") return slot >= 1 && slot <= 4;
  return false;
}

bool is_default_domain(const std::string& d) {
  return d.empty() || d == "ai.onnx";
}

bool dtype_of(int32_t t, ir::DType& out) {
  using TP = ::onnx::TensorProto;
  switch (t) {
    case TP::FLOAT:
      out = ir::DType::kFloat32;
      return true;
    case TP::FLOAT16:
      out = ir::DType::kFloat16;
      return true;
    case TP::INT8:
      out = ir::DType::kInt8;
      return true;
    case TP::UINT8:
      out = ir::DType::kUInt8;
      return true;
    case TP::INT16:
      out = ir::DType::kInt16;
      return true;
    case TP::INT32:
      out = ir::DType::kInt32;
      return true;
    case TP::INT64:
      out = ir::DType::kInt64;
      return true;
    case TP::BOOL:
      out = ir::DType::kBool;
      return true;
    default:
      return false;
  }
}

int to_int(int64_t v, const char* what) {
  if (v < INT_MIN || v > INT_MAX) throw NodeError(fmt::format("{} = {} is out of range", what, v));
  return static_cast<int>(v);
}

struct Value {
  TensorId act = ir::kNoTensor;    // an activation of the graph, or
  std::shared_ptr<ConstTensor> c;  // a constant (weights included; data may be absent)
  bool is_act() const { return act != ir::kNoTensor; }
};

// An op held back because its only consumer may fuse with it.
struct PendingOp {
  OpKind kind = OpKind::kRelu;
  std::string name;
  std::vector<TensorId> inputs;
  ir::OpAttrs attrs;
};

// Window geometry shared by Conv and the pools.
struct Window {
  int kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int pt = 0, pl = 0, pb = 0, pr = 0;
};

class Importer {
 public:
  Importer(const ::onnx::ModelProto& model, const std::string& source)
      : m_model(model), m_g(model.graph()), m_source(source) {}

  ir::Graph run();

 private:
  using Fn = void (Importer::*)(const NodeProto&);
  struct Handler {
    Fn fn;
    int min_inputs;  // leading inputs that must be present
  };
  static const std::unordered_map<std::string, Handler>& handlers();

  // Setup.
  void read_opset();
  void check_supported() const;
  void index_graph();
  void add_initializers();
  void add_graph_inputs();
  std::vector<int> topo_order() const;
  void import_node(const NodeProto& n);
  bool fold_constants(const NodeProto& n);
  void mark_outputs();
  void check_declared_shapes() const;

  // Names and messages.
  std::string node_name(const NodeProto& n) const;
  std::string op_label(const NodeProto& n) const;
  [[noreturn]] void unsupported(const NodeProto& n, const std::string& why = "") const;
  bool known_op(const NodeProto& n) const;

  // Graph structure.
  const std::vector<std::pair<int, int>>& consumers(const std::string& name) const;
  bool used(const std::string& name) const;
  int sole_consumer(const std::string& name) const;
  bool feeds_only_weight_slots(const std::string& name, int depth = 0) const;

  // Values.
  Value get(const std::string& name);
  bool has_input(const NodeProto& n, int slot) const;
  TensorId act_in(const NodeProto& n, int slot, const char* what);
  std::shared_ptr<ConstTensor> weight_in(const NodeProto& n, int slot, const char* what);
  std::shared_ptr<ConstTensor> const_in(const NodeProto& n, int slot, const char* what);
  bool ensure_data(ConstTensor& c) const;
  std::vector<int64_t> const_ints(const NodeProto& n, int slot, const char* what);
  double const_scalar(const NodeProto& n, int slot, const char* what);
  // A constant of zeros that broadcasts into shape x without widening it (x * c is zeros like x).
  bool is_zeros_like(ConstTensor& c, const Shape& x) const;
  TensorId add(OpKind kind, const std::string& name, const std::vector<TensorId>& inputs,
               ir::OpAttrs attrs, const std::string& out_name);
  TensorId emit(OpKind kind, const NodeProto& n, const std::vector<TensorId>& inputs,
                ir::OpAttrs attrs = {});
  void defer_or_emit(const NodeProto& n, OpKind kind, std::vector<TensorId> inputs,
                     ir::OpAttrs attrs, std::initializer_list<const char*> partners);
  PendingOp* pending(const std::string& name);
  void emit_pending(const std::string& name, const std::string& out_name);
  Window window(const NodeProto& n, const Shape& x, std::vector<int64_t> kernel) const;
  void check_size(const ir::Op& op);

  // Op handlers (activations).
  void conv(const NodeProto& n);
  void batch_norm(const NodeProto& n);
  void gemm(const NodeProto& n);
  void matmul(const NodeProto& n);
  void binary(const NodeProto& n);
  void relu(const NodeProto& n);
  void clip(const NodeProto& n);
  void leaky_relu(const NodeProto& n);
  void sigmoid(const NodeProto& n);
  void hard_sigmoid(const NodeProto& n);
  void unary(const NodeProto& n);
  void pool(const NodeProto& n);
  void global_pool(const NodeProto& n);
  void reduce_mean(const NodeProto& n);
  void flatten(const NodeProto& n);
  void reshape(const NodeProto& n);
  void squeeze(const NodeProto& n);
  void transpose(const NodeProto& n);
  void concat(const NodeProto& n);
  void softmax(const NodeProto& n);
  void pad(const NodeProto& n);
  void resize(const NodeProto& n);
  void identity(const NodeProto& n);
  void dropout(const NodeProto& n);
  void cast(const NodeProto& n);
  void shape_of(const NodeProto& n);

  const ::onnx::ModelProto& m_model;
  const ::onnx::GraphProto& m_g;
  std::string m_source;
  int m_opset = 0;
  ir::Graph m_graph;
  std::unordered_map<std::string, Value> m_values;
  std::unordered_map<std::string, PendingOp> m_pending;
  std::unordered_map<std::string, std::vector<std::pair<int, int>>> m_consumers;  // node, slot
  std::unordered_set<std::string> m_outputs;
  std::unordered_set<std::string> m_initializers;
  double m_total_work = 0;
};

// ---- setup ------------------------------------------------------------------------------------

ir::Graph Importer::run() {
  if (!m_model.has_graph()) throw InputError("not an ONNX model: it has no graph");
  if (m_model.ir_version() <= 0) throw InputError("not an ONNX model: ir_version is missing");
  read_opset();
  if (m_g.node_size() == 0) throw InputError("the ONNX graph has no nodes");
  check_supported();
  index_graph();
  m_graph.name = m_g.name();
  if (is_generic_graph_name(m_graph.name)) {
    m_graph.name = std::filesystem::path(m_source).stem().string();
  }
  add_initializers();
  add_graph_inputs();
  for (int i : topo_order()) {
    const NodeProto& n = m_g.node(i);
    try {
      import_node(n);
    } catch (const NodeError& e) {
      throw InputError(fmt::format("node '{}' ({}): {}", node_name(n), op_label(n), e.what()));
    }
  }
  mark_outputs();
  // Every deferred op has exactly one consumer, which read it; nothing can be left, but emitting
  // leftovers keeps the graph complete if that ever changes.
  while (!m_pending.empty()) get(m_pending.begin()->first);
  if (m_graph.ops().empty()) {
    throw InputError("the ONNX graph has no operators nax models (every node folds to a constant)");
  }
  check_declared_shapes();
  return std::move(m_graph);
}

void Importer::read_opset() {
  int opset = -1;
  for (const auto& o : m_model.opset_import()) {
    if (is_default_domain(o.domain())) opset = static_cast<int>(o.version());
  }
  if (opset < 0) {
    throw InputError("the model imports no opset of the default ONNX domain ('ai.onnx')");
  }
  if (opset < kMinOpset || opset > kMaxOpset) {
    throw InputError(fmt::format(
        "opset {} is not supported: nax imports ONNX opsets {} to {} (onnx.version_converter "
        "can convert a model)",
        opset, kMinOpset, kMaxOpset));
  }
  m_opset = opset;
}

bool Importer::known_op(const NodeProto& n) const {
  if (!is_default_domain(n.domain())) return false;
  const std::string& op = n.op_type();
  return handlers().count(op) || detail::is_const_op(op) || op == "Shape" || op == "Size";
}

void Importer::check_supported() const {
  std::vector<Diagnostic> diags;
  size_t count = 0;
  for (const auto& n : m_g.node()) {
    if (known_op(n)) continue;
    if (++count > kMaxListedUnsupported) continue;
    diags.emplace_back(SourceLoc{}, "", "",
                       fmt::format("unsupported op '{}' (node '{}', opset {})", op_label(n),
                                   node_name(n), m_opset));
  }
  if (count > kMaxListedUnsupported) {
    diags.emplace_back(
        SourceLoc{}, "", "",
        fmt::format("... and {} more unsupported nodes", count - kMaxListedUnsupported));
  }
  if (!diags.empty()) throw InputError(diags);
}

void Importer::index_graph() {
  for (int i = 0; i < m_g.node_size(); ++i) {
    const NodeProto& n = m_g.node(i);
    for (int s = 0; s < n.input_size(); ++s) {
      if (!n.input(s).empty()) m_consumers[n.input(s)].emplace_back(i, s);
    }
  }
  for (const auto& o : m_g.output()) m_outputs.insert(o.name());
}

void Importer::add_initializers() {
  for (const auto& t : m_g.initializer()) {
    if (!m_initializers.insert(t.name()).second) {
      throw InputError(fmt::format("initializer '{}' is defined twice", t.name()));
    }
    try {
      ConstTensor dims_only;
      dims_only.dims = detail::tensor_dims(t);
      const bool small = dims_only.numel() <= kEagerDecodeElements;
      m_values[t.name()] =
          Value{ir::kNoTensor, std::make_shared<ConstTensor>(detail::decode_tensor(t, small))};
    } catch (const NodeError& e) {
      throw InputError(fmt::format("initializer '{}': {}", t.name(), e.what()));
    }
  }
  for (const auto& n : m_g.sparse_initializer()) {
    throw InputError(fmt::format("sparse initializer '{}' is not supported", n.values().name()));
  }
}

void Importer::add_graph_inputs() {
  for (const auto& in : m_g.input()) {
    const std::string& name = in.name();
    if (m_initializers.count(name)) continue;  // IR < 4 lists initializers as inputs too
    const bool weight = feeds_only_weight_slots(name);
    if (!weight && !used(name) && !m_outputs.count(name)) continue;  // declared but unused
    if (!in.type().has_tensor_type() || !in.type().tensor_type().has_shape()) {
      throw InputError(fmt::format("graph input '{}' is not a tensor with a known shape", name));
    }
    const auto& tt = in.type().tensor_type();
    Shape dims;
    for (int d = 0; d < tt.shape().dim_size(); ++d) {
      const auto& dim = tt.shape().dim(d);
      if (dim.has_dim_value() && dim.dim_value() >= 0) {
        dims.push_back(dim.dim_value());
      } else if (d == 0 && !weight) {
        dims.push_back(1);  // dynamic batch
      } else {
        throw InputError(fmt::format(
            "graph input '{}': dimension {} is not a fixed number ('{}'); nax needs static "
            "shapes except the batch dimension",
            name, d, dim.dim_param()));
      }
    }
    if (weight) {
      auto c = std::make_shared<ConstTensor>();
      c->onnx_type = tt.elem_type();
      c->is_float = detail::is_float_type(c->onnx_type);
      c->dims = dims;
      c->no_data_why = "it is a graph input declared without data (a shape-only file)";
      m_values[name] = Value{ir::kNoTensor, c};
      continue;
    }
    for (int64_t d : dims) {
      if (d > kMaxDim || numel_d(dims) > kMaxTensorElements) {
        throw InputError(
            fmt::format("graph input '{}': shape {} is implausibly large", name, ints_str(dims)));
      }
    }
    ir::DType dt;
    if (!dtype_of(tt.elem_type(), dt)) {
      throw InputError(fmt::format("graph input '{}' has element type {}, which nax does not model",
                                   name, tt.elem_type()));
    }
    m_values[name] = Value{m_graph.add_input(name, dims, dt), nullptr};
  }
}

std::vector<int> Importer::topo_order() const {
  const int n = m_g.node_size();
  std::unordered_map<std::string, int> producer;
  for (int i = 0; i < n; ++i) {
    for (const auto& out : m_g.node(i).output()) {
      if (out.empty()) continue;
      if (producer.count(out) || m_values.count(out)) {
        throw InputError(fmt::format("tensor '{}' is defined more than once (node '{}')", out,
                                     node_name(m_g.node(i))));
      }
      producer[out] = i;
    }
  }
  std::vector<std::vector<int>> succ(static_cast<size_t>(n)), pred(static_cast<size_t>(n));
  std::vector<int> indeg(static_cast<size_t>(n), 0);
  for (int i = 0; i < n; ++i) {
    std::set<int> deps;
    for (const auto& in : m_g.node(i).input()) {
      if (in.empty()) continue;
      const auto it = producer.find(in);
      if (it != producer.end()) {
        deps.insert(it->second);
      } else if (!m_values.count(in)) {
        throw InputError(fmt::format(
            "node '{}' ({}) reads '{}', which no node, initializer or graph input defines",
            node_name(m_g.node(i)), op_label(m_g.node(i)), in));
      }
    }
    for (int d : deps) {
      succ[static_cast<size_t>(d)].push_back(i);
      pred[static_cast<size_t>(i)].push_back(d);
    }
    indeg[static_cast<size_t>(i)] = static_cast<int>(deps.size());
  }
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int i = 0; i < n; ++i) {
    if (indeg[static_cast<size_t>(i)] == 0) ready.push(i);
  }
  std::vector<int> order;
  while (!ready.empty()) {
    const int i = ready.top();
    ready.pop();
    order.push_back(i);
    for (int s : succ[static_cast<size_t>(i)]) {
      if (--indeg[static_cast<size_t>(s)] == 0) ready.push(s);
    }
  }
  if (static_cast<int>(order.size()) < n) {
    // Walk back through unfinished predecessors until a node repeats: it lies on a cycle.
    int cur = 0;
    while (indeg[static_cast<size_t>(cur)] == 0) ++cur;
    std::vector<bool> seen(static_cast<size_t>(n), false);
    while (!seen[static_cast<size_t>(cur)]) {
      seen[static_cast<size_t>(cur)] = true;
      for (int p : pred[static_cast<size_t>(cur)]) {
        if (indeg[static_cast<size_t>(p)] > 0) {
          cur = p;
          break;
        }
      }
    }
    throw InputError(fmt::format("the ONNX graph has a cycle through node '{}' ({})",
                                 node_name(m_g.node(cur)), op_label(m_g.node(cur))));
  }
  return order;
}

void Importer::import_node(const NodeProto& n) {
  const std::string& op = n.op_type();
  if (n.output_size() == 0 || n.output(0).empty()) throw NodeError("the node has no output");
  if (op == "Shape" || op == "Size") {
    if (!has_input(n, 0)) throw NodeError("missing input");
    shape_of(n);
    return;
  }
  if (op == "Identity") {  // an alias of whatever its input is, weights included
    if (!has_input(n, 0)) throw NodeError("missing input");
    m_values[n.output(0)] = get(n.input(0));
    return;
  }
  if (detail::is_const_op(op) && fold_constants(n)) return;
  const auto it = handlers().find(op);
  if (it == handlers().end()) {
    unsupported(n, "only folded when every input is a constant, and this node reads an activation");
  }
  for (int s = 0; s < it->second.min_inputs; ++s) {
    if (!has_input(n, s)) {
      throw NodeError(fmt::format("expected at least {} input(s), input {} is missing",
                                  it->second.min_inputs, s));
    }
  }
  (this->*(it->second.fn))(n);
}

bool Importer::fold_constants(const NodeProto& n) {
  std::vector<std::shared_ptr<ConstTensor>> ins;
  for (int s = 0; s < n.input_size(); ++s) {
    if (n.input(s).empty()) {
      ins.push_back(nullptr);
      continue;
    }
    // A deferred op's output is an activation; keep it deferred (the handler may fuse it).
    if (m_pending.count(n.input(s))) return false;
    const Value v = get(n.input(s));
    if (v.is_act()) return false;
    ins.push_back(v.c);
  }
  std::vector<const ConstTensor*> raw;
  int missing = -1;
  for (int s = 0; s < static_cast<int>(ins.size()); ++s) {
    ConstTensor* c = ins[static_cast<size_t>(s)].get();
    if (c && !ensure_data(*c) && missing < 0) missing = s;
    raw.push_back(c);
  }
  auto store = [&](std::vector<ConstTensor> outs) {
    for (int o = 0; o < n.output_size() && o < static_cast<int>(outs.size()); ++o) {
      if (n.output(o).empty()) continue;
      m_values[n.output(o)] = Value{
          ir::kNoTensor, std::make_shared<ConstTensor>(std::move(outs[static_cast<size_t>(o)]))};
    }
  };
  if (missing < 0) {
    store(detail::eval_const(n, raw, m_opset));
    return true;
  }
  bool rest_stored = true;
  for (size_t s = 1; s < raw.size(); ++s)
    rest_stored = rest_stored && (!raw[s] || raw[s]->has_data);
  if (detail::is_layout_op(n.op_type()) && rest_stored) {
    std::vector<ConstTensor> outs;
    outs.push_back(detail::layout_without_data(n, raw));
    store(std::move(outs));
    return true;
  }
  if (!handlers().count(n.op_type())) {
    throw NodeError(fmt::format("needs the values of '{}', but {}", n.input(missing),
                                raw[static_cast<size_t>(missing)]->no_data_why));
  }
  return false;  // the activation handler reports what it needs
}

void Importer::mark_outputs() {
  for (const auto& o : m_g.output()) {
    const Value v = get(o.name());
    if (!v.is_act()) {
      throw InputError(fmt::format(
          "graph output '{}' is a constant; nax models outputs computed from the inputs",
          o.name()));
    }
    m_graph.mark_output(v.act);
    m_graph.rename_tensor(v.act, o.name());
  }
}

void Importer::check_declared_shapes() const {
  auto check = [&](const ::onnx::ValueInfoProto& vi) {
    const auto it = m_values.find(vi.name());
    if (it == m_values.end() || !it->second.is_act()) return;
    if (!vi.type().has_tensor_type() || !vi.type().tensor_type().has_shape()) return;
    const auto& sh = vi.type().tensor_type().shape();
    const Shape& got = m_graph.shape(it->second.act);
    bool ok = sh.dim_size() == static_cast<int>(got.size());
    std::string declared;
    for (int d = 0; d < sh.dim_size(); ++d) {
      const auto& dim = sh.dim(d);
      declared += (d ? "x" : "") +
                  (dim.has_dim_value() ? std::to_string(dim.dim_value()) : dim.dim_param());
      if (ok && dim.has_dim_value() && dim.dim_value() != got[static_cast<size_t>(d)]) ok = false;
    }
    if (!ok) {
      throw InputError(fmt::format("tensor '{}': the file declares shape {}, the import gives {}",
                                   vi.name(), declared, ir::shape_str(got)));
    }
  };
  for (const auto& vi : m_g.output()) check(vi);
  for (const auto& vi : m_g.value_info()) check(vi);
}

// ---- names and structure ----------------------------------------------------------------------

std::string Importer::node_name(const NodeProto& n) const {
  if (!n.name().empty()) return n.name();
  for (const auto& o : n.output()) {
    if (!o.empty()) return o;
  }
  return n.op_type();
}

std::string Importer::op_label(const NodeProto& n) const {
  return is_default_domain(n.domain()) ? n.op_type() : n.domain() + "." + n.op_type();
}

void Importer::unsupported(const NodeProto& n, const std::string& why) const {
  std::string msg =
      fmt::format("unsupported op '{}' (node '{}', opset {})", op_label(n), node_name(n), m_opset);
  if (!why.empty()) msg += ": " + why;
  throw InputError(msg);
}

const std::vector<std::pair<int, int>>& Importer::consumers(const std::string& name) const {
  static const std::vector<std::pair<int, int>> kNone;
  const auto it = m_consumers.find(name);
  return it == m_consumers.end() ? kNone : it->second;
}

bool Importer::used(const std::string& name) const {
  return !consumers(name).empty() || m_outputs.count(name) > 0;
}

int Importer::sole_consumer(const std::string& name) const {
  const auto& c = consumers(name);
  if (c.size() != 1 || m_outputs.count(name)) return -1;
  return c[0].first;
}

bool Importer::feeds_only_weight_slots(const std::string& name, int depth) const {
  const auto& cs = consumers(name);
  if (cs.empty() || m_outputs.count(name) || depth > 32) return false;
  for (const auto& [node, slot] : cs) {
    const NodeProto& c = m_g.node(node);
    if (detail::is_layout_op(c.op_type()) && slot == 0 && c.output_size() > 0) {
      if (!feeds_only_weight_slots(c.output(0), depth + 1)) return false;
    } else if (!is_weight_slot(c.op_type(), slot)) {
      return false;
    }
  }
  return true;
}

// ---- values -----------------------------------------------------------------------------------

Value Importer::get(const std::string& name) {
  const auto it = m_values.find(name);
  if (it != m_values.end()) return it->second;
  const auto p = m_pending.find(name);
  if (p != m_pending.end()) {
    PendingOp op = std::move(p->second);
    m_pending.erase(p);
    add(op.kind, op.name, op.inputs, std::move(op.attrs), name);
    return m_values.at(name);
  }
  throw NodeError(fmt::format("tensor '{}' is not defined", name));
}

bool Importer::has_input(const NodeProto& n, int slot) const {
  return slot < n.input_size() && !n.input(slot).empty();
}

TensorId Importer::act_in(const NodeProto& n, int slot, const char* what) {
  if (!has_input(n, slot)) throw NodeError(fmt::format("missing input {}", what));
  const Value v = get(n.input(slot));
  if (!v.is_act()) {
    throw NodeError(fmt::format(
        "input {} ('{}') is a constant; nax models {} on activations (graph inputs and what is "
        "computed from them) only",
        what, n.input(slot), n.op_type()));
  }
  return v.act;
}

std::shared_ptr<ConstTensor> Importer::weight_in(const NodeProto& n, int slot, const char* what) {
  if (!has_input(n, slot)) throw NodeError(fmt::format("missing input {}", what));
  const Value v = get(n.input(slot));
  if (v.is_act()) {
    throw NodeError(fmt::format(
        "input {} ('{}') is computed from activations; nax needs it to be a constant (a weight)",
        what, n.input(slot)));
  }
  return v.c;
}

bool Importer::ensure_data(ConstTensor& c) const {
  if (c.has_data) return true;
  if (!c.source) return false;
  if (c.numel() > detail::kMaxConstElements) {
    c.no_data_why = fmt::format("it has {} elements, too many to fold", c.numel());
    return false;
  }
  c = detail::decode_tensor(*c.source, true);
  return c.has_data;
}

std::shared_ptr<ConstTensor> Importer::const_in(const NodeProto& n, int slot, const char* what) {
  if (!has_input(n, slot)) throw NodeError(fmt::format("missing input {}", what));
  const Value v = get(n.input(slot));
  if (v.is_act()) {
    throw NodeError(fmt::format(
        "input {} ('{}') must be a constant, but it depends on the graph's inputs in a way the "
        "importer cannot fold",
        what, n.input(slot)));
  }
  if (!ensure_data(*v.c)) {
    throw NodeError(
        fmt::format("input {} ('{}') has no values: {}", what, n.input(slot), v.c->no_data_why));
  }
  return v.c;
}

std::vector<int64_t> Importer::const_ints(const NodeProto& n, int slot, const char* what) {
  const auto c = const_in(n, slot, what);
  std::vector<int64_t> v(c->size());
  for (size_t i = 0; i < v.size(); ++i) v[i] = c->i(i);
  return v;
}

double Importer::const_scalar(const NodeProto& n, int slot, const char* what) {
  const auto c = const_in(n, slot, what);
  if (c->size() != 1) {
    throw NodeError(
        fmt::format("input {} must hold one value, got shape {}", what, ints_str(c->dims)));
  }
  return c->f(0);
}

TensorId Importer::add(OpKind kind, const std::string& name, const std::vector<TensorId>& inputs,
                       ir::OpAttrs attrs, const std::string& out_name) {
  const TensorId t = m_graph.add_op(kind, name, inputs, std::move(attrs));
  check_size(m_graph.ops().back());
  m_graph.rename_tensor(t, out_name);
  m_values[out_name] = Value{t, nullptr};
  return t;
}

void Importer::check_size(const ir::Op& op) {
  const double out = numel_d(m_graph.shape(op.output));
  const double in = op.inputs.empty() ? 0 : numel_d(m_graph.shape(op.inputs[0]));
  double work = std::max(out, in);
  double params = 0;
  if (op.kind == OpKind::kConv2d) {
    const auto& a = op.attr<ir::ConvAttrs>();
    const double per_out =
        static_cast<double>(m_graph.shape(op.inputs[0])[1] / a.groups) * a.kernel_h * a.kernel_w;
    work = out * per_out;
    params = a.out_channels * per_out;
  } else if (op.kind == OpKind::kFullyConnected) {
    const double k = static_cast<double>(m_graph.shape(op.inputs[0]).back());
    work = out * k;
    params = k * op.attr<ir::FcAttrs>().out_features;
  } else if (op.kind == OpKind::kMaxPool || op.kind == OpKind::kAvgPool) {
    const auto& a = op.attr<ir::PoolAttrs>();
    work = out * a.kernel_h * a.kernel_w;
  } else if (const auto* c = std::get_if<ir::ConstOperandAttrs>(&op.attrs)) {
    params = numel_d(c->const_shape);
  }
  m_total_work += work + params;
  if (out > kMaxTensorElements || work > kMaxOpWork || params > kMaxOpWork ||
      m_total_work > kMaxTotalWork) {
    throw InputError(fmt::format("{} '{}': output {} is implausibly large for a network",
                                 ir::op_name(op.kind), op.name,
                                 ir::shape_str(m_graph.shape(op.output))));
  }
}

TensorId Importer::emit(OpKind kind, const NodeProto& n, const std::vector<TensorId>& inputs,
                        ir::OpAttrs attrs) {
  return add(kind, node_name(n), inputs, std::move(attrs), n.output(0));
}

void Importer::defer_or_emit(const NodeProto& n, OpKind kind, std::vector<TensorId> inputs,
                             ir::OpAttrs attrs, std::initializer_list<const char*> partners) {
  const int c = sole_consumer(n.output(0));
  if (c >= 0) {
    const std::string& type = m_g.node(c).op_type();
    for (const char* p : partners) {
      if (type == p && is_default_domain(m_g.node(c).domain())) {
        m_pending[n.output(0)] = PendingOp{kind, node_name(n), std::move(inputs), std::move(attrs)};
        return;
      }
    }
  }
  emit(kind, n, inputs, std::move(attrs));
}

PendingOp* Importer::pending(const std::string& name) {
  const auto it = m_pending.find(name);
  return it == m_pending.end() ? nullptr : &it->second;
}

void Importer::emit_pending(const std::string& name, const std::string& out_name) {
  PendingOp op = std::move(m_pending.at(name));
  m_pending.erase(name);
  add(op.kind, op.name, op.inputs, std::move(op.attrs), out_name);
}

Window Importer::window(const NodeProto& n, const Shape& x, std::vector<int64_t> kernel) const {
  if (const auto* a = detail::find_attr(n, "kernel_shape")) {
    const std::vector<int64_t> k(a->ints().begin(), a->ints().end());
    if (!kernel.empty() && k != kernel) {
      throw NodeError(fmt::format("kernel_shape {} does not match the weight's {}", ints_str(k),
                                  ints_str(kernel)));
    }
    kernel = k;
  }
  if (kernel.size() != 2) {
    throw NodeError("kernel_shape must have 2 entries (2-D windows only), got " + ints_str(kernel));
  }
  const auto strides = attr_ints(n, "strides", {1, 1});
  const auto dil = attr_ints(n, "dilations", {1, 1});
  auto pads = attr_ints(n, "pads", {0, 0, 0, 0});
  if (strides.size() != 2 || dil.size() != 2 || pads.size() != 4) {
    throw NodeError("strides and dilations need 2 entries and pads 4");
  }
  auto in_range = [](const std::vector<int64_t>& v, int64_t lo, const char* what) {
    for (int64_t x : v) {
      if (x < lo || x > kMaxWindow) {
        throw NodeError(
            fmt::format("{} {} out of range [{}, {}]", what, ints_str(v), lo, kMaxWindow));
      }
    }
  };
  in_range(kernel, 1, "kernel_shape");
  in_range(strides, 1, "strides");
  in_range(dil, 1, "dilations");
  in_range(pads, 0, "pads");
  const std::string auto_pad = attr_string(n, "auto_pad", "NOTSET");
  if (auto_pad == "VALID") {
    pads = {0, 0, 0, 0};
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (size_t d = 0; d < 2; ++d) {
      const int64_t in = x[d + 2], s = strides[d];
      if (s <= 0) throw NodeError("strides must be positive");
      const int64_t out = (in + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (out - 1) * s + (kernel[d] - 1) * dil[d] + 1 - in);
      const int64_t small = total / 2, big = total - small;
      pads[d] = auto_pad == "SAME_UPPER" ? small : big;
      pads[d + 2] = auto_pad == "SAME_UPPER" ? big : small;
    }
  } else if (auto_pad != "NOTSET") {
    throw NodeError("auto_pad '" + auto_pad + "' is not an ONNX value");
  }
  Window w;
  w.kh = to_int(kernel[0], "kernel height");
  w.kw = to_int(kernel[1], "kernel width");
  w.sh = to_int(strides[0], "stride");
  w.sw = to_int(strides[1], "stride");
  w.dh = to_int(dil[0], "dilation");
  w.dw = to_int(dil[1], "dilation");
  w.pt = to_int(pads[0], "pad");
  w.pl = to_int(pads[1], "pad");
  w.pb = to_int(pads[2], "pad");
  w.pr = to_int(pads[3], "pad");
  return w;
}

// ---- handlers ---------------------------------------------------------------------------------

void Importer::conv(const NodeProto& n) {
  const TensorId x = act_in(n, 0, "X");
  const Shape& xs = m_graph.shape(x);
  if (xs.size() != 4) {
    unsupported(n, "only 2-D convolution is supported, and input X has shape " + ir::shape_str(xs));
  }
  const auto w = weight_in(n, 1, "W");
  if (w->dims.size() != 4) throw NodeError("weight W must have rank 4, got " + ints_str(w->dims));
  const int64_t group = attr_int(n, "group", 1);
  if (group <= 0 || w->dims[1] * group != xs[1]) {
    throw NodeError(
        fmt::format("weight W of shape {} does not match {} input channels in {} "
                    "group(s)",
                    ints_str(w->dims), xs[1], group));
  }
  const Window win = window(n, xs, {w->dims[2], w->dims[3]});
  ir::ConvAttrs a;
  a.out_channels = to_int(w->dims[0], "output channels");
  a.kernel_h = win.kh;
  a.kernel_w = win.kw;
  a.stride_h = win.sh;
  a.stride_w = win.sw;
  a.dilation_h = win.dh;
  a.dilation_w = win.dw;
  a.pad_top = win.pt;
  a.pad_left = win.pl;
  a.pad_bottom = win.pb;
  a.pad_right = win.pr;
  a.groups = to_int(group, "group");
  if (has_input(n, 2)) {
    const auto b = weight_in(n, 2, "B");
    if (b->numel() != w->dims[0]) {
      throw NodeError(
          fmt::format("bias B has shape {}, expected [{}]", ints_str(b->dims), w->dims[0]));
    }
    a.bias = true;
  }
  defer_or_emit(n, OpKind::kConv2d, {x}, a, {"BatchNormalization"});
}

void Importer::batch_norm(const NodeProto& n) {
  for (int o = 1; o < n.output_size(); ++o) {
    if (!n.output(o).empty() && used(n.output(o))) {
      unsupported(n, "training-mode outputs (running mean and variance) are used");
    }
  }
  static const char* kParams[] = {"scale", "B", "mean", "var"};
  std::vector<std::shared_ptr<ConstTensor>> params;
  for (int s = 1; s <= 4; ++s) params.push_back(weight_in(n, s, kParams[s - 1]));
  auto check_params = [&](int64_t channels) {
    for (size_t i = 0; i < params.size(); ++i) {
      if (params[i]->numel() != channels) {
        throw NodeError(fmt::format("{} has shape {}, expected [{}]", kParams[i],
                                    ints_str(params[i]->dims), channels));
      }
    }
  };
  if (PendingOp* p = pending(n.input(0)); p && p->kind == OpKind::kConv2d) {
    auto& a = std::get<ir::ConvAttrs>(p->attrs);
    check_params(a.out_channels);
    a.bn = true;
    emit_pending(n.input(0), n.output(0));
    return;
  }
  const TensorId x = act_in(n, 0, "X");
  const Shape& xs = m_graph.shape(x);
  if (xs.size() < 2) throw NodeError("input X must have a channel dimension");
  check_params(xs[1]);
  emit(OpKind::kBatchNorm, n, {x});
}

void Importer::gemm(const NodeProto& n) {
  const TensorId x = act_in(n, 0, "A");
  const Shape& xs = m_graph.shape(x);
  if (xs.size() != 2) throw NodeError("input A must be 2-D, got " + ir::shape_str(xs));
  if (attr_int(n, "transA", 0) != 0) unsupported(n, "transA = 1 (a transposed activation)");
  const auto b = weight_in(n, 1, "B");
  if (b->dims.size() != 2) throw NodeError("weight B must be 2-D, got " + ints_str(b->dims));
  const bool trans_b = attr_int(n, "transB", 0) != 0;
  const int64_t k = trans_b ? b->dims[1] : b->dims[0];
  const int64_t out = trans_b ? b->dims[0] : b->dims[1];
  if (k != xs[1]) {
    throw NodeError(fmt::format("weight B of shape {} (transB = {}) does not match input A {}",
                                ints_str(b->dims), trans_b ? 1 : 0, ir::shape_str(xs)));
  }
  bool bias = false;
  if (has_input(n, 2)) {
    const auto c = weight_in(n, 2, "C");
    if (c->numel() != out && c->numel() != 1) {
      throw NodeError(fmt::format("bias C has shape {}, expected [{}]", ints_str(c->dims), out));
    }
    bias = true;
  }
  emit(OpKind::kFullyConnected, n, {x}, ir::FcAttrs{to_int(out, "output features"), bias});
}

void Importer::matmul(const NodeProto& n) {
  const Value a = get(n.input(0));
  const Value b = get(n.input(1));
  if (a.is_act() && b.is_act()) unsupported(n, "both operands are activations");
  if (!a.is_act()) unsupported(n, "the constant operand is on the left");
  const Shape& xs = m_graph.shape(a.act);
  if (b.c->dims.size() != 2 || xs.size() < 2) {
    unsupported(n, fmt::format("only x (rank >= 2) times a 2-D weight is supported; got {} and {}",
                               ir::shape_str(xs), ints_str(b.c->dims)));
  }
  if (b.c->dims[0] != xs.back()) {
    throw NodeError(fmt::format("weight of shape {} does not match input {}", ints_str(b.c->dims),
                                ir::shape_str(xs)));
  }
  defer_or_emit(n, OpKind::kFullyConnected, {a.act},
                ir::FcAttrs{to_int(b.c->dims[1], "output features"), false}, {"Add"});
}

void Importer::binary(const NodeProto& n) {
  static const std::unordered_map<std::string, OpKind> kKinds = {
      {"Add", OpKind::kAdd}, {"Sub", OpKind::kSub}, {"Mul", OpKind::kMul}, {"Div", OpKind::kDiv}};
  const OpKind kind = kKinds.at(n.op_type());
  if (n.input_size() != 2) throw NodeError("expected 2 inputs");
  for (int s = 0; s < 2; ++s) {
    PendingOp* p = pending(n.input(s));
    if (!p) continue;
    const std::string other_name = n.input(1 - s);
    if (kind == OpKind::kMul && (p->kind == OpKind::kSigmoid || p->kind == OpKind::kHardSigmoid)) {
      bool gate = p->kind == OpKind::kSigmoid;
      if (p->kind == OpKind::kHardSigmoid) {
        const auto& h = std::get<ir::HardSigmoidAttrs>(p->attrs);
        gate = std::fabs(h.alpha - 1.0f / 6.0f) < 1e-4f && std::fabs(h.beta - 0.5f) < 1e-6f;
      }
      const Value other = get(other_name);
      PendingOp* again = pending(n.input(s));  // get() may emit other pending ops, not this one
      if (gate && again && other.is_act() && other.act == again->inputs[0]) {
        again->kind = again->kind == OpKind::kSigmoid ? OpKind::kSilu : OpKind::kHardSwish;
        again->attrs = {};
        emit_pending(n.input(s), n.output(0));
        return;
      }
    }
    if (kind == OpKind::kAdd && p->kind == OpKind::kFullyConnected) {
      const int out = std::get<ir::FcAttrs>(p->attrs).out_features;
      const Value other = get(other_name);
      PendingOp* again = pending(n.input(s));
      if (again && !other.is_act() && !std::get<ir::FcAttrs>(again->attrs).bias &&
          other.c->numel() == out && !other.c->dims.empty() && other.c->dims.back() == out &&
          other.c->dims.size() <= m_graph.shape(again->inputs[0]).size()) {
        std::get<ir::FcAttrs>(again->attrs).bias = true;
        emit_pending(n.input(s), n.output(0));
        return;
      }
    }
  }
  const Value a = get(n.input(0));
  const Value b = get(n.input(1));
  if (a.is_act() && b.is_act()) {
    emit(kind, n, {a.act, b.act});
  } else if (a.is_act() || b.is_act()) {
    const Value& act = a.is_act() ? a : b;
    const Value& c = a.is_act() ? b : a;
    if (kind == OpKind::kMul && is_zeros_like(*c.c, m_graph.shape(act.act))) {
      emit(OpKind::kZeros, n, {act.act});
      return;
    }
    emit(kind, n, {act.act}, ir::ConstOperandAttrs{c.c->dims});
  } else {
    throw NodeError("both operands are constants, and not all of their values are stored");
  }
}

bool Importer::is_zeros_like(ConstTensor& c, const Shape& x) const {
  if (c.dims.size() > x.size() || !ensure_data(c)) return false;
  for (size_t i = 0; i < c.dims.size(); ++i) {
    const int64_t d = c.dims[c.dims.size() - 1 - i];
    if (d != 1 && d != x[x.size() - 1 - i]) return false;  // would widen the output
  }
  for (size_t i = 0; i < c.size(); ++i) {
    if (c.f(i) != 0.0) return false;
  }
  return true;
}

void Importer::relu(const NodeProto& n) {
  defer_or_emit(n, OpKind::kRelu, {act_in(n, 0, "X")}, {}, {"Clip"});
}

void Importer::clip(const NodeProto& n) {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  if (detail::find_attr(n, "min")) lo = attr_float(n, "min", 0.f);  // opset < 11 style
  if (detail::find_attr(n, "max")) hi = attr_float(n, "max", 0.f);
  if (has_input(n, 1)) lo = const_scalar(n, 1, "min");
  if (has_input(n, 2)) hi = const_scalar(n, 2, "max");
  if (PendingOp* p = pending(n.input(0)); p && p->kind == OpKind::kRelu && lo <= 0 && hi == 6) {
    p->kind = OpKind::kRelu6;
    emit_pending(n.input(0), n.output(0));
    return;
  }
  const TensorId x = act_in(n, 0, "input");
  if (lo == 0 && hi == 6) {
    emit(OpKind::kRelu6, n, {x});
  } else if (lo == 0 && std::isinf(hi) && hi > 0) {
    emit(OpKind::kRelu, n, {x});
  } else {
    auto to_float = [](double v) {
      const double m = std::numeric_limits<float>::max();
      return v > m    ? std::numeric_limits<float>::infinity()
             : v < -m ? -std::numeric_limits<float>::infinity()
                      : static_cast<float>(v);
    };
    emit(OpKind::kClip, n, {x}, ir::ClipAttrs{to_float(lo), to_float(hi)});
  }
}

void Importer::leaky_relu(const NodeProto& n) {
  emit(OpKind::kLeakyRelu, n, {act_in(n, 0, "X")},
       ir::LeakyReluAttrs{attr_float(n, "alpha", 0.01f)});
}

void Importer::sigmoid(const NodeProto& n) {
  defer_or_emit(n, OpKind::kSigmoid, {act_in(n, 0, "X")}, {}, {"Mul"});
}

void Importer::hard_sigmoid(const NodeProto& n) {
  const ir::HardSigmoidAttrs a{attr_float(n, "alpha", 0.2f), attr_float(n, "beta", 0.5f)};
  defer_or_emit(n, OpKind::kHardSigmoid, {act_in(n, 0, "X")}, a, {"Mul"});
}

void Importer::unary(const NodeProto& n) {
  static const std::unordered_map<std::string, OpKind> kKinds = {{"Tanh", OpKind::kTanh},
                                                                 {"HardSwish", OpKind::kHardSwish}};
  emit(kKinds.at(n.op_type()), n, {act_in(n, 0, "X")});
}

void Importer::pool(const NodeProto& n) {
  const TensorId x = act_in(n, 0, "X");
  const Shape& xs = m_graph.shape(x);
  if (xs.size() != 4) unsupported(n, "only 2-D pooling is supported");
  if (!detail::find_attr(n, "kernel_shape")) throw NodeError("missing kernel_shape");
  if (n.output_size() > 1 && !n.output(1).empty() && used(n.output(1))) {
    unsupported(n, "the Indices output is used");
  }
  const Window w = window(n, xs, {});
  if (w.dh != 1 || w.dw != 1) unsupported(n, "dilated pooling");
  ir::PoolAttrs a;
  a.kernel_h = w.kh;
  a.kernel_w = w.kw;
  a.stride_h = w.sh;
  a.stride_w = w.sw;
  a.pad_top = w.pt;
  a.pad_left = w.pl;
  a.pad_bottom = w.pb;
  a.pad_right = w.pr;
  a.ceil_mode = attr_int(n, "ceil_mode", 0) != 0;
  const bool avg = n.op_type() == "AveragePool";
  if (avg) a.count_include_pad = attr_int(n, "count_include_pad", 0) != 0;
  emit(avg ? OpKind::kAvgPool : OpKind::kMaxPool, n, {x}, a);
}

void Importer::global_pool(const NodeProto& n) {
  const TensorId x = act_in(n, 0, "X");
  if (m_graph.shape(x).size() != 4) unsupported(n, "only 2-D (NCHW) global pooling is supported");
  emit(n.op_type() == "GlobalAveragePool" ? OpKind::kGlobalAvgPool : OpKind::kGlobalMaxPool, n,
       {x});
}

void Importer::reduce_mean(const NodeProto& n) {
  const TensorId x = act_in(n, 0, "data");
  const Shape& xs = m_graph.shape(x);
  std::vector<int64_t> axes = attr_ints(n, "axes");
  if (has_input(n, 1)) axes = const_ints(n, 1, "axes");
  for (auto& a : axes) {
    if (a < 0) a += static_cast<int64_t>(xs.size());
  }
  std::sort(axes.begin(), axes.end());
  if (xs.size() != 4 || axes != std::vector<int64_t>{2, 3}) {
    unsupported(n, fmt::format("only the mean over axes [2, 3] of an NCHW tensor (global average "
                               "pooling) is supported; got axes {} of {}",
                               ints_str(attr_ints(n, "axes")), ir::shape_str(xs)));
  }
  if (attr_int(n, "keepdims", 1) != 0) {
    emit(OpKind::kGlobalAvgPool, n, {x});
    return;
  }
  const TensorId p = m_graph.add_op(OpKind::kGlobalAvgPool, node_name(n), {x});
  check_size(m_graph.ops().back());
  add(OpKind::kFlatten, node_name(n) + "/flatten", {p}, ir::AxisAttrs{1}, n.output(0));
}

void Importer::flatten(const NodeProto& n) {
  emit(OpKind::kFlatten, n, {act_in(n, 0, "input")},
       ir::AxisAttrs{to_int(attr_int(n, "axis", 1), "axis")});
}

void Importer::reshape(const NodeProto& n) {
  const TensorId x = act_in(n, 0, "data");
  const auto shape = const_ints(n, 1, "shape");
  if (attr_int(n, "allowzero", 0) != 0 && std::count(shape.begin(), shape.end(), 0) > 0) {
    unsupported(n, "allowzero = 1 with a 0 in the target shape");
  }
  double known = 1;
  for (int64_t d : shape) {
    if (d > 0) known *= static_cast<double>(d);
  }
  if (known > numel_d(m_graph.shape(x))) {
    throw NodeError(
        fmt::format("cannot reshape {} to {}", ir::shape_str(m_graph.shape(x)), ints_str(shape)));
  }
  emit(OpKind::kReshape, n, {x}, ir::ReshapeAttrs{Shape(shape.begin(), shape.end())});
}

void Importer::squeeze(const NodeProto& n) {
  const TensorId x = act_in(n, 0, "data");
  const Shape& xs = m_graph.shape(x);
  std::vector<int64_t> axes = attr_ints(n, "axes");
  if (has_input(n, 1)) axes = const_ints(n, 1, "axes");
  const Shape out = n.op_type() == "Squeeze" ? detail::squeeze_shape(xs, axes)
                                             : detail::unsqueeze_shape(xs, axes);
  emit(OpKind::kReshape, n, {x}, ir::ReshapeAttrs{out});
}

void Importer::transpose(const NodeProto& n) {
  const TensorId x = act_in(n, 0, "data");
  std::vector<int> perm;
  for (int64_t p : attr_ints(n, "perm")) perm.push_back(to_int(p, "perm"));
  emit(OpKind::kTranspose, n, {x}, ir::TransposeAttrs{perm});
}

void Importer::concat(const NodeProto& n) {
  std::vector<TensorId> ins;
  for (int s = 0; s < n.input_size(); ++s) {
    if (!n.input(s).empty()) ins.push_back(act_in(n, s, "inputs"));
  }
  emit(OpKind::kConcat, n, ins, ir::AxisAttrs{to_int(attr_int(n, "axis", 0), "axis")});
}

void Importer::softmax(const NodeProto& n) {
  const int64_t def = m_opset < 13 ? 1 : -1;
  emit(OpKind::kSoftmax, n, {act_in(n, 0, "input")},
       ir::AxisAttrs{to_int(attr_int(n, "axis", def), "axis")});
}

void Importer::pad(const NodeProto& n) {
  const TensorId x = act_in(n, 0, "data");
  std::vector<int64_t> pads = attr_ints(n, "pads");
  if (has_input(n, 1)) pads = const_ints(n, 1, "pads");
  if (has_input(n, 3)) unsupported(n, "the axes input (opset 18)");
  for (int64_t p : pads) {
    if (p < -kMaxDim || p > kMaxDim) throw NodeError("pads " + ints_str(pads) + " out of range");
  }
  emit(OpKind::kPad, n, {x}, ir::PadAttrs{pads, attr_string(n, "mode", "constant")});
}

void Importer::resize(const NodeProto& n) {
  const TensorId x = act_in(n, 0, "X");
  const Shape& xs = m_graph.shape(x);
  if (xs.size() != 4) unsupported(n, "only 2-D (NCHW) resizing is supported");
  const bool upsample = n.op_type() == "Upsample";
  const int scales_slot = upsample ? 1 : 2;
  std::shared_ptr<ConstTensor> sizes;
  if (!upsample && has_input(n, 3)) sizes = const_in(n, 3, "sizes");
  int64_t out_h = 0, out_w = 0;
  if (sizes && sizes->numel() > 0) {
    if (sizes->numel() != 4 || sizes->i(0) != xs[0] || sizes->i(1) != xs[1]) {
      std::vector<int64_t> v;
      for (size_t i = 0; i < sizes->size(); ++i) v.push_back(sizes->i(i));
      unsupported(n, fmt::format("sizes {} change more than the spatial dimensions of {}",
                                 ints_str(v), ir::shape_str(xs)));
    }
    out_h = sizes->i(2);
    out_w = sizes->i(3);
  } else {
    if (!has_input(n, scales_slot)) throw NodeError("neither scales nor sizes is given");
    const auto scales = const_in(n, scales_slot, "scales");
    if (scales->numel() != 4 || scales->f(0) != 1.0 || scales->f(1) != 1.0) {
      unsupported(n, "scales must be 4 values with 1 for the batch and channel dimensions");
    }
    if (attr_string(n, "coordinate_transformation_mode", "") == "tf_crop_and_resize") {
      unsupported(n, "tf_crop_and_resize with scales");
    }
    // As runtimes do: the product in float precision, truncated.
    auto scaled = [&](int64_t in, double scale) {
      const double v =
          std::floor(static_cast<double>(static_cast<float>(in) * static_cast<float>(scale)));
      if (!(v >= 1 && v <= static_cast<double>(kMaxDim))) {
        throw NodeError(
            fmt::format("scale {} gives output size {} for input size {}", scale, v, in));
      }
      return static_cast<int64_t>(v);
    };
    out_h = scaled(xs[2], scales->f(2));
    out_w = scaled(xs[3], scales->f(3));
  }
  if (out_h <= 0 || out_w <= 0 || out_h > kMaxDim || out_w > kMaxDim) {
    throw NodeError(fmt::format("output size {}x{} is out of range", out_h, out_w));
  }
  emit(OpKind::kResize, n, {x}, ir::ResizeAttrs{out_h, out_w, attr_string(n, "mode", "nearest")});
}

void Importer::identity(const NodeProto& n) {
  m_values[n.output(0)] = get(n.input(0));
}

void Importer::dropout(const NodeProto& n) {
  if (n.output_size() > 1 && !n.output(1).empty() && used(n.output(1))) {
    unsupported(n, "the mask output is used");
  }
  m_values[n.output(0)] = Value{act_in(n, 0, "data"), nullptr};  // inference: identity
}

void Importer::cast(const NodeProto& n) {
  const TensorId x = act_in(n, 0, "input");
  ir::DType to;
  if (!dtype_of(static_cast<int32_t>(attr_int(n, "to", 0)), to) || to != m_graph.tensor(x).dtype) {
    unsupported(n, "casting an activation to another element type");
  }
  m_values[n.output(0)] = Value{x, nullptr};
}

void Importer::shape_of(const NodeProto& n) {
  const Value v = get(n.input(0));
  const Shape dims = v.is_act() ? m_graph.shape(v.act) : v.c->dims;
  ConstTensor out;
  if (n.op_type() == "Size") {
    out = ConstTensor::of_ints({}, {ir::numel(dims)});
  } else {
    const int64_t rank = static_cast<int64_t>(dims.size());
    int64_t start = attr_int(n, "start", 0), end = attr_int(n, "end", rank);  // opset 15
    if (start < 0) start += rank;
    if (end < 0) end += rank;
    start = std::clamp<int64_t>(start, 0, rank);
    end = std::clamp<int64_t>(end, start, rank);
    out = ConstTensor::of_ints({end - start},
                               std::vector<int64_t>(dims.begin() + start, dims.begin() + end));
  }
  m_values[n.output(0)] = Value{ir::kNoTensor, std::make_shared<ConstTensor>(std::move(out))};
}

const std::unordered_map<std::string, Importer::Handler>& Importer::handlers() {
  static const std::unordered_map<std::string, Handler> kHandlers = {
      {"Conv", {&Importer::conv, 2}},
      {"BatchNormalization", {&Importer::batch_norm, 5}},
      {"Gemm", {&Importer::gemm, 2}},
      {"MatMul", {&Importer::matmul, 2}},
      {"Add", {&Importer::binary, 2}},
      {"Sub", {&Importer::binary, 2}},
      {"Mul", {&Importer::binary, 2}},
      {"Div", {&Importer::binary, 2}},
      {"Relu", {&Importer::relu, 1}},
      {"Clip", {&Importer::clip, 1}},
      {"LeakyRelu", {&Importer::leaky_relu, 1}},
      {"Sigmoid", {&Importer::sigmoid, 1}},
      {"HardSigmoid", {&Importer::hard_sigmoid, 1}},
      {"HardSwish", {&Importer::unary, 1}},
      {"Tanh", {&Importer::unary, 1}},
      {"MaxPool", {&Importer::pool, 1}},
      {"AveragePool", {&Importer::pool, 1}},
      {"GlobalAveragePool", {&Importer::global_pool, 1}},
      {"GlobalMaxPool", {&Importer::global_pool, 1}},
      {"ReduceMean", {&Importer::reduce_mean, 1}},
      {"Flatten", {&Importer::flatten, 1}},
      {"Reshape", {&Importer::reshape, 2}},
      {"Squeeze", {&Importer::squeeze, 1}},
      {"Unsqueeze", {&Importer::squeeze, 1}},
      {"Transpose", {&Importer::transpose, 1}},
      {"Concat", {&Importer::concat, 1}},
      {"Softmax", {&Importer::softmax, 1}},
      {"Pad", {&Importer::pad, 1}},
      {"Resize", {&Importer::resize, 1}},
      {"Upsample", {&Importer::resize, 2}},
      {"Identity", {&Importer::identity, 1}},
      {"Dropout", {&Importer::dropout, 1}},
      {"Cast", {&Importer::cast, 1}},
  };
  return kHandlers;
}

}  // namespace

ir::Graph import_onnx_bytes(const std::string& bytes, const std::string& source) {
  try {
    if (bytes.empty()) throw InputError("empty file: not an ONNX model");
    if (static_cast<int64_t>(bytes.size()) > kMaxFileBytes) {
      throw InputError("the model is larger than 2 GiB, which protobuf cannot parse");
    }
    ::onnx::ModelProto model;
    if (!model.ParseFromString(bytes)) {
      throw InputError("not an ONNX model: the data does not parse as an onnx.ModelProto");
    }
    return Importer(model, source).run();
  } catch (const InputError& e) {
    std::vector<Diagnostic> diags = e.diagnostics();
    for (auto& d : diags) {
      if (d.loc.file.empty()) d.loc.file = source;
    }
    throw InputError(diags);
  } catch (const NodeError& e) {
    throw InputError(SourceLoc{source}, e.what());
  }
}

ir::Graph import_onnx_file(const std::string& path) {
  namespace fs = std::filesystem;
  const SourceLoc loc{path};
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(loc, "no such file");
  if (!fs::is_regular_file(path, ec)) throw InputError(loc, "not a regular file");
  const auto size = fs::file_size(path, ec);
  if (ec) throw InputError(loc, "cannot read the file: " + ec.message());
  if (size > static_cast<uintmax_t>(kMaxFileBytes)) {
    throw InputError(loc, fmt::format("the file has {} bytes; nax reads ONNX models up to 2 GiB "
                                      "(external data files are not supported)",
                                      size));
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) throw InputError(loc, "cannot open the file");
  std::string bytes(static_cast<size_t>(size), '\0');
  f.read(bytes.data(), static_cast<std::streamsize>(size));
  if (static_cast<uintmax_t>(f.gcount()) != size) throw InputError(loc, "cannot read the file");
  return import_onnx_bytes(bytes, path);
}

}  // namespace nax::onnx
