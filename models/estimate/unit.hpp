// Subgraph decomposition: a network as the units the latency estimator predicts.
//
// Rules (they follow the lowering's own grouping, hw/lower/lower.cpp, so that a unit is a set of
// whole lowered layers and the sum of the units' cycles is the network's):
// 1. Layers: a compute op (conv, FC, pooling, element-wise, resize, softmax, ...) with, when the
//    chip fuses activations (mac_array.fused_activations), the chain of batch norms and
//    activations that follows a conv or FC (each the only consumer of its input and not a graph
//    output). Views (reshape, flatten, zeros) join their producer's unit.
// 2. Units: the blocks of a block-level model whose type is ibn, fused_ibn, basic or bottleneck
//    are one unit each (all the block's ops: expand, depthwise, squeeze-excite, project,
//    residual add); in ONNX graphs the inverted-bottleneck pattern (1x1 conv -> depthwise ->
//    [squeeze-excite] -> 1x1 conv without activation [-> add of the chain's input]) becomes an
//    ibn unit too. Every other layer is a unit of its own, typed by its compute op.
// 3. A unit's hash is the content hash of its subgraph (names ignored); the trace store keys rows
//    by (chip hash, unit hash, context), where the context says whether the unit's input was
//    resident in SRAM and whether its output stayed there, as the lowering decided.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/ir/graph.hpp"

namespace nax::est {

enum class UnitType {
  kConv,        // dense or grouped conv (+ activation)
  kDwConv,      // depthwise conv (+ activation)
  kFc,          // fully connected (+ activation)
  kIbn,         // inverted bottleneck block
  kFusedIbn,    // fused inverted bottleneck block
  kBasic,       // ResNet basic block
  kBottleneck,  // ResNet bottleneck block
  kPool,        // max / average pooling
  kGlobalPool,
  kEltwise,     // add, sub, mul, div (incl. broadcast)
  kActivation,  // standalone activation or batch norm
  kResize,
  kConcat,
  kSoftmax,
  kOther,  // transpose, pad, views
};
const char* unit_type_name(UnitType t);  // "conv", "dwconv", "ibn", ...
bool parse_unit_type(const std::string& s, UnitType& out);
constexpr int kNumUnitTypes = 15;

// One layer of a unit: its compute op and what it computes (the raw shape description).
struct LayerRec {
  int op = -1;  // index of the compute op in the graph
  ir::OpKind kind = ir::OpKind::kConv2d;
  bool depthwise = false;
  int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation = 1, groups = 1;
  ir::Shape in;   // first input's shape
  ir::Shape out;  // output shape
  int64_t macs = 0;
  int64_t params = 0;
  int64_t vector_ops = 0;
  std::string role;  // the op's role in its block ("expand", "dw", "project", "se.reduce", ...)
};

struct Unit {
  UnitType type = UnitType::kOther;
  std::string name;              // block name, or the compute op's name
  std::vector<int> ops;          // graph op indices, ascending
  std::vector<LayerRec> layers;  // compute layers in graph order
  ir::Shape in_shape;            // the unit's main input (first external input)
  ir::Shape out_shape;           // its (last) output
  int64_t macs = 0;
  int64_t params = 0;
  int64_t vector_ops = 0;
  // Block-level summary (ibn, fused_ibn, basic, bottleneck; else 0): input, expanded and output
  // channels, kernel, stride, squeeze-excite channels, residual.
  int64_t cin = 0, hidden = 0, cout = 0;
  int kernel = 0, stride = 1;
  int64_t se_channels = 0;
  bool residual = false;
  std::string hash;  // content hash of the unit's subgraph
};

struct DecomposeOptions {
  bool fuse_activations = true;  // the chip's mac_array.fused_activations
};

std::vector<Unit> decompose(const ir::Graph& g, const DecomposeOptions& opt = {});

// The pieces of the rules above that the lean estimator path (fast_units.hpp) shares.
bool is_view(ir::OpKind k);                                 // reshape, flatten, zeros
bool is_depthwise(const ir::Graph& g, const ir::Op& op);    // groups == input channels > 1
bool is_output(const ir::Graph& g, ir::TensorId t);         // a graph output
UnitType layer_type(const ir::Graph& g, const ir::Op& op);  // a lone layer's unit type

}  // namespace nax::est
