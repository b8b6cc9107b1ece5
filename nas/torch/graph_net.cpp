// GraphNet: see graph_net.hpp. Design notes:
// - Axis 0 is the batch axis everywhere. Ops that would move or mix it (a Transpose whose perm
//   does not start with 0, a Reshape or Flatten that changes the first dimension, a Concat,
//   Softmax or Pad on axis 0, a constant operand that spans it) are refused when the network is
//   built, naming the op.
// - nax graphs carry no weights, so a binary op's constant operand (ConstOperandAttrs) cannot take
//   its real values: it becomes a fixed buffer (not a parameter, as the graph counts it) holding
//   the neutral element, 0 for Add and Sub, 1 for Mul and Div. The op then passes its input
//   through, broadcast to the graph's output shape.
// - Data types are the graph's business; the network always computes in float32.
// - Padding torch's pooling and convolution cannot express (asymmetric, or wider than half the
//   kernel) is applied as an explicit pad first; average pooling then divides by the count of
//   the window elements the graph's semantics count (count_include_pad, ceil_mode), so output
//   sizes and values follow the graph (ONNX/PyTorch rules) exactly.
// - Resize: "nearest" is torch's nearest (floor of the scaled index), "linear" bilinear and
//   "cubic" bicubic, both with half-pixel centres (align_corners = false, ONNX's default).
#include "nas/torch/graph_net.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <numeric>

#include "models/common/error.hpp"

namespace nax::torchnet {
namespace {

using ir::OpKind;

[[noreturn]] void refuse(const ir::Op& op, const std::string& why) {
  throw InputError(fmt::format("{} '{}': cannot be built as a trainable network: {}",
                               ir::op_name(op.kind), op.name, why));
}

// Module names may not contain '.'; the op index keeps them unique.
std::string module_name(int index, const std::string& op_name, const char* suffix = "") {
  std::string n = fmt::format("op{}_{}{}", index, op_name, suffix);
  for (char& c : n) {
    if (c == '.' || c == ' ' || c == '/' || c == ':') c = '_';
  }
  return n;
}

int64_t product(const ir::Shape& s, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to && i < s.size(); ++i) p *= s[i];
  return p;
}

}  // namespace

struct GraphNetImpl::Impl {
  struct Node {
    int index = 0;
    const ir::Op* op = nullptr;  // into `graph`
    std::vector<int> inputs;
    int output = 0;
    bool needed = false;  // the output depends on it
    torch::nn::Conv2d conv{nullptr};
    torch::nn::Linear fc{nullptr};
    torch::nn::BatchNorm2d bn{nullptr};
    torch::Tensor constant;                // neutral constant operand
    std::vector<int64_t> pre_pad;          // conv: explicit {left, right, top, bottom}
    std::vector<int64_t> rest_shape;       // Reshape: the target without the batch axis
    std::vector<int64_t> permutation;      // Transpose
    std::vector<int64_t> pad_torch_order;  // Pad: last dimension first, as torch wants
    std::string pad_mode;                  // Pad: torch's name
  };

  ir::Graph graph;  // a copy: the network outlives the caller's graph
  std::vector<Node> nodes;
  int input = 0, output = 0;
  int pre_head_node = -1;     // node whose input is the pre-head feature map
  std::vector<int> uses;      // consumers among needed nodes, per tensor
  std::vector<int> weighted;  // nodes with a conv or FC, graph order
  std::vector<torch::nn::BatchNorm2d> bns;

  // Runs the network. `check`: compare every tensor with the graph's shape (axis 0 excepted).
  torch::Tensor run(GraphNetImpl& self, const torch::Tensor& x, bool check);
  torch::Tensor run_node(GraphNetImpl& self, Node& n, const std::vector<torch::Tensor>& in);
  torch::Tensor pool(const Node& n, const torch::Tensor& x) const;
};

GraphNetImpl::GraphNetImpl(const ir::Graph& g, const NetOptions& o)
    : m_impl(std::make_shared<Impl>()) {
  Impl& m = *m_impl;
  m.graph = g;
  const ir::Graph& G = m.graph;
  if (G.inputs().size() != 1) {
    throw InputError(fmt::format(
        "graph '{}': cannot be built as a trainable network: it has {} inputs, expected one "
        "NCHW image input",
        G.name, G.inputs().size()));
  }
  m.input = G.inputs()[0];
  if (G.shape(m.input).size() != 4) {
    throw InputError(fmt::format(
        "graph '{}': cannot be built as a trainable network: input '{}' has shape {}, expected "
        "NCHW",
        G.name, G.tensor(m.input).name, ir::shape_str(G.shape(m.input))));
  }
  if (G.ops().empty()) {
    throw InputError(
        fmt::format("graph '{}': cannot be built as a trainable network: no ops", G.name));
  }
  m.output = G.outputs().empty() ? G.ops().back().output : G.outputs()[0];
  if (o.strip_output_softmax) {
    const int p = G.tensor(m.output).producer;
    if (p >= 0 && G.op(p).kind == OpKind::kSoftmax) m.output = G.op(p).inputs[0];
  }

  // Which ops the output depends on (ops are in topological order).
  const size_t nops = G.ops().size();
  std::vector<bool> needed_tensor(G.tensors().size(), false);
  needed_tensor[static_cast<size_t>(m.output)] = true;
  m.nodes.resize(nops);
  for (size_t i = nops; i-- > 0;) {
    const ir::Op& op = G.op(static_cast<int>(i));
    if (needed_tensor[static_cast<size_t>(op.output)]) {
      m.nodes[i].needed = true;
      for (int t : op.inputs) needed_tensor[static_cast<size_t>(t)] = true;
    }
  }
  m.uses.assign(G.tensors().size(), 0);

  // Modules and per-op checks, for every op (so parameters match the graph's count even when
  // some branch does not reach the first output).
  for (size_t i = 0; i < nops; ++i) {
    const ir::Op& op = G.op(static_cast<int>(i));
    Impl::Node& n = m.nodes[i];
    n.index = static_cast<int>(i);
    n.op = &op;
    n.inputs = op.inputs;
    n.output = op.output;
    if (n.needed) {
      for (int t : op.inputs) ++m.uses[static_cast<size_t>(t)];
    }
    const ir::Shape& x = G.shape(op.inputs[0]);
    const ir::Shape& y = G.shape(op.output);
    switch (op.kind) {
      case OpKind::kConv2d: {
        const auto& a = op.attr<ir::ConvAttrs>();
        auto co = torch::nn::Conv2dOptions(x[1], a.out_channels, {a.kernel_h, a.kernel_w})
                      .stride({a.stride_h, a.stride_w})
                      .dilation({a.dilation_h, a.dilation_w})
                      .groups(a.groups)
                      .bias(a.bias);
        if (a.pad_top == a.pad_bottom && a.pad_left == a.pad_right) {
          co.padding(torch::ExpandingArray<2>({a.pad_top, a.pad_left}));
        } else {
          n.pre_pad = {a.pad_left, a.pad_right, a.pad_top, a.pad_bottom};
        }
        n.conv = register_module(module_name(n.index, op.name), torch::nn::Conv2d(co));
        m.weighted.push_back(n.index);
        if (a.bn && o.batch_norm) {
          n.bn = register_module(
              module_name(n.index, op.name, "_bn"),
              torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(a.out_channels)
                                         .affine(o.bn_affine)
                                         .track_running_stats(o.bn_track_running_stats)));
          m.bns.push_back(n.bn);
        }
        break;
      }
      case OpKind::kFullyConnected: {
        const auto& a = op.attr<ir::FcAttrs>();
        n.fc = register_module(
            module_name(n.index, op.name),
            torch::nn::Linear(torch::nn::LinearOptions(x.back(), a.out_features).bias(a.bias)));
        m.weighted.push_back(n.index);
        break;
      }
      case OpKind::kBatchNorm:
        if (o.batch_norm) {
          n.bn = register_module(
              module_name(n.index, op.name),
              torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(x[1])
                                         .affine(o.bn_affine)
                                         .track_running_stats(o.bn_track_running_stats)));
          m.bns.push_back(n.bn);
        }
        break;
      case OpKind::kAdd:
      case OpKind::kSub:
      case OpKind::kMul:
      case OpKind::kDiv:
        if (op.inputs.size() == 2 && G.shape(op.inputs[1]).size() != x.size()) {
          refuse(op, fmt::format("its inputs have ranks {} and {}, and broadcasting them would "
                                 "not keep the batch axis",
                                 x.size(), G.shape(op.inputs[1]).size()));
        }
        if (op.inputs.size() == 1) {
          const ir::Shape& c = op.attr<ir::ConstOperandAttrs>().const_shape;
          if (c.size() == y.size() && !c.empty() && c[0] != 1) {
            refuse(op,
                   fmt::format("its constant operand {} spans the batch axis", ir::shape_str(c)));
          }
          std::vector<int64_t> cs(c.begin(), c.end());
          const bool additive = op.kind == OpKind::kAdd || op.kind == OpKind::kSub;
          n.constant = register_buffer(module_name(n.index, op.name, "_const"),
                                       additive ? torch::zeros(cs) : torch::ones(cs));
        }
        break;
      case OpKind::kConcat:
        if (op.attr<ir::AxisAttrs>().axis == 0) refuse(op, "it concatenates along the batch axis");
        break;
      case OpKind::kSoftmax:
        if (op.attr<ir::AxisAttrs>().axis == 0) refuse(op, "it normalises over the batch axis");
        break;
      case OpKind::kResize: {
        const std::string& mode = op.attr<ir::ResizeAttrs>().mode;
        if (mode != "nearest" && mode != "linear" && mode != "cubic") {
          refuse(op, "unknown interpolation mode '" + mode + "'");
        }
        break;
      }
      case OpKind::kReshape:
        if (y.empty() || y[0] != x[0]) {
          refuse(op, fmt::format("reshaping {} to {} does not keep the batch axis",
                                 ir::shape_str(x), ir::shape_str(y)));
        }
        n.rest_shape.assign(y.begin() + 1, y.end());
        break;
      case OpKind::kFlatten: {
        const int axis = op.attr<ir::AxisAttrs>().axis;
        if (axis == 0 || product(x, 1, static_cast<size_t>(axis)) != 1) {
          refuse(op, fmt::format("flattening {} from axis {} merges the batch axis with others",
                                 ir::shape_str(x), axis));
        }
        break;
      }
      case OpKind::kTranspose: {
        const auto& perm = op.attr<ir::TransposeAttrs>().perm;
        if (perm.empty() || perm[0] != 0) {
          refuse(op, fmt::format("perm {} moves the batch axis",
                                 fmt::join(perm.begin(), perm.end(), ",")));
        }
        n.permutation.assign(perm.begin(), perm.end());
        break;
      }
      case OpKind::kPad: {
        const auto& a = op.attr<ir::PadAttrs>();
        const size_t r = x.size();
        if (a.pads[0] != 0 || a.pads[r] != 0) refuse(op, "it pads the batch axis");
        size_t first_padded = r;
        for (size_t d = r; d-- > 0;) {
          n.pad_torch_order.push_back(a.pads[d]);
          n.pad_torch_order.push_back(a.pads[d + r]);
          if (a.pads[d] != 0 || a.pads[d + r] != 0) first_padded = d;
        }
        if (a.mode == "constant") {
          n.pad_mode = "constant";
        } else if (a.mode == "reflect" || a.mode == "edge") {
          if (r != 4 || first_padded < 2) {
            refuse(op, fmt::format("mode '{}' pads only height and width of an NCHW tensor here",
                                   a.mode));
          }
          n.pad_mode = a.mode == "reflect" ? "reflect" : "replicate";
          n.pad_torch_order.resize(4);  // W then H
        } else {
          refuse(op, "unknown pad mode '" + a.mode + "'");
        }
        break;
      }
      default:
        break;
    }
  }

  // The pre-head feature map: the input of the last global pooling, else of the first FC.
  for (size_t i = nops; i-- > 0;) {
    const OpKind k = G.op(static_cast<int>(i)).kind;
    if (m.nodes[i].needed && (k == OpKind::kGlobalAvgPool || k == OpKind::kGlobalMaxPool)) {
      m.pre_head_node = static_cast<int>(i);
      break;
    }
  }
  if (m.pre_head_node < 0) {
    for (size_t i = 0; i < nops; ++i) {
      if (m.nodes[i].needed && G.op(static_cast<int>(i)).kind == OpKind::kFullyConnected) {
        m.pre_head_node = static_cast<int>(i);
        break;
      }
    }
  }
  reinitialise(o.seed, o.init);
}

torch::Tensor GraphNetImpl::Impl::pool(const Node& n, const torch::Tensor& x) const {
  const auto& a = n.op->attr<ir::PoolAttrs>();
  const bool is_max = n.op->kind == OpKind::kMaxPool;
  const bool native = a.pad_top == a.pad_bottom && a.pad_left == a.pad_right &&
                      2 * a.pad_top <= a.kernel_h && 2 * a.pad_left <= a.kernel_w;
  if (native) {
    if (is_max) {
      return torch::max_pool2d(x, {a.kernel_h, a.kernel_w}, {a.stride_h, a.stride_w},
                               {a.pad_top, a.pad_left}, {1, 1}, a.ceil_mode);
    }
    return torch::avg_pool2d(x, {a.kernel_h, a.kernel_w}, {a.stride_h, a.stride_w},
                             {a.pad_top, a.pad_left}, a.ceil_mode, a.count_include_pad);
  }
  // Explicit padding to exactly the extent the graph's output windows cover, then a window
  // without padding; the output is cut to the graph's size.
  const ir::Shape& ys = graph.shape(n.output);
  const int64_t h = x.size(2), w = x.size(3), oh = ys[2], ow = ys[3];
  const int64_t bottom = std::max<int64_t>(0, (oh - 1) * a.stride_h + a.kernel_h - h - a.pad_top);
  const int64_t right = std::max<int64_t>(0, (ow - 1) * a.stride_w + a.kernel_w - w - a.pad_left);
  const std::vector<int64_t> pads = {a.pad_left, right, a.pad_top, bottom};
  torch::Tensor y;
  if (is_max) {
    const torch::Tensor xp =
        torch::constant_pad_nd(x, pads, -std::numeric_limits<double>::infinity());
    y = torch::max_pool2d(xp, {a.kernel_h, a.kernel_w}, {a.stride_h, a.stride_w});
  } else {
    const torch::Tensor xp = torch::constant_pad_nd(x, pads, 0);
    // Which padded positions the divisor counts: the input alone, or the input and its declared
    // padding (never the extension ceil_mode windows reach beyond it).
    torch::Tensor mask = torch::zeros({1, 1, xp.size(2), xp.size(3)}, x.options());
    if (a.count_include_pad) {
      mask.narrow(2, 0, std::min(xp.size(2), a.pad_top + h + a.pad_bottom))
          .narrow(3, 0, std::min(xp.size(3), a.pad_left + w + a.pad_right))
          .fill_(1);
    } else {
      mask.narrow(2, a.pad_top, h).narrow(3, a.pad_left, w).fill_(1);
    }
    const torch::Tensor sum = torch::avg_pool2d(xp, {a.kernel_h, a.kernel_w},
                                                {a.stride_h, a.stride_w}, {0, 0}, false, true, 1);
    const torch::Tensor count = torch::avg_pool2d(mask, {a.kernel_h, a.kernel_w},
                                                  {a.stride_h, a.stride_w}, {0, 0}, false, true, 1);
    y = sum / count.clamp_min(1);
  }
  return y.narrow(2, 0, oh).narrow(3, 0, ow);
}

torch::Tensor GraphNetImpl::Impl::run_node(GraphNetImpl& self, Node& n,
                                           const std::vector<torch::Tensor>& in) {
  const ir::Op& op = *n.op;
  const torch::Tensor& x = in[0];
  const bool rec = self.m_recording;
  switch (op.kind) {
    case OpKind::kConv2d: {
      torch::Tensor y = n.conv(n.pre_pad.empty() ? x : torch::constant_pad_nd(x, n.pre_pad, 0));
      if (!n.bn.is_empty()) y = n.bn(y);
      if (rec) self.m_layer_outputs.push_back(y);
      return y;
    }
    case OpKind::kFullyConnected: {
      torch::Tensor y = n.fc(x);
      if (rec) self.m_layer_outputs.push_back(y);
      return y;
    }
    case OpKind::kMaxPool:
    case OpKind::kAvgPool:
      return pool(n, x);
    case OpKind::kGlobalAvgPool:
      return x.mean({2, 3}, /*keepdim=*/true);
    case OpKind::kGlobalMaxPool:
      return torch::amax(x, {2, 3}, /*keepdim=*/true);
    case OpKind::kAdd:
    case OpKind::kSub:
    case OpKind::kMul:
    case OpKind::kDiv: {
      const torch::Tensor& b = in.size() > 1 ? in[1] : n.constant;
      switch (op.kind) {
        case OpKind::kAdd:
          return x + b;
        case OpKind::kSub:
          return x - b;
        case OpKind::kMul:
          return x * b;
        default:
          return x / b;
      }
    }
    case OpKind::kConcat:
      return torch::cat(in, op.attr<ir::AxisAttrs>().axis);
    case OpKind::kRelu:
      if (rec) self.m_relu_inputs.push_back(x);
      return torch::relu(x);
    case OpKind::kRelu6:
      if (rec) self.m_relu_inputs.push_back(x);
      return torch::hardtanh(x, 0.0, 6.0);
    case OpKind::kClip: {
      if (rec) self.m_relu_inputs.push_back(x);
      const auto& a = op.attr<ir::ClipAttrs>();
      return torch::clamp(x, a.min, a.max);
    }
    case OpKind::kLeakyRelu:
      if (rec) self.m_relu_inputs.push_back(x);
      return torch::leaky_relu(x, op.attr<ir::LeakyReluAttrs>().alpha);
    case OpKind::kHardSwish:
      return torch::hardswish(x);
    case OpKind::kHardSigmoid: {
      const auto& a = op.attr<ir::HardSigmoidAttrs>();
      return torch::clamp(x * a.alpha + a.beta, 0.0, 1.0);
    }
    case OpKind::kSigmoid:
      return torch::sigmoid(x);
    case OpKind::kSilu:
      return torch::silu(x);
    case OpKind::kTanh:
      return torch::tanh(x);
    case OpKind::kBatchNorm: {
      if (n.bn.is_empty()) return x;
      if (x.dim() == 4) return n.bn(x);
      // [N, C, ...] of another rank: as [N, C, L, 1], which normalises the same values.
      const torch::Tensor y = n.bn(x.reshape({x.size(0), x.size(1), -1, 1}));
      return y.reshape(x.sizes());
    }
    case OpKind::kResize: {
      const auto& a = op.attr<ir::ResizeAttrs>();
      namespace F = torch::nn::functional;
      auto io = F::InterpolateFuncOptions().size(std::vector<int64_t>{a.out_h, a.out_w});
      if (a.mode == "nearest") {
        io.mode(torch::kNearest);
      } else if (a.mode == "linear") {
        io.mode(torch::kBilinear).align_corners(false);
      } else {
        io.mode(torch::kBicubic).align_corners(false);
      }
      return F::interpolate(x, io);
    }
    case OpKind::kReshape: {
      std::vector<int64_t> s = {x.size(0)};
      s.insert(s.end(), n.rest_shape.begin(), n.rest_shape.end());
      return x.reshape(s);
    }
    case OpKind::kFlatten:
      return x.reshape({x.size(0), -1});
    case OpKind::kTranspose:
      return x.permute(n.permutation);
    case OpKind::kSoftmax:
      return torch::softmax(x, op.attr<ir::AxisAttrs>().axis);
    case OpKind::kPad: {
      if (n.pad_mode == "constant") return torch::constant_pad_nd(x, n.pad_torch_order, 0);
      auto po = torch::nn::functional::PadFuncOptions(n.pad_torch_order);
      if (n.pad_mode == "reflect") {
        po.mode(torch::kReflect);
      } else {
        po.mode(torch::kReplicate);
      }
      return torch::nn::functional::pad(x, po);
    }
    case OpKind::kZeros:
      return torch::zeros_like(x);
  }
  throw Error(fmt::format("{} '{}': no network counterpart", ir::op_name(op.kind), op.name));
}

torch::Tensor GraphNetImpl::Impl::run(GraphNetImpl& self, const torch::Tensor& x, bool check) {
  const ir::Shape& in = graph.shape(input);
  if (x.dim() != 4 || x.size(1) != in[1] || x.size(2) != in[2] || x.size(3) != in[3]) {
    throw InputError(fmt::format("network '{}': input of shape [{}], expected [N, {}, {}, {}]",
                                 graph.name, fmt::join(x.sizes(), ", "), in[1], in[2], in[3]));
  }
  if (self.m_recording) {
    self.m_relu_inputs.clear();
    self.m_layer_outputs.clear();
    self.m_pre_head = torch::Tensor();
  }
  std::vector<torch::Tensor> value(graph.tensors().size());
  std::vector<int> uses = this->uses;
  value[static_cast<size_t>(input)] = x;
  std::vector<torch::Tensor> args;
  for (Node& n : nodes) {
    // A check runs every op, also those the output does not depend on (other heads).
    if (!n.needed && !check) continue;
    args.clear();
    for (int t : n.inputs) args.push_back(value[static_cast<size_t>(t)]);
    if (self.m_recording && n.index == pre_head_node) self.m_pre_head = args[0];
    torch::Tensor y = run_node(self, n, args);
    if (check) {
      const ir::Shape& want = graph.shape(n.output);
      bool ok = y.dim() == static_cast<int64_t>(want.size());
      for (size_t d = 1; ok && d < want.size(); ++d)
        ok = y.size(static_cast<int64_t>(d)) == want[d];
      if (ok && y.size(0) != x.size(0)) ok = false;
      if (!ok) {
        throw Error(fmt::format("{} '{}': the network computes [{}], the graph says {} (batch {})",
                                ir::op_name(n.op->kind), n.op->name, fmt::join(y.sizes(), ", "),
                                ir::shape_str(want), x.size(0)));
      }
    }
    if (!check) {  // free what no later op reads
      for (int t : n.inputs) {
        if (--uses[static_cast<size_t>(t)] == 0 && t != output) {
          value[static_cast<size_t>(t)] = torch::Tensor();
        }
      }
    }
    value[static_cast<size_t>(n.output)] = std::move(y);
  }
  return value[static_cast<size_t>(output)];
}

torch::Tensor GraphNetImpl::forward(const torch::Tensor& x) {
  return m_impl->run(*this, x, false);
}

torch::Tensor GraphNetImpl::check_shapes(int64_t batch) {
  torch::NoGradGuard no_grad;
  const bool was_training = is_training();
  eval();
  const ir::Shape& in = m_impl->graph.shape(m_impl->input);
  torch::Tensor y;
  try {
    y = m_impl->run(*this, torch::zeros({batch, in[1], in[2], in[3]}), true);
  } catch (...) {
    train(was_training);
    throw;
  }
  train(was_training);
  return y;
}

std::vector<torch::Tensor> GraphNetImpl::layer_weights() const {
  std::vector<torch::Tensor> w;
  for (int i : m_impl->weighted) {
    const auto& n = m_impl->nodes[static_cast<size_t>(i)];
    w.push_back(n.conv.is_empty() ? n.fc->weight : n.conv->weight);
  }
  return w;
}

std::vector<torch::nn::BatchNorm2d> GraphNetImpl::batch_norms() const {
  return m_impl->bns;
}

void GraphNetImpl::reinitialise(uint64_t seed, Init init) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  auto init_weight = [init](torch::Tensor& w, torch::Tensor& b, auto& module) {
    switch (init) {
      case Init::kTorchDefault:
        module->reset_parameters();
        return;
      case Init::kKaimingNormal:
        torch::nn::init::kaiming_normal_(w, 0.0, torch::kFanIn, torch::kReLU);
        break;
      case Init::kXavierNormal:
        torch::nn::init::xavier_normal_(w);
        break;
    }
    if (b.defined()) b.zero_();
  };
  for (auto& n : m_impl->nodes) {
    if (!n.conv.is_empty()) init_weight(n.conv->weight, n.conv->bias, n.conv);
    if (!n.fc.is_empty()) init_weight(n.fc->weight, n.fc->bias, n.fc);
    if (!n.bn.is_empty()) n.bn->reset_parameters();  // weight 1, bias 0, running mean 0, var 1
  }
}

int64_t GraphNetImpl::input_channels() const {
  return m_impl->graph.shape(m_impl->input)[1];
}
int64_t GraphNetImpl::input_height() const {
  return m_impl->graph.shape(m_impl->input)[2];
}
int64_t GraphNetImpl::input_width() const {
  return m_impl->graph.shape(m_impl->input)[3];
}
int64_t GraphNetImpl::num_outputs() const {
  return m_impl->graph.shape(m_impl->output).back();
}

void seed_everything(uint64_t seed) {
  torch::manual_seed(seed);
}

}  // namespace nax::torchnet
