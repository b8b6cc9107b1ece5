#include "models/ir/graph.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace nax::ir {

int dtype_bytes(DType t) {
  switch (t) {
    case DType::kInt8:
    case DType::kUInt8:
    case DType::kBool:
      return 1;
    case DType::kInt16:
    case DType::kFloat16:
      return 2;
    case DType::kInt32:
    case DType::kFloat32:
      return 4;
    case DType::kInt64:
      return 8;
  }
  return 1;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kInt8:
      return "int8";
    case DType::kUInt8:
      return "uint8";
    case DType::kInt16:
      return "int16";
    case DType::kInt32:
      return "int32";
    case DType::kInt64:
      return "int64";
    case DType::kFloat16:
      return "float16";
    case DType::kFloat32:
      return "float32";
    case DType::kBool:
      return "bool";
  }
  return "?";
}

bool parse_dtype(const std::string& s, DType& out) {
  for (DType t : {DType::kInt8, DType::kUInt8, DType::kInt16, DType::kInt32, DType::kInt64,
                  DType::kFloat16, DType::kFloat32, DType::kBool}) {
    if (s == dtype_name(t)) {
      out = t;
      return true;
    }
  }
  return false;
}

std::string shape_str(const Shape& s) {
  std::string r;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) r += "x";
    r += std::to_string(s[i]);
  }
  return r.empty() ? "scalar" : r;
}

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

const char* op_name(OpKind k) {
  switch (k) {
    case OpKind::kConv2d:
      return "Conv2d";
    case OpKind::kFullyConnected:
      return "FullyConnected";
    case OpKind::kMaxPool:
      return "MaxPool";
    case OpKind::kAvgPool:
      return "AvgPool";
    case OpKind::kGlobalAvgPool:
      return "GlobalAvgPool";
    case OpKind::kGlobalMaxPool:
      return "GlobalMaxPool";
    case OpKind::kAdd:
      return "Add";
    case OpKind::kSub:
      return "Sub";
    case OpKind::kMul:
      return "Mul";
    case OpKind::kDiv:
      return "Div";
    case OpKind::kConcat:
      return "Concat";
    case OpKind::kRelu:
      return "Relu";
    case OpKind::kRelu6:
      return "Relu6";
    case OpKind::kClip:
      return "Clip";
    case OpKind::kLeakyRelu:
      return "LeakyRelu";
    case OpKind::kHardSwish:
      return "HardSwish";
    case OpKind::kHardSigmoid:
      return "HardSigmoid";
    case OpKind::kSigmoid:
      return "Sigmoid";
    case OpKind::kSilu:
      return "Silu";
    case OpKind::kTanh:
      return "Tanh";
    case OpKind::kBatchNorm:
      return "BatchNorm";
    case OpKind::kResize:
      return "Resize";
    case OpKind::kReshape:
      return "Reshape";
    case OpKind::kFlatten:
      return "Flatten";
    case OpKind::kTranspose:
      return "Transpose";
    case OpKind::kSoftmax:
      return "Softmax";
    case OpKind::kPad:
      return "Pad";
    case OpKind::kZeros:
      return "Zeros";
  }
  return "?";
}

bool is_unary_elementwise(OpKind k) {
  switch (k) {
    case OpKind::kRelu:
    case OpKind::kRelu6:
    case OpKind::kClip:
    case OpKind::kLeakyRelu:
    case OpKind::kHardSwish:
    case OpKind::kHardSigmoid:
    case OpKind::kSigmoid:
    case OpKind::kSilu:
    case OpKind::kTanh:
    case OpKind::kBatchNorm:
      return true;
    default:
      return false;
  }
}

bool is_binary_elementwise(OpKind k) {
  return k == OpKind::kAdd || k == OpKind::kSub || k == OpKind::kMul || k == OpKind::kDiv;
}

ConvAttrs ConvAttrs::make(int out_channels, int kernel, int stride, int groups, int dilation) {
  ConvAttrs a;
  a.out_channels = out_channels;
  a.kernel_h = a.kernel_w = kernel;
  a.stride_h = a.stride_w = stride;
  a.dilation_h = a.dilation_w = dilation;
  a.groups = groups;
  const int p = (kernel - 1) / 2 * dilation;
  a.pad_top = a.pad_left = a.pad_bottom = a.pad_right = p;
  return a;
}

TensorId Graph::add_input(const std::string& name, const Shape& shape, DType dtype) {
  for (int64_t d : shape) {
    if (d <= 0) {
      throw InputError(
          fmt::format("graph input '{}': shape {} has a dimension that is not positive", name,
                      shape_str(shape)));
    }
  }
  Tensor t;
  t.name = name;
  t.shape = shape;
  t.dtype = dtype;
  m_tensors.push_back(std::move(t));
  const TensorId id = static_cast<TensorId>(m_tensors.size() - 1);
  m_inputs.push_back(id);
  return id;
}

namespace {

[[noreturn]] void fail(OpKind kind, const std::string& name, const std::string& what) {
  throw InputError(fmt::format("{} '{}': {}", op_name(kind), name, what));
}

// Output size of a sliding window along one dimension; 0 or less means the window does not fit.
int64_t window_out(int64_t in, int pad_a, int pad_b, int kernel, int stride, int dilation,
                   bool ceil_mode) {
  const int64_t span = in + pad_a + pad_b - static_cast<int64_t>(dilation) * (kernel - 1) - 1;
  if (span < 0) return 0;
  int64_t out = ceil_mode ? (span + stride - 1) / stride + 1 : span / stride + 1;
  // ONNX/PyTorch rule: the last window must start inside the input or left padding.
  if (ceil_mode && (out - 1) * stride >= in + pad_a) --out;
  return out;
}

Shape broadcast(const Shape& a, const Shape& b, bool& ok) {
  ok = true;
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) ok = false;
    out[i] = std::max(da, db);
  }
  return out;
}

int norm_axis(int axis, size_t rank) {
  return axis < 0 ? axis + static_cast<int>(rank) : axis;
}

}  // namespace

Shape Graph::infer_shape(OpKind kind, const std::string& name, const std::vector<TensorId>& inputs,
                         OpAttrs& attrs) const {
  auto need_inputs = [&](size_t lo, size_t hi) {
    if (inputs.size() < lo || inputs.size() > hi) {
      fail(kind, name,
           lo == hi ? fmt::format("expected {} input(s), got {}", lo, inputs.size())
                    : fmt::format("expected {} to {} inputs, got {}", lo, hi, inputs.size()));
    }
  };
  auto need_attrs = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    if (!std::holds_alternative<T>(attrs)) fail(kind, name, "missing attributes");
    return &std::get<T>(attrs);
  };
  auto rank4 = [&](const Shape& s, const char* what) {
    if (s.size() != 4) {
      fail(kind, name, fmt::format("{} must be NCHW (rank 4), got shape {}", what, shape_str(s)));
    }
  };
  for (TensorId t : inputs) {
    if (t < 0 || static_cast<size_t>(t) >= m_tensors.size())
      fail(kind, name, "unknown input tensor");
  }

  switch (kind) {
    case OpKind::kConv2d: {
      need_inputs(1, 1);
      auto* a = need_attrs(static_cast<ConvAttrs*>(nullptr));
      const Shape& x = shape(inputs[0]);
      rank4(x, "input");
      if (a->out_channels <= 0) fail(kind, name, "out_channels must be positive");
      if (a->kernel_h <= 0 || a->kernel_w <= 0 || a->stride_h <= 0 || a->stride_w <= 0 ||
          a->dilation_h <= 0 || a->dilation_w <= 0 || a->groups <= 0) {
        fail(kind, name, "kernel, stride, dilation and groups must be positive");
      }
      if (a->pad_top < 0 || a->pad_left < 0 || a->pad_bottom < 0 || a->pad_right < 0) {
        fail(kind, name, "padding must not be negative");
      }
      if (x[1] % a->groups != 0 || a->out_channels % a->groups != 0) {
        fail(kind, name,
             fmt::format("groups = {} must divide input channels ({}) and output channels ({})",
                         a->groups, x[1], a->out_channels));
      }
      const int64_t h = window_out(x[2], a->pad_top, a->pad_bottom, a->kernel_h, a->stride_h,
                                   a->dilation_h, false);
      const int64_t w = window_out(x[3], a->pad_left, a->pad_right, a->kernel_w, a->stride_w,
                                   a->dilation_w, false);
      if (h <= 0 || w <= 0) {
        fail(kind, name,
             fmt::format("{}x{} kernel does not fit the {}x{} input", a->kernel_h, a->kernel_w,
                         x[2], x[3]));
      }
      return {x[0], a->out_channels, h, w};
    }
    case OpKind::kFullyConnected: {
      need_inputs(1, 1);
      auto* a = need_attrs(static_cast<FcAttrs*>(nullptr));
      Shape x = shape(inputs[0]);
      if (x.size() < 2) fail(kind, name, "input must have rank >= 2, got " + shape_str(x));
      if (a->out_features <= 0) fail(kind, name, "out_features must be positive");
      x.back() = a->out_features;
      return x;
    }
    case OpKind::kMaxPool:
    case OpKind::kAvgPool: {
      need_inputs(1, 1);
      auto* a = need_attrs(static_cast<PoolAttrs*>(nullptr));
      const Shape& x = shape(inputs[0]);
      rank4(x, "input");
      if (a->kernel_h <= 0 || a->kernel_w <= 0 || a->stride_h <= 0 || a->stride_w <= 0) {
        fail(kind, name, "kernel and stride must be positive");
      }
      if (a->pad_top < 0 || a->pad_left < 0 || a->pad_bottom < 0 || a->pad_right < 0) {
        fail(kind, name, "padding must not be negative");
      }
      const int64_t h =
          window_out(x[2], a->pad_top, a->pad_bottom, a->kernel_h, a->stride_h, 1, a->ceil_mode);
      const int64_t w =
          window_out(x[3], a->pad_left, a->pad_right, a->kernel_w, a->stride_w, 1, a->ceil_mode);
      if (h <= 0 || w <= 0) {
        fail(kind, name,
             fmt::format("{}x{} window does not fit the {}x{} input", a->kernel_h, a->kernel_w,
                         x[2], x[3]));
      }
      return {x[0], x[1], h, w};
    }
    case OpKind::kGlobalAvgPool:
    case OpKind::kGlobalMaxPool: {
      need_inputs(1, 1);
      const Shape& x = shape(inputs[0]);
      rank4(x, "input");
      return {x[0], x[1], 1, 1};
    }
    case OpKind::kAdd:
    case OpKind::kSub:
    case OpKind::kMul:
    case OpKind::kDiv: {
      need_inputs(1, 2);
      Shape other;
      if (inputs.size() == 2) {
        other = shape(inputs[1]);
      } else {
        other = need_attrs(static_cast<ConstOperandAttrs*>(nullptr))->const_shape;
      }
      bool ok = false;
      Shape out = broadcast(shape(inputs[0]), other, ok);
      if (!ok) {
        fail(kind, name,
             fmt::format("shapes {} and {} do not broadcast", shape_str(shape(inputs[0])),
                         shape_str(other)));
      }
      return out;
    }
    case OpKind::kConcat: {
      if (inputs.empty()) fail(kind, name, "expected at least one input");
      auto* a = need_attrs(static_cast<AxisAttrs*>(nullptr));
      Shape out = shape(inputs[0]);
      const int axis = norm_axis(a->axis, out.size());
      if (axis < 0 || static_cast<size_t>(axis) >= out.size()) {
        fail(kind, name, fmt::format("axis {} out of range for rank {}", a->axis, out.size()));
      }
      a->axis = axis;
      for (size_t i = 1; i < inputs.size(); ++i) {
        const Shape& s = shape(inputs[i]);
        bool ok = s.size() == out.size();
        for (size_t d = 0; ok && d < s.size(); ++d) {
          if (static_cast<int>(d) != axis && s[d] != out[d]) ok = false;
        }
        if (!ok) {
          fail(kind, name,
               fmt::format("input {} has shape {}, which does not match {} outside axis {}", i,
                           shape_str(s), shape_str(shape(inputs[0])), axis));
        }
        out[static_cast<size_t>(axis)] += s[static_cast<size_t>(axis)];
      }
      return out;
    }
    case OpKind::kBatchNorm: {
      need_inputs(1, 1);
      const Shape& x = shape(inputs[0]);
      if (x.size() < 2) fail(kind, name, "input must have a channel dimension");
      return x;
    }
    case OpKind::kRelu:
    case OpKind::kRelu6:
    case OpKind::kClip:
    case OpKind::kLeakyRelu:
    case OpKind::kHardSwish:
    case OpKind::kHardSigmoid:
    case OpKind::kSigmoid:
    case OpKind::kSilu:
    case OpKind::kTanh:
    case OpKind::kZeros:
      need_inputs(1, 1);
      return shape(inputs[0]);
    case OpKind::kSoftmax: {
      need_inputs(1, 1);
      if (!std::holds_alternative<AxisAttrs>(attrs)) attrs = AxisAttrs{-1};
      auto& a = std::get<AxisAttrs>(attrs);
      const Shape& x = shape(inputs[0]);
      a.axis = norm_axis(a.axis, x.size());
      if (a.axis < 0 || static_cast<size_t>(a.axis) >= x.size())
        fail(kind, name, "axis out of range");
      return x;
    }
    case OpKind::kResize: {
      need_inputs(1, 1);
      auto* a = need_attrs(static_cast<ResizeAttrs*>(nullptr));
      const Shape& x = shape(inputs[0]);
      rank4(x, "input");
      if (a->out_h <= 0 || a->out_w <= 0) fail(kind, name, "output size must be positive");
      return {x[0], x[1], a->out_h, a->out_w};
    }
    case OpKind::kReshape: {
      need_inputs(1, 1);
      auto* a = need_attrs(static_cast<ReshapeAttrs*>(nullptr));
      const Shape& x = shape(inputs[0]);
      Shape out = a->shape;
      int infer = -1;
      int64_t known = 1;
      for (size_t i = 0; i < out.size(); ++i) {
        if (out[i] == 0) {
          if (i >= x.size()) fail(kind, name, "0 in target shape beyond the input's rank");
          out[i] = x[i];
        }
        if (out[i] == -1) {
          if (infer >= 0) fail(kind, name, "more than one -1 in target shape");
          infer = static_cast<int>(i);
        } else if (out[i] <= 0) {
          fail(kind, name, "invalid target shape " + shape_str(a->shape));
        } else {
          known *= out[i];
        }
      }
      if (infer >= 0) {
        if (known == 0 || numel(x) % known != 0) {
          fail(kind, name,
               fmt::format("cannot reshape {} to {}", shape_str(x), shape_str(a->shape)));
        }
        out[static_cast<size_t>(infer)] = numel(x) / known;
      }
      if (numel(out) != numel(x)) {
        fail(kind, name,
             fmt::format("cannot reshape {} ({} elements) to {}", shape_str(x), numel(x),
                         shape_str(out)));
      }
      a->shape = out;
      return out;
    }
    case OpKind::kFlatten: {
      need_inputs(1, 1);
      if (!std::holds_alternative<AxisAttrs>(attrs)) attrs = AxisAttrs{1};
      auto& a = std::get<AxisAttrs>(attrs);
      const Shape& x = shape(inputs[0]);
      a.axis = norm_axis(a.axis, x.size());
      if (a.axis < 0 || static_cast<size_t>(a.axis) > x.size())
        fail(kind, name, "axis out of range");
      int64_t lead = 1, rest = 1;
      for (size_t i = 0; i < x.size(); ++i) (static_cast<int>(i) < a.axis ? lead : rest) *= x[i];
      return {lead, rest};
    }
    case OpKind::kTranspose: {
      need_inputs(1, 1);
      auto* a = need_attrs(static_cast<TransposeAttrs*>(nullptr));
      const Shape& x = shape(inputs[0]);
      if (a->perm.empty()) {
        for (int i = static_cast<int>(x.size()) - 1; i >= 0; --i) a->perm.push_back(i);
      }
      if (a->perm.size() != x.size()) fail(kind, name, "perm length does not match input rank");
      std::vector<bool> used(x.size(), false);
      Shape out(x.size());
      for (size_t i = 0; i < a->perm.size(); ++i) {
        const int p = a->perm[i];
        if (p < 0 || static_cast<size_t>(p) >= x.size() || used[static_cast<size_t>(p)]) {
          fail(kind, name, "perm is not a permutation");
        }
        used[static_cast<size_t>(p)] = true;
        out[i] = x[static_cast<size_t>(p)];
      }
      return out;
    }
    case OpKind::kPad: {
      need_inputs(1, 1);
      auto* a = need_attrs(static_cast<PadAttrs*>(nullptr));
      const Shape& x = shape(inputs[0]);
      if (a->pads.size() != 2 * x.size()) fail(kind, name, "pads must have 2 x rank entries");
      Shape out = x;
      for (size_t i = 0; i < x.size(); ++i) {
        out[i] = x[i] + a->pads[i] + a->pads[i + x.size()];
        if (out[i] <= 0) fail(kind, name, "padding removes the whole dimension");
      }
      return out;
    }
  }
  fail(kind, name, "unsupported op kind");
}

TensorId Graph::add_op(OpKind kind, const std::string& name, const std::vector<TensorId>& inputs,
                       OpAttrs attrs, OpMeta meta) {
  Shape out_shape = infer_shape(kind, name, inputs, attrs);
  Op op;
  op.name = name;
  op.kind = kind;
  op.inputs = inputs;
  op.attrs = std::move(attrs);
  op.meta = std::move(meta);
  const int op_index = static_cast<int>(m_ops.size());
  Tensor t;
  t.name = name;
  t.shape = std::move(out_shape);
  t.dtype = inputs.empty() ? DType::kInt8 : tensor(inputs[0]).dtype;
  t.producer = op_index;
  m_tensors.push_back(std::move(t));
  op.output = static_cast<TensorId>(m_tensors.size() - 1);
  for (TensorId in : inputs) m_tensors[static_cast<size_t>(in)].consumers.push_back(op_index);
  m_ops.push_back(std::move(op));
  return m_ops.back().output;
}

void Graph::mark_output(TensorId t) {
  if (t < 0 || static_cast<size_t>(t) >= m_tensors.size()) {
    throw std::logic_error("mark_output: unknown tensor");
  }
  if (std::find(m_outputs.begin(), m_outputs.end(), t) == m_outputs.end()) m_outputs.push_back(t);
}

void Graph::rename_tensor(TensorId t, const std::string& name) {
  m_tensors.at(static_cast<size_t>(t)).name = name;
}

void Graph::set_all_dtypes(DType d) {
  for (auto& t : m_tensors) t.dtype = d;
}

}  // namespace nax::ir
