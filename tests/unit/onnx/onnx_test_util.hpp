// Helpers for the ONNX importer tests: fixture paths, and small ModelProtos built in code.
#pragma once

#include <onnx/onnx_pb.h>

#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "models/ir/graph.hpp"

namespace nax::onnx_test {

inline std::string fixture(const std::string& name) {
  return std::string(NAX_FIXTURES) + "/onnx/" + name + ".onnx";
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

inline ::onnx::ModelProto load_proto(const std::string& name) {
  ::onnx::ModelProto m;
  m.ParseFromString(read_bytes(fixture(name)));
  return m;
}

inline std::string bytes_of(const ::onnx::ModelProto& m) {
  std::string s;
  m.SerializeToString(&s);
  return s;
}

// Op kind names of a graph, in order.
inline std::vector<std::string> kinds(const ir::Graph& g) {
  std::vector<std::string> v;
  for (const auto& op : g.ops()) v.push_back(ir::op_name(op.kind));
  return v;
}

inline std::map<std::string, int> kind_counts(const ir::Graph& g) {
  std::map<std::string, int> m;
  for (const auto& op : g.ops()) ++m[ir::op_name(op.kind)];
  return m;
}

inline void set_value_info(::onnx::ValueInfoProto* vi, const std::string& name,
                           const std::vector<int64_t>& dims,
                           int elem = ::onnx::TensorProto::FLOAT) {
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem);
  auto* shape = tt->mutable_shape();
  for (int64_t d : dims) shape->add_dim()->set_dim_value(d);
}

// A model with one float input "x" of `dims` and the given default-domain opset.
inline ::onnx::ModelProto tiny_model(const std::vector<int64_t>& dims = {1, 4, 8, 8},
                                     int opset = 13) {
  ::onnx::ModelProto m;
  m.set_ir_version(8);
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  auto* g = m.mutable_graph();
  g->set_name("tiny");
  set_value_info(g->add_input(), "x", dims);
  return m;
}

inline ::onnx::NodeProto* add_node(::onnx::ModelProto& m, const std::string& op,
                                   const std::vector<std::string>& inputs,
                                   const std::vector<std::string>& outputs,
                                   const std::string& name) {
  auto* n = m.mutable_graph()->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const auto& i : inputs) n->add_input(i);
  for (const auto& o : outputs) n->add_output(o);
  return n;
}

inline void add_output(::onnx::ModelProto& m, const std::string& name) {
  m.mutable_graph()->add_output()->set_name(name);
}

// A weight declared as a graph input without data (shape-only style).
inline void add_weight_input(::onnx::ModelProto& m, const std::string& name,
                             const std::vector<int64_t>& dims) {
  set_value_info(m.mutable_graph()->add_input(), name, dims);
}

inline void add_int_attr(::onnx::NodeProto* n, const std::string& name, int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::INT);
  a->set_i(v);
}

inline void add_ints_attr(::onnx::NodeProto* n, const std::string& name,
                          const std::vector<int64_t>& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

inline void add_string_attr(::onnx::NodeProto* n, const std::string& name, const std::string& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::STRING);
  a->set_s(v);
}

// An int64 initializer (with data).
inline void add_int64_init(::onnx::ModelProto& m, const std::string& name,
                           const std::vector<int64_t>& v) {
  auto* t = m.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(::onnx::TensorProto::INT64);
  t->add_dims(static_cast<int64_t>(v.size()));
  for (int64_t x : v) t->add_int64_data(x);
}

}  // namespace nax::onnx_test
