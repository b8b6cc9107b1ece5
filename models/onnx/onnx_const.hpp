// Internal to the ONNX importer: constant tensors, attribute access, and the small evaluator that
// folds the constant subgraphs exporters emit (shape arithmetic such as Shape -> Slice -> Concat
// feeding a Resize, a Reshape or a Pad; Constant/ConstantOfShape; casts). ONNX's own shape
// inference leaves those sizes unknown, so the importer computes them itself.
//
// Values are kept as int64 (integer and bool tensors) or double (floating-point tensors); these
// tensors are small, so the evaluator favours obviously correct loops over speed. Weights are
// ConstTensors too, but their data is only decoded when an op needs the values (never for Conv or
// Gemm weights), and shape-only files declare them without any data at all.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/ir/graph.hpp"

namespace onnx {
class AttributeProto;
class NodeProto;
class TensorProto;
}  // namespace onnx

namespace nax::onnx::detail {

// A problem with one node; the importer adds the node's name and op type to the message.
class NodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Largest constant the evaluator materialises (elements).
constexpr int64_t kMaxConstElements = int64_t{1} << 22;

struct ConstTensor {
  bool is_float = false;  // floating-point elements (in `floats`); else integer or bool (`ints`)
  int32_t onnx_type = 0;  // TensorProto::DataType of the source
  ir::Shape dims;
  bool has_data = false;    // values are present (`ints`/`floats` hold numel() elements)
  std::string no_data_why;  // when !has_data: why ("declared without data", ...)
  const ::onnx::TensorProto* source = nullptr;  // undecoded initializer, decoded on demand
  std::vector<int64_t> ints;
  std::vector<double> floats;

  int64_t numel() const;  // saturates instead of overflowing
  size_t size() const { return is_float ? floats.size() : ints.size(); }
  double f(size_t i) const { return is_float ? floats[i] : static_cast<double>(ints[i]); }
  int64_t i(size_t i) const;  // floats are truncated toward zero (and clamped to int64)

  static ConstTensor of_ints(const ir::Shape& dims, std::vector<int64_t> v);
  static ConstTensor of_floats(const ir::Shape& dims, std::vector<double> v);
};

// Dims of a TensorProto (throws NodeError on a negative dim).
ir::Shape tensor_dims(const ::onnx::TensorProto& t);

// Decodes a TensorProto. With `decode` false, or when the proto stores no data, the result has
// only dims (has_data false). Throws NodeError for element types it cannot hold (string, complex)
// or data that does not match the dims.
ConstTensor decode_tensor(const ::onnx::TensorProto& t, bool decode = true);

// True for ONNX element types stored as floating point.
bool is_float_type(int32_t onnx_type);

// Attribute access (defaults when absent; NodeError when present with the wrong type).
const ::onnx::AttributeProto* find_attr(const ::onnx::NodeProto& n, const std::string& name);
int64_t attr_int(const ::onnx::NodeProto& n, const std::string& name, int64_t def);
float attr_float(const ::onnx::NodeProto& n, const std::string& name, float def);
std::string attr_string(const ::onnx::NodeProto& n, const std::string& name,
                        const std::string& def);
std::vector<int64_t> attr_ints(const ::onnx::NodeProto& n, const std::string& name,
                               const std::vector<int64_t>& def = {});

// Op types the evaluator folds when every input is a constant with data.
bool is_const_op(const std::string& op_type);

// Evaluates `n` on constant inputs (nullptr for absent optional inputs; all others have data).
// Returns one tensor per output. Throws NodeError.
std::vector<ConstTensor> eval_const(const ::onnx::NodeProto& n,
                                    const std::vector<const ConstTensor*>& in, int opset);

// Layout ops (Identity, Cast, Transpose, Reshape, Flatten, Squeeze, Unsqueeze) also propagate a
// constant without data (a weight in a shape-only file, or one too large to fold): their output
// dims follow from the input's dims and the other (stored) inputs. Throws NodeError.
bool is_layout_op(const std::string& op_type);
ConstTensor layout_without_data(const ::onnx::NodeProto& n,
                                const std::vector<const ConstTensor*>& in);

// Output shapes of Squeeze (empty axes: every 1) and Unsqueeze. Throw NodeError.
ir::Shape squeeze_shape(const ir::Shape& in, std::vector<int64_t> axes);
ir::Shape unsqueeze_shape(const ir::Shape& in, std::vector<int64_t> axes);

// "[1, 2, 3]" for messages.
std::string ints_str(const std::vector<int64_t>& v);

}  // namespace nax::onnx::detail
