#include "models/onnx/onnx_const.hpp"

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>
#include <unordered_map>

namespace nax::onnx::detail {

using ir::Shape;
using TP = ::onnx::TensorProto;

namespace {

[[noreturn]] void fail(const std::string& msg) {
  throw NodeError(msg);
}

int64_t to_i64(double v) {
  if (std::isnan(v)) return 0;
  if (v >= 9.2233720368547758e18) return std::numeric_limits<int64_t>::max();
  if (v <= -9.2233720368547758e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);  // truncates toward zero
}

// Integer arithmetic wraps (two's complement) instead of overflowing: garbage files cannot cause
// undefined behaviour, and real shape arithmetic never comes near the limits.
int64_t wrap_add(int64_t x, int64_t y) {
  return static_cast<int64_t>(static_cast<uint64_t>(x) + static_cast<uint64_t>(y));
}
int64_t wrap_sub(int64_t x, int64_t y) {
  return static_cast<int64_t>(static_cast<uint64_t>(x) - static_cast<uint64_t>(y));
}
int64_t wrap_mul(int64_t x, int64_t y) {
  return static_cast<int64_t>(static_cast<uint64_t>(x) * static_cast<uint64_t>(y));
}

int64_t checked_numel(const Shape& dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) fail("negative dimension in " + ints_str(dims));
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) {
      fail(fmt::format("shape {} has too many elements", ints_str(dims)));
    }
    n *= d;
  }
  return n;
}

void check_size(const Shape& dims) {
  const int64_t n = checked_numel(dims);
  if (n > kMaxConstElements) {
    fail(fmt::format("constant of shape {} ({} elements) is too large to fold (limit {})",
                     ints_str(dims), n, kMaxConstElements));
  }
}

float half_to_float(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1u, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  float v;
  if (exp == 0) {
    v = std::ldexp(static_cast<float>(mant), -24);
  } else if (exp == 31) {
    v = mant ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  } else {
    v = std::ldexp(static_cast<float>(mant + 1024), static_cast<int>(exp) - 25);
  }
  return sign ? -v : v;
}

float bf16_to_float(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

// Reads `n` little-endian elements of type T from raw bytes (hosts are little-endian here).
template <typename T>
std::vector<T> raw_as(const std::string& raw, int64_t n) {
  if (raw.size() != static_cast<size_t>(n) * sizeof(T)) {
    fail(fmt::format("raw data has {} bytes, expected {} ({} elements of {} bytes)", raw.size(),
                     static_cast<size_t>(n) * sizeof(T), n, sizeof(T)));
  }
  std::vector<T> v(static_cast<size_t>(n));
  if (n > 0) std::memcpy(v.data(), raw.data(), raw.size());
  return v;
}

template <typename T, typename Field>
std::vector<T> field_as(const Field& f) {
  return std::vector<T>(f.begin(), f.end());
}

std::vector<int64_t> strides_of(const Shape& d) {
  std::vector<int64_t> s(d.size(), 1);
  for (size_t i = d.size(); i-- > 1;) s[i - 1] = s[i] * d[i];
  return s;
}

Shape broadcast_shapes(const std::vector<const Shape*>& shapes) {
  size_t rank = 0;
  for (const Shape* s : shapes) rank = std::max(rank, s->size());
  Shape out(rank, 1);
  for (const Shape* s : shapes) {
    for (size_t i = 0; i < s->size(); ++i) {
      const size_t o = rank - s->size() + i;
      const int64_t d = (*s)[i];
      if (d == out[o] || d == 1) continue;
      if (out[o] == 1) {
        out[o] = d;
      } else {
        std::string all;
        for (const Shape* t : shapes) all += (all.empty() ? "" : " and ") + ints_str(*t);
        fail("shapes " + all + " do not broadcast");
      }
    }
  }
  return out;
}

// Calls f(out_index, offsets into each input) for every element of `out` under broadcasting.
void for_each_broadcast(const Shape& out, const std::vector<const Shape*>& ins,
                        const std::function<void(size_t, const std::vector<size_t>&)>& f) {
  const size_t rank = out.size();
  std::vector<std::vector<int64_t>> in_strides;
  for (const Shape* s : ins) {
    std::vector<int64_t> st(rank, 0);
    const auto own = strides_of(*s);
    for (size_t i = 0; i < s->size(); ++i) {
      const size_t o = rank - s->size() + i;
      st[o] = (*s)[i] == 1 ? 0 : own[i];
    }
    in_strides.push_back(std::move(st));
  }
  const int64_t n = ir::numel(out);
  std::vector<int64_t> idx(rank, 0);
  std::vector<size_t> offs(ins.size(), 0);
  for (int64_t e = 0; e < n; ++e) {
    for (size_t k = 0; k < ins.size(); ++k) {
      int64_t o = 0;
      for (size_t d = 0; d < rank; ++d) o += idx[d] * in_strides[k][d];
      offs[k] = static_cast<size_t>(o);
    }
    f(static_cast<size_t>(e), offs);
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < out[d]) break;
      idx[d] = 0;
    }
  }
}

const ConstTensor& need(const std::vector<const ConstTensor*>& in, size_t i, const char* what) {
  if (i >= in.size() || !in[i]) fail(fmt::format("missing input {} ({})", i, what));
  return *in[i];
}

const ConstTensor* opt(const std::vector<const ConstTensor*>& in, size_t i) {
  return i < in.size() ? in[i] : nullptr;
}

std::vector<int64_t> ints_of(const ConstTensor& t) {
  std::vector<int64_t> v(t.size());
  for (size_t i = 0; i < v.size(); ++i) v[i] = t.i(i);
  return v;
}

int64_t norm_axis(int64_t axis, int64_t rank, const char* what) {
  const int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) fail(fmt::format("{} {} out of range for rank {}", what, axis, rank));
  return a;
}

// Copies elements of `src` at `offsets` into a tensor of `dims`.
ConstTensor gather_elems(const ConstTensor& src, const Shape& dims,
                         const std::vector<size_t>& offsets) {
  ConstTensor out;
  out.is_float = src.is_float;
  out.onnx_type = src.onnx_type;
  out.dims = dims;
  out.has_data = true;
  for (size_t o : offsets) {
    if (o >= src.size()) fail("internal: element offset out of range");
  }
  if (src.is_float) {
    out.floats.reserve(offsets.size());
    for (size_t o : offsets) out.floats.push_back(src.floats[o]);
  } else {
    out.ints.reserve(offsets.size());
    for (size_t o : offsets) out.ints.push_back(src.ints[o]);
  }
  return out;
}

ConstTensor with_dims(const ConstTensor& src, const Shape& dims) {
  ConstTensor out = src;
  out.dims = dims;
  return out;
}

Shape reshape_target(const Shape& in, const std::vector<int64_t>& target, bool allowzero) {
  Shape out(target.begin(), target.end());
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == 0 && !allowzero) {
      if (i >= in.size()) fail("0 in the target shape beyond the input's rank");
      out[i] = in[i];
    }
    if (out[i] == -1) {
      if (infer >= 0) fail("more than one -1 in the target shape");
      infer = static_cast<int>(i);
    } else if (out[i] < 0) {
      fail("invalid target shape " + ints_str(target));
    } else {
      if (out[i] != 0 && known > std::numeric_limits<int64_t>::max() / out[i]) {
        fail("target shape " + ints_str(target) + " has too many elements");
      }
      known *= out[i];
    }
  }
  const int64_t n = ir::numel(in);
  if (infer >= 0) {
    if (known == 0 || n % known != 0) {
      fail(fmt::format("cannot reshape {} to {}", ints_str(in), ints_str(target)));
    }
    out[static_cast<size_t>(infer)] = n / known;
  }
  if (ir::numel(out) != n) {
    fail(fmt::format("cannot reshape {} to {}", ints_str(in), ints_str(target)));
  }
  return out;
}

ConstTensor make_like(bool is_float, int32_t type, const Shape& dims) {
  ConstTensor t;
  t.is_float = is_float;
  t.onnx_type = type;
  t.dims = dims;
  t.has_data = true;
  const size_t n = static_cast<size_t>(ir::numel(dims));
  if (is_float) {
    t.floats.resize(n);
  } else {
    t.ints.resize(n);
  }
  return t;
}

// ---- the ops ----------------------------------------------------------------------------------

using Inputs = std::vector<const ConstTensor*>;
using Eval = std::function<std::vector<ConstTensor>(const ::onnx::NodeProto&, const Inputs&, int)>;

std::vector<ConstTensor> one(ConstTensor t) {
  std::vector<ConstTensor> v;
  v.push_back(std::move(t));
  return v;
}

// Element-wise binary ops: the float and the integer form, and whether the result is bool.
struct BinaryFn {
  double (*f)(double, double);
  int64_t (*i)(int64_t, int64_t);
  bool logical;  // comparison or logic: a bool result
};

int64_t int_div(int64_t x, int64_t y) {
  if (y == 0) fail("integer division by zero");
  if (y == -1) return wrap_sub(0, x);
  return x / y;  // truncates, as runtimes do for integer tensors
}

const std::unordered_map<std::string, BinaryFn>& binary_fns() {
  static const std::unordered_map<std::string, BinaryFn> kFns = {
      {"Add", {[](double x, double y) { return x + y; }, wrap_add, false}},
      {"Sub", {[](double x, double y) { return x - y; }, wrap_sub, false}},
      {"Mul", {[](double x, double y) { return x * y; }, wrap_mul, false}},
      {"Div", {[](double x, double y) { return x / y; }, int_div, false}},
      {"Pow",
       {[](double x, double y) { return std::pow(x, y); },
        [](int64_t x, int64_t y) {
          return to_i64(std::pow(static_cast<double>(x), static_cast<double>(y)));
        },
        false}},
      {"Min",
       {[](double x, double y) { return std::min(x, y); },
        [](int64_t x, int64_t y) { return std::min(x, y); }, false}},
      {"Max",
       {[](double x, double y) { return std::max(x, y); },
        [](int64_t x, int64_t y) { return std::max(x, y); }, false}},
      {"Equal",
       {[](double x, double y) { return (x == y ? 1.0 : 0.0); },
        [](int64_t x, int64_t y) { return int64_t{x == y}; }, true}},
      {"Less",
       {[](double x, double y) { return (x < y ? 1.0 : 0.0); },
        [](int64_t x, int64_t y) { return int64_t{x < y}; }, true}},
      {"Greater",
       {[](double x, double y) { return (x > y ? 1.0 : 0.0); },
        [](int64_t x, int64_t y) { return int64_t{x > y}; }, true}},
      {"LessOrEqual",
       {[](double x, double y) { return (x <= y ? 1.0 : 0.0); },
        [](int64_t x, int64_t y) { return int64_t{x <= y}; }, true}},
      {"GreaterOrEqual",
       {[](double x, double y) { return (x >= y ? 1.0 : 0.0); },
        [](int64_t x, int64_t y) { return int64_t{x >= y}; }, true}},
      {"And",
       {[](double x, double y) { return (x != 0 && y != 0 ? 1.0 : 0.0); },
        [](int64_t x, int64_t y) { return int64_t{x != 0 && y != 0}; }, true}},
      {"Or",
       {[](double x, double y) { return (x != 0 || y != 0 ? 1.0 : 0.0); },
        [](int64_t x, int64_t y) { return int64_t{x != 0 || y != 0}; }, true}},
  };
  return kFns;
}

ConstTensor eval_binary(const std::string& op, const ConstTensor& a, const ConstTensor& b) {
  const BinaryFn& fn = binary_fns().at(op);
  const Shape out_dims = broadcast_shapes({&a.dims, &b.dims});
  check_size(out_dims);
  const bool fl = a.is_float || b.is_float;
  ConstTensor out = make_like(fl && !fn.logical,
                              fn.logical ? TP::BOOL : (fl ? TP::FLOAT : a.onnx_type), out_dims);
  for_each_broadcast(out_dims, {&a.dims, &b.dims}, [&](size_t e, const std::vector<size_t>& o) {
    if (!fl) {
      out.ints[e] = fn.i(a.ints[o[0]], b.ints[o[1]]);
    } else if (fn.logical) {
      out.ints[e] = fn.f(a.f(o[0]), b.f(o[1])) != 0;
    } else {
      out.floats[e] = fn.f(a.f(o[0]), b.f(o[1]));
    }
  });
  return out;
}

std::vector<ConstTensor> eval_variadic(const ::onnx::NodeProto& n, const Inputs& in, int) {
  if (in.empty() || !in[0]) fail("expected at least one input");
  ConstTensor acc = *in[0];
  for (size_t i = 1; i < in.size(); ++i) acc = eval_binary(n.op_type(), acc, need(in, i, "B"));
  return one(std::move(acc));
}

std::vector<ConstTensor> eval_binary_op(const ::onnx::NodeProto& n, const Inputs& in, int) {
  return one(eval_binary(n.op_type(), need(in, 0, "A"), need(in, 1, "B")));
}

std::vector<ConstTensor> eval_unary(const ::onnx::NodeProto& n, const Inputs& in, int) {
  using F = double (*)(double);
  static const std::unordered_map<std::string, F> kFns = {
      {"Neg", [](double x) { return -x; }},
      {"Abs", [](double x) { return std::fabs(x); }},
      {"Floor", [](double x) { return std::floor(x); }},
      {"Ceil", [](double x) { return std::ceil(x); }},
      {"Sqrt", [](double x) { return std::sqrt(x); }},
      {"Reciprocal", [](double x) { return 1.0 / x; }},
      {"Not", [](double x) { return (x == 0 ? 1.0 : 0.0); }},
  };
  const std::string& op = n.op_type();
  const F f = kFns.at(op);
  ConstTensor t = need(in, 0, "X");
  if (t.is_float) {
    for (auto& v : t.floats) v = f(v);
  } else if (op == "Neg" || op == "Abs" || op == "Not") {  // exact on int64
    for (auto& v : t.ints) {
      v = op == "Neg" ? wrap_sub(0, v) : op == "Abs" ? (v < 0 ? wrap_sub(0, v) : v) : v == 0;
    }
  } else if (op == "Sqrt" || op == "Reciprocal") {
    fail(op + " of an integer tensor");
  }  // Floor and Ceil leave integers as they are
  return one(std::move(t));
}

std::vector<ConstTensor> eval_identity(const ::onnx::NodeProto&, const Inputs& in, int) {
  return one(need(in, 0, "input"));
}

std::vector<ConstTensor> eval_constant(const ::onnx::NodeProto& n, const Inputs&, int) {
  if (n.attribute_size() != 1) fail("expected exactly one value attribute");
  const auto& a = n.attribute(0);
  if (a.name() == "value") return one(decode_tensor(a.t()));
  if (a.name() == "value_float") return one(ConstTensor::of_floats({}, {a.f()}));
  if (a.name() == "value_int") return one(ConstTensor::of_ints({}, {a.i()}));
  if (a.name() == "value_floats") {
    std::vector<double> v(a.floats().begin(), a.floats().end());
    const Shape d{static_cast<int64_t>(v.size())};
    return one(ConstTensor::of_floats(d, std::move(v)));
  }
  if (a.name() == "value_ints") {
    std::vector<int64_t> v(a.ints().begin(), a.ints().end());
    const Shape d{static_cast<int64_t>(v.size())};
    return one(ConstTensor::of_ints(d, std::move(v)));
  }
  fail("Constant with attribute '" + a.name() + "' (sparse or string values) is not supported");
}

std::vector<ConstTensor> eval_constant_of_shape(const ::onnx::NodeProto& n, const Inputs& in, int) {
  const Shape dims = ints_of(need(in, 0, "input"));
  check_size(dims);
  ConstTensor fillv = ConstTensor::of_floats({1}, {0.0});
  fillv.onnx_type = TP::FLOAT;
  if (const auto* a = find_attr(n, "value")) fillv = decode_tensor(a->t());
  if (fillv.numel() != 1 || !fillv.has_data) fail("value must hold exactly one element");
  ConstTensor out = make_like(fillv.is_float, fillv.onnx_type, dims);
  if (out.is_float) {
    std::fill(out.floats.begin(), out.floats.end(), fillv.floats[0]);
  } else {
    std::fill(out.ints.begin(), out.ints.end(), fillv.ints[0]);
  }
  return one(std::move(out));
}

std::vector<ConstTensor> eval_cast(const ::onnx::NodeProto& n, const Inputs& in, int) {
  const ConstTensor& x = need(in, 0, "input");
  const int32_t to = static_cast<int32_t>(attr_int(n, "to", 0));
  if (!TP::DataType_IsValid(to) || to == TP::UNDEFINED || to == TP::STRING || to == TP::COMPLEX64 ||
      to == TP::COMPLEX128) {
    fail(fmt::format("Cast to element type {} is not supported", to));
  }
  ConstTensor out = make_like(is_float_type(to), to, x.dims);
  for (size_t i = 0; i < x.size(); ++i) {
    if (out.is_float) {
      out.floats[i] = x.f(i);
    } else if (to == TP::BOOL) {
      out.ints[i] = x.f(i) != 0;
    } else {
      out.ints[i] = x.i(i);
    }
  }
  return one(std::move(out));
}

std::vector<ConstTensor> eval_gather(const ::onnx::NodeProto& n, const Inputs& in, int) {
  const ConstTensor& data = need(in, 0, "data");
  const ConstTensor& idx = need(in, 1, "indices");
  const int64_t rank = static_cast<int64_t>(data.dims.size());
  if (rank == 0) fail("Gather on a scalar");
  const int64_t axis = norm_axis(attr_int(n, "axis", 0), rank, "axis");
  const int64_t dim = data.dims[static_cast<size_t>(axis)];
  Shape out_dims(data.dims.begin(), data.dims.begin() + axis);
  out_dims.insert(out_dims.end(), idx.dims.begin(), idx.dims.end());
  out_dims.insert(out_dims.end(), data.dims.begin() + axis + 1, data.dims.end());
  check_size(out_dims);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= data.dims[static_cast<size_t>(d)];
  for (int64_t d = axis + 1; d < rank; ++d) inner *= data.dims[static_cast<size_t>(d)];
  std::vector<size_t> offs;
  for (int64_t o = 0; o < outer; ++o) {
    for (size_t k = 0; k < idx.size(); ++k) {
      int64_t j = idx.i(k);
      if (j < 0) j += dim;
      if (j < 0 || j >= dim) fail(fmt::format("index {} out of range for dimension {}", j, dim));
      for (int64_t e = 0; e < inner; ++e) {
        offs.push_back(static_cast<size_t>((o * dim + j) * inner + e));
      }
    }
  }
  return one(gather_elems(data, out_dims, offs));
}

// Elements of `data` at start + k*step along each axis, k < count.
ConstTensor strided(const ConstTensor& data, const std::vector<int64_t>& start,
                    const std::vector<int64_t>& step, const Shape& count) {
  check_size(count);
  const auto st = strides_of(data.dims);
  std::vector<size_t> offs;
  offs.reserve(static_cast<size_t>(ir::numel(count)));
  const size_t rank = count.size();
  std::vector<int64_t> k(rank, 0);
  for (int64_t e = 0, n = ir::numel(count); e < n; ++e) {
    int64_t o = 0;
    for (size_t d = 0; d < rank; ++d) o += (start[d] + k[d] * step[d]) * st[d];
    offs.push_back(static_cast<size_t>(o));
    for (size_t d = rank; d-- > 0;) {
      if (++k[d] < count[d]) break;
      k[d] = 0;
    }
  }
  return gather_elems(data, count, offs);
}

std::vector<ConstTensor> eval_slice(const ::onnx::NodeProto&, const Inputs& in, int) {
  const ConstTensor& data = need(in, 0, "data");
  const auto starts = ints_of(need(in, 1, "starts"));
  const auto ends = ints_of(need(in, 2, "ends"));
  const int64_t rank = static_cast<int64_t>(data.dims.size());
  std::vector<int64_t> axes, steps;
  if (const ConstTensor* a = opt(in, 3)) axes = ints_of(*a);
  if (const ConstTensor* s = opt(in, 4)) steps = ints_of(*s);
  if (axes.empty()) {
    axes.resize(starts.size());
    std::iota(axes.begin(), axes.end(), 0);
  }
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size()) {
    fail("starts, ends, axes and steps must have the same length");
  }
  std::vector<int64_t> start(static_cast<size_t>(rank), 0), step(static_cast<size_t>(rank), 1);
  Shape count = data.dims;
  for (size_t i = 0; i < starts.size(); ++i) {
    const size_t ax = static_cast<size_t>(norm_axis(axes[i], rank, "axis"));
    const int64_t d = data.dims[ax];
    const int64_t s = steps[i];
    if (s == 0) fail("slice step 0");
    int64_t b = starts[i], e = ends[i];
    if (b < 0) b += d;
    if (e < 0) e += d;
    if (s > 0) {
      b = std::clamp<int64_t>(b, 0, d);
      e = std::clamp<int64_t>(e, 0, d);
      count[ax] = e > b ? (e - b - 1) / s + 1 : 0;
    } else {
      b = std::clamp<int64_t>(b, 0, d - 1);
      e = std::clamp<int64_t>(e, -1, d - 1);
      const uint64_t mag = uint64_t{0} - static_cast<uint64_t>(s);  // |s|, also for INT64_MIN
      count[ax] = b > e ? static_cast<int64_t>(static_cast<uint64_t>(b - e - 1) / mag) + 1 : 0;
    }
    start[ax] = b;
    step[ax] = s;
  }
  return one(strided(data, start, step, count));
}

std::vector<ConstTensor> eval_concat(const ::onnx::NodeProto& n, const Inputs& in, int) {
  if (in.empty()) fail("expected at least one input");
  const ConstTensor& first = need(in, 0, "input");
  const int64_t rank = static_cast<int64_t>(first.dims.size());
  const int64_t axis = norm_axis(attr_int(n, "axis", 0), rank, "axis");
  Shape out_dims = first.dims;
  out_dims[static_cast<size_t>(axis)] = 0;
  bool fl = false;
  for (size_t i = 0; i < in.size(); ++i) {
    const ConstTensor& t = need(in, i, "input");
    fl = fl || t.is_float;
    bool ok = static_cast<int64_t>(t.dims.size()) == rank;
    for (int64_t d = 0; ok && d < rank; ++d) {
      if (d != axis && t.dims[static_cast<size_t>(d)] != first.dims[static_cast<size_t>(d)])
        ok = false;
    }
    if (!ok) {
      fail(fmt::format("input shapes {} and {} do not concatenate on axis {}", ints_str(first.dims),
                       ints_str(t.dims), axis));
    }
    out_dims[static_cast<size_t>(axis)] += t.dims[static_cast<size_t>(axis)];
  }
  check_size(out_dims);
  ConstTensor out = make_like(fl, fl ? TP::FLOAT : first.onnx_type, out_dims);
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= first.dims[static_cast<size_t>(d)];
  size_t w = 0;
  for (int64_t o = 0; o < outer; ++o) {
    for (const ConstTensor* t : in) {
      const int64_t block = ir::numel(t->dims) / std::max<int64_t>(outer, 1);
      for (int64_t e = 0; e < block; ++e, ++w) {
        const size_t src = static_cast<size_t>(o * block + e);
        if (fl) {
          out.floats[w] = t->f(src);
        } else {
          out.ints[w] = t->ints[src];
        }
      }
    }
  }
  return one(std::move(out));
}

std::vector<int64_t> axes_of(const ::onnx::NodeProto& n, const Inputs& in) {
  if (find_attr(n, "axes")) return attr_ints(n, "axes");
  if (const ConstTensor* a = opt(in, 1)) return ints_of(*a);
  return {};
}

std::vector<ConstTensor> eval_unsqueeze(const ::onnx::NodeProto& n, const Inputs& in, int) {
  const ConstTensor& x = need(in, 0, "data");
  return one(with_dims(x, unsqueeze_shape(x.dims, axes_of(n, in))));
}

std::vector<ConstTensor> eval_squeeze(const ::onnx::NodeProto& n, const Inputs& in, int) {
  const ConstTensor& x = need(in, 0, "data");
  return one(with_dims(x, squeeze_shape(x.dims, axes_of(n, in))));
}

std::vector<ConstTensor> eval_reshape(const ::onnx::NodeProto& n, const Inputs& in, int) {
  const ConstTensor& x = need(in, 0, "data");
  const auto target = ints_of(need(in, 1, "shape"));
  return one(with_dims(x, reshape_target(x.dims, target, attr_int(n, "allowzero", 0) != 0)));
}

std::vector<ConstTensor> eval_flatten(const ::onnx::NodeProto& n, const Inputs& in, int) {
  const ConstTensor& x = need(in, 0, "input");
  const int64_t rank = static_cast<int64_t>(x.dims.size());
  int64_t axis = attr_int(n, "axis", 1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis > rank) fail("axis out of range");
  int64_t lead = 1, rest = 1;
  for (int64_t d = 0; d < rank; ++d) (d < axis ? lead : rest) *= x.dims[static_cast<size_t>(d)];
  return one(with_dims(x, {lead, rest}));
}

std::vector<ConstTensor> eval_transpose(const ::onnx::NodeProto& n, const Inputs& in, int) {
  const ConstTensor& x = need(in, 0, "data");
  const size_t rank = x.dims.size();
  std::vector<int64_t> perm = attr_ints(n, "perm");
  if (perm.empty()) {
    for (size_t i = rank; i-- > 0;) perm.push_back(static_cast<int64_t>(i));
  }
  if (perm.size() != rank) fail("perm length does not match the rank");
  std::vector<bool> used(rank, false);
  const auto st = strides_of(x.dims);
  Shape out_dims(rank);
  std::vector<int64_t> src_stride(rank);
  for (size_t i = 0; i < rank; ++i) {
    const size_t p = static_cast<size_t>(norm_axis(perm[i], static_cast<int64_t>(rank), "perm"));
    if (used[p]) fail("perm " + ints_str(perm) + " is not a permutation");
    used[p] = true;
    out_dims[i] = x.dims[p];
    src_stride[i] = st[p];
  }
  std::vector<size_t> offs;
  std::vector<int64_t> k(rank, 0);
  for (int64_t e = 0, total = ir::numel(out_dims); e < total; ++e) {
    int64_t o = 0;
    for (size_t d = 0; d < rank; ++d) o += k[d] * src_stride[d];
    offs.push_back(static_cast<size_t>(o));
    for (size_t d = rank; d-- > 0;) {
      if (++k[d] < out_dims[d]) break;
      k[d] = 0;
    }
  }
  return one(gather_elems(x, out_dims, offs));
}

std::vector<ConstTensor> eval_expand(const ::onnx::NodeProto&, const Inputs& in, int) {
  const ConstTensor& x = need(in, 0, "input");
  const Shape shape = ints_of(need(in, 1, "shape"));
  const Shape out_dims = broadcast_shapes({&x.dims, &shape});
  check_size(out_dims);
  std::vector<size_t> offs;
  for_each_broadcast(out_dims, {&x.dims},
                     [&](size_t, const std::vector<size_t>& o) { offs.push_back(o[0]); });
  return one(gather_elems(x, out_dims, offs));
}

std::vector<ConstTensor> eval_where(const ::onnx::NodeProto&, const Inputs& in, int) {
  const ConstTensor& c = need(in, 0, "condition");
  const ConstTensor& x = need(in, 1, "X");
  const ConstTensor& y = need(in, 2, "Y");
  const Shape out_dims = broadcast_shapes({&c.dims, &x.dims, &y.dims});
  check_size(out_dims);
  const bool fl = x.is_float || y.is_float;
  ConstTensor out = make_like(fl, fl ? TP::FLOAT : x.onnx_type, out_dims);
  for_each_broadcast(out_dims, {&c.dims, &x.dims, &y.dims},
                     [&](size_t e, const std::vector<size_t>& o) {
                       const bool pick = c.f(o[0]) != 0;
                       if (fl) {
                         out.floats[e] = pick ? x.f(o[1]) : y.f(o[2]);
                       } else {
                         out.ints[e] = pick ? x.ints[o[1]] : y.ints[o[2]];
                       }
                     });
  return one(std::move(out));
}

std::vector<ConstTensor> eval_range(const ::onnx::NodeProto&, const Inputs& in, int) {
  const ConstTensor& s = need(in, 0, "start");
  const ConstTensor& l = need(in, 1, "limit");
  const ConstTensor& d = need(in, 2, "delta");
  if (s.size() != 1 || l.size() != 1 || d.size() != 1) fail("start, limit, delta must be scalars");
  const bool fl = s.is_float || l.is_float || d.is_float;
  if (d.f(0) == 0) fail("delta is 0");
  const double cnt = std::ceil((l.f(0) - s.f(0)) / d.f(0));
  const int64_t n = std::max<int64_t>(0, to_i64(cnt));
  check_size({n});
  ConstTensor out = make_like(fl, fl ? TP::FLOAT : s.onnx_type, {n});
  for (int64_t k = 0; k < n; ++k) {
    if (fl) {
      out.floats[static_cast<size_t>(k)] = s.f(0) + static_cast<double>(k) * d.f(0);
    } else {
      out.ints[static_cast<size_t>(k)] = wrap_add(s.ints[0], wrap_mul(k, d.ints[0]));
    }
  }
  return one(std::move(out));
}

const std::unordered_map<std::string, Eval>& evaluators() {
  static const std::unordered_map<std::string, Eval> kEval = {
      {"Constant", eval_constant},
      {"ConstantOfShape", eval_constant_of_shape},
      {"Identity", eval_identity},
      {"Cast", eval_cast},
      {"Gather", eval_gather},
      {"Slice", eval_slice},
      {"Concat", eval_concat},
      {"Unsqueeze", eval_unsqueeze},
      {"Squeeze", eval_squeeze},
      {"Reshape", eval_reshape},
      {"Flatten", eval_flatten},
      {"Transpose", eval_transpose},
      {"Expand", eval_expand},
      {"Where", eval_where},
      {"Range", eval_range},
      {"Add", eval_binary_op},
      {"Sub", eval_binary_op},
      {"Mul", eval_binary_op},
      {"Div", eval_binary_op},
      {"Pow", eval_binary_op},
      {"Equal", eval_binary_op},
      {"Less", eval_binary_op},
      {"Greater", eval_binary_op},
      {"LessOrEqual", eval_binary_op},
      {"GreaterOrEqual", eval_binary_op},
      {"And", eval_binary_op},
      {"Or", eval_binary_op},
      {"Min", eval_variadic},
      {"Max", eval_variadic},
      {"Neg", eval_unary},
      {"Abs", eval_unary},
      {"Floor", eval_unary},
      {"Ceil", eval_unary},
      {"Sqrt", eval_unary},
      {"Reciprocal", eval_unary},
      {"Not", eval_unary},
  };
  return kEval;
}

}  // namespace

ir::Shape unsqueeze_shape(const ir::Shape& in, std::vector<int64_t> axes) {
  const int64_t out_rank = static_cast<int64_t>(in.size() + axes.size());
  for (auto& a : axes) a = norm_axis(a, out_rank, "axis");
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end()) fail("repeated axis");
  Shape out;
  size_t src = 0, ai = 0;
  for (int64_t d = 0; d < out_rank; ++d) {
    if (ai < axes.size() && axes[ai] == d) {
      out.push_back(1);
      ++ai;
    } else {
      out.push_back(in[src++]);
    }
  }
  return out;
}

ir::Shape squeeze_shape(const ir::Shape& in, std::vector<int64_t> axes) {
  const int64_t rank = static_cast<int64_t>(in.size());
  for (auto& a : axes) a = norm_axis(a, rank, "axis");
  Shape out;
  for (int64_t d = 0; d < rank; ++d) {
    const bool listed = std::find(axes.begin(), axes.end(), d) != axes.end();
    const int64_t v = in[static_cast<size_t>(d)];
    if (listed && v != 1) fail(fmt::format("cannot squeeze dimension {} of size {}", d, v));
    if (listed || (axes.empty() && v == 1)) continue;
    out.push_back(v);
  }
  return out;
}

int64_t ConstTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d <= 0) return 0;
    if (n > std::numeric_limits<int64_t>::max() / d) return std::numeric_limits<int64_t>::max();
    n *= d;
  }
  return n;
}

int64_t ConstTensor::i(size_t k) const {
  return is_float ? to_i64(floats[k]) : ints[k];
}

ConstTensor ConstTensor::of_ints(const ir::Shape& dims, std::vector<int64_t> v) {
  ConstTensor t;
  t.onnx_type = TP::INT64;
  t.dims = dims;
  t.has_data = true;
  t.ints = std::move(v);
  return t;
}

ConstTensor ConstTensor::of_floats(const ir::Shape& dims, std::vector<double> v) {
  ConstTensor t;
  t.is_float = true;
  t.onnx_type = TP::FLOAT;
  t.dims = dims;
  t.has_data = true;
  t.floats = std::move(v);
  return t;
}

std::string ints_str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

bool is_float_type(int32_t t) {
  return t == TP::FLOAT || t == TP::DOUBLE || t == TP::FLOAT16 || t == TP::BFLOAT16;
}

ir::Shape tensor_dims(const TP& t) {
  Shape dims(t.dims().begin(), t.dims().end());
  for (int64_t d : dims) {
    if (d < 0) fail(fmt::format("tensor '{}' has a negative dimension {}", t.name(), d));
  }
  return dims;
}

ConstTensor decode_tensor(const TP& t, bool decode) {
  ConstTensor c;
  c.onnx_type = t.data_type();
  c.is_float = is_float_type(c.onnx_type);
  c.dims = tensor_dims(t);
  const int64_t n = checked_numel(c.dims);
  if (t.data_location() == TP::EXTERNAL) {
    c.no_data_why = "its data is stored in an external file, which nax does not read";
    return c;
  }
  const bool has_raw = t.has_raw_data();
  const size_t typed =
      static_cast<size_t>(t.float_data_size() + t.int32_data_size() + t.int64_data_size() +
                          t.double_data_size() + t.uint64_data_size());
  if (!has_raw && typed == 0 && n > 0) {
    c.no_data_why = "it is declared without data (a shape-only file)";
    return c;
  }
  if (!decode) {
    c.source = &t;
    c.no_data_why = "not decoded";
    return c;
  }
  if (n > kMaxConstElements) {
    fail(fmt::format("tensor '{}' has {} elements, too many to use as a constant", t.name(), n));
  }
  const std::string& raw = t.raw_data();
  try {
    switch (t.data_type()) {
      case TP::FLOAT: {
        const auto v = has_raw ? raw_as<float>(raw, n) : field_as<float>(t.float_data());
        c.floats.assign(v.begin(), v.end());
        break;
      }
      case TP::DOUBLE:
        c.floats = has_raw ? raw_as<double>(raw, n) : field_as<double>(t.double_data());
        break;
      case TP::FLOAT16:
      case TP::BFLOAT16: {
        const auto bits = has_raw ? raw_as<uint16_t>(raw, n) : field_as<uint16_t>(t.int32_data());
        for (uint16_t b : bits) {
          c.floats.push_back(t.data_type() == TP::FLOAT16 ? half_to_float(b) : bf16_to_float(b));
        }
        break;
      }
      case TP::INT64:
        c.ints = has_raw ? raw_as<int64_t>(raw, n) : field_as<int64_t>(t.int64_data());
        break;
      case TP::INT32: {
        const auto v = has_raw ? raw_as<int32_t>(raw, n) : field_as<int32_t>(t.int32_data());
        c.ints.assign(v.begin(), v.end());
        break;
      }
      case TP::INT16: {
        const auto v = has_raw ? raw_as<int16_t>(raw, n) : field_as<int16_t>(t.int32_data());
        c.ints.assign(v.begin(), v.end());
        break;
      }
      case TP::UINT16: {
        const auto v = has_raw ? raw_as<uint16_t>(raw, n) : field_as<uint16_t>(t.int32_data());
        c.ints.assign(v.begin(), v.end());
        break;
      }
      case TP::INT8: {
        const auto v = has_raw ? raw_as<int8_t>(raw, n) : field_as<int8_t>(t.int32_data());
        c.ints.assign(v.begin(), v.end());
        break;
      }
      case TP::UINT8:
      case TP::BOOL: {
        const auto v = has_raw ? raw_as<uint8_t>(raw, n) : field_as<uint8_t>(t.int32_data());
        c.ints.assign(v.begin(), v.end());
        break;
      }
      case TP::UINT32:
      case TP::UINT64: {
        if (has_raw) {
          if (t.data_type() == TP::UINT32) {
            const auto v = raw_as<uint32_t>(raw, n);
            c.ints.assign(v.begin(), v.end());
          } else {
            const auto v = raw_as<uint64_t>(raw, n);
            for (uint64_t x : v) c.ints.push_back(static_cast<int64_t>(x));
          }
        } else {
          for (uint64_t x : t.uint64_data()) c.ints.push_back(static_cast<int64_t>(x));
        }
        break;
      }
      default:
        fail(fmt::format("element type {} cannot be used as a constant", t.data_type()));
    }
  } catch (const NodeError& e) {
    throw NodeError(fmt::format("tensor '{}': {}", t.name(), e.what()));
  }
  if (static_cast<int64_t>(c.size()) != n) {
    fail(fmt::format("tensor '{}' has {} values for shape {}", t.name(), c.size(),
                     ints_str(c.dims)));
  }
  c.has_data = true;
  return c;
}

const ::onnx::AttributeProto* find_attr(const ::onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}

namespace {
void expect_type(const ::onnx::AttributeProto& a, ::onnx::AttributeProto::AttributeType t,
                 const char* what) {
  // Some writers leave `type` unset (0); accept those.
  if (a.type() != t && a.type() != ::onnx::AttributeProto::UNDEFINED) {
    fail(fmt::format("attribute '{}' must be {}", a.name(), what));
  }
}
}  // namespace

int64_t attr_int(const ::onnx::NodeProto& n, const std::string& name, int64_t def) {
  const auto* a = find_attr(n, name);
  if (!a) return def;
  expect_type(*a, ::onnx::AttributeProto::INT, "an integer");
  return a->i();
}

float attr_float(const ::onnx::NodeProto& n, const std::string& name, float def) {
  const auto* a = find_attr(n, name);
  if (!a) return def;
  expect_type(*a, ::onnx::AttributeProto::FLOAT, "a float");
  return a->f();
}

std::string attr_string(const ::onnx::NodeProto& n, const std::string& name,
                        const std::string& def) {
  const auto* a = find_attr(n, name);
  if (!a) return def;
  expect_type(*a, ::onnx::AttributeProto::STRING, "a string");
  return a->s();
}

std::vector<int64_t> attr_ints(const ::onnx::NodeProto& n, const std::string& name,
                               const std::vector<int64_t>& def) {
  const auto* a = find_attr(n, name);
  if (!a) return def;
  expect_type(*a, ::onnx::AttributeProto::INTS, "a list of integers");
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

bool is_layout_op(const std::string& op) {
  return op == "Identity" || op == "Cast" || op == "Transpose" || op == "Reshape" ||
         op == "Flatten" || op == "Squeeze" || op == "Unsqueeze";
}

ConstTensor layout_without_data(const ::onnx::NodeProto& n,
                                const std::vector<const ConstTensor*>& in) {
  const std::string& op = n.op_type();
  const ConstTensor& x = need(in, 0, "data");
  ConstTensor out;
  out.is_float = x.is_float;
  out.onnx_type = x.onnx_type;
  out.no_data_why = x.no_data_why;
  const Shape& d = x.dims;
  const int64_t rank = static_cast<int64_t>(d.size());
  if (op == "Identity") {
    out.dims = d;
  } else if (op == "Cast") {
    out.onnx_type = static_cast<int32_t>(attr_int(n, "to", 0));
    out.is_float = is_float_type(out.onnx_type);
    out.dims = d;
  } else if (op == "Transpose") {
    std::vector<int64_t> perm = attr_ints(n, "perm");
    if (perm.empty()) {
      for (int64_t i = rank; i-- > 0;) perm.push_back(i);
    }
    if (static_cast<int64_t>(perm.size()) != rank) fail("perm length does not match the rank");
    std::vector<bool> used(d.size(), false);
    for (int64_t p : perm) {
      const size_t a = static_cast<size_t>(norm_axis(p, rank, "perm"));
      if (used[a]) fail("perm " + ints_str(perm) + " is not a permutation");
      used[a] = true;
      out.dims.push_back(d[a]);
    }
  } else if (op == "Reshape") {
    out.dims = reshape_target(d, ints_of(need(in, 1, "shape")), attr_int(n, "allowzero", 0) != 0);
  } else if (op == "Flatten") {
    int64_t axis = attr_int(n, "axis", 1);
    if (axis < 0) axis += rank;
    if (axis < 0 || axis > rank) fail("axis out of range");
    int64_t lead = 1, rest = 1;
    for (int64_t i = 0; i < rank; ++i) (i < axis ? lead : rest) *= d[static_cast<size_t>(i)];
    out.dims = {lead, rest};
  } else if (op == "Squeeze") {
    out.dims = squeeze_shape(d, axes_of(n, in));
  } else if (op == "Unsqueeze") {
    out.dims = unsqueeze_shape(d, axes_of(n, in));
  } else {
    fail("not a layout op");
  }
  return out;
}

bool is_const_op(const std::string& op_type) {
  return evaluators().count(op_type) > 0;
}

std::vector<ConstTensor> eval_const(const ::onnx::NodeProto& n,
                                    const std::vector<const ConstTensor*>& in, int opset) {
  const auto it = evaluators().find(n.op_type());
  if (it == evaluators().end()) fail("cannot be evaluated on constants");
  for (const ConstTensor* t : in) {
    if (t && !t->has_data) fail("an input has no data");
  }
  auto out = it->second(n, in, opset);
  for (auto& t : out) {
    if (t.size() != static_cast<size_t>(t.numel())) {
      fail("internal: folded constant does not match its shape");
    }
  }
  return out;
}

}  // namespace nax::onnx::detail
