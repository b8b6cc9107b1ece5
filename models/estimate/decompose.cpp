#include <algorithm>
#include <map>

#include "models/estimate/unit.hpp"
#include "models/ir/analysis.hpp"
#include "models/ir/subgraph.hpp"

namespace nax::est {

const char* unit_type_name(UnitType t) {
  switch (t) {
    case UnitType::kConv:
      return "conv";
    case UnitType::kDwConv:
      return "dwconv";
    case UnitType::kFc:
      return "fc";
    case UnitType::kIbn:
      return "ibn";
    case UnitType::kFusedIbn:
      return "fused_ibn";
    case UnitType::kBasic:
      return "basic";
    case UnitType::kBottleneck:
      return "bottleneck";
    case UnitType::kPool:
      return "pool";
    case UnitType::kGlobalPool:
      return "global_pool";
    case UnitType::kEltwise:
      return "eltwise";
    case UnitType::kActivation:
      return "activation";
    case UnitType::kResize:
      return "resize";
    case UnitType::kConcat:
      return "concat";
    case UnitType::kSoftmax:
      return "softmax";
    case UnitType::kOther:
      return "other";
  }
  return "other";
}

bool parse_unit_type(const std::string& s, UnitType& out) {
  for (int i = 0; i < kNumUnitTypes; ++i) {
    if (s == unit_type_name(static_cast<UnitType>(i))) {
      out = static_cast<UnitType>(i);
      return true;
    }
  }
  return false;
}

using ir::OpKind;

bool is_view(OpKind k) {
  return k == OpKind::kReshape || k == OpKind::kFlatten || k == OpKind::kZeros;
}

bool is_depthwise(const ir::Graph& g, const ir::Op& op) {
  if (op.kind != OpKind::kConv2d) return false;
  const int groups = op.attr<ir::ConvAttrs>().groups;
  return groups > 1 && groups == g.shape(op.inputs[0])[1];
}

bool is_output(const ir::Graph& g, ir::TensorId t) {
  return std::find(g.outputs().begin(), g.outputs().end(), t) != g.outputs().end();
}

UnitType layer_type(const ir::Graph& g, const ir::Op& op) {
  switch (op.kind) {
    case OpKind::kConv2d:
      return is_depthwise(g, op) ? UnitType::kDwConv : UnitType::kConv;
    case OpKind::kFullyConnected:
      return UnitType::kFc;
    case OpKind::kMaxPool:
    case OpKind::kAvgPool:
      return UnitType::kPool;
    case OpKind::kGlobalAvgPool:
    case OpKind::kGlobalMaxPool:
      return UnitType::kGlobalPool;
    case OpKind::kAdd:
    case OpKind::kSub:
    case OpKind::kMul:
    case OpKind::kDiv:
      return UnitType::kEltwise;
    case OpKind::kResize:
      return UnitType::kResize;
    case OpKind::kConcat:
      return UnitType::kConcat;
    case OpKind::kSoftmax:
      return UnitType::kSoftmax;
    default:
      return ir::is_unary_elementwise(op.kind) ? UnitType::kActivation : UnitType::kOther;
  }
}

namespace {

bool block_unit(const std::string& block_type, UnitType& t) {
  if (block_type == "ibn")
    t = UnitType::kIbn;
  else if (block_type == "fused_ibn")
    t = UnitType::kFusedIbn;
  else if (block_type == "basic")
    t = UnitType::kBasic;
  else if (block_type == "bottleneck")
    t = UnitType::kBottleneck;
  else
    return false;
  return true;
}

LayerRec layer_rec(const ir::Graph& g, int oi) {
  const ir::Op& op = g.op(oi);
  LayerRec r;
  r.op = oi;
  r.kind = op.kind;
  r.role = op.meta.role;
  r.in = op.inputs.empty() ? ir::Shape{} : g.shape(op.inputs[0]);
  r.out = g.shape(op.output);
  r.macs = ir::op_macs(g, op);
  r.params = ir::op_params(g, op);
  r.vector_ops = ir::op_vector_ops(g, op);
  if (op.kind == OpKind::kConv2d) {
    const auto& a = op.attr<ir::ConvAttrs>();
    r.depthwise = is_depthwise(g, op);
    r.kernel_h = a.kernel_h, r.kernel_w = a.kernel_w;
    r.stride_h = a.stride_h, r.stride_w = a.stride_w;
    r.dilation = a.dilation_h;
    r.groups = a.groups;
  } else if (op.kind == OpKind::kMaxPool || op.kind == OpKind::kAvgPool) {
    const auto& a = op.attr<ir::PoolAttrs>();
    r.kernel_h = a.kernel_h, r.kernel_w = a.kernel_w;
    r.stride_h = a.stride_h, r.stride_w = a.stride_w;
  }
  return r;
}

// A lowered layer: its ops, its compute op, its input and its (last) output.
struct Layer {
  std::vector<int> ops;
  int compute = -1;
  UnitType type = UnitType::kOther;
  ir::TensorId in = ir::kNoTensor;   // the compute op's first input
  ir::TensorId out = ir::kNoTensor;  // the layer's last output
};

}  // namespace

std::vector<Unit> decompose(const ir::Graph& g, const DecomposeOptions& opt) {
  const auto& ops = g.ops();
  // 1. Layers, as the lowering groups them.
  std::vector<int> layer_of(ops.size(), -1);
  std::vector<Layer> layers;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (layer_of[i] >= 0) continue;
    const ir::Op& op = ops[i];
    if (is_view(op.kind) && !op.inputs.empty()) {
      const int p = g.tensor(op.inputs[0]).producer;
      if (p >= 0 && layer_of[static_cast<size_t>(p)] >= 0) {
        Layer& L = layers[static_cast<size_t>(layer_of[static_cast<size_t>(p)])];
        L.ops.push_back(static_cast<int>(i));
        L.out = op.output;
        layer_of[i] = layer_of[static_cast<size_t>(p)];
        continue;
      }
    }
    Layer L;
    L.compute = static_cast<int>(i);
    L.type = layer_type(g, op);
    L.ops.push_back(static_cast<int>(i));
    L.in = op.inputs.empty() ? ir::kNoTensor : op.inputs[0];
    L.out = op.output;
    const int li = static_cast<int>(layers.size());
    layer_of[i] = li;
    if ((op.kind == OpKind::kConv2d || op.kind == OpKind::kFullyConnected) &&
        opt.fuse_activations) {
      for (;;) {
        const ir::Tensor& t = g.tensor(L.out);
        if (t.consumers.size() != 1 || is_output(g, L.out)) break;
        const int c = t.consumers[0];
        const ir::Op& cop = ops[static_cast<size_t>(c)];
        if (!ir::is_unary_elementwise(cop.kind) || layer_of[static_cast<size_t>(c)] >= 0 ||
            cop.inputs.size() != 1) {
          break;
        }
        layer_of[static_cast<size_t>(c)] = li;
        L.ops.push_back(c);
        L.out = cop.output;
      }
    }
    layers.push_back(std::move(L));
  }

  // 2. Units: blocks of the block-level types, else one unit per layer.
  std::vector<int> unit_of_layer(layers.size(), -1);
  std::vector<std::vector<int>> unit_layers;
  std::vector<UnitType> unit_types;
  std::vector<std::string> unit_names;
  std::map<std::string, int> block_unit_index;
  for (size_t li = 0; li < layers.size(); ++li) {
    const ir::Op& op = ops[static_cast<size_t>(layers[li].compute)];
    UnitType bt;
    if (!op.meta.block.empty() && block_unit(op.meta.block_type, bt)) {
      auto it = block_unit_index.find(op.meta.block);
      if (it == block_unit_index.end()) {
        it = block_unit_index.emplace(op.meta.block, static_cast<int>(unit_layers.size())).first;
        unit_layers.emplace_back();
        unit_types.push_back(bt);
        unit_names.push_back(op.meta.block);
      }
      unit_of_layer[li] = it->second;
      unit_layers[static_cast<size_t>(it->second)].push_back(static_cast<int>(li));
    }
  }
  // ONNX-style graphs: an inverted bottleneck chain around each depthwise layer.
  auto single_consumer_layer = [&](ir::TensorId t) -> int {
    const ir::Tensor& ten = g.tensor(t);
    if (ten.consumers.size() != 1 || is_output(g, t)) return -1;
    return layer_of[static_cast<size_t>(ten.consumers[0])];
  };
  for (size_t li = 0; li < layers.size(); ++li) {
    if (unit_of_layer[li] >= 0 || layers[li].type != UnitType::kDwConv) continue;
    if (!ops[static_cast<size_t>(layers[li].compute)].meta.block.empty()) continue;
    std::vector<int> chain;
    // Optional expand: a 1x1 conv layer producing the depthwise input, used only by it.
    const int pin = g.tensor(layers[li].in).producer;
    int expand = pin >= 0 ? layer_of[static_cast<size_t>(pin)] : -1;
    if (expand >= 0) {
      const Layer& E = layers[static_cast<size_t>(expand)];
      const ir::Op& eop = ops[static_cast<size_t>(E.compute)];
      const bool pointwise = E.type == UnitType::kConv && eop.attr<ir::ConvAttrs>().kernel_h == 1 &&
                             eop.attr<ir::ConvAttrs>().kernel_w == 1;
      if (!pointwise || unit_of_layer[static_cast<size_t>(expand)] >= 0 ||
          single_consumer_layer(E.out) != static_cast<int>(li)) {
        expand = -1;
      }
    }
    if (expand >= 0) chain.push_back(expand);
    chain.push_back(static_cast<int>(li));
    // Squeeze-excite: pool -> conv -> conv -> mul, and the mul's other operand is the dw output.
    ir::TensorId cur_out = layers[li].out;
    {
      const ir::Tensor& t = g.tensor(cur_out);
      int mul = -1;
      std::vector<int> se;
      for (int c : t.consumers) {
        const int cl = layer_of[static_cast<size_t>(c)];
        if (layers[static_cast<size_t>(cl)].type == UnitType::kEltwise &&
            ops[static_cast<size_t>(c)].kind == OpKind::kMul) {
          mul = cl;
        } else {
          se.push_back(cl);
        }
      }
      if (mul >= 0 && t.consumers.size() == 2 && se.size() == 1) {
        // Walk the gate branch: every layer until the mul.
        std::vector<int> branch;
        int b = se[0];
        for (int guard = 0; guard < 8 && b >= 0 && b != mul; ++guard) {
          branch.push_back(b);
          b = single_consumer_layer(layers[static_cast<size_t>(b)].out);
        }
        if (b == mul) {
          for (int x : branch) chain.push_back(x);
          chain.push_back(mul);
          cur_out = layers[static_cast<size_t>(mul)].out;
        }
      }
    }
    // Project: a 1x1 conv layer with no activation consuming the chain's output.
    const int proj = single_consumer_layer(cur_out);
    if (proj < 0) continue;
    const Layer& P = layers[static_cast<size_t>(proj)];
    const ir::Op& pop = ops[static_cast<size_t>(P.compute)];
    if (P.type != UnitType::kConv || pop.attr<ir::ConvAttrs>().kernel_h != 1 || P.ops.size() != 1 ||
        unit_of_layer[static_cast<size_t>(proj)] >= 0) {
      continue;
    }
    chain.push_back(proj);
    // Residual: an add of the project's output and the chain's input.
    const ir::TensorId chain_in =
        expand >= 0 ? layers[static_cast<size_t>(expand)].in : layers[li].in;
    const int add = single_consumer_layer(P.out);
    if (add >= 0 && layers[static_cast<size_t>(add)].type == UnitType::kEltwise &&
        ops[static_cast<size_t>(layers[static_cast<size_t>(add)].compute)].kind == OpKind::kAdd) {
      const auto& ain = ops[static_cast<size_t>(layers[static_cast<size_t>(add)].compute)].inputs;
      if (std::find(ain.begin(), ain.end(), chain_in) != ain.end()) chain.push_back(add);
    }
    bool free = true;
    for (int x : chain) free = free && unit_of_layer[static_cast<size_t>(x)] < 0;
    if (!free) continue;
    const int ui = static_cast<int>(unit_layers.size());
    unit_layers.emplace_back();
    unit_types.push_back(UnitType::kIbn);
    unit_names.push_back(
        ops[static_cast<size_t>(layers[static_cast<size_t>(chain.front())].compute)].name);
    std::sort(chain.begin(), chain.end());
    for (int x : chain) {
      unit_of_layer[static_cast<size_t>(x)] = ui;
      unit_layers[static_cast<size_t>(ui)].push_back(x);
    }
  }
  for (size_t li = 0; li < layers.size(); ++li) {
    if (unit_of_layer[li] >= 0) continue;
    unit_of_layer[li] = static_cast<int>(unit_layers.size());
    unit_layers.push_back({static_cast<int>(li)});
    unit_types.push_back(layers[li].type);
    unit_names.push_back(ops[static_cast<size_t>(layers[li].compute)].name);
  }

  // 3. Units in graph order of their first op, with their summaries.
  std::vector<Unit> units;
  for (size_t ui = 0; ui < unit_layers.size(); ++ui) {
    Unit u;
    u.type = unit_types[ui];
    u.name = unit_names[ui];
    for (int li : unit_layers[ui]) {
      const Layer& L = layers[static_cast<size_t>(li)];
      u.ops.insert(u.ops.end(), L.ops.begin(), L.ops.end());
      u.layers.push_back(layer_rec(g, L.compute));
    }
    std::sort(u.ops.begin(), u.ops.end());
    std::sort(u.layers.begin(), u.layers.end(),
              [](const LayerRec& a, const LayerRec& b) { return a.op < b.op; });
    for (const auto& r : u.layers) {
      u.macs += r.macs;
      u.params += r.params;
      u.vector_ops += r.vector_ops;
    }
    // The main input: the first op's first input from outside the unit; the output: the last op's.
    const ir::Op& first = ops[static_cast<size_t>(u.ops.front())];
    if (!first.inputs.empty()) u.in_shape = g.shape(first.inputs[0]);
    u.out_shape = g.shape(ops[static_cast<size_t>(u.ops.back())].output);
    if (u.type == UnitType::kIbn || u.type == UnitType::kFusedIbn || u.type == UnitType::kBasic ||
        u.type == UnitType::kBottleneck) {
      u.cin = u.in_shape.size() > 1 ? u.in_shape[1] : 0;
      u.cout = u.out_shape.size() > 1 ? u.out_shape[1] : 0;
      u.hidden = u.cin;
      for (const auto& r : u.layers) {
        const bool spatial = r.kind == OpKind::kConv2d && (r.kernel_h > 1 || r.stride_h > 1);
        if (spatial && u.kernel == 0) {
          u.kernel = r.kernel_h;
          u.stride = r.stride_h;
          u.hidden = r.out.size() > 1 ? r.out[1] : u.hidden;
        }
        if (r.role == "se.reduce") u.se_channels = r.out.size() > 1 ? r.out[1] : 0;
        if (r.kind == OpKind::kAdd) u.residual = true;
      }
      if (u.kernel == 0) u.kernel = 1;
    }
    u.hash = ir::graph_hash(ir::extract_subgraph(g, u.ops));
    units.push_back(std::move(u));
  }
  std::sort(units.begin(), units.end(),
            [](const Unit& a, const Unit& b) { return a.ops.front() < b.ops.front(); });
  return units;
}

}  // namespace nax::est
