// ONNX export (opset 13) of a nax graph, the inverse of onnx_import.hpp: every OpKind becomes the
// node pattern real exporters produce and the importer reads back to the same op.
//
// Mapping (OpKind -> ONNX):
//   Conv2d            Conv (W [out, in/groups, kh, kw], bias B when the conv has a bias or a batch
//                     norm folded into it); with ExportOptions::fold_bn false a batch-normed conv
//                     is Conv + BatchNormalization instead
//   FullyConnected    Gemm (transB = 1) on 2-D inputs, else MatMul (+ Add of the bias)
//   MaxPool/AvgPool   MaxPool / AveragePool;  GlobalAvgPool/GlobalMaxPool: the global ops
//   Add/Sub/Mul/Div   the binary op; a constant operand (ConstOperandAttrs) is an initializer
//   Concat, Softmax, Flatten, Transpose, LeakyRelu, HardSigmoid, Sigmoid, Tanh, Relu: same name
//   Relu6 / Clip      Clip with min/max inputs (an infinite bound is left out)
//   HardSwish         HardSigmoid(alpha 1/6, beta 1/2) + Mul (HardSwish is opset 14)
//   Silu              Sigmoid + Mul
//   BatchNorm         BatchNormalization (epsilon 1e-5)
//   Resize            Resize with a `sizes` input (roi and scales empty)
//   Reshape           Reshape to the resolved output shape;  Pad: Pad with a `pads` input
//   Zeros             Mul by a scalar 0 (what PyTorch exports for NAS-Bench-201's "none")
//
// Values: activations are float32 whatever the graph's data type (which is a deployment width;
// it is recorded in the metadata as `nax.dtype`, with `nax.graph_hash`). Weights hold seeded
// random values as PyTorch initialises a fresh network: conv/linear weights and biases uniform in
// +-1/sqrt(fan_in), batch norms scale 1, shift 0, mean 0, variance 1 (so a folded bias is the
// conv's own random bias or 0). The same graph and seed give the same bytes on every machine
// (SplitMix64, no std distributions). With shape_only, weights in the slots the importer
// recognises (Conv W/B, Gemm B/C, MatMul B, BatchNormalization parameters) are graph inputs
// without data instead (tests/fixtures/onnx style); small constants (Clip bounds, shapes, pads,
// sizes, constant operands, a MatMul bias) keep their data.
//
// Every intermediate tensor gets a value_info with its shape, so a reader (nax's importer, ONNX
// shape inference) can check it. Names: nodes and tensors keep the graph's names, made unique
// and non-empty; weights are "<op>.weight", "<op>.bias", ...
//
// Round trip through import_onnx_bytes: same ops (kinds, attributes, shapes), MACs and output
// shapes. Parameters differ only where batch norm is folded: a folded conv counts out_channels
// (its bias) where the graph counted 2 x out_channels (plus its own bias, if any): the
// importer's documented convention for exports. With fold_bn false they match exactly. Graphs
// that already hold a pattern the importer fuses come back fused: a conv whose only consumer is
// a standalone BatchNorm, Relu then Clip(<=0, 6), a bias-free FullyConnected then Add of a
// constant bias, Sigmoid(x) or HardSigmoid(x; 1/6, 1/2) multiplied by x (tested on every zoo
// network and on a graph with every OpKind: tests/unit/onnx/onnx_export_test.cpp).
#pragma once

#include <cstdint>
#include <string>

#include "models/ir/graph.hpp"

namespace nax::onnx {

struct ExportOptions {
  bool shape_only = false;  // weights as graph inputs without data
  bool fold_bn = true;      // Conv + folded batch norm as one Conv with bias
  uint64_t seed = 0;        // the random weights' seed
};

constexpr int kExportOpset = 13;

// The serialized onnx.ModelProto. Throws InputError for a graph without ops and Error when the
// model would exceed protobuf's 2 GiB (use shape_only for such networks).
std::string export_onnx_bytes(const ir::Graph& g, const ExportOptions& opts = {});

// Writes the model to `path` (Error when the file cannot be written).
void export_onnx_file(const ir::Graph& g, const std::string& path, const ExportOptions& opts = {});

}  // namespace nax::onnx
