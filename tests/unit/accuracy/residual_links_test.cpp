// Residual links found from block metadata, and graphs without them (Zen-score's networks):
// NAS-Bench-201's two strided residual blocks (projection shortcuts), NAS-Bench-Macro's and
// MobileNetV2's identity shortcuts; cell sums are not residual links.
#include <catch2/catch.hpp>

#include "models/ir/analysis.hpp"
#include "models/model_source.hpp"
#include "nas/accuracy/residual_links.hpp"

using namespace nax;

namespace {

int count_kind(const ir::Graph& g, ir::OpKind k) {
  int n = 0;
  for (const auto& op : g.ops()) n += op.kind == k;
  return n;
}

}  // namespace

TEST_CASE("NAS-Bench-201: the two residual blocks' projection shortcuts are removed",
          "[proxies][residual]") {
  const Model m = load_model("nb201");
  const auto links = accuracy::find_residual_links(m.graph);
  REQUIRE(links.size() == 2);
  for (const auto& l : links) {
    const ir::Op& add = m.graph.op(l.add_op);
    CHECK(add.meta.block_type == "nb201_resblock");
    CHECK(m.graph.op(m.graph.tensor(l.shortcut).producer).meta.role == "downsample");
    CHECK(m.graph.op(m.graph.tensor(l.main).producer).meta.role == "conv_b");
  }
  int removed = 0;
  const ir::Graph g = accuracy::without_residual_links(m.graph, &removed);
  CHECK(removed == 2);
  // Each block loses its Add, its 2x2 average pool and its 1x1 conv (16x32 and 32x64 weights).
  CHECK(g.ops().size() == m.graph.ops().size() - 6);
  CHECK(count_kind(g, ir::OpKind::kAdd) == count_kind(m.graph, ir::OpKind::kAdd) - 2);
  CHECK(ir::analyze(g).params == ir::analyze(m.graph).params - (16 * 32 + 32 * 64));
  CHECK(accuracy::find_residual_links(g).empty());
  REQUIRE(g.outputs().size() == 1);
  CHECK(g.shape(g.outputs()[0]) == m.graph.shape(m.graph.outputs()[0]));
  CHECK(g.tensor(g.outputs()[0]).name == m.graph.tensor(m.graph.outputs()[0]).name);
}

TEST_CASE("identity shortcuts: NAS-Bench-Macro and MobileNetV2", "[proxies][residual]") {
  // 22222222: three stages of 2, 3 and 3 inverted bottlenecks; all but each stage's first
  // (strided) one are residual: 1 + 2 + 2.
  const Model macro = load_model("nas-bench-macro:arch=22222222");
  CHECK(accuracy::find_residual_links(macro.graph).size() == 5);
  const ir::Graph plain = accuracy::without_residual_links(macro.graph);
  // Identity shortcuts own no ops: only the Adds go.
  CHECK(plain.ops().size() == macro.graph.ops().size() - 5);
  CHECK(ir::analyze(plain).params == ir::analyze(macro.graph).params);
  CHECK(ir::analyze(plain).macs == ir::analyze(macro.graph).macs);
  // Identity layers (digit 0) inside a stage are no block at all: 00000000 has none.
  CHECK(accuracy::find_residual_links(load_model("nas-bench-macro:arch=00000000").graph).empty());
  // torchvision's MobileNetV2: 10 of its 17 inverted bottlenecks are residual.
  CHECK(accuracy::find_residual_links(load_model("mobilenet_v2").graph).size() == 10);
}

TEST_CASE("a graph without residual links is returned unchanged", "[proxies][residual]") {
  const Model m = load_model("nas-bench-macro:arch=00000000");
  int removed = -1;
  const ir::Graph g = accuracy::without_residual_links(m.graph, &removed);
  CHECK(removed == 0);
  CHECK(ir::graph_hash(g) == ir::graph_hash(m.graph));
}
