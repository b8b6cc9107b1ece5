// The nax graph IR: tensors with shapes and data types, and the operators of the networks nax
// handles. Activations are NCHW. Every op has exactly one output tensor; shapes are inferred when
// an op is added, so a Graph is always shape-consistent (an inconsistency is an InputError that
// names the op). Weights are not tensors: an op's attributes say how many it has.
//
// Ops are stored in the order they were added, which is a topological order (an op's inputs must
// exist before it). Blocks: every op may carry the name and type of the model block it came from
// ("s2.1", "ibn") and its role inside it ("expand", "dw", "project", ...); the lowering and the
// subgraph decomposition use them. ONNX imports leave them empty.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "models/common/error.hpp"

namespace nax::ir {

enum class DType { kInt8, kUInt8, kInt16, kInt32, kInt64, kFloat16, kFloat32, kBool };
int dtype_bytes(DType t);
const char* dtype_name(DType t);
bool parse_dtype(const std::string& s, DType& out);

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& s);  // "1x32x112x112"
int64_t numel(const Shape& s);

using TensorId = int;
constexpr TensorId kNoTensor = -1;

enum class OpKind {
  kConv2d,          // dense, grouped and depthwise convolution (ConvAttrs)
  kFullyConnected,  // y = x W^T + b over the last dimension (FcAttrs); Gemm/MatMul with weights
  kMaxPool,
  kAvgPool,
  kGlobalAvgPool,
  kGlobalMaxPool,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kConcat,
  kRelu,
  kRelu6,
  kClip,  // general clamp (ClipAttrs); ReLU6 is kRelu6
  kLeakyRelu,
  kHardSwish,
  kHardSigmoid,
  kSigmoid,
  kSilu,
  kTanh,
  kBatchNorm,  // standalone (unfolded) batch norm: per-channel scale and shift
  kResize,
  kReshape,
  kFlatten,
  kTranspose,
  kSoftmax,
  kPad,
  kZeros,  // zeros shaped like its input (NAS-Bench-201's "none" edge)
};
const char* op_name(OpKind k);        // "Conv2d", "Relu6", ...
bool is_unary_elementwise(OpKind k);  // activations and batch norm
bool is_binary_elementwise(OpKind k);

struct ConvAttrs {
  int out_channels = 0;
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int groups = 1;
  bool bias = false;  // has a bias vector (out_channels params)
  bool bn = false;    // followed by a batch norm folded into it (2 x out_channels params)

  // "Same"-style symmetric padding for odd kernels: (k-1)/2 * dilation on each side.
  static ConvAttrs make(int out_channels, int kernel, int stride = 1, int groups = 1,
                        int dilation = 1);
};

struct PoolAttrs {
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool ceil_mode = false;
  bool count_include_pad = false;  // average pooling only
};

struct FcAttrs {
  int out_features = 0;
  bool bias = true;
};

struct ClipAttrs {
  float min = 0.f, max = 6.f;
};

struct HardSigmoidAttrs {
  float alpha = 1.f / 6.f, beta = 0.5f;
};

struct LeakyReluAttrs {
  float alpha = 0.01f;
};

// Binary element-wise op with one activation input and one constant operand (a scale, a bias).
struct ConstOperandAttrs {
  Shape const_shape;  // broadcast against the activation input
};

struct AxisAttrs {
  int axis = 1;  // Concat, Softmax, Flatten; negative counts from the end
};

struct ResizeAttrs {
  int64_t out_h = 0, out_w = 0;
  std::string mode = "nearest";  // "nearest", "linear", "cubic"
};

struct ReshapeAttrs {
  Shape shape;  // may hold one -1 (inferred) and 0 (copy input dim), as ONNX Reshape
};

struct TransposeAttrs {
  std::vector<int> perm;
};

struct PadAttrs {
  std::vector<int64_t> pads;  // begin of each dim, then end of each dim (ONNX order)
  std::string mode = "constant";
};

using OpAttrs = std::variant<std::monostate, ConvAttrs, PoolAttrs, FcAttrs, ClipAttrs,
                             HardSigmoidAttrs, LeakyReluAttrs, ConstOperandAttrs, AxisAttrs,
                             ResizeAttrs, ReshapeAttrs, TransposeAttrs, PadAttrs>;

// Where an op came from in a block-level model description.
struct OpMeta {
  std::string block;       // block instance, e.g. "s2.1"; empty for ONNX imports
  std::string block_type;  // e.g. "ibn", "fused_ibn", "conv"
  std::string role;        // e.g. "expand", "dw", "project", "se.reduce", "residual"
};

struct Tensor {
  std::string name;
  Shape shape;
  DType dtype = DType::kInt8;
  int producer = -1;           // op index, -1 for graph inputs
  std::vector<int> consumers;  // op indices
};

struct Op {
  std::string name;
  OpKind kind = OpKind::kRelu;
  std::vector<TensorId> inputs;
  TensorId output = kNoTensor;
  OpAttrs attrs;
  OpMeta meta;

  template <typename T>
  const T& attr() const {
    return std::get<T>(attrs);
  }
};

class Graph {
 public:
  std::string name;

  TensorId add_input(const std::string& name, const Shape& shape, DType dtype);

  // Adds an op, infers its output shape (dtype: that of the first input) and returns the output
  // tensor. Throws InputError naming the op when the shapes or attributes are inconsistent.
  TensorId add_op(OpKind kind, const std::string& name, const std::vector<TensorId>& inputs,
                  OpAttrs attrs = {}, OpMeta meta = {});

  void mark_output(TensorId t);

  const std::vector<Tensor>& tensors() const { return m_tensors; }
  const std::vector<Op>& ops() const { return m_ops; }
  const std::vector<TensorId>& inputs() const { return m_inputs; }
  const std::vector<TensorId>& outputs() const { return m_outputs; }
  const Tensor& tensor(TensorId t) const { return m_tensors.at(static_cast<size_t>(t)); }
  const Op& op(int i) const { return m_ops.at(static_cast<size_t>(i)); }
  const Shape& shape(TensorId t) const { return tensor(t).shape; }

  // Renames a tensor (importers keep the file's names).
  void rename_tensor(TensorId t, const std::string& name);
  // Changes the data type of every tensor (e.g. an ONNX float32 graph deployed as int8).
  void set_all_dtypes(DType t);

 private:
  Shape infer_shape(OpKind kind, const std::string& name, const std::vector<TensorId>& inputs,
                    OpAttrs& attrs) const;

  std::vector<Tensor> m_tensors;
  std::vector<Op> m_ops;
  std::vector<TensorId> m_inputs;
  std::vector<TensorId> m_outputs;
};

}  // namespace nax::ir
