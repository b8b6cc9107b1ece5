#include "models/model_source.hpp"

#include <fmt/format.h>

#include "models/ir/analysis.hpp"
#include "models/onnx/onnx_import.hpp"
#include "models/zoo/zoo.hpp"

namespace nax {

namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

Model load_model(const std::string& arg) {
  if (arg.empty()) throw InputError("--model: expected a zoo name, a .yaml or an .onnx file");
  Model m;
  m.source = arg;
  if (ends_with(arg, ".onnx")) {
    m.kind = "onnx";
    m.graph = onnx::import_onnx_file(arg);
    m.name = m.graph.name;
  } else if (ends_with(arg, ".yaml") || ends_with(arg, ".yml")) {
    m.kind = "yaml";
    m.spec = spec::load_model_yaml(arg);
    m.graph = spec::build_graph(*m.spec);
    m.name = m.spec->name;
  } else {
    m.kind = "zoo";
    m.spec = zoo::build(arg);
    m.graph = spec::build_graph(*m.spec);
    m.name = m.spec->name;
  }
  m.hash = ir::graph_hash(m.graph);
  return m;
}

}  // namespace nax
