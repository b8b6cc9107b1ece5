// Placeholder until the importer lands (issue 2, in progress): every call is an error.
#include "models/onnx/onnx_import.hpp"

namespace nax::onnx {
ir::Graph import_onnx_file(const std::string& path) {
  throw Error("ONNX import is not built yet: " + path);
}
ir::Graph import_onnx_bytes(const std::string&, const std::string& source) {
  throw Error("ONNX import is not built yet: " + source);
}
}  // namespace nax::onnx
