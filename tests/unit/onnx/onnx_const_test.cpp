// The ONNX importer's constant evaluator: the shape arithmetic exporters emit.
#include <catch2/catch.hpp>
#include <limits>

#include "models/onnx/onnx_const.hpp"
#include "tests/unit/onnx/onnx_test_util.hpp"

using namespace nax;
using namespace nax::onnx::detail;
using namespace nax::onnx_test;

namespace {

::onnx::NodeProto node(const std::string& op) {
  ::onnx::NodeProto n;
  n.set_op_type(op);
  n.set_name(op);
  return n;
}

ConstTensor ints(const ir::Shape& dims, std::vector<int64_t> v) {
  return ConstTensor::of_ints(dims, std::move(v));
}

ConstTensor eval1(const ::onnx::NodeProto& n, const std::vector<const ConstTensor*>& in) {
  auto out = eval_const(n, in, 13);
  REQUIRE(out.size() == 1);
  return out[0];
}

}  // namespace

TEST_CASE("Shape -> Gather/Slice -> Concat arithmetic", "[onnx]") {
  const ConstTensor shape = ints({4}, {1, 32, 56, 48});
  // Gather(axis 0) with a scalar index gives a scalar.
  const ConstTensor idx = ints({}, {-1});
  const ConstTensor g = eval1(node("Gather"), {&shape, &idx});
  CHECK(g.dims.empty());
  CHECK(g.ints == std::vector<int64_t>{48});
  // Slice [2:] with INT64_MAX as the end.
  const ConstTensor st = ints({1}, {2}), en = ints({1}, {std::numeric_limits<int64_t>::max()});
  const ConstTensor s = eval1(node("Slice"), {&shape, &st, &en});
  CHECK(s.ints == std::vector<int64_t>{56, 48});
  // Reversed with step -1 from -1 to INT64_MIN + 1 (as torch exports flips).
  const ConstTensor st2 = ints({1}, {-1}), en2 = ints({1}, {-std::numeric_limits<int64_t>::max()});
  const ConstTensor ax = ints({1}, {0}), step = ints({1}, {-1});
  CHECK(eval1(node("Slice"), {&shape, &st2, &en2, &ax, &step}).ints ==
        std::vector<int64_t>{48, 56, 32, 1});
  // Concat with a constant and a multiply.
  auto cat = node("Concat");
  add_int_attr(&cat, "axis", 0);
  const ConstTensor head = ints({2}, {1, 32});
  const ConstTensor two = ints({}, {2});
  const ConstTensor doubled = eval1(node("Mul"), {&s, &two});
  CHECK(eval1(cat, {&head, &doubled}).ints == std::vector<int64_t>{1, 32, 112, 96});
}

TEST_CASE("Unsqueeze, Squeeze, Reshape, Transpose and Cast on constants", "[onnx]") {
  const ConstTensor v = ints({2, 3}, {0, 1, 2, 3, 4, 5});
  auto t = node("Transpose");
  add_ints_attr(&t, "perm", {1, 0});
  const ConstTensor tr = eval1(t, {&v});
  CHECK(tr.dims == ir::Shape{3, 2});
  CHECK(tr.ints == std::vector<int64_t>{0, 3, 1, 4, 2, 5});
  const ConstTensor axes = ints({2}, {0, -1});
  CHECK(eval1(node("Unsqueeze"), {&v, &axes}).dims == ir::Shape{1, 2, 3, 1});
  CHECK(squeeze_shape({1, 2, 1, 3}, {}) == ir::Shape{2, 3});
  CHECK_THROWS_AS(squeeze_shape({1, 2}, {1}), NodeError);
  const ConstTensor target = ints({2}, {-1, 2});
  CHECK(eval1(node("Reshape"), {&v, &target}).dims == ir::Shape{3, 2});
  auto cast = node("Cast");
  add_int_attr(&cast, "to", ::onnx::TensorProto::FLOAT);
  const ConstTensor f = eval1(cast, {&v});
  CHECK(f.is_float);
  CHECK(f.floats[5] == 5.0);
  const ConstTensor half = ConstTensor::of_floats({}, {0.5});
  auto back = node("Cast");
  add_int_attr(&back, "to", ::onnx::TensorProto::INT64);
  CHECK(eval1(back, {&half}).ints == std::vector<int64_t>{0});
}

TEST_CASE("broadcasting ops, Where, Equal, ConstantOfShape and Range", "[onnx]") {
  const ConstTensor a = ints({2, 1}, {1, 2});
  const ConstTensor b = ints({3}, {10, 20, 30});
  const ConstTensor sum = eval1(node("Add"), {&a, &b});
  CHECK(sum.dims == ir::Shape{2, 3});
  CHECK(sum.ints == std::vector<int64_t>{11, 21, 31, 12, 22, 32});
  const ConstTensor neg = ints({1}, {-7});
  const ConstTensor two = ints({1}, {2});
  CHECK(eval1(node("Div"), {&neg, &two}).ints == std::vector<int64_t>{-3});  // truncates
  const ConstTensor zero = ints({1}, {0});
  CHECK_THROWS_AS(eval1(node("Div"), {&neg, &zero}), NodeError);
  const ConstTensor shape = ints({3}, {1, 0, 5});
  const ConstTensor eq = eval1(node("Equal"), {&shape, &zero});
  CHECK(eq.ints == std::vector<int64_t>{0, 1, 0});
  const ConstTensor in_shape = ints({3}, {4, 6, 8});
  CHECK(eval1(node("Where"), {&eq, &in_shape, &shape}).ints == std::vector<int64_t>{1, 6, 5});
  const ConstTensor dims = ints({2}, {2, 3});
  const ConstTensor filled = eval1(node("ConstantOfShape"), {&dims});
  CHECK(filled.is_float);
  CHECK(filled.floats == std::vector<double>(6, 0.0));
  const ConstTensor s0 = ints({}, {0}), s5 = ints({}, {5}), s2 = ints({}, {2});
  CHECK(eval1(node("Range"), {&s0, &s5, &s2}).ints == std::vector<int64_t>{0, 2, 4});
  const ConstTensor big = ints({1}, {int64_t{1} << 40});
  CHECK_THROWS_AS(eval1(node("ConstantOfShape"), {&big}), NodeError);
}

TEST_CASE("TensorProto decoding: raw, typed, shape-only and inconsistent data", "[onnx]") {
  ::onnx::TensorProto t;
  t.set_name("t");
  t.set_data_type(::onnx::TensorProto::FLOAT);
  t.add_dims(2);
  const float raw[2] = {1.5f, -2.f};
  t.set_raw_data(std::string(reinterpret_cast<const char*>(raw), sizeof raw));
  ConstTensor c = decode_tensor(t);
  CHECK(c.has_data);
  CHECK(c.floats == std::vector<double>{1.5, -2.0});

  ::onnx::TensorProto i32;
  i32.set_name("i");
  i32.set_data_type(::onnx::TensorProto::INT32);
  i32.add_dims(3);
  for (int v : {1, -2, 3}) i32.add_int32_data(v);
  CHECK(decode_tensor(i32).ints == std::vector<int64_t>{1, -2, 3});

  ::onnx::TensorProto shape_only;
  shape_only.set_name("w");
  shape_only.set_data_type(::onnx::TensorProto::FLOAT);
  for (int d : {8, 3, 3, 3}) shape_only.add_dims(d);
  const ConstTensor w = decode_tensor(shape_only);
  CHECK_FALSE(w.has_data);
  CHECK(w.dims == ir::Shape{8, 3, 3, 3});

  t.set_raw_data("abc");
  CHECK_THROWS_WITH(decode_tensor(t),
                    "tensor 't': raw data has 3 bytes, expected 8 (2 elements of 4 bytes)");
  ::onnx::TensorProto str;
  str.set_name("s");
  str.set_data_type(::onnx::TensorProto::STRING);
  str.add_dims(1);
  str.add_string_data("x");
  str.set_raw_data("x");
  CHECK_THROWS_AS(decode_tensor(str), NodeError);
}
