// Lowering, grouping rules: which ops form a layer and which unit runs it (hw/lower/lower.cpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "lower_test_util.hpp"

using namespace nax;
using namespace nax::hw;
using namespace nax::lower_test;

TEST_CASE("every graph op belongs to exactly one layer", "[lower][grouping]") {
  for (const char* m : {"mobilenet_v2", "person_detector", "lraspp_mobilenet_v3_large", "nb201",
                        "efficientnet_b0"}) {
    INFO(m);
    const ir::Graph& g = zoo(m);
    const Program p = lower(g, load_chip("default"));
    std::vector<int> seen(g.ops().size(), 0);
    for (const auto& L : p.layers) {
      REQUIRE(!L.ops.empty());
      CHECK(L.name == g.op(L.ops[0]).name);
      for (int o : L.ops) ++seen[static_cast<size_t>(o)];
    }
    for (size_t o = 0; o < seen.size(); ++o) {
      INFO(g.op(static_cast<int>(o)).name);
      CHECK(seen[o] == 1);
    }
  }
}

TEST_CASE("activations fold into the MAC array layer only when the chip supports it",
          "[lower][grouping]") {
  const ir::Graph& g = zoo("mobilenet_v2");
  SECTION("fused_activations: true") {
    const Program p = lower(g, load_chip("default"));
    const LayerPlan* stem = find_layer(p, "stem.0.conv");
    REQUIRE(stem);
    CHECK(stem->fused == "Relu6");
    CHECK(stem->ops.size() == 2);
    CHECK(find_layer(p, "stem.0.conv.act") == nullptr);
    // A project conv has no activation to fold.
    CHECK(find_layer(p, "s1.0.project")->fused.empty());
  }
  SECTION("fused_activations: false") {
    const Program p = lower(g, load_chip("default", {"mac_array.fused_activations=false"}));
    const LayerPlan* stem = find_layer(p, "stem.0.conv");
    REQUIRE(stem);
    CHECK(stem->fused.empty());
    CHECK(stem->ops.size() == 1);
    const LayerPlan* act = find_layer(p, "stem.0.conv.act");
    REQUIRE(act);
    CHECK(act->unit == UnitKind::kVector);
    CHECK(act->op == "Relu6");
    const auto cmds = layer_cmds(p, layer_index(p, "stem.0.conv.act"));
    int64_t issues = 0;
    for (const Command* c : cmds) {
      if (c->unit != UnitKind::kVector) continue;
      CHECK(c->vector.work.op == VectorOp::kActivation);
      issues += c->vector.issues;
    }
    // 32 x 112 x 112 elements over 32 lanes.
    CHECK(issues == 32 * 112 * 112 / 32);
  }
}

TEST_CASE("a standalone batch norm folds into its conv too", "[lower][grouping]") {
  ir::Graph g;
  const ir::TensorId x = g.add_input("x", {1, 8, 16, 16}, ir::DType::kInt8);
  ir::TensorId y = g.add_op(ir::OpKind::kConv2d, "conv", {x}, ir::ConvAttrs::make(16, 3));
  y = g.add_op(ir::OpKind::kBatchNorm, "bn", {y});
  y = g.add_op(ir::OpKind::kRelu, "relu", {y});
  g.mark_output(y);
  const Program p = lower(g, load_chip("default"));
  REQUIRE(p.layers.size() == 1);
  CHECK(p.layers[0].fused == "BatchNorm+Relu");
  CHECK(p.layers[0].ops == std::vector<int>{0, 1, 2});
}

TEST_CASE("an activation whose input has other consumers is not folded", "[lower][grouping]") {
  ir::Graph g;
  const ir::TensorId x = g.add_input("x", {1, 8, 16, 16}, ir::DType::kInt8);
  const ir::TensorId c = g.add_op(ir::OpKind::kConv2d, "conv", {x}, ir::ConvAttrs::make(8, 1));
  const ir::TensorId r = g.add_op(ir::OpKind::kRelu, "relu", {c});
  const ir::TensorId s = g.add_op(ir::OpKind::kAdd, "add", {c, r});
  g.mark_output(s);
  const Program p = lower(g, load_chip("default"));
  REQUIRE(p.layers.size() == 3);
  CHECK(p.layers[0].fused.empty());
  CHECK(p.layers[1].name == "relu");
  CHECK(p.layers[1].unit == UnitKind::kVector);
}

TEST_CASE("depthwise convs run where the chip says", "[lower][grouping]") {
  const ir::Graph& g = zoo("mobilenet_v2");
  SECTION("on the MAC array") {
    const Program p = lower(g, load_chip("default"));
    const int li = layer_index(p, "s2.0.dw");
    REQUIRE(li >= 0);
    const LayerPlan& L = p.layers[static_cast<size_t>(li)];
    CHECK(L.op == "DepthwiseConv2d");
    CHECK(L.unit == UnitKind::kMacArray);
    CHECK(L.fused == "Relu6");
    int64_t macs = 0;
    for (const Command* c : layer_cmds(p, li)) {
      CHECK(c->unit != UnitKind::kVector);
      macs += c->array.macs;
    }
    CHECK(macs == L.macs);
    CHECK(macs == 96 * 56 * 56 * 9);
  }
  SECTION("on the vector unit") {
    const Program p = lower(g, load_chip("default", {"depthwise_on=vector_unit"}));
    const int li = layer_index(p, "s2.0.dw");
    REQUIRE(li >= 0);
    const LayerPlan& L = p.layers[static_cast<size_t>(li)];
    CHECK(L.op == "DepthwiseConv2d");
    CHECK(L.unit == UnitKind::kVector);
    CHECK(L.fused == "Relu6");
    int64_t issues = 0;
    for (const Command* c : layer_cmds(p, li)) {
      CHECK(c->unit != UnitKind::kMacArray);
      if (c->unit != UnitKind::kVector) continue;
      CHECK(c->vector.work.op == VectorOp::kDepthwise);
      issues += c->vector.issues;
    }
    // Hout x Wout x ceil(C / L) x kh x kw (hw/MACHINE.md): chunks split rows only.
    CHECK(issues == 56 * 56 * 3 * 9);
    // Dense convs stay on the array.
    CHECK(find_layer(p, "s2.0.expand")->unit == UnitKind::kMacArray);
  }
}

TEST_CASE("views move no data and run no commands", "[lower][grouping]") {
  const Program p = lower(zoo("mobilenet_v2"), load_chip("default"));
  const int li = layer_index(p, "head.2.flatten");
  REQUIRE(li >= 0);
  CHECK_FALSE(p.layers[static_cast<size_t>(li)].compute);
  CHECK(layer_cmds(p, li).empty());
  CHECK(p.layers[static_cast<size_t>(li)].tiles == 0);
}

TEST_CASE("concatenations whose producers write one buffer are views; transposes copy",
          "[lower][grouping]") {
  const Program p = lower(zoo("person_detector"), load_chip("default"));
  for (const char* n : {"boxes.concat", "classes.concat", "boxes.m0.reshape"}) {
    INFO(n);
    const int li = layer_index(p, n);
    REQUIRE(li >= 0);
    CHECK_FALSE(p.layers[static_cast<size_t>(li)].compute);
    CHECK(layer_cmds(p, li).empty());
  }
  const LayerPlan* t = find_layer(p, "boxes.m0.nhwc");
  REQUIRE(t);
  CHECK(t->op == "Transpose");
  CHECK(t->unit == UnitKind::kVector);
  CHECK(t->tiles > 0);
}

TEST_CASE("a concatenation of a graph input is a vector copy", "[lower][grouping]") {
  ir::Graph g;
  const ir::TensorId x = g.add_input("x", {1, 8, 8, 8}, ir::DType::kInt8);
  const ir::TensorId c = g.add_op(ir::OpKind::kConv2d, "conv", {x}, ir::ConvAttrs::make(8, 1));
  const ir::TensorId y = g.add_op(ir::OpKind::kConcat, "cat", {x, c}, ir::AxisAttrs{1});
  g.mark_output(y);
  const Program p = lower(g, load_chip("default"));
  const LayerPlan* cat = find_layer(p, "cat");
  REQUIRE(cat);
  CHECK(cat->compute);
  CHECK(cat->unit == UnitKind::kVector);
}

TEST_CASE("pooling, SE gating, resize and global pooling run on the vector unit",
          "[lower][grouping]") {
  const Program p = lower(zoo("lraspp_mobilenet_v3_large"), load_chip("default"));
  const struct {
    const char* name;
    VectorOp op;
  } cases[] = {{"s3.0.se.pool", VectorOp::kGlobalPool},
               {"s3.0.se.mul", VectorOp::kEltwise},
               {"head.0.resize", VectorOp::kResize}};
  for (const auto& k : cases) {
    INFO(k.name);
    const int li = layer_index(p, k.name);
    REQUIRE(li >= 0);
    CHECK(p.layers[static_cast<size_t>(li)].unit == UnitKind::kVector);
    bool any = false;
    for (const Command* c : layer_cmds(p, li)) {
      if (c->unit != UnitKind::kVector) continue;
      any = true;
      CHECK(c->vector.work.op == k.op);
      CHECK(c->vector.issues == vector_issues(c->vector.work, 32));
    }
    CHECK(any);
  }
  CHECK(find_layer(p, "s3.0.se.expand")->fused == "HardSigmoid");
  const Program r = lower(zoo("resnet18"), load_chip("default"));
  const int li = layer_index(r, "stem.1.pool");
  REQUIRE(li >= 0);
  int64_t issues = 0;
  for (const Command* c : layer_cmds(r, li)) {
    if (c->unit != UnitKind::kVector) continue;
    CHECK(c->vector.work.op == VectorOp::kPool);
    issues += c->vector.issues;
  }
  // Hout x Wout x ceil(C / L) x k x k.
  CHECK(issues == 56 * 56 * 2 * 9);
}

TEST_CASE("a vector op class the chip does not list is refused by name", "[lower][grouping]") {
  const ChipParams chip =
      load_chip("default", {"vector_unit.ops=[dwconv,pool,eltwise,activation,requant]"});
  CHECK_THROWS_WITH(
      lower(zoo("lraspp_mobilenet_v3_large"), chip),
      "layer 'head.0.resize' (Resize) needs the vector unit to run resize, which chip 'default' "
      "does not list in vector_unit.ops [dwconv, pool, eltwise, activation, requant]; add it "
      "there (-p vector_unit.ops=[...]) or use another chip");
}
