// NAS-Bench-201 blocks (Dong & Yang, ICLR 2020), as the benchmark's reference code builds them
// (D-X-Y/AutoDL-Projects, xautodl/models/cell_infers/cells.py `InferCell` and
// cell_operations.py `ResNetBasicblock`, `ReLUConvBN`, `POOLING`):
// - `nb201_cell`: the 4-node searchable cell. Every edge applies its own operation to its source
//   node: nor_conv_KxK = ReLU, KxK conv (no bias), batch norm; avg_pool_3x3 = 3x3 average pool,
//   stride 1, padding 1, count_include_pad=False; skip_connect = the source itself; none = nothing.
//   A node is the sum of its edges; a node whose edges are all "none" is zeros shaped like the
//   cell input (OpKind::kZeros). The cell keeps its input's width and resolution and outputs node
//   3. Like the reference, every edge is computed even when its node does not reach the output.
// - `nb201_resblock`: the residual block between stages: ReLU-conv3x3(stride)-BN, ReLU-conv3x3-BN,
//   plus a shortcut that is a 2x2 average pool (stride 2) and a 1x1 conv (no BN) when the stride
//   is 2, a ReLU-conv1x1-BN when only the width changes, and the input otherwise. No activation
//   after the sum.
#include "models/spec/blocks/nb201.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "models/spec/block_params.hpp"

namespace nax::spec {

const std::vector<std::string>& nb201_op_names() {
  static const std::vector<std::string> k = {"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3",
                                             "avg_pool_3x3"};
  return k;
}

std::string Nb201Cell::str() const {
  std::string s;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (i) s += "+";
    s += "|";
    for (const auto& e : nodes[i]) s += fmt::format("{}~{}|", e.op, e.from);
  }
  return s;
}

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    const size_t next = s.find(sep, pos);
    out.push_back(s.substr(pos, next == std::string::npos ? std::string::npos : next - pos));
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  return out;
}

[[noreturn]] void bad_cell(const std::string& text, const std::string& what) {
  throw InputError(fmt::format(
      "NAS-Bench-201 cell '{}': {} (expected 3 nodes separated by '+', node i listing i edges "
      "'|op~j|' from nodes j = 0..i-1, e.g. "
      "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_"
      "connect~2|)",
      text, what));
}

}  // namespace

Nb201Cell parse_nb201_cell(const std::string& text) {
  Nb201Cell cell;
  const std::vector<std::string> groups = split(text, '+');
  if (groups.size() != 3) {
    bad_cell(text, fmt::format("found {} node(s), the cell has 3", groups.size()));
  }
  for (size_t n = 0; n < groups.size(); ++n) {
    const int node = static_cast<int>(n) + 1;
    std::string g = groups[n];
    if (g.size() < 2 || g.front() != '|' || g.back() != '|') {
      bad_cell(text, fmt::format("node {} '{}' must start and end with '|'", node, g));
    }
    g = g.substr(1, g.size() - 2);
    std::vector<Nb201Edge> edges;
    std::set<int> seen;
    for (const std::string& tok : split(g, '|')) {
      const size_t tilde = tok.find('~');
      if (tok.empty() || tilde == std::string::npos || tilde == 0 || tilde + 1 == tok.size()) {
        bad_cell(text, fmt::format("node {}: edge '{}' is not of the form op~j", node, tok));
      }
      Nb201Edge e;
      e.op = tok.substr(0, tilde);
      const std::string from = tok.substr(tilde + 1);
      const auto& ops = nb201_op_names();
      if (std::find(ops.begin(), ops.end(), e.op) == ops.end()) {
        std::string msg = fmt::format("node {}: unknown operation '{}'", node, e.op);
        const std::string hint = did_you_mean(e.op, ops);
        msg += hint.empty() ? "; expected one of none, skip_connect, nor_conv_1x1, nor_conv_3x3, "
                              "avg_pool_3x3"
                            : "; did you mean " + hint + "?";
        bad_cell(text, msg);
      }
      if (from.size() != 1 || from[0] < '0' || from[0] > '9') {
        bad_cell(text, fmt::format("node {}: edge '{}' has source '{}', expected a node number",
                                   node, tok, from));
      }
      e.from = from[0] - '0';
      if (e.from >= node) {
        bad_cell(text, fmt::format("node {}: edge '{}' comes from node {}; node {} can only take "
                                   "nodes 0..{}",
                                   node, tok, e.from, node, node - 1));
      }
      if (!seen.insert(e.from).second) {
        bad_cell(text, fmt::format("node {}: two edges come from node {}", node, e.from));
      }
      edges.push_back(e);
    }
    if (static_cast<int>(edges.size()) != node) {
      bad_cell(text, fmt::format("node {} has {} edge(s), expected {}", node, edges.size(), node));
    }
    std::sort(edges.begin(), edges.end(),
              [](const Nb201Edge& a, const Nb201Edge& b) { return a.from < b.from; });
    cell.nodes.push_back(std::move(edges));
  }
  return cell;
}

namespace {

ir::ConvAttrs bn_conv(int out, int kernel, int stride = 1) {
  ir::ConvAttrs c = ir::ConvAttrs::make(out, kernel, stride);
  c.bn = true;
  return c;
}

// ReLU, conv, batch norm (NB201's ReLUConvBN).
ir::TensorId relu_conv_bn(const BlockArgs& a, BuildContext& ctx, ir::TensorId x, int out,
                          int kernel, int stride, const std::string& role) {
  const ir::TensorId r = ctx.act(a, x, "relu", role + ".relu");
  return ctx.conv(a, r, bn_conv(out, kernel, stride), role);
}

BlockType cell_type() {
  BlockType t;
  t.name = "nb201_cell";
  t.description =
      "NAS-Bench-201 cell: 4 nodes, each the sum of an operation (none, skip_connect, "
      "nor_conv_1x1, nor_conv_3x3, avg_pool_3x3) on every earlier node; keeps width and size";
  t.params = {ParamDecl::string("arch", std::nullopt,
                                "cell string, e.g. |nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
                                "+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")};
  t.build = [](const BlockArgs& a, BuildContext& ctx) {
    Nb201Cell cell;
    try {
      cell = parse_nb201_cell(a.s("arch"));
    } catch (const InputError& e) {
      a.fail("arch", e.what());
    }
    const ir::TensorId x = ctx.input(a);
    const int c = static_cast<int>(ctx.graph().shape(x)[1]);
    std::vector<ir::TensorId> nodes = {x};
    for (size_t n = 0; n < cell.nodes.size(); ++n) {
      const std::string node = fmt::format("n{}", n + 1);
      std::vector<ir::TensorId> terms;
      for (const Nb201Edge& e : cell.nodes[n]) {
        const ir::TensorId src = nodes[static_cast<size_t>(e.from)];
        const std::string role = fmt::format("{}.e{}", node, e.from);
        if (e.op == "none") continue;
        if (e.op == "skip_connect") {
          terms.push_back(src);
        } else if (e.op == "nor_conv_1x1") {
          terms.push_back(relu_conv_bn(a, ctx, src, c, 1, 1, role + ".conv1x1"));
        } else if (e.op == "nor_conv_3x3") {
          terms.push_back(relu_conv_bn(a, ctx, src, c, 3, 1, role + ".conv3x3"));
        } else {  // avg_pool_3x3
          ir::PoolAttrs p;
          p.kernel_h = p.kernel_w = 3;
          p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
          p.count_include_pad = false;
          terms.push_back(ctx.op(a, ir::OpKind::kAvgPool, {src}, role + ".avgpool", p));
        }
      }
      ir::TensorId y;
      if (terms.empty()) {
        y = ctx.op(a, ir::OpKind::kZeros, {x}, node + ".zeros");
      } else {
        y = terms[0];
        for (size_t i = 1; i < terms.size(); ++i) {
          y = ctx.op(a, ir::OpKind::kAdd, {y, terms[i]},
                     i == 1 ? node + ".add" : fmt::format("{}.add{}", node, i));
        }
      }
      nodes.push_back(y);
    }
    return nodes.back();
  };
  return t;
}

BlockType resblock_type() {
  BlockType t;
  t.name = "nb201_resblock";
  t.description =
      "NAS-Bench-201 residual block: ReLU-conv3x3-BN twice; shortcut 2x2 avg pool + 1x1 conv "
      "when strided, ReLU-conv1x1-BN when only the width changes";
  t.params = {bp::out(), ParamDecl::integer("stride", "px", 2, 1, 2, "stride of the first conv")};
  t.build = [](const BlockArgs& a, BuildContext& ctx) {
    const ir::TensorId x = ctx.input(a);
    const int in = static_cast<int>(ctx.graph().shape(x)[1]);
    const int out = a.in("out"), s = a.in("stride");
    ir::TensorId y = relu_conv_bn(a, ctx, x, out, 3, s, "conv_a");
    y = relu_conv_bn(a, ctx, y, out, 3, 1, "conv_b");
    ir::TensorId shortcut = x;
    if (s == 2) {
      ir::PoolAttrs p;
      p.kernel_h = p.kernel_w = 2;
      p.stride_h = p.stride_w = 2;
      shortcut = ctx.op(a, ir::OpKind::kAvgPool, {x}, "downsample.pool", p);
      shortcut = ctx.conv(a, shortcut, ir::ConvAttrs::make(out, 1), "downsample");
    } else if (in != out) {
      shortcut = relu_conv_bn(a, ctx, x, out, 1, 1, "downsample");
    }
    return ctx.op(a, ir::OpKind::kAdd, {shortcut, y}, "add");
  };
  return t;
}

NAX_REGISTER_BLOCK(cell_type());
NAX_REGISTER_BLOCK(resblock_type());

}  // namespace
}  // namespace nax::spec
