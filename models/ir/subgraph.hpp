// Cutting a graph into pieces: a set of ops becomes a graph of its own, its inputs from outside
// the set graph inputs and its outputs used outside the set (or graph outputs) graph outputs.
// Used to simulate a single layer or block, and by the subgraph decomposition.
#pragma once

#include <vector>

#include "models/ir/graph.hpp"

namespace nax::ir {

// `ops`: indices into g.ops(), any order (they are taken in graph order). Names, attributes and
// block metadata are kept. Throws std::out_of_range on a bad index.
Graph extract_subgraph(const Graph& g, const std::vector<int>& ops);

// The ops of one block (OpMeta::block == name), in graph order; empty if there is none.
std::vector<int> ops_of_block(const Graph& g, const std::string& block);

}  // namespace nax::ir
