// Resolves a `--model` argument: a zoo name with parameters (`mobilenet_v2:width=0.75`), a
// block-level model description (`.yaml`/`.yml`) or an ONNX file (`.onnx`).
#pragma once

#include <optional>
#include <string>

#include "models/ir/graph.hpp"
#include "models/spec/model_spec.hpp"

namespace nax {

struct Model {
  std::string name;    // model name (zoo name, YAML `name`, ONNX graph name or file stem)
  std::string source;  // the --model argument as given
  std::string kind;    // "zoo", "yaml" or "onnx"
  std::optional<spec::ModelSpec> spec;  // block-level description (zoo and YAML models)
  ir::Graph graph;
  std::string hash;  // ir::graph_hash(graph)
};

Model load_model(const std::string& arg);

}  // namespace nax
