// ONNX export (models/onnx/onnx_export.hpp), checked by importing the result with nax's own
// importer: every zoo network and a graph holding every OpKind come back as the same graph (same
// op kinds, attributes, shapes and connectivity, so the same graph hash once the data type is
// float32 and batch norms are folded as the exporter folds them), with the same MACs and the
// parameters the importer's documented convention gives.
#include <onnx/onnx_pb.h>

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

#include "models/ir/analysis.hpp"
#include "models/model_source.hpp"
#include "models/onnx/onnx_export.hpp"
#include "models/onnx/onnx_import.hpp"
#include "models/zoo/zoo.hpp"
#include "tests/unit/onnx/onnx_test_util.hpp"

using namespace nax;
using namespace nax::ir;
using nax::onnx::ExportOptions;

namespace {

// The graph with float32 tensors and, when `fold`, every batch-normed conv as a conv with bias:
// what importing an export must give.
Graph expected_import(const Graph& g, bool fold) {
  Graph out;
  out.name = g.name;
  std::vector<TensorId> map(g.tensors().size(), kNoTensor);
  for (TensorId t : g.inputs()) {
    map[static_cast<size_t>(t)] = out.add_input(g.tensor(t).name, g.shape(t), DType::kFloat32);
  }
  for (const Op& op : g.ops()) {
    OpAttrs attrs = op.attrs;
    if (auto* c = std::get_if<ConvAttrs>(&attrs); c && fold && c->bn) {
      c->bn = false;
      c->bias = true;
    }
    std::vector<TensorId> ins;
    for (TensorId t : op.inputs) ins.push_back(map[static_cast<size_t>(t)]);
    map[static_cast<size_t>(op.output)] = out.add_op(op.kind, op.name, ins, attrs);
  }
  for (TensorId t : g.outputs()) out.mark_output(map[static_cast<size_t>(t)]);
  return out;
}

Graph round_trip(const Graph& g, const ExportOptions& opts) {
  return nax::onnx::import_onnx_bytes(nax::onnx::export_onnx_bytes(g, opts), g.name + ".onnx");
}

void check_round_trip(const Graph& g, const ExportOptions& opts) {
  const Graph back = round_trip(g, opts);
  const Graph want = expected_import(g, opts.fold_bn);
  const GraphStats s_back = analyze(back), s_want = analyze(want), s_orig = analyze(g);
  CHECK(s_back.macs == s_orig.macs);
  CHECK(s_back.params == s_want.params);
  if (!opts.fold_bn) CHECK(s_back.params == s_orig.params);
  CHECK(onnx_test::kind_counts(back) == onnx_test::kind_counts(g));
  REQUIRE(back.outputs().size() == g.outputs().size());
  for (size_t i = 0; i < g.outputs().size(); ++i) {
    CHECK(back.shape(back.outputs()[i]) == g.shape(g.outputs()[i]));
  }
  CHECK(back.name == g.name);
  CHECK(graph_hash(back) == graph_hash(want));
}

// Every op kind, each in a form the importer reads back unfused.
Graph every_op_graph() {
  Graph g;
  g.name = "every_op";
  const TensorId x = g.add_input("x", {1, 8, 16, 16}, DType::kInt8);
  const TensorId y = g.add_input("y", {1, 8, 16, 16}, DType::kInt8);
  ConvAttrs c = ConvAttrs::make(16, 3, 2);
  c.bn = true;
  TensorId t = g.add_op(OpKind::kConv2d, "conv_bn", {x}, c);  // 16x8x8
  ConvAttrs cb = ConvAttrs::make(16, 3, 1, 16, 2);            // depthwise, dilated, bias and bn
  cb.bias = cb.bn = true;
  t = g.add_op(OpKind::kConv2d, "dw_bias_bn", {t}, cb);
  ConvAttrs asym = ConvAttrs::make(16, 1);
  asym.kernel_h = 1;
  asym.kernel_w = 3;
  asym.pad_left = 1;
  asym.pad_right = 0;
  asym.stride_w = 1;
  t = g.add_op(OpKind::kConv2d, "asym", {t}, asym);  // 16x8x7
  t = g.add_op(OpKind::kRelu6, "relu6", {t});
  t = g.add_op(OpKind::kHardSwish, "hswish", {t});
  t = g.add_op(OpKind::kLeakyRelu, "leaky", {t}, LeakyReluAttrs{0.1f});
  t = g.add_op(OpKind::kClip, "clip", {t}, ClipAttrs{-1.f, 2.5f});
  t = g.add_op(OpKind::kClip, "clip_low", {t}, ClipAttrs{-3.f, INFINITY});
  t = g.add_op(OpKind::kSilu, "silu", {t});
  t = g.add_op(OpKind::kTanh, "tanh", {t});
  t = g.add_op(OpKind::kBatchNorm, "bn", {t});
  const TensorId gate = g.add_op(OpKind::kHardSigmoid, "hsig", {t}, HardSigmoidAttrs{0.2f, 0.5f});
  t = g.add_op(OpKind::kMul, "gate_mul", {t, gate});
  const TensorId sg = g.add_op(OpKind::kSigmoid, "sig", {t});
  t = g.add_op(OpKind::kAdd, "sig_add", {t, sg});
  t = g.add_op(OpKind::kRelu, "relu", {t});
  t = g.add_op(OpKind::kMul, "scale", {t}, ConstOperandAttrs{{16, 1, 1}});
  t = g.add_op(OpKind::kAdd, "shift", {t}, ConstOperandAttrs{{1}});
  t = g.add_op(OpKind::kSub, "sub_const", {t}, ConstOperandAttrs{{}});
  t = g.add_op(OpKind::kDiv, "div_const", {t}, ConstOperandAttrs{{16, 1, 1}});
  PadAttrs pad;
  pad.pads = {0, 0, 0, 1, 0, 0, 0, 0};  // 16x8x7 -> 16x8x8
  pad.mode = "reflect";
  t = g.add_op(OpKind::kPad, "pad", {t}, pad);
  PoolAttrs mp;
  mp.kernel_h = mp.kernel_w = 3;
  mp.stride_h = mp.stride_w = 2;
  mp.ceil_mode = true;
  t = g.add_op(OpKind::kMaxPool, "maxpool", {t}, mp);  // 16x4x4 (ceil: (8-3)/2 rounded up + 1)
  t = g.add_op(OpKind::kResize, "resize", {t}, ResizeAttrs{16, 16, "linear"});
  PoolAttrs ap;
  ap.kernel_h = ap.kernel_w = 3;
  ap.pad_top = ap.pad_left = ap.pad_bottom = ap.pad_right = 1;
  ap.count_include_pad = true;
  t = g.add_op(OpKind::kAvgPool, "avgpool", {t}, ap);
  const TensorId yc = g.add_op(OpKind::kConv2d, "y_conv", {y}, ConvAttrs::make(16, 1));
  const TensorId z = g.add_op(OpKind::kZeros, "zeros", {yc});
  t = g.add_op(OpKind::kSub, "sub", {t, z});
  t = g.add_op(OpKind::kDiv, "div", {t, yc});
  t = g.add_op(OpKind::kConcat, "concat", {t, yc}, AxisAttrs{1});  // 32x16x16
  const TensorId gmax = g.add_op(OpKind::kGlobalMaxPool, "gmax", {t});
  const TensorId gavg = g.add_op(OpKind::kGlobalAvgPool, "gavg", {t});
  t = g.add_op(OpKind::kAdd, "pool_add", {gmax, gavg});
  t = g.add_op(OpKind::kFlatten, "flatten", {t}, AxisAttrs{1});  // 1x32
  t = g.add_op(OpKind::kFullyConnected, "fc", {t}, FcAttrs{24, true});
  t = g.add_op(OpKind::kReshape, "reshape", {t}, ReshapeAttrs{{1, 4, -1}});       // 1x4x6
  t = g.add_op(OpKind::kTranspose, "transpose", {t}, TransposeAttrs{{0, 2, 1}});  // 1x6x4
  t = g.add_op(OpKind::kFullyConnected, "fc3d_bias", {t}, FcAttrs{5, true});
  t = g.add_op(OpKind::kFullyConnected, "fc3d", {t}, FcAttrs{7, false});
  t = g.add_op(OpKind::kFullyConnected, "fc_nobias", {g.add_op(OpKind::kFlatten, "flat2", {t})},
               FcAttrs{3, false});
  t = g.add_op(OpKind::kSoftmax, "softmax", {t}, AxisAttrs{-1});
  g.mark_output(t);
  g.mark_output(gavg);
  return g;
}

// Floats of an initializer (raw_data, little-endian).
std::vector<float> values(const ::onnx::TensorProto& t) {
  std::vector<float> v(t.raw_data().size() / 4);
  std::memcpy(v.data(), t.raw_data().data(), v.size() * 4);
  return v;
}

const ::onnx::TensorProto* initializer(const ::onnx::ModelProto& m, const std::string& name) {
  for (const auto& t : m.graph().initializer()) {
    if (t.name() == name) return &t;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("the every-op graph holds every OpKind", "[onnx][export]") {
  std::set<OpKind> kinds;
  const Graph g = every_op_graph();
  for (const Op& op : g.ops()) kinds.insert(op.kind);
  for (int k = 0; k <= static_cast<int>(OpKind::kZeros); ++k) {
    INFO(op_name(static_cast<OpKind>(k)));
    CHECK(kinds.count(static_cast<OpKind>(k)) == 1);
  }
}

TEST_CASE("every OpKind exports and imports back to the same graph", "[onnx][export]") {
  const Graph g = every_op_graph();
  for (bool shape_only : {false, true}) {
    for (bool fold : {true, false}) {
      INFO("shape_only " << shape_only << ", fold_bn " << fold);
      ExportOptions o;
      o.shape_only = shape_only;
      o.fold_bn = fold;
      check_round_trip(g, o);
    }
  }
}

TEST_CASE("every zoo network round-trips through ONNX (shape-only)", "[onnx][export]") {
  const std::vector<std::string> names = zoo::ZooRegistry::instance().names();
  REQUIRE(names.size() >= 15);
  for (const std::string& name : names) {
    INFO(name);
    const Graph g = spec::build_graph(zoo::build(name));
    ExportOptions o;
    o.shape_only = true;
    check_round_trip(g, o);
    o.fold_bn = false;
    const Graph back = round_trip(g, o);
    CHECK(analyze(back).params == analyze(g).params);
    CHECK(graph_hash(back) == graph_hash(expected_import(g, false)));
  }
}

TEST_CASE("folded batch norms count one parameter per channel, as the importer documents",
          "[onnx][export]") {
  // mobilenet_v2: 52 convs with batch norm (17,056 channels in all) and a classifier.
  const Graph g = spec::build_graph(zoo::build("mobilenet_v2"));
  ExportOptions o;
  o.shape_only = true;
  const GraphStats back = analyze(round_trip(g, o));
  CHECK(analyze(g).params == 3504872);
  CHECK(back.params == 3504872 - 17056);
  CHECK(back.params == 3487816);  // what torch.onnx.export gives (tests/fixtures/onnx)
  CHECK(back.macs == 300774272);
}

TEST_CASE("random weights are real tensors of the right shapes, seeded and deterministic",
          "[onnx][export]") {
  const Model m = load_model("nas-bench-macro:arch=01220210");
  ExportOptions o;
  o.seed = 7;
  const std::string bytes = nax::onnx::export_onnx_bytes(m.graph, o);
  CHECK(bytes == nax::onnx::export_onnx_bytes(m.graph, o));
  o.seed = 8;
  CHECK(bytes != nax::onnx::export_onnx_bytes(m.graph, o));

  ::onnx::ModelProto p;
  REQUIRE(p.ParseFromString(bytes));
  CHECK(p.opset_import(0).version() == 13);
  CHECK(p.graph().input_size() == 1);  // only the image: every weight is an initializer
  int64_t stored = 0;
  for (const auto& t : p.graph().initializer()) {
    int64_t n = 1;
    for (int64_t d : t.dims()) n *= d;
    if (t.data_type() == ::onnx::TensorProto::FLOAT) {
      CHECK(static_cast<int64_t>(t.raw_data().size()) == 4 * n);
      stored += n;
    }
  }
  // Parameters as stored: the graph's, less one per channel of each folded batch norm.
  CHECK(stored == analyze(nax::onnx::import_onnx_bytes(bytes, "m.onnx")).params);

  // The stem conv: 32x3x3x3 weights uniform in +-1/sqrt(27), not all equal; its folded bias is
  // a fresh batch norm's: zeros.
  const ::onnx::TensorProto* w = initializer(p, "stem.0.conv.weight");
  REQUIRE(w);
  CHECK(std::vector<int64_t>(w->dims().begin(), w->dims().end()) ==
        std::vector<int64_t>{32, 3, 3, 3});
  const auto wv = values(*w);
  const float bound = 1.f / std::sqrt(27.f);
  float lo = 1, hi = -1;
  for (float v : wv) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  CHECK(lo >= -bound);
  CHECK(hi <= bound);
  CHECK(hi - lo > bound);  // spread over the range, not a constant
  const ::onnx::TensorProto* b = initializer(p, "stem.0.conv.bias");
  REQUIRE(b);
  for (float v : values(*b)) CHECK(v == 0.f);
}

TEST_CASE("shape-only export declares weights as graph inputs without data", "[onnx][export]") {
  const Model m = load_model("nb201");
  ExportOptions o;
  o.shape_only = true;
  const std::string bytes = nax::onnx::export_onnx_bytes(m.graph, o);
  ::onnx::ModelProto p;
  REQUIRE(p.ParseFromString(bytes));
  CHECK(bytes.size() < 100000);
  for (const auto& t : p.graph().initializer()) {
    INFO(t.name());
    int64_t n = 1;
    for (int64_t d : t.dims()) n *= d;
    CHECK(n <= 1);  // only scalars stay (here: the zero of none-nodes, if any)
  }
  CHECK(p.graph().input(0).name() == m.graph.tensor(m.graph.inputs()[0]).name);
  CHECK(p.graph().input_size() > 100);
  const Graph back = nax::onnx::import_onnx_bytes(bytes, "nb201.onnx");
  CHECK(back.inputs().size() == 1);
}

TEST_CASE("NAS-Bench-201 none-nodes export as Mul by 0 and import as Zeros", "[onnx][export]") {
  // Node 2's edges are all "none": it is zeros shaped like the cell input.
  const Model m = load_model(
      "nb201:arch=|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|");
  const std::string bytes = nax::onnx::export_onnx_bytes(m.graph);
  ::onnx::ModelProto p;
  REQUIRE(p.ParseFromString(bytes));
  int zero_muls = 0;
  for (const auto& n : p.graph().node()) {
    if (n.op_type() != "Mul" || n.input_size() != 2) continue;
    const ::onnx::TensorProto* c = initializer(p, n.input(1));
    if (c && c->dims_size() == 0 && values(*c) == std::vector<float>{0.f}) ++zero_muls;
  }
  CHECK(zero_muls == 15);  // one per cell, 3 stages of 5
  const Graph back = nax::onnx::import_onnx_bytes(bytes, "nb201.onnx");
  CHECK(onnx_test::kind_counts(back)["Zeros"] == 15);
  CHECK(onnx_test::kind_counts(back).count("Mul") == 0);
}

TEST_CASE("export metadata, names and file output", "[onnx][export]") {
  Graph g;
  g.name = "dup";
  const TensorId x = g.add_input("a", {1, 4, 8, 8}, DType::kInt16);
  TensorId t = g.add_op(OpKind::kRelu, "a", {x});  // same name as the input
  t = g.add_op(OpKind::kRelu, "", {t});
  g.mark_output(t);
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("nax_onnx_export_test_" + std::to_string(getpid()) + ".onnx"))
                               .string();
  nax::onnx::export_onnx_file(g, path);
  const std::string bytes = onnx_test::read_bytes(path);
  std::filesystem::remove(path);
  ::onnx::ModelProto p;
  REQUIRE(p.ParseFromString(bytes));
  CHECK(p.producer_name() == "nax");
  std::map<std::string, std::string> meta;
  for (const auto& kv : p.metadata_props()) meta[kv.key()] = kv.value();
  CHECK(meta["nax.dtype"] == "int16");
  CHECK(meta["nax.graph_hash"] == graph_hash(g));
  CHECK(p.graph().node(0).output(0) == "a_1");
  CHECK(p.graph().node(1).output(0) == "t");
  CHECK(p.graph().output(0).name() == "t");
  const Graph back = nax::onnx::import_onnx_bytes(bytes, path);
  CHECK(back.ops().size() == 2);

  Graph empty;
  empty.name = "empty";
  empty.add_input("x", {1, 3, 4, 4}, DType::kInt8);
  CHECK_THROWS_WITH(nax::onnx::export_onnx_bytes(empty),
                    "graph 'empty' has no ops: nothing to export as ONNX");
  CHECK_THROWS_WITH(nax::onnx::export_onnx_file(g, "/nonexistent-dir/x.onnx"),
                    "/nonexistent-dir/x.onnx: cannot open for writing");
}

TEST_CASE("Mul by a constant imports as Zeros only for all-zero constants that do not widen",
          "[onnx][export]") {
  auto import_mul = [](const std::vector<int64_t>& dims, const std::vector<float>& v) {
    ::onnx::ModelProto m = onnx_test::tiny_model({1, 4, 8, 8});
    auto* t = m.mutable_graph()->add_initializer();
    t->set_name("c");
    t->set_data_type(::onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    for (float x : v) t->add_float_data(x);
    onnx_test::add_node(m, "Mul", {"x", "c"}, {"y"}, "mul");
    onnx_test::add_output(m, "y");
    const Graph g = nax::onnx::import_onnx_bytes(onnx_test::bytes_of(m), "mul.onnx");
    REQUIRE(g.ops().size() == 1);
    return g.op(0).kind;
  };
  CHECK(import_mul({}, {0.f}) == OpKind::kZeros);
  CHECK(import_mul({4, 1, 1}, {0.f, 0.f, -0.f, 0.f}) == OpKind::kZeros);
  CHECK(import_mul({4, 1, 1}, {0.f, 0.f, 1.f, 0.f}) == OpKind::kMul);
  CHECK(import_mul({}, {2.f}) == OpKind::kMul);
  CHECK(import_mul({2, 4, 1, 1}, std::vector<float>(8, 0.f)) == OpKind::kMul);  // widens
}
