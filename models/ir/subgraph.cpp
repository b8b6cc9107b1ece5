#include "models/ir/subgraph.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace nax::ir {

Graph extract_subgraph(const Graph& g, const std::vector<int>& ops) {
  std::vector<int> order = ops;
  std::sort(order.begin(), order.end());
  order.erase(std::unique(order.begin(), order.end()), order.end());
  const std::set<int> in_set(order.begin(), order.end());
  Graph out;
  out.name = g.name;
  std::map<TensorId, TensorId> mapped;
  for (int oi : order) {
    const Op& op = g.op(oi);
    std::vector<TensorId> ins;
    for (TensorId t : op.inputs) {
      auto it = mapped.find(t);
      if (it == mapped.end()) {
        const Tensor& ten = g.tensor(t);
        it = mapped.emplace(t, out.add_input(ten.name, ten.shape, ten.dtype)).first;
      }
      ins.push_back(it->second);
    }
    const TensorId y = out.add_op(op.kind, op.name, ins, op.attrs, op.meta);
    out.rename_tensor(y, g.tensor(op.output).name);
    mapped[op.output] = y;
  }
  for (int oi : order) {
    const TensorId t = g.op(oi).output;
    const Tensor& ten = g.tensor(t);
    bool used_outside = ten.consumers.empty() ||
                        std::find(g.outputs().begin(), g.outputs().end(), t) != g.outputs().end();
    for (int c : ten.consumers) used_outside |= in_set.count(c) == 0;
    if (used_outside) out.mark_output(mapped.at(t));
  }
  return out;
}

std::vector<int> ops_of_block(const Graph& g, const std::string& block) {
  std::vector<int> out;
  for (size_t i = 0; i < g.ops().size(); ++i) {
    if (g.op(static_cast<int>(i)).meta.block == block) out.push_back(static_cast<int>(i));
  }
  return out;
}

}  // namespace nax::ir
