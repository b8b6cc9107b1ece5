// Residual links of a block-level graph, and the graph without them (torch-free).
//
// Zen-score (Lin et al., ICCV 2021, Algorithm 1) is defined on the network with every residual
// link removed: a block y = F(x) + shortcut(x) becomes y = F(x), and its shortcut (identity or
// projection) disappears. nax finds the links through the block metadata its builders record
// (ir::OpMeta): a two-input Add with role "add" (the residual sum of the mbconv, resnet and
// nb201_resblock blocks) one of whose inputs comes from outside the block (the identity
// shortcut) or from the block's "downsample" ops (a projection shortcut). Sums that are the
// topology itself (a NAS-Bench-201 cell's node sums, roles "nK.add...") are not residual links.
// ONNX imports carry no block metadata: nothing is found there.
#pragma once

#include <vector>

#include "models/ir/graph.hpp"

namespace nax::accuracy {

struct ResidualLink {
  int add_op = -1;                    // index of the Add
  ir::TensorId main = ir::kNoTensor;  // the block's own branch, F(x)
  ir::TensorId shortcut = ir::kNoTensor;
};

std::vector<ResidualLink> find_residual_links(const ir::Graph& g);

// `g` with every residual link removed: each residual Add's output is replaced by its main
// branch, and the ops that no output depends on any more (the projection shortcuts) are left
// out. Ops keep their names, attributes and metadata; `removed` (if given) receives the count.
ir::Graph without_residual_links(const ir::Graph& g, int* removed = nullptr);

}  // namespace nax::accuracy
