// ONNX import (opsets 11-17) through Debian's libonnx/protobuf, into the nax graph IR.
//
// Accepts ordinary files (weights as initializers) and shape-only files (weights declared as graph
// inputs without data, recognised by the op slots they feed). Folds the patterns real exporters
// produce: Identity, Clip as ReLU6, HardSigmoid+Mul as hard-swish, Sigmoid+Mul as SiLU,
// ReduceMean over H,W as global pooling, BatchNorm after Conv folded into it (else kept as a
// BatchNorm op), Resize sized by constant Shape/Slice/Concat subgraphs. An unsupported op is an
// InputError naming the op type, the node and the opset; nothing is skipped silently.
#pragma once

#include <string>

#include "models/ir/graph.hpp"

namespace nax::onnx {

// Reads and imports a .onnx file. The graph's name is the ONNX graph name, or the file stem.
ir::Graph import_onnx_file(const std::string& path);

// Imports a serialized ModelProto; `source` names it in messages.
ir::Graph import_onnx_bytes(const std::string& bytes, const std::string& source);

}  // namespace nax::onnx
