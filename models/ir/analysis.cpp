#include "models/ir/analysis.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "models/common/hash.hpp"

namespace nax::ir {

int64_t op_macs(const Graph& g, const Op& op) {
  switch (op.kind) {
    case OpKind::kConv2d: {
      const auto& a = op.attr<ConvAttrs>();
      const int64_t cin = g.shape(op.inputs[0])[1];
      return numel(g.shape(op.output)) * (cin / a.groups) * a.kernel_h * a.kernel_w;
    }
    case OpKind::kFullyConnected:
      return numel(g.shape(op.output)) * g.shape(op.inputs[0]).back();
    default:
      return 0;
  }
}

int64_t op_vector_ops(const Graph& g, const Op& op) {
  const int64_t out = numel(g.shape(op.output));
  switch (op.kind) {
    case OpKind::kConv2d:
    case OpKind::kFullyConnected:
    case OpKind::kReshape:
    case OpKind::kFlatten:
    case OpKind::kZeros:
      return 0;
    case OpKind::kMaxPool:
    case OpKind::kAvgPool: {
      const auto& a = op.attr<PoolAttrs>();
      return out * a.kernel_h * a.kernel_w;
    }
    case OpKind::kGlobalAvgPool:
    case OpKind::kGlobalMaxPool:
      return numel(g.shape(op.inputs[0]));
    default:
      return out;
  }
}

int64_t op_params(const Graph& g, const Op& op) {
  switch (op.kind) {
    case OpKind::kConv2d: {
      const auto& a = op.attr<ConvAttrs>();
      const int64_t cin = g.shape(op.inputs[0])[1];
      int64_t p = static_cast<int64_t>(a.out_channels) * (cin / a.groups) * a.kernel_h * a.kernel_w;
      if (a.bias) p += a.out_channels;
      if (a.bn) p += 2 * a.out_channels;
      return p;
    }
    case OpKind::kFullyConnected: {
      const auto& a = op.attr<FcAttrs>();
      const int64_t in = g.shape(op.inputs[0]).back();
      return in * a.out_features + (a.bias ? a.out_features : 0);
    }
    case OpKind::kBatchNorm:
      return 2 * g.shape(op.inputs[0])[1];
    default:
      return 0;
  }
}

namespace {

std::vector<int> check_order(const Graph& g, const std::vector<int>& order) {
  const int n = static_cast<int>(g.ops().size());
  std::vector<int> ord = order;
  if (ord.empty()) {
    ord.resize(static_cast<size_t>(n));
    std::iota(ord.begin(), ord.end(), 0);
    return ord;
  }
  if (static_cast<int>(ord.size()) != n) {
    throw InputError(fmt::format("execution order lists {} ops; the graph has {}", ord.size(), n));
  }
  std::vector<int> pos(static_cast<size_t>(n), -1);
  for (size_t i = 0; i < ord.size(); ++i) {
    const int o = ord[i];
    if (o < 0 || o >= n || pos[static_cast<size_t>(o)] >= 0) {
      throw InputError("execution order is not a permutation of the graph's ops");
    }
    pos[static_cast<size_t>(o)] = static_cast<int>(i);
  }
  for (int o = 0; o < n; ++o) {
    for (TensorId in : g.op(o).inputs) {
      const int p = g.tensor(in).producer;
      if (p >= 0 && pos[static_cast<size_t>(p)] > pos[static_cast<size_t>(o)]) {
        throw InputError(fmt::format("execution order runs '{}' before its input '{}'",
                                     g.op(o).name, g.op(p).name));
      }
    }
  }
  return ord;
}

}  // namespace

GraphStats analyze(const Graph& g, const std::vector<int>& order, ElementBytes eb) {
  const std::vector<int> ord = check_order(g, order);
  const size_t nt = g.tensors().size();
  const int n = static_cast<int>(ord.size());
  auto tbytes = [&](TensorId t) {
    const auto& ten = g.tensor(t);
    return numel(ten.shape) * (eb.activation > 0 ? eb.activation : dtype_bytes(ten.dtype));
  };

  std::vector<int> step_of(g.ops().size());
  for (int i = 0; i < n; ++i) step_of[static_cast<size_t>(ord[static_cast<size_t>(i)])] = i;

  // Buffers: each tensor maps to one; views and in-place ops share their input's buffer.
  std::vector<int> buf(nt);
  std::iota(buf.begin(), buf.end(), 0);
  auto is_output = [&](TensorId t) {
    return std::find(g.outputs().begin(), g.outputs().end(), t) != g.outputs().end();
  };
  auto is_input = [&](TensorId t) {
    return std::find(g.inputs().begin(), g.inputs().end(), t) != g.inputs().end();
  };
  for (int o : ord) {
    const Op& op = g.op(o);
    if (op.inputs.empty()) continue;
    const TensorId in = op.inputs[0];
    const bool view = op.kind == OpKind::kReshape || op.kind == OpKind::kFlatten;
    const bool in_place = is_unary_elementwise(op.kind) && g.tensor(in).consumers.size() == 1 &&
                          !is_input(in) && !is_output(in);
    if (view || in_place) buf[static_cast<size_t>(op.output)] = buf[static_cast<size_t>(in)];
  }
  std::vector<int64_t> bsize(nt, 0);
  std::vector<int> first(nt, n), last(nt, -1);
  for (size_t t = 0; t < nt; ++t) {
    const TensorId tid = static_cast<TensorId>(t);
    const auto& ten = g.tensor(tid);
    const size_t b = static_cast<size_t>(buf[t]);
    bsize[b] = std::max(bsize[b], tbytes(tid));
    const int def = ten.producer < 0 ? 0 : step_of[static_cast<size_t>(ten.producer)];
    int use = def;
    for (int c : ten.consumers) use = std::max(use, step_of[static_cast<size_t>(c)]);
    if (is_output(tid)) use = n - 1;
    if (ten.producer < 0 && ten.consumers.empty() && !is_output(tid)) continue;  // unused input
    first[b] = std::min(first[b], def);
    last[b] = std::max(last[b], use);
  }
  std::vector<int64_t> live(static_cast<size_t>(std::max(n, 1)), 0);
  for (size_t b = 0; b < nt; ++b) {
    for (int s = first[b]; s <= last[b] && s < n; ++s) live[static_cast<size_t>(s)] += bsize[b];
  }

  GraphStats st;
  for (int i = 0; i < n; ++i) {
    const Op& op = g.op(ord[static_cast<size_t>(i)]);
    LayerStats L;
    L.op = ord[static_cast<size_t>(i)];
    L.macs = op_macs(g, op);
    L.vector_ops = op_vector_ops(g, op);
    L.params = op_params(g, op);
    L.weight_bytes = L.params * eb.weight;
    for (TensorId in : op.inputs) L.input_bytes += tbytes(in);
    L.output_bytes = tbytes(op.output);
    L.live_bytes = live[static_cast<size_t>(i)];
    st.macs += L.macs;
    st.vector_ops += L.vector_ops;
    st.params += L.params;
    st.weight_bytes += L.weight_bytes;
    if (L.live_bytes > st.peak_activation_bytes) {
      st.peak_activation_bytes = L.live_bytes;
      st.peak_step = i;
    }
    st.layers.push_back(L);
  }
  return st;
}

namespace {
std::string pads_str(int t, int l, int b, int r) {
  if (t == 0 && l == 0 && b == 0 && r == 0) return "";
  if (t == l && l == b && b == r) return fmt::format(" p{}", t);
  return fmt::format(" p{},{},{},{}", t, l, b, r);
}
std::string fnum(float v) {
  return fmt::format("{}", v);
}
}  // namespace

std::string attrs_str(const Op& op) {
  struct V {
    std::string operator()(std::monostate) const { return ""; }
    std::string operator()(const ConvAttrs& a) const {
      std::string s = a.kernel_h == a.kernel_w ? fmt::format("k{}", a.kernel_h)
                                               : fmt::format("k{}x{}", a.kernel_h, a.kernel_w);
      s += a.stride_h == a.stride_w ? fmt::format(" s{}", a.stride_h)
                                    : fmt::format(" s{}x{}", a.stride_h, a.stride_w);
      if (a.dilation_h != 1 || a.dilation_w != 1) {
        s += a.dilation_h == a.dilation_w ? fmt::format(" d{}", a.dilation_h)
                                          : fmt::format(" d{}x{}", a.dilation_h, a.dilation_w);
      }
      s += pads_str(a.pad_top, a.pad_left, a.pad_bottom, a.pad_right);
      if (a.groups != 1) s += fmt::format(" g{}", a.groups);
      if (a.bias) s += " bias";
      if (a.bn) s += " bn";
      return s;
    }
    std::string operator()(const PoolAttrs& a) const {
      std::string s = fmt::format("k{}x{} s{}x{}", a.kernel_h, a.kernel_w, a.stride_h, a.stride_w);
      s += pads_str(a.pad_top, a.pad_left, a.pad_bottom, a.pad_right);
      if (a.ceil_mode) s += " ceil";
      if (a.count_include_pad) s += " incl_pad";
      return s;
    }
    std::string operator()(const FcAttrs& a) const {
      return fmt::format("out{}{}", a.out_features, a.bias ? " bias" : "");
    }
    std::string operator()(const ClipAttrs& a) const {
      return "min" + fnum(a.min) + " max" + fnum(a.max);
    }
    std::string operator()(const HardSigmoidAttrs& a) const {
      return "alpha" + fnum(a.alpha) + " beta" + fnum(a.beta);
    }
    std::string operator()(const LeakyReluAttrs& a) const { return "alpha" + fnum(a.alpha); }
    std::string operator()(const ConstOperandAttrs& a) const {
      return "const" + shape_str(a.const_shape);
    }
    std::string operator()(const AxisAttrs& a) const { return fmt::format("axis{}", a.axis); }
    std::string operator()(const ResizeAttrs& a) const {
      return fmt::format("{}x{} {}", a.out_h, a.out_w, a.mode);
    }
    std::string operator()(const ReshapeAttrs& a) const { return "to " + shape_str(a.shape); }
    std::string operator()(const TransposeAttrs& a) const {
      std::string s = "perm";
      for (int p : a.perm) s += fmt::format(" {}", p);
      return s;
    }
    std::string operator()(const PadAttrs& a) const {
      std::string s = a.mode;
      for (auto p : a.pads) s += fmt::format(" {}", p);
      return s;
    }
  };
  return std::visit(V{}, op.attrs);
}

std::string graph_hash(const Graph& g) {
  Fnv1a64 h;
  auto ref = [&](TensorId t) {
    const auto& ten = g.tensor(t);
    if (ten.producer >= 0) return fmt::format("op{}", ten.producer);
    const auto& ins = g.inputs();
    return fmt::format("in{}", std::find(ins.begin(), ins.end(), t) - ins.begin());
  };
  for (TensorId t : g.inputs()) {
    h.update(fmt::format("input {} {};", shape_str(g.shape(t)), dtype_name(g.tensor(t).dtype)));
  }
  for (const Op& op : g.ops()) {
    std::string s = std::string(op_name(op.kind)) + "(" + attrs_str(op) + ")";
    for (TensorId in : op.inputs) s += " " + ref(in);
    s += " -> " + shape_str(g.shape(op.output)) + " " + dtype_name(g.tensor(op.output).dtype) + ";";
    h.update(s);
  }
  for (TensorId t : g.outputs()) h.update("output " + ref(t) + ";");
  return hex64(h.value());
}

}  // namespace nax::ir
