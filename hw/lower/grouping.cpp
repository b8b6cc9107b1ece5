// Grouping: graph ops -> layers (hw/lower/lower.cpp explains the rules), and activation tensors
// -> buffers (views share their input's storage, a concatenation's inputs write into slices of
// its output).
#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "hw/lower/lower_internal.hpp"
#include "models/ir/analysis.hpp"

namespace nax::hw::lower_detail {

// ------------------------------------------------------------------ geometry

int64_t ConvGeom::input_rows(int64_t q0, int64_t q1) const {
  const int64_t hw = out_h * out_w;
  int64_t rows = 0;
  while (q0 < q1) {
    const int64_t img = q0 / hw;
    const int64_t end = std::min(q1, (img + 1) * hw);
    const int64_t r0 = (q0 - img * hw) / out_w;
    const int64_t r1 = (end - 1 - img * hw) / out_w;
    const int64_t lo = std::max<int64_t>(0, r0 * stride_h - pad_top);
    const int64_t hi =
        std::min<int64_t>(in_h - 1, r1 * stride_h - pad_top + int64_t{dilation_h} * (kh - 1));
    rows += std::max<int64_t>(0, hi - lo + 1);
    q0 = end;
  }
  return rows;
}

int64_t ConvGeom::input_row_of(int64_t q) const {
  const int64_t hw = out_h * out_w;
  const int64_t img = q / hw;
  const int64_t r = (q - img * hw) / out_w;
  return img * in_h + std::min(in_h - 1, std::max<int64_t>(0, r * stride_h - pad_top));
}

VectorWork VectorGeom::work(int64_t u0, int64_t u1) const {
  VectorWork w;
  w.op = op;
  const int64_t n = u1 - u0;
  switch (op) {
    case VectorOp::kPool:
    case VectorOp::kDepthwise:
      w.channels = conv.cout;
      w.out_h = n;
      w.out_w = conv.out_w;
      w.kernel_h = conv.kh;
      w.kernel_w = conv.kw;
      break;
    case VectorOp::kGlobalPool:
      w.channels = conv.cin;
      w.out_h = 1;  // input pixels [u0, u1)
      w.out_w = n;
      break;
    case VectorOp::kResize:
      w.elements = elements(u0, u1);
      w.taps = taps;
      break;
    default:
      w.elements = elements(u0, u1);
      break;
  }
  return w;
}

namespace {

// ------------------------------------------------------------------ union-find over tensors

struct Dsu {
  std::vector<int> p;
  explicit Dsu(size_t n) : p(n) { std::iota(p.begin(), p.end(), 0); }
  int find(int x) {
    while (p[static_cast<size_t>(x)] != x) {
      p[static_cast<size_t>(x)] = p[static_cast<size_t>(p[static_cast<size_t>(x)])];
      x = p[static_cast<size_t>(x)];
    }
    return x;
  }
  void unite(int a, int b) {
    a = find(a);
    b = find(b);
    if (a != b) p[static_cast<size_t>(std::max(a, b))] = std::min(a, b);
  }
};

bool contains(const std::vector<ir::TensorId>& v, ir::TensorId t) {
  return std::find(v.begin(), v.end(), t) != v.end();
}

bool is_view_kind(ir::OpKind k) {
  return k == ir::OpKind::kReshape || k == ir::OpKind::kFlatten || k == ir::OpKind::kZeros;
}

bool is_depthwise(const ir::Graph& g, const ir::Op& op) {
  if (op.kind != ir::OpKind::kConv2d) return false;
  const auto& a = op.attr<ir::ConvAttrs>();
  const int64_t cin = g.shape(op.inputs[0])[1];
  return a.groups > 1 && a.groups == cin;
}

// A concatenation moves no data when each input is written only for it by a computing op (through
// views at most): the producers then write straight into the slices of one buffer.
bool concat_in_place(const ir::Graph& g, const ir::Op& op) {
  std::vector<ir::TensorId> seen;
  for (ir::TensorId t : op.inputs) {
    if (contains(seen, t)) return false;
    seen.push_back(t);
    ir::TensorId cur = t;
    for (;;) {
      const ir::Tensor& ten = g.tensor(cur);
      if (ten.producer < 0 || ten.consumers.size() != 1 || contains(g.outputs(), cur)) {
        return false;
      }
      const ir::Op& p = g.op(ten.producer);
      if (p.kind == ir::OpKind::kReshape || p.kind == ir::OpKind::kFlatten) {
        cur = p.inputs[0];
        continue;
      }
      if (is_view_kind(p.kind) || p.kind == ir::OpKind::kConcat) return false;
      break;
    }
  }
  return true;
}

const char* vector_class_name(VectorOp op) {
  switch (op) {
    case VectorOp::kEltwise:
      return "eltwise";
    case VectorOp::kActivation:
      return "activation";
    case VectorOp::kPool:
    case VectorOp::kGlobalPool:
      return "pool";
    case VectorOp::kDepthwise:
      return "dwconv";
    case VectorOp::kResize:
      return "resize";
    case VectorOp::kSoftmax:
      return "softmax";
  }
  return "eltwise";
}

ConvGeom conv_geom(const ir::Graph& g, const ir::Op& op) {
  ConvGeom c;
  const ir::Shape& x = g.shape(op.inputs[0]);
  const ir::Shape& y = g.shape(op.output);
  if (op.kind == ir::OpKind::kFullyConnected) {
    // Npix = batch x rows: every leading dimension is a row of the GEMM.
    c.cin = x.back();
    c.cout = y.back();
    c.in_h = c.out_h = ir::numel(x) / x.back();
    return c;
  }
  c.n = x[0];
  c.cin = x[1];
  c.in_h = x[2];
  c.in_w = x[3];
  c.cout = y[1];
  c.out_h = y[2];
  c.out_w = y[3];
  if (op.kind == ir::OpKind::kConv2d) {
    const auto& a = op.attr<ir::ConvAttrs>();
    c.kh = a.kernel_h;
    c.kw = a.kernel_w;
    c.stride_h = a.stride_h;
    c.dilation_h = a.dilation_h;
    c.pad_top = a.pad_top;
    c.depthwise = is_depthwise(g, op);
    c.groups = c.depthwise ? 1 : a.groups;
  } else if (op.kind == ir::OpKind::kMaxPool || op.kind == ir::OpKind::kAvgPool) {
    const auto& a = op.attr<ir::PoolAttrs>();
    c.kh = a.kernel_h;
    c.kw = a.kernel_w;
    c.stride_h = a.stride_h;
    c.pad_top = a.pad_top;
  }
  return c;
}

}  // namespace

Grouping group_layers(const ir::Graph& g, const ChipParams& chip) {
  const auto& ops = g.ops();
  const size_t nt = g.tensors().size();
  const int ab = chip.activation_bytes();
  const int wb = chip.weight_bytes();
  Grouping G;

  // Views and in-place concatenations.
  std::vector<bool> view(ops.size(), false);
  Dsu dsu(nt);
  for (size_t i = 0; i < ops.size(); ++i) {
    const ir::Op& op = ops[i];
    if (is_view_kind(op.kind)) {
      view[i] = true;
      dsu.unite(op.output, op.inputs[0]);
    } else if (op.kind == ir::OpKind::kConcat && concat_in_place(g, op)) {
      view[i] = true;
      for (ir::TensorId t : op.inputs) dsu.unite(op.output, t);
    }
  }

  // Layers, in op order of their first op.
  std::vector<int> layer_of_op(ops.size(), -1);
  for (size_t i = 0; i < ops.size(); ++i) {
    if (layer_of_op[i] >= 0) continue;
    const ir::Op& op = ops[i];
    Layer L;
    L.plan.name = op.name;
    L.plan.op = ir::op_name(op.kind);
    L.plan.ops.push_back(static_cast<int>(i));
    const int li = static_cast<int>(G.layers.size());
    layer_of_op[i] = li;
    ir::TensorId out = op.output;

    const bool dw = is_depthwise(g, op);
    if (dw) L.plan.op = "DepthwiseConv2d";
    if (view[i]) {
      L.cls = LayerClass::kView;
      L.plan.compute = false;
      L.plan.unit = UnitKind::kVector;
    } else if (op.kind == ir::OpKind::kConv2d || op.kind == ir::OpKind::kFullyConnected) {
      const bool on_vector = dw && chip.depthwise_on == DepthwiseMapping::kVectorUnit;
      L.conv = conv_geom(g, op);
      if (on_vector) {
        L.cls = LayerClass::kVector;
        L.plan.unit = UnitKind::kVector;
        L.vec.op = VectorOp::kDepthwise;
        L.vec.conv = L.conv;
        L.vec.units = L.conv.n * L.conv.out_h;
        L.vec.unit_elements = L.conv.cout * L.conv.out_w;
      } else {
        L.cls = LayerClass::kArray;
        L.plan.unit = UnitKind::kMacArray;
      }
      // The output pipeline (requantisation) applies batch norm and activations on the way out.
      if (chip.mac_array.fused_activations) {
        for (;;) {
          const ir::Tensor& t = g.tensor(out);
          if (t.consumers.size() != 1 || contains(g.outputs(), out)) break;
          const int c = t.consumers[0];
          const ir::Op& cop = ops[static_cast<size_t>(c)];
          if (!ir::is_unary_elementwise(cop.kind) || layer_of_op[static_cast<size_t>(c)] >= 0 ||
              cop.inputs.size() != 1) {
            break;
          }
          layer_of_op[static_cast<size_t>(c)] = li;
          L.plan.ops.push_back(c);
          L.plan.fused += (L.plan.fused.empty() ? "" : "+") + std::string(ir::op_name(cop.kind));
          out = cop.output;
        }
      }
    } else {
      L.cls = LayerClass::kVector;
      L.plan.unit = UnitKind::kVector;
      const ir::Shape& y = g.shape(out);
      if (y.size() == 4) {
        L.vec.units = y[0] * y[2];
        L.vec.unit_elements = y[1] * y[3];
      } else {
        L.vec.units = std::max<int64_t>(1, ir::numel(y) / std::max<int64_t>(1, y.back()));
        L.vec.unit_elements = y.empty() ? 1 : y.back();
      }
      switch (op.kind) {
        case ir::OpKind::kMaxPool:
        case ir::OpKind::kAvgPool:
          L.vec.op = VectorOp::kPool;
          L.vec.conv = conv_geom(g, op);
          break;
        case ir::OpKind::kGlobalAvgPool:
        case ir::OpKind::kGlobalMaxPool:
          L.vec.op = VectorOp::kGlobalPool;
          L.vec.conv = conv_geom(g, op);
          // Chunks of input pixels (all channels each).
          L.vec.units = L.vec.conv.n * L.vec.conv.in_h * L.vec.conv.in_w;
          L.vec.unit_elements = L.vec.conv.cin;
          break;
        case ir::OpKind::kResize: {
          const auto& a = op.attr<ir::ResizeAttrs>();
          L.vec.op = VectorOp::kResize;
          L.vec.conv = conv_geom(g, op);
          L.vec.taps = a.mode == "cubic" ? 16 : a.mode == "linear" ? 4 : 1;
          break;
        }
        case ir::OpKind::kSoftmax: {
          L.vec.op = VectorOp::kSoftmax;
          const int axis = op.attr<ir::AxisAttrs>().axis;
          int64_t outer = 1;
          for (int d = 0; d < axis; ++d) outer *= y[static_cast<size_t>(d)];
          L.vec.units = outer;
          L.vec.unit_elements = ir::numel(y) / outer;
          break;
        }
        default:
          // Element-wise: chunks of whole vector instructions (no halo, any size).
          L.vec.op = ir::is_unary_elementwise(op.kind) ? VectorOp::kActivation : VectorOp::kEltwise;
          L.vec.unit_elements = chip.vector_unit.lanes;
          L.vec.units = std::max<int64_t>(
              1, (ir::numel(y) + chip.vector_unit.lanes - 1) / chip.vector_unit.lanes);
          break;
      }
    }
    if (L.cls == LayerClass::kVector) L.vec.total_elements = ir::numel(g.shape(out));
    if (L.cls == LayerClass::kVector && !chip.vector_unit.runs(vector_class_name(L.vec.op))) {
      std::string ops_list;
      for (const auto& o : chip.vector_unit.ops) ops_list += (ops_list.empty() ? "" : ", ") + o;
      throw InputError(fmt::format(
          "layer '{}' ({}) needs the vector unit to run {}, which chip '{}' does not list in "
          "vector_unit.ops [{}]; add it there (-p vector_unit.ops=[...]) or use another chip",
          L.plan.name, L.plan.op, vector_class_name(L.vec.op), chip.name, ops_list));
    }
    L.out_tensor = out;
    L.plan.output_shape = g.shape(out);
    for (int o : L.plan.ops) {
      const ir::Op& x = ops[static_cast<size_t>(o)];
      L.plan.macs += ir::op_macs(g, x);
      L.plan.vector_ops += ir::op_vector_ops(g, x);
      L.plan.params += ir::op_params(g, x);
      if (std::holds_alternative<ir::ConstOperandAttrs>(x.attrs)) {
        L.weight_bytes += ir::numel(x.attr<ir::ConstOperandAttrs>().const_shape) * wb;
      }
    }
    L.weight_bytes += L.plan.params * wb;
    if (L.cls == LayerClass::kArray) {
      const int64_t core = L.conv.k() * L.conv.m() * L.conv.groups;
      L.weight_extra_per_ch =
          std::max<int64_t>(0, L.plan.params - core) * wb / std::max<int64_t>(1, L.conv.cout);
    }
    L.plan.weight_bytes = L.weight_bytes;
    G.layers.push_back(std::move(L));
  }

  // Buffers.
  std::vector<int> root_buf(nt, -1);
  G.tensor_buffer.assign(nt, -1);
  auto buffer_of = [&](ir::TensorId t) {
    const int r = dsu.find(t);
    if (root_buf[static_cast<size_t>(r)] < 0) {
      root_buf[static_cast<size_t>(r)] = static_cast<int>(G.buffers.size());
      G.buffers.emplace_back();
    }
    const int b = root_buf[static_cast<size_t>(r)];
    G.tensor_buffer[static_cast<size_t>(t)] = b;
    Buffer& B = G.buffers[static_cast<size_t>(b)];
    B.bytes = std::max(B.bytes, ir::numel(g.shape(t)) * ab);
    return b;
  };
  for (size_t t = 0; t < nt; ++t) buffer_of(static_cast<ir::TensorId>(t));
  for (ir::TensorId t : g.inputs()) G.buffers[static_cast<size_t>(buffer_of(t))].graph_input = true;
  for (ir::TensorId t : g.outputs()) {
    G.buffers[static_cast<size_t>(buffer_of(t))].graph_output = true;
  }
  const int nl = static_cast<int>(G.layers.size());
  for (auto& B : G.buffers) {
    B.first = nl;
    B.last = -1;
  }
  for (int li = 0; li < nl; ++li) {
    Layer& L = G.layers[static_cast<size_t>(li)];
    const ir::Op& op = ops[static_cast<size_t>(L.plan.ops[0])];
    if (L.cls == LayerClass::kView) continue;
    L.out_buffer = G.tensor_buffer[static_cast<size_t>(L.out_tensor)];
    L.out_bytes = ir::numel(g.shape(L.out_tensor)) * ab;
    Buffer& O = G.buffers[static_cast<size_t>(L.out_buffer)];
    O.producers.push_back(li);
    O.first = std::min(O.first, li);
    O.last = std::max(O.last, li);
    const int64_t out_elems = ir::numel(g.shape(op.output));
    for (ir::TensorId t : op.inputs) {
      LayerInput in;
      in.tensor = t;
      in.buffer = G.tensor_buffer[static_cast<size_t>(t)];
      in.bytes = ir::numel(g.shape(t)) * ab;
      const bool spatial = L.cls == LayerClass::kArray || L.vec.op == VectorOp::kPool ||
                           L.vec.op == VectorOp::kDepthwise || L.vec.op == VectorOp::kGlobalPool ||
                           L.vec.op == VectorOp::kResize;
      in.follows_output = spatial || ir::numel(g.shape(t)) == out_elems;
      L.inputs.push_back(in);
      Buffer& B = G.buffers[static_cast<size_t>(in.buffer)];
      if (B.consumers.empty() || B.consumers.back() != li) B.consumers.push_back(li);
      B.first = std::min(B.first, li);
      B.last = std::max(B.last, li);
    }
  }
  for (auto& B : G.buffers) {
    if (B.graph_input) B.first = 0;
    if (B.graph_output) B.last = nl - 1;
    if (B.last < B.first) B.last = B.first;  // unused
  }
  return G;
}

}  // namespace nax::hw::lower_detail
