#include "models/common/yaml_io.hpp"

#include <yaml-cpp/depthguard.h>

#include <fstream>
#include <sstream>

namespace nax {

SourceLoc loc_of(const YAML::Mark& mark, const std::string& file) {
  if (mark.is_null()) return SourceLoc{file, 0, 0};
  return SourceLoc{file, mark.line + 1, mark.column + 1};
}

SourceLoc loc_of(const YAML::Node& node, const std::string& file) {
  if (!node.IsDefined()) return SourceLoc{file, 0, 0};
  return loc_of(node.Mark(), file);
}

YAML::Node parse_yaml(const std::string& text, const std::string& file) {
  if (text.size() > kMaxYamlBytes) {
    throw InputError(SourceLoc{file, 0, 0}, "file is larger than " +
                                                std::to_string(kMaxYamlBytes >> 20) +
                                                " MiB; not a nax YAML description");
  }
  if (text.find('\0') != std::string::npos) {
    throw InputError(SourceLoc{file, 0, 0}, "file contains NUL bytes; expected YAML text");
  }
  try {
    return YAML::Load(text);
  } catch (const YAML::DeepRecursion&) {
    // yaml-cpp's own message for this is "bad file", and its mark is where scanning stopped.
    throw InputError(SourceLoc{file, 0, 0}, "invalid YAML: nested too deeply");
  } catch (const YAML::Exception& e) {
    // DeepRecursion and ParserException both carry a mark.
    throw InputError(loc_of(e.mark, file), "invalid YAML: " + e.msg);
  }
}

std::string read_text_file(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(SourceLoc{path, 0, 0}, "cannot open file");
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > max_bytes) {
      throw InputError(SourceLoc{path, 0, 0},
                       "file is larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  if (in.bad()) throw InputError(SourceLoc{path, 0, 0}, "error reading file");
  return text;
}

YAML::Node load_yaml_file(const std::string& path) {
  return parse_yaml(read_text_file(path, kMaxYamlBytes), path);
}

std::string brief(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "<empty>";
  if (node.IsMap()) return "<mapping>";
  if (node.IsSequence()) return "<sequence>";
  std::string s = node.Scalar();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20) c = '?';
  }
  return s;
}

std::string kind_name(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "an empty value";
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a sequence";
  return "a scalar";
}

}  // namespace nax
