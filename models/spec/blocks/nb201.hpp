// NAS-Bench-201 cell strings (Dong & Yang, ICLR 2020), shared by the `nb201_cell` block and the
// `nb201` zoo builder so both report the same errors.
//
// A cell is a DAG of 4 nodes; node i (1..3) sums one operation applied to each earlier node j.
// The string lists the edges node by node, nodes separated by '+', each edge "op~j":
//   |nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|
#pragma once

#include <string>
#include <vector>

namespace nax::spec {

struct Nb201Edge {
  std::string op;  // one of nb201_op_names()
  int from = 0;    // source node, 0 = cell input
};

// nodes[i] holds the edges into node i + 1, ordered by source node.
struct Nb201Cell {
  std::vector<std::vector<Nb201Edge>> nodes;
  std::string str() const;  // canonical string
};

// "none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3".
const std::vector<std::string>& nb201_op_names();

// Parses a cell string. Throws InputError whose message says what is wrong (an unknown operation
// with a did-you-mean, a node with the wrong number of edges, a bad or repeated source node).
Nb201Cell parse_nb201_cell(const std::string& text);

}  // namespace nax::spec
