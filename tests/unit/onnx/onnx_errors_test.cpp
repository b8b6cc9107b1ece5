// ONNX import errors: every bad input is an InputError that says what is wrong, never a crash or
// a silent skip.
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "models/ir/analysis.hpp"
#include "models/onnx/onnx_import.hpp"
#include "tests/unit/onnx/onnx_test_util.hpp"

using namespace nax;
using namespace nax::onnx_test;

namespace {

// The message of the first diagnostic of the InputError `f` throws ("" if none is thrown).
template <typename F>
std::string input_error(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.diagnostics().empty() ? e.what() : e.diagnostics()[0].message;
  }
  return "";
}

std::string import_error(const ::onnx::ModelProto& m) {
  return input_error([&] { nax::onnx::import_onnx_bytes(bytes_of(m), "test.onnx"); });
}

std::string temp_file(const std::string& name, const std::string& bytes) {
  const auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path.string();
}

}  // namespace

TEST_CASE("an unsupported op is an error naming the op, the node and the opset", "[onnx]") {
  const std::string path = fixture("unsupported_einsum");
  try {
    nax::onnx::import_onnx_file(path);
    FAIL("no error");
  } catch (const InputError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(e.diagnostics()[0].message == "unsupported op 'Einsum' (node '/Einsum', opset 13)");
    CHECK(e.diagnostics()[0].loc.file == path);
    CHECK(std::string(e.what()) == path + ": unsupported op 'Einsum' (node '/Einsum', opset 13)");
  }
}

TEST_CASE("every unsupported node is reported at once", "[onnx]") {
  auto m = tiny_model();
  add_node(m, "GridSample", {"x", "x"}, {"a"}, "gs");
  add_node(m, "Relu", {"a"}, {"b"}, "ok");
  auto* custom = add_node(m, "FusedConv", {"b"}, {"c"}, "");
  custom->set_domain("com.microsoft");
  add_output(m, "c");
  try {
    nax::onnx::import_onnx_bytes(bytes_of(m), "t.onnx");
    FAIL("no error");
  } catch (const InputError& e) {
    REQUIRE(e.diagnostics().size() == 2);
    CHECK(e.diagnostics()[0].message == "unsupported op 'GridSample' (node 'gs', opset 13)");
    CHECK(e.diagnostics()[1].message ==
          "unsupported op 'com.microsoft.FusedConv' (node 'c', opset 13)");
  }
}

TEST_CASE("partly supported ops say what is not supported", "[onnx]") {
  auto m = load_proto("reduce_mean");
  for (auto& n : *m.mutable_graph()->mutable_node()) {
    if (n.name() != "/ReduceMean") continue;
    for (auto& a : *n.mutable_attribute()) {
      if (a.name() == "axes") {
        a.clear_ints();
        a.add_ints(1);
      }
    }
  }
  CHECK(import_error(m) ==
        "unsupported op 'ReduceMean' (node '/ReduceMean', opset 13): only the mean over axes "
        "[2, 3] of an NCHW tensor (global average pooling) is supported; got axes [1] of "
        "1x16x16x16");

  auto mm = tiny_model({1, 8});
  add_node(mm, "MatMul", {"x", "x2"}, {"y"}, "mm");
  set_value_info(mm.mutable_graph()->add_input(), "x2", {8, 8});
  add_node(mm, "Relu", {"x2"}, {"z"}, "r");  // x2 is used as an activation too
  add_output(mm, "y");
  add_output(mm, "z");
  CHECK(import_error(mm) ==
        "unsupported op 'MatMul' (node 'mm', opset 13): both operands are activations");
}

TEST_CASE("empty, garbage and truncated files are InputErrors", "[onnx]") {
  CHECK(input_error([] { nax::onnx::import_onnx_bytes("", "e.onnx"); }) ==
        "empty file: not an ONNX model");
  const std::string empty = temp_file("nax_onnx_empty.onnx", "");
  CHECK(input_error([&] { nax::onnx::import_onnx_file(empty); }) ==
        "empty file: not an ONNX model");
  std::remove(empty.c_str());
  CHECK(input_error([] { nax::onnx::import_onnx_file("/nonexistent/dir/x.onnx"); }) ==
        "no such file");
  CHECK(input_error([] { nax::onnx::import_onnx_file(NAX_FIXTURES); }) == "not a regular file");

  std::mt19937 rng(42);
  for (int i = 0; i < 200; ++i) {
    std::string garbage(static_cast<size_t>(1 + rng() % 300), '\0');
    for (auto& c : garbage) c = static_cast<char>(rng() & 0xff);
    INFO("garbage " << i);
    CHECK_FALSE(input_error([&] { nax::onnx::import_onnx_bytes(garbage, "g.onnx"); }).empty());
  }
  CHECK(input_error([] { nax::onnx::import_onnx_bytes("hello, world", "g.onnx"); }) ==
        "not an ONNX model: the data does not parse as an onnx.ModelProto");

  const std::string good = read_bytes(fixture("mobilenet_v2"));
  REQUIRE(good.size() > 1000);
  for (size_t len :
       {size_t{1}, size_t{10}, size_t{100}, good.size() / 3, good.size() / 2, good.size() - 1}) {
    INFO("truncated to " << len);
    CHECK_FALSE(
        input_error([&] { nax::onnx::import_onnx_bytes(good.substr(0, len), "t.onnx"); }).empty());
  }
  const std::string truncated = temp_file("nax_onnx_truncated.onnx", good.substr(0, 5000));
  CHECK_FALSE(input_error([&] { nax::onnx::import_onnx_file(truncated); }).empty());
  std::remove(truncated.c_str());
}

TEST_CASE("opsets 11 to 17 are accepted, others are errors", "[onnx]") {
  auto m = load_proto("clip_relu6");
  for (int v : {11, 13, 17}) {
    m.mutable_opset_import(0)->set_version(v);
    CHECK(nax::onnx::import_onnx_bytes(bytes_of(m), "t.onnx").ops().size() == 4);
  }
  m.mutable_opset_import(0)->set_version(10);
  CHECK(import_error(m) ==
        "opset 10 is not supported: nax imports ONNX opsets 11 to 17 (onnx.version_converter "
        "can convert a model)");
  m.mutable_opset_import(0)->set_version(18);
  CHECK(import_error(m).rfind("opset 18 is not supported", 0) == 0);
  m.mutable_opset_import(0)->set_domain("ai.onnx.ml");
  CHECK(import_error(m) == "the model imports no opset of the default ONNX domain ('ai.onnx')");
  m.mutable_opset_import(0)->set_domain("ai.onnx");
  m.mutable_opset_import(0)->set_version(12);
  CHECK(import_error(m).empty());
}

TEST_CASE("a cycle and an undefined tensor are errors", "[onnx]") {
  auto m = tiny_model();
  add_node(m, "Relu", {"x"}, {"a"}, "first");
  add_node(m, "Add", {"a", "c"}, {"b"}, "loop_add");
  add_node(m, "Relu", {"b"}, {"c"}, "loop_relu");
  add_output(m, "c");
  CHECK(import_error(m) == "the ONNX graph has a cycle through node 'loop_add' (Add)");

  auto u = tiny_model();
  add_node(u, "Relu", {"nowhere"}, {"a"}, "r");
  add_output(u, "a");
  CHECK(import_error(u) ==
        "node 'r' (Relu) reads 'nowhere', which no node, initializer or graph input defines");

  auto d = tiny_model();
  add_node(d, "Relu", {"x"}, {"a"}, "r1");
  add_node(d, "Relu", {"x"}, {"a"}, "r2");
  add_output(d, "a");
  CHECK(import_error(d) == "tensor 'a' is defined more than once (node 'r2')");
}

TEST_CASE("inconsistent weights and shapes name the node", "[onnx]") {
  auto m = load_proto("clip_relu6");
  for (auto& in : *m.mutable_graph()->mutable_input()) {
    if (in.name() == "c1.weight") {
      in.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(1)->set_dim_value(4);
    }
  }
  CHECK(import_error(m) ==
        "node '/c1/Conv' (Conv): weight W of shape [8, 4, 3, 3] does not match 3 input channels "
        "in 1 group(s)");

  // A shape the file declares that the import does not reproduce.
  auto o = load_proto("clip_relu6");
  o.mutable_graph()
      ->mutable_output(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(2)
      ->set_dim_value(15);
  CHECK(import_error(o) ==
        "tensor 'output': the file declares shape 1x8x15x16, the import gives 1x8x16x16");

  // Shape inference errors from the IR keep the op's name.
  auto r = tiny_model({1, 4, 8, 8});
  add_int64_init(r, "shape", {1, 7, -1});
  add_node(r, "Reshape", {"x", "shape"}, {"y"}, "rs");
  add_output(r, "y");
  CHECK(import_error(r) == "Reshape 'rs': cannot reshape 1x4x8x8 to 1x7x-1");
}

TEST_CASE("values an op needs must be stored; weights need not be", "[onnx]") {
  // A Reshape whose shape is an initializer without data (stripped too far).
  auto m = tiny_model({1, 4, 2, 2});
  auto* t = m.mutable_graph()->add_initializer();
  t->set_name("shape");
  t->set_data_type(::onnx::TensorProto::INT64);
  t->add_dims(2);
  add_node(m, "Reshape", {"x", "shape"}, {"y"}, "rs");
  add_output(m, "y");
  CHECK(import_error(m) ==
        "node 'rs' (Reshape): input shape ('shape') has no values: it is declared without data "
        "(a shape-only file)");

  // A conv whose weight is computed from an activation.
  auto c = tiny_model({1, 4, 8, 8});
  add_node(c, "Relu", {"x"}, {"w"}, "make_w");
  add_node(c, "Conv", {"x", "w"}, {"y"}, "conv");
  add_output(c, "y");
  CHECK(import_error(c) ==
        "node 'conv' (Conv): input W ('w') is computed from activations; nax needs it to be a "
        "constant (a weight)");

  // A weight declared without data imports (shape-only), and a Gemm with transB = 0.
  auto g = tiny_model({1, 16});
  add_weight_input(g, "W", {16, 10});
  add_weight_input(g, "b", {10});
  add_node(g, "Gemm", {"x", "W", "b"}, {"y"}, "fc");
  add_output(g, "y");
  const ir::Graph graph = nax::onnx::import_onnx_bytes(bytes_of(g), "fc.onnx");
  REQUIRE(graph.ops().size() == 1);
  CHECK(graph.inputs().size() == 1);
  CHECK(graph.shape(graph.outputs()[0]) == ir::Shape{1, 10});
  CHECK(ir::analyze(graph).params == 170);

  // Layout ops on a weight without data keep its shape: MatMul(x, Transpose(W)) + b.
  auto tm = tiny_model({1, 3, 16});
  add_weight_input(tm, "W", {10, 16});
  add_int64_init(tm, "b", {0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  auto* tr = add_node(tm, "Transpose", {"W"}, {"Wt"}, "wt");
  add_ints_attr(tr, "perm", {1, 0});
  add_node(tm, "MatMul", {"x", "Wt"}, {"mm"}, "mm");
  add_node(tm, "Add", {"mm", "b"}, {"y"}, "bias");
  add_output(tm, "y");
  const ir::Graph tg = nax::onnx::import_onnx_bytes(bytes_of(tm), "t.onnx");
  REQUIRE(tg.ops().size() == 1);
  CHECK(tg.inputs().size() == 1);
  CHECK(tg.op(0).attr<ir::FcAttrs>().out_features == 10);
  CHECK(tg.op(0).attr<ir::FcAttrs>().bias);
  CHECK(tg.shape(tg.outputs()[0]) == ir::Shape{1, 3, 10});
}

TEST_CASE("a graph output that is a constant, or a graph of constants, is an error", "[onnx]") {
  auto m = tiny_model();
  add_node(m, "Shape", {"x"}, {"s"}, "shape");
  add_output(m, "s");
  CHECK(import_error(m) ==
        "graph output 's' is a constant; nax models outputs computed from the inputs");
}

TEST_CASE("only the batch dimension of a graph input may be symbolic", "[onnx]") {
  auto m = tiny_model();
  auto* dim = m.mutable_graph()
                  ->mutable_input(0)
                  ->mutable_type()
                  ->mutable_tensor_type()
                  ->mutable_shape()
                  ->mutable_dim(2);
  dim->clear_dim_value();
  dim->set_dim_param("height");
  add_node(m, "Relu", {"x"}, {"y"}, "r");
  add_output(m, "y");
  CHECK(import_error(m) ==
        "graph input 'x': dimension 2 is not a fixed number ('height'); nax needs static shapes "
        "except the batch dimension");
}
