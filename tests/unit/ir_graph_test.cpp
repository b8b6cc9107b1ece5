// Graph IR: shape inference, its errors, MACs/params, liveness and the content hash.
#include <catch2/catch.hpp>

#include "models/ir/analysis.hpp"
#include "models/ir/graph.hpp"

using namespace nax;
using namespace nax::ir;

TEST_CASE("conv shape inference covers stride, padding, dilation and groups", "[ir]") {
  Graph g;
  const TensorId x = g.add_input("x", {1, 32, 112, 112}, DType::kInt8);
  const TensorId dw = g.add_op(OpKind::kConv2d, "dw", {x}, ConvAttrs::make(32, 3, 2, 32));
  CHECK(g.shape(dw) == Shape{1, 32, 56, 56});
  const TensorId dil = g.add_op(OpKind::kConv2d, "dil", {dw}, ConvAttrs::make(64, 3, 1, 1, 2));
  CHECK(g.shape(dil) == Shape{1, 64, 56, 56});
  ConvAttrs valid = ConvAttrs::make(8, 7, 1);
  valid.pad_top = valid.pad_left = valid.pad_bottom = valid.pad_right = 0;
  CHECK(g.shape(g.add_op(OpKind::kConv2d, "valid", {dil}, valid)) == Shape{1, 8, 50, 50});
}

TEST_CASE("inconsistent shapes are errors that name the op", "[ir]") {
  Graph g;
  const TensorId x = g.add_input("x", {1, 30, 8, 8}, DType::kInt8);
  CHECK_THROWS_WITH(g.add_op(OpKind::kConv2d, "bad_groups", {x}, ConvAttrs::make(32, 3, 1, 4)),
                    "Conv2d 'bad_groups': groups = 4 must divide input channels (30) and output "
                    "channels (32)");
  ConvAttrs big = ConvAttrs::make(8, 11);
  big.pad_top = big.pad_left = big.pad_bottom = big.pad_right = 0;
  CHECK_THROWS_WITH(g.add_op(OpKind::kConv2d, "too_big", {x}, big),
                    "Conv2d 'too_big': 11x11 kernel does not fit the 8x8 input");
  const TensorId y = g.add_input("y", {1, 31, 8, 8}, DType::kInt8);
  CHECK_THROWS_WITH(g.add_op(OpKind::kAdd, "add", {x, y}),
                    "Add 'add': shapes 1x30x8x8 and 1x31x8x8 do not broadcast");
  CHECK_THROWS_WITH(g.add_op(OpKind::kConcat, "cat",
                             {x, g.add_input("z", {1, 4, 4, 4}, DType::kInt8)}, AxisAttrs{1}),
                    "Concat 'cat': input 1 has shape 1x4x4x4, which does not match 1x30x8x8 "
                    "outside axis 1");
  CHECK_THROWS_WITH(g.add_op(OpKind::kReshape, "rs", {x}, ReshapeAttrs{{1, 7, -1}}),
                    "Reshape 'rs': cannot reshape 1x30x8x8 to 1x7x-1");
}

TEST_CASE("MACs and params follow the torchvision conventions", "[ir]") {
  Graph g;
  const TensorId x = g.add_input("x", {1, 16, 10, 10}, DType::kInt8);
  ConvAttrs c = ConvAttrs::make(32, 3);
  c.bn = true;
  const TensorId y = g.add_op(OpKind::kConv2d, "c", {x}, c);
  // 32 x 10 x 10 outputs, each 16 x 3 x 3 MACs; weights 32*16*9 + BN 2*32.
  CHECK(op_macs(g, g.op(0)) == 32 * 100 * 16 * 9);
  CHECK(op_params(g, g.op(0)) == 32 * 16 * 9 + 64);
  ConvAttrs dw = ConvAttrs::make(32, 3, 1, 32);
  dw.bias = true;
  g.add_op(OpKind::kConv2d, "dw", {y}, dw);
  CHECK(op_macs(g, g.op(1)) == 32 * 100 * 9);
  CHECK(op_params(g, g.op(1)) == 32 * 9 + 32);
  const TensorId p = g.add_op(OpKind::kGlobalAvgPool, "gap", {g.op(1).output});
  const TensorId f = g.add_op(OpKind::kFlatten, "flat", {p}, AxisAttrs{1});
  g.add_op(OpKind::kFullyConnected, "fc", {f}, FcAttrs{10, true});
  CHECK(op_macs(g, g.op(4)) == 320);
  CHECK(op_params(g, g.op(4)) == 330);
  CHECK(op_macs(g, g.op(2)) == 0);
  CHECK(op_vector_ops(g, g.op(2)) == 3200);
}

TEST_CASE("peak activation memory follows liveness and in-place activations", "[ir]") {
  // x(100) -> conv a(200) -> relu (in place) -> conv b(50); x also feeds conv c(100); add(b', c)?
  Graph g;
  const TensorId x = g.add_input("x", {1, 1, 10, 10}, DType::kInt8);  // 100 B
  ConvAttrs a2 = ConvAttrs::make(2, 1);
  const TensorId a = g.add_op(OpKind::kConv2d, "a", {x}, a2);                     // 200 B
  const TensorId r = g.add_op(OpKind::kRelu, "r", {a});                           // in place on a
  const TensorId b = g.add_op(OpKind::kConv2d, "b", {r}, ConvAttrs::make(1, 1));  // 100 B
  const TensorId s = g.add_op(OpKind::kAdd, "s", {x, b});                         // 100 B
  g.mark_output(s);
  const GraphStats st = analyze(g);
  REQUIRE(st.layers.size() == 4);
  CHECK(st.layers[0].live_bytes == 300);  // x + a
  CHECK(st.layers[1].live_bytes == 300);  // relu runs in place on a
  CHECK(st.layers[2].live_bytes == 400);  // x + a/r + b
  CHECK(st.layers[3].live_bytes == 300);  // x + b + s
  CHECK(st.peak_activation_bytes == 400);
  CHECK(st.peak_step == 2);
  // Counting with 4-byte activations scales everything.
  CHECK(analyze(g, {}, ElementBytes{4, 1}).peak_activation_bytes == 1600);
}

TEST_CASE("an execution order that breaks a dependency is refused", "[ir]") {
  Graph g;
  const TensorId x = g.add_input("x", {1, 4, 4, 4}, DType::kInt8);
  const TensorId a = g.add_op(OpKind::kRelu, "a", {x});
  g.add_op(OpKind::kRelu, "b", {a});
  CHECK_THROWS_WITH(analyze(g, {1, 0}), "execution order runs 'b' before its input 'a'");
  CHECK_THROWS_WITH(analyze(g, {0}), "execution order lists 1 ops; the graph has 2");
}

TEST_CASE("the content hash ignores names but sees structure", "[ir]") {
  auto build = [](const std::string& prefix, int channels) {
    Graph g;
    const TensorId x = g.add_input(prefix + "x", {1, 8, 16, 16}, DType::kInt8);
    const TensorId y =
        g.add_op(OpKind::kConv2d, prefix + "conv", {x}, ConvAttrs::make(channels, 3));
    g.mark_output(g.add_op(OpKind::kRelu6, prefix + "act", {y}));
    return graph_hash(g);
  };
  CHECK(build("a.", 16) == build("b.", 16));
  CHECK(build("a.", 16) != build("a.", 17));
  CHECK(build("a.", 16).size() == 16);
}

#include "models/ir/subgraph.hpp"

TEST_CASE("a set of ops becomes a graph of its own", "[ir]") {
  Graph g;
  const TensorId x = g.add_input("x", {1, 8, 16, 16}, DType::kInt8);
  const TensorId a =
      g.add_op(OpKind::kConv2d, "a", {x}, ConvAttrs::make(16, 1), {"b0", "ibn", "expand"});
  const TensorId r = g.add_op(OpKind::kRelu6, "r", {a}, {}, {"b0", "ibn", "expand.act"});
  const TensorId d =
      g.add_op(OpKind::kConv2d, "d", {r}, ConvAttrs::make(16, 3, 1, 16), {"b0", "ibn", "dw"});
  const TensorId s = g.add_op(OpKind::kAdd, "s", {d, r});
  g.mark_output(s);
  const Graph sub = extract_subgraph(g, {2, 1});
  REQUIRE(sub.ops().size() == 2);
  REQUIRE(sub.inputs().size() == 1);
  CHECK(sub.shape(sub.inputs()[0]) == Shape{1, 16, 16, 16});
  // r is used by the add outside the set, d by the add too: both are outputs.
  CHECK(sub.outputs().size() == 2);
  CHECK(sub.op(0).name == "r");
  CHECK(ops_of_block(g, "b0") == std::vector<int>{0, 1, 2});
  CHECK(extract_subgraph(g, {0, 1, 2, 3}).ops().size() == 4);
  CHECK(graph_hash(extract_subgraph(g, {0, 1, 2, 3})) == graph_hash(g));
}
