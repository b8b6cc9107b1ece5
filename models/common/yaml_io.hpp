// Loading YAML from users safely: size limit, parse errors located, marks converted to SourceLoc.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "models/common/error.hpp"

namespace nax {

// Largest YAML document nax accepts (a chip or model description is a few KiB).
constexpr size_t kMaxYamlBytes = 16u << 20;

SourceLoc loc_of(const YAML::Node& node, const std::string& file);
SourceLoc loc_of(const YAML::Mark& mark, const std::string& file);

// Parses text as one YAML document; a syntax error becomes an InputError at its line and column.
// `file` names the source in messages.
YAML::Node parse_yaml(const std::string& text, const std::string& file);

// Reads and parses a file; a missing/unreadable/oversized file is an InputError.
YAML::Node load_yaml_file(const std::string& path);

// Reads a whole file as text; InputError if it cannot be read or exceeds max_bytes.
std::string read_text_file(const std::string& path, size_t max_bytes);

// A short rendering of a node for messages: the scalar itself (truncated), "<mapping>",
// "<sequence>" or "<empty>". Never walks a whole tree (safe for alias bombs).
std::string brief(const YAML::Node& node);

// Human name of a node's kind: "a mapping", "a sequence", "a scalar", "an empty value".
std::string kind_name(const YAML::Node& node);

}  // namespace nax
