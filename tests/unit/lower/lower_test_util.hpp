// Helpers shared by the lowering tests (tests/unit/lower/).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "hw/chip/chip.hpp"
#include "hw/lower/lower.hpp"
#include "models/ir/graph.hpp"
#include "models/model_source.hpp"

namespace nax::lower_test {

// Zoo models are built once per process.
inline const ir::Graph& zoo(const std::string& name) {
  static std::map<std::string, Model> cache;
  auto it = cache.find(name);
  if (it == cache.end()) it = cache.emplace(name, load_model(name)).first;
  return it->second.graph;
}

inline const hw::LayerPlan* find_layer(const hw::Program& p, const std::string& name) {
  for (const auto& L : p.layers) {
    if (L.name == name) return &L;
  }
  return nullptr;
}

inline int layer_index(const hw::Program& p, const std::string& name) {
  for (size_t i = 0; i < p.layers.size(); ++i) {
    if (p.layers[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

// Commands of one layer.
inline std::vector<const hw::Command*> layer_cmds(const hw::Program& p, int layer) {
  std::vector<const hw::Command*> v;
  for (const auto& c : p.cmds) {
    if (c.layer == layer) v.push_back(&c);
  }
  return v;
}

// A graph of one conv (and optional activation): input 1 x cin x h x w.
inline ir::Graph single_conv(int64_t cin, int64_t h, int64_t w, int cout, int k, int stride = 1,
                             int groups = 1, bool relu = false) {
  ir::Graph g;
  g.name = "single_conv";
  const ir::TensorId x = g.add_input("x", {1, cin, h, w}, ir::DType::kInt8);
  ir::ConvAttrs a = ir::ConvAttrs::make(cout, k, stride, groups);
  ir::TensorId y = g.add_op(ir::OpKind::kConv2d, "conv", {x}, a);
  if (relu) y = g.add_op(ir::OpKind::kRelu, "conv.act", {y});
  g.mark_output(y);
  return g;
}

}  // namespace nax::lower_test
