// ONNX import of the committed fixtures (tests/fixtures/onnx, made by tools/gen_onnx_fixtures.py):
// torchvision networks against torchvision's numbers, and one fixture per export pattern.
#include <catch2/catch.hpp>
#include <cmath>

#include "models/ir/analysis.hpp"
#include "models/onnx/onnx_import.hpp"
#include "tests/unit/onnx/onnx_test_util.hpp"

using namespace nax;
using namespace nax::ir;
using namespace nax::onnx_test;

namespace {

struct Reference {
  const char* name;
  int64_t ref_macs;    // torchvision: conv + linear multiply-adds at 224x224
  int64_t ref_params;  // torchvision: PyTorch parameter count (BN = 2 per channel)
  int64_t macs;        // what the import gives (exact, so a change is noticed)
  int64_t params;      // ditto: parameters as stored in the file (folded BN = conv bias)
};

// The params of an export are lower than PyTorch's: BatchNorm is folded into the conv, whose bias
// counts 1 per channel where PyTorch counts BN weight + bias (2 per channel).
const Reference kTorchvision[] = {
    {"mobilenet_v2", 300774272, 3504872, 300774272, 3487816},
    {"mobilenet_v3_large", 216589760, 5483032, 216589760, 5470832},
    {"efficientnet_b0", 385814752, 5288548, 385814752, 5267540},
    {"resnet18", 1814073344, 11689512, 1814073344, 11684712},
};

double rel_diff(int64_t got, int64_t ref) {
  return std::fabs(static_cast<double>(got - ref)) / static_cast<double>(ref);
}

const Op& op_named(const Graph& g, const std::string& name) {
  for (const auto& op : g.ops()) {
    if (op.name == name) return op;
  }
  FAIL("no op named " << name);
  return g.op(0);
}

}  // namespace

TEST_CASE("torchvision fixtures import within 0.5% of torchvision's MACs and params", "[onnx]") {
  for (const auto& r : kTorchvision) {
    INFO(r.name);
    const Graph g = nax::onnx::import_onnx_file(fixture(r.name));
    const GraphStats st = analyze(g);
    CHECK(g.name == r.name);
    CHECK(rel_diff(st.macs, r.ref_macs) <= 0.005);
    CHECK(rel_diff(st.params, r.ref_params) <= 0.005);
    CHECK(st.macs == r.macs);
    CHECK(st.params == r.params);
    REQUIRE(g.inputs().size() == 1);  // the weights (graph inputs without data) are not inputs
    CHECK(g.tensor(g.inputs()[0]).name == "input");
    CHECK(g.shape(g.inputs()[0]) == Shape{1, 3, 224, 224});
    CHECK(g.tensor(g.inputs()[0]).dtype == DType::kFloat32);
    REQUIRE(g.outputs().size() == 1);
    CHECK(g.tensor(g.outputs()[0]).name == "output");
    CHECK(g.shape(g.outputs()[0]) == Shape{1, 1000});
  }
}

TEST_CASE("torchvision fixtures import to the expected op kinds", "[onnx]") {
  using Counts = std::map<std::string, int>;
  CHECK(kind_counts(nax::onnx::import_onnx_file(fixture("mobilenet_v2"))) ==
        Counts{{"Conv2d", 52},
               {"Relu6", 35},
               {"Add", 10},
               {"GlobalAvgPool", 1},
               {"Flatten", 1},
               {"FullyConnected", 1}});
  // 21 hard-swishes fused from HardSigmoid + Mul; the 8 SE gates stay HardSigmoid + Mul.
  CHECK(kind_counts(nax::onnx::import_onnx_file(fixture("mobilenet_v3_large"))) ==
        Counts{{"Conv2d", 62},
               {"HardSwish", 21},
               {"Relu", 19},
               {"Add", 10},
               {"GlobalAvgPool", 9},
               {"HardSigmoid", 8},
               {"Mul", 8},
               {"Flatten", 1},
               {"FullyConnected", 2}});
  // 49 SiLUs fused from Sigmoid + Mul; the 16 SE gates stay Sigmoid + Mul.
  const Graph eff = nax::onnx::import_onnx_file(fixture("efficientnet_b0"));
  CHECK(kind_counts(eff) == Counts{{"Conv2d", 81},
                                   {"Silu", 49},
                                   {"GlobalAvgPool", 17},
                                   {"Sigmoid", 16},
                                   {"Mul", 16},
                                   {"Add", 9},
                                   {"Flatten", 1},
                                   {"FullyConnected", 1}});
  for (const auto& op : eff.ops()) {
    if (op.kind != OpKind::kMul) continue;
    // Gate x feature map (torchvision writes scale * input): the gate is 1xCx1x1 from a Sigmoid.
    REQUIRE(op.inputs.size() == 2);
    const TensorId gate = op.inputs[0], x = op.inputs[1];
    CHECK(eff.op(eff.tensor(gate).producer).kind == OpKind::kSigmoid);
    CHECK(eff.shape(gate)[2] * eff.shape(gate)[3] == 1);
    CHECK(eff.shape(gate)[1] == eff.shape(x)[1]);
    CHECK(eff.shape(op.output) == eff.shape(x));
  }
  CHECK(kind_counts(nax::onnx::import_onnx_file(fixture("resnet18"))) ==
        Counts{{"Conv2d", 20},
               {"Relu", 17},
               {"MaxPool", 1},
               {"Add", 8},
               {"GlobalAvgPool", 1},
               {"Flatten", 1},
               {"FullyConnected", 1}});
}

TEST_CASE("ONNX node names become op names; depthwise convs keep their groups", "[onnx]") {
  const Graph g = nax::onnx::import_onnx_file(fixture("mobilenet_v2"));
  const Op& stem = g.op(0);
  CHECK(stem.name == "/features/features.0/features.0.0/Conv");
  const auto& a = stem.attr<ConvAttrs>();
  CHECK(a.out_channels == 32);
  CHECK(a.stride_h == 2);
  CHECK(a.pad_top == 1);
  CHECK(a.bias);  // folded BatchNorm: a conv bias in the file
  CHECK_FALSE(a.bn);
  CHECK(g.shape(stem.output) == Shape{1, 32, 112, 112});
  const Op& dw = g.op(2);
  CHECK(dw.kind == OpKind::kConv2d);
  CHECK(dw.attr<ConvAttrs>().groups == 32);
  CHECK(g.op(1).kind == OpKind::kRelu6);
  CHECK(g.tensor(stem.output).name == "/features/features.0/features.0.0/Conv_output_0");
}

TEST_CASE("Clip with Constant min/max imports as Relu6, Relu + Clip(0, 6) too", "[onnx]") {
  const Graph g = nax::onnx::import_onnx_file(fixture("clip_relu6"));
  CHECK(kinds(g) == std::vector<std::string>{"Conv2d", "Relu6", "Conv2d", "Clip"});
  CHECK(g.op(1).name == "/Relu");  // F.relu6 exports as Relu then Clip(0, 6)
  CHECK(g.tensor(g.op(1).output).name == "/Clip_output_0");
  CHECK(g.op(2).attr<ConvAttrs>().groups == 8);
  const auto& clip = g.op(3).attr<ClipAttrs>();
  CHECK(clip.min == -1.f);
  CHECK(clip.max == 1.f);
  CHECK(g.shape(g.outputs()[0]) == Shape{1, 8, 16, 16});
}

TEST_CASE("HardSigmoid + Mul(x, hsig(x)) is HardSwish; the SE gate stays", "[onnx]") {
  const Graph g = nax::onnx::import_onnx_file(fixture("hardswish_se"));
  CHECK(kinds(g) == std::vector<std::string>{"Conv2d", "HardSwish", "GlobalAvgPool", "Conv2d",
                                             "Relu", "Conv2d", "HardSigmoid", "Mul"});
  const Op& gate = g.op(6);
  CHECK(gate.attr<HardSigmoidAttrs>().alpha == Approx(1.0 / 6.0));
  const Op& mul = g.op(7);
  CHECK(g.shape(mul.inputs[0]) == Shape{1, 16, 16, 16});
  CHECK(g.shape(mul.inputs[1]) == Shape{1, 16, 1, 1});
  CHECK(g.tensor(mul.inputs[0]).producer == 1);  // the hard-swish output
}

TEST_CASE("Sigmoid + Mul(x, sigmoid(x)) is SiLU; Mul(y, sigmoid(s)) stays", "[onnx]") {
  const Graph g = nax::onnx::import_onnx_file(fixture("silu_se"));
  CHECK(kinds(g) == std::vector<std::string>{"Conv2d", "Silu", "GlobalAvgPool", "Conv2d", "Silu",
                                             "Conv2d", "Sigmoid", "Mul"});
  CHECK(g.shape(g.op(4).output) == Shape{1, 4, 1, 1});
  CHECK(g.shape(g.outputs()[0]) == Shape{1, 16, 16, 16});
}

TEST_CASE("ReduceMean over H,W is global average pooling (keepdims 0 adds a Flatten)", "[onnx]") {
  const Graph g = nax::onnx::import_onnx_file(fixture("reduce_mean"));
  CHECK(kinds(g) == std::vector<std::string>{"Conv2d", "GlobalAvgPool", "Mul", "GlobalAvgPool",
                                             "Flatten", "FullyConnected"});
  CHECK(g.shape(g.op(1).output) == Shape{1, 16, 1, 1});
  CHECK(g.shape(g.op(4).output) == Shape{1, 16});
  CHECK(g.op(4).name == "/ReduceMean_1/flatten");
  CHECK(g.op(5).attr<FcAttrs>().out_features == 10);
  CHECK(g.op(5).attr<FcAttrs>().bias);
}

TEST_CASE("BatchNorm folds into a Conv only when it is the conv's sole consumer", "[onnx]") {
  const Graph g = nax::onnx::import_onnx_file(fixture("batchnorm_unfolded"));
  // bn0 on the graph input: standalone. c1 -> bn1: folded. c2 feeds bn2 and the Add: standalone.
  // Identity and Dropout (inference) are aliases.
  CHECK(kinds(g) ==
        std::vector<std::string>{"BatchNorm", "Conv2d", "Relu", "Conv2d", "BatchNorm", "Add"});
  CHECK(g.op(1).name == "c1");
  CHECK(g.op(1).attr<ConvAttrs>().bn);
  CHECK_FALSE(g.op(1).attr<ConvAttrs>().bias);
  CHECK(g.tensor(g.op(1).output).name == "bn1_out");
  CHECK_FALSE(g.op(3).attr<ConvAttrs>().bn);
  CHECK(g.op(3).attr<ConvAttrs>().bias);
  CHECK(g.op(3).inputs[0] == g.op(2).output);  // through the Identity
  // Params: bn0 2x3; c1 8x3x3x3 + BN 2x8; c2 8x8 + bias 8; bn2 2x8.
  CHECK(analyze(g).params == 6 + (216 + 16) + (64 + 8) + 16);
  REQUIRE(g.outputs().size() == 1);
  CHECK(g.tensor(g.outputs()[0]).name == "output");
  CHECK(g.outputs()[0] == g.op(5).output);  // Dropout is an alias
}

TEST_CASE("Resize sized by Shape/Slice/Concat folds to constant sizes", "[onnx]") {
  const Graph g = nax::onnx::import_onnx_file(fixture("resize_shape"));
  std::vector<std::string> resizes;
  for (const auto& op : g.ops()) {
    if (op.kind == OpKind::kResize) resizes.push_back(attrs_str(op));
  }
  CHECK(resizes == std::vector<std::string>{"32x32 nearest", "16x16 linear", "32x32 nearest"});
  CHECK(g.shape(g.outputs()[0]) == Shape{1, 16, 32, 32});
  CHECK(g.ops().size() == 9);  // the shape arithmetic leaves no ops behind
}

TEST_CASE("pooling, Pad, MatMul + Add, Softmax and constant operands import", "[onnx]") {
  const Graph g = nax::onnx::import_onnx_file(fixture("misc_ops"));
  CHECK(kinds(g) == std::vector<std::string>{"Conv2d", "LeakyRelu", "MaxPool", "AvgPool", "Pad",
                                             "Conv2d", "Tanh", "Sub", "Div", "Concat", "Reshape",
                                             "Transpose", "FullyConnected", "Softmax"});
  CHECK(op_named(g, "/LeakyRelu").attr<LeakyReluAttrs>().alpha == Approx(0.1));
  const auto& mp = op_named(g, "/MaxPool").attr<PoolAttrs>();
  CHECK(mp.ceil_mode);
  CHECK(g.shape(op_named(g, "/MaxPool").output) == Shape{1, 8, 15, 15});
  const auto& ap = op_named(g, "/AveragePool").attr<PoolAttrs>();
  CHECK(ap.pad_top == 1);
  CHECK_FALSE(ap.count_include_pad);
  CHECK(g.shape(op_named(g, "/AveragePool").output) == Shape{1, 8, 8, 8});
  // F.pad(y, (1, 2, 0, 1)): its pads come from a ConstantOfShape/Concat/Reshape/Slice(step -1)/
  // Transpose/Reshape/Cast chain.
  CHECK(op_named(g, "/Pad").attr<PadAttrs>().pads == std::vector<int64_t>{0, 0, 0, 1, 0, 0, 1, 2});
  CHECK(g.shape(op_named(g, "/Pad").output) == Shape{1, 8, 9, 11});
  CHECK_FALSE(op_named(g, "/c2/Conv").attr<ConvAttrs>().bias);
  CHECK(op_named(g, "/Sub").attr<ConstOperandAttrs>().const_shape.empty());
  const Op& fc = op_named(g, "/lin/MatMul");  // MatMul + Add(bias) = one layer with a bias
  CHECK(fc.attr<FcAttrs>().out_features == 12);
  CHECK(fc.attr<FcAttrs>().bias);
  CHECK(g.shape(fc.output) == Shape{1, 2, 63, 12});
  CHECK(op_macs(g, fc) == 2 * 63 * 12 * 8);
  CHECK(op_params(g, fc) == 8 * 12 + 12);
  CHECK(op_named(g, "/Softmax").attr<AxisAttrs>().axis == 3);
  CHECK(op_named(g, "/Transpose_1").attr<TransposeAttrs>().perm == std::vector<int>{0, 1, 3, 2});
}

TEST_CASE("opset 11, opset 17 and a file with weights import to the same graph", "[onnx]") {
  const Graph g11 = nax::onnx::import_onnx_file(fixture("multi_opset11"));
  const Graph g17 = nax::onnx::import_onnx_file(fixture("multi_opset17"));
  const Graph gw = nax::onnx::import_onnx_file(fixture("ordinary_initializers"));
  // Opset 11 exports hard-swish as HardSigmoid + Mul and its Resize has an roi Constant; opset 17
  // has the HardSwish op and a dynamic batch dimension (imported as 1).
  CHECK(kinds(g11) == std::vector<std::string>{"Conv2d", "Relu6", "Conv2d", "HardSwish", "Conv2d",
                                               "MaxPool", "Resize", "Add", "GlobalAvgPool",
                                               "Flatten", "FullyConnected"});
  CHECK(g17.shape(g17.inputs()[0]) == Shape{1, 3, 32, 32});
  CHECK(graph_hash(g11) == graph_hash(g17));
  CHECK(graph_hash(g11) == graph_hash(gw));
  CHECK(gw.inputs().size() == 1);
  CHECK(analyze(gw).params == 618);
}

TEST_CASE("imports are deterministic", "[onnx]") {
  for (const char* name : {"mobilenet_v3_large", "resize_shape", "misc_ops"}) {
    INFO(name);
    CHECK(graph_hash(nax::onnx::import_onnx_file(fixture(name))) ==
          graph_hash(nax::onnx::import_onnx_file(fixture(name))));
  }
}

TEST_CASE("nodes out of order are sorted topologically", "[onnx]") {
  auto m = load_proto("mobilenet_v3_large");
  const std::string ref = graph_hash(nax::onnx::import_onnx_bytes(bytes_of(m), "in_order.onnx"));
  auto* nodes = m.mutable_graph()->mutable_node();
  std::reverse(nodes->begin(), nodes->end());
  const Graph g = nax::onnx::import_onnx_bytes(bytes_of(m), "reversed.onnx");
  CHECK(graph_hash(g) == ref);
  CHECK(analyze(g).macs == 216589760);
}

TEST_CASE("the graph name falls back to the file stem for exporter defaults", "[onnx]") {
  auto m = load_proto("clip_relu6");
  m.mutable_graph()->set_name("torch_jit");
  CHECK(nax::onnx::import_onnx_bytes(bytes_of(m), "/some/dir/my_net.onnx").name == "my_net");
  m.mutable_graph()->set_name("");
  CHECK(nax::onnx::import_onnx_bytes(bytes_of(m), "other.onnx").name == "other");
  m.mutable_graph()->set_name("named");
  CHECK(nax::onnx::import_onnx_bytes(bytes_of(m), "other.onnx").name == "named");
}

TEST_CASE("auto_pad SAME_UPPER, SAME_LOWER and VALID set the padding", "[onnx]") {
  auto m = tiny_model({1, 4, 8, 8});
  add_weight_input(m, "w", {6, 4, 3, 3});
  auto* lower = add_node(m, "Conv", {"x", "w"}, {"c"}, "conv_same_lower");
  add_string_attr(lower, "auto_pad", "SAME_LOWER");
  add_ints_attr(lower, "strides", {2, 2});
  auto* upper = add_node(m, "MaxPool", {"c"}, {"p"}, "pool_same_upper");
  add_ints_attr(upper, "kernel_shape", {2, 2});
  add_string_attr(upper, "auto_pad", "SAME_UPPER");
  auto* valid = add_node(m, "AveragePool", {"p"}, {"v"}, "pool_valid");
  add_ints_attr(valid, "kernel_shape", {3, 3});
  add_ints_attr(valid, "pads", {1, 1, 1, 1});
  add_string_attr(valid, "auto_pad", "VALID");
  add_output(m, "v");
  const Graph g = nax::onnx::import_onnx_bytes(bytes_of(m), "pads.onnx");
  REQUIRE(g.ops().size() == 3);
  // 8 -> 4 with k3 s2: 1 pad in total, SAME_LOWER puts it first.
  const auto& c = g.op(0).attr<ConvAttrs>();
  CHECK((c.pad_top == 1 && c.pad_left == 1 && c.pad_bottom == 0 && c.pad_right == 0));
  CHECK(g.shape(g.op(0).output) == Shape{1, 6, 4, 4});
  // 4 -> 4 with k2 s1: 1 pad in total, SAME_UPPER puts it last.
  const auto& p = g.op(1).attr<PoolAttrs>();
  CHECK((p.pad_top == 0 && p.pad_bottom == 1 && p.pad_left == 0 && p.pad_right == 1));
  CHECK(g.shape(g.op(1).output) == Shape{1, 6, 4, 4});
  // VALID ignores the pads attribute.
  CHECK(g.op(2).attr<PoolAttrs>().pad_top == 0);
  CHECK(g.shape(g.outputs()[0]) == Shape{1, 6, 2, 2});
}
