// Analyses of a Graph: MACs, parameters, activation memory under an execution order (tensor
// liveness) per layer and in total, and a stable content hash.
//
// Conventions (those of torchvision's published numbers):
// - MACs count multiply-accumulates of Conv2d and FullyConnected only; other ops do vector work,
//   counted separately as vector_ops (one per output element, or per window element for pooling).
// - Parameters: conv/FC weights, biases, and 2 per channel for a batch norm (folded or standalone),
//   as PyTorch counts them (running statistics are buffers, not parameters).
// - Activation memory: a tensor is live from the step that produces it to its last consumer (graph
//   inputs from the start, graph outputs to the end). Reshape/Flatten are views of their input, and
//   a unary element-wise op (activation, batch norm) runs in place when its input has no other
//   consumer, as inference runtimes do.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/ir/graph.hpp"

namespace nax::ir {

// Bytes per element; 0 means use each tensor's own data type.
struct ElementBytes {
  int activation = 0;
  int weight = 1;
};

struct LayerStats {
  int op = -1;  // index into Graph::ops()
  int64_t macs = 0;
  int64_t vector_ops = 0;
  int64_t params = 0;
  int64_t weight_bytes = 0;
  int64_t input_bytes = 0;   // activation inputs read
  int64_t output_bytes = 0;  // activation output written
  int64_t live_bytes = 0;    // all live activation memory while this op runs
};

struct GraphStats {
  int64_t macs = 0;
  int64_t vector_ops = 0;
  int64_t params = 0;
  int64_t weight_bytes = 0;
  int64_t peak_activation_bytes = 0;
  int peak_step = -1;              // position in the order where the peak occurs
  std::vector<LayerStats> layers;  // in execution order
};

int64_t op_macs(const Graph& g, const Op& op);
int64_t op_vector_ops(const Graph& g, const Op& op);
int64_t op_params(const Graph& g, const Op& op);

// Analyses the graph under `order` (op indices; empty = the order ops were added). Throws
// InputError if `order` is not a topological order of all ops.
GraphStats analyze(const Graph& g, const std::vector<int>& order = {}, ElementBytes eb = {});

// Short attribute text for tables and hashing, e.g. "k3x3 s2 p1 g32 bn".
std::string attrs_str(const Op& op);

// Stable content hash of the structure (op kinds, attributes, shapes, types, connectivity);
// names and block metadata do not enter it.
std::string graph_hash(const Graph& g);

}  // namespace nax::ir
