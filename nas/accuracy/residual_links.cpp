#include "nas/accuracy/residual_links.hpp"

#include <string>
#include <unordered_map>

namespace nax::accuracy {
namespace {

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// Whether tensor `t`, an input of the Add `add`, is a shortcut: it comes from outside the Add's
// block (an identity shortcut: the block's input) or from one of the block's "downsample" ops.
bool is_shortcut(const ir::Graph& g, const ir::Op& add, ir::TensorId t) {
  const int producer = g.tensor(t).producer;
  if (producer < 0) return true;  // a graph input
  const ir::Op& p = g.op(producer);
  if (p.meta.block != add.meta.block) return true;
  return starts_with(p.meta.role, "downsample");
}

}  // namespace

std::vector<ResidualLink> find_residual_links(const ir::Graph& g) {
  std::vector<ResidualLink> links;
  for (size_t i = 0; i < g.ops().size(); ++i) {
    const ir::Op& op = g.ops()[i];
    if (op.kind != ir::OpKind::kAdd || op.inputs.size() != 2) continue;
    if (op.meta.block.empty() || op.meta.role != "add") continue;
    const bool s0 = is_shortcut(g, op, op.inputs[0]);
    const bool s1 = is_shortcut(g, op, op.inputs[1]);
    if (s0 == s1) continue;  // neither (or both) from outside: not a residual sum
    ResidualLink l;
    l.add_op = static_cast<int>(i);
    l.main = s0 ? op.inputs[1] : op.inputs[0];
    l.shortcut = s0 ? op.inputs[0] : op.inputs[1];
    links.push_back(l);
  }
  return links;
}

ir::Graph without_residual_links(const ir::Graph& g, int* removed) {
  const std::vector<ResidualLink> links = find_residual_links(g);
  if (removed != nullptr) *removed = static_cast<int>(links.size());
  // What each residual Add's output becomes: its main branch (followed through chains of them).
  std::unordered_map<ir::TensorId, ir::TensorId> alias;
  for (const ResidualLink& l : links) alias[g.op(l.add_op).output] = l.main;
  auto resolve = [&](ir::TensorId t) {
    for (auto it = alias.find(t); it != alias.end(); it = alias.find(t)) t = it->second;
    return t;
  };

  // Ops the outputs still need, walking back from them (ops are in topological order).
  std::vector<bool> live(g.ops().size(), false);
  std::vector<bool> needed(g.tensors().size(), false);
  for (ir::TensorId t : g.outputs()) needed[static_cast<size_t>(resolve(t))] = true;
  for (size_t i = g.ops().size(); i-- > 0;) {
    const ir::Op& op = g.ops()[i];
    if (!needed[static_cast<size_t>(op.output)] || alias.count(op.output)) continue;
    live[i] = true;
    for (ir::TensorId in : op.inputs) needed[static_cast<size_t>(resolve(in))] = true;
  }

  ir::Graph out;
  out.name = g.name;
  std::unordered_map<ir::TensorId, ir::TensorId> map;
  for (ir::TensorId t : g.inputs()) {
    const ir::Tensor& tensor = g.tensor(t);
    map[t] = out.add_input(tensor.name, tensor.shape, tensor.dtype);
  }
  for (size_t i = 0; i < g.ops().size(); ++i) {
    if (!live[i]) continue;
    const ir::Op& op = g.ops()[i];
    std::vector<ir::TensorId> inputs;
    for (ir::TensorId in : op.inputs) inputs.push_back(map.at(resolve(in)));
    const ir::TensorId t = out.add_op(op.kind, op.name, inputs, op.attrs, op.meta);
    out.rename_tensor(t, g.tensor(op.output).name);
    map[op.output] = t;
  }
  for (ir::TensorId t : g.outputs()) out.mark_output(map.at(resolve(t)));
  return out;
}

}  // namespace nax::accuracy
