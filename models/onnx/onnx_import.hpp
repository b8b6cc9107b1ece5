// ONNX import (opsets 11-17) through Debian's libonnx/protobuf, into the nax graph IR.
//
// Accepts ordinary files (weights as initializers) and shape-only files (weights declared as graph
// inputs without data, recognised by the op slots they feed). Folds the patterns real exporters
// produce: Identity, Clip as ReLU6, HardSigmoid+Mul as hard-swish, Sigmoid+Mul as SiLU,
// ReduceMean over H,W as global pooling, BatchNorm after Conv folded into it (else kept as a
// BatchNorm op), Resize sized by constant Shape/Slice/Concat subgraphs, Mul by a constant of zeros
// as Zeros (NAS-Bench-201's "none"). An unsupported op is an
// InputError naming the op type, the node and the opset; nothing is skipped silently.
//
// Decisions (details in onnx_import.cpp):
// - Opsets outside 11-17 are rejected with an InputError (op semantics change outside the range).
// - A symbolic batch dimension of a graph input becomes 1; other dimensions must be fixed.
// - Parameters are counted as stored: a conv bias is 1 per channel even when it is a batch norm
//   folded at export (the two cannot be told apart); an explicit BatchNormalization counts 2 per
//   channel, folded into its conv (ConvAttrs::bn) or standalone. So exports of networks with
//   batch norm count slightly fewer parameters than PyTorch (mobilenet_v2: -0.49%).
// - The graph is named after the ONNX graph, or the file stem when that name is empty or an
//   exporter default ("torch_jit", "torch-jit-export", "main_graph").
// - Every error is an InputError located at the file (`source`); the input is never trusted
//   (sizes are bounded so corrupt files cannot overflow the analyses).
#pragma once

#include <string>

#include "models/ir/graph.hpp"

namespace nax::onnx {

// Reads and imports a .onnx file. The graph's name is the ONNX graph name, or the file stem.
ir::Graph import_onnx_file(const std::string& path);

// Imports a serialized ModelProto; `source` names it in messages.
ir::Graph import_onnx_bytes(const std::string& bytes, const std::string& source);

}  // namespace nax::onnx
