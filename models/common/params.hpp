// Declared-once parameters (STYLE.md section 2). A Schema is a list of ParamDecl: type, unit,
// default or required, range and description. The same declarations drive parsing YAML (with
// every problem located), `-p key=value` overrides, the resolved dump, `nax describe` and the
// content hash. Used for chip parameters (hw/) and block parameters of model descriptions.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "models/common/error.hpp"

namespace nax {

enum class ParamType { kInt, kFloat, kBool, kString, kEnum, kIntList, kStringList };

using ParamValue = std::variant<int64_t, double, bool, std::string, std::vector<int64_t>,
                                std::vector<std::string>>;

std::string type_name(ParamType t);             // "integer", "number", ...
std::string format_value(const ParamValue& v);  // YAML-ish text: 32, 1.5, true, ws, [1, 2]

struct ParamDecl {
  std::string path;  // dotted key path, e.g. "mac_array.rows"
  ParamType type = ParamType::kInt;
  std::string unit;                    // shown by describe; "" when dimensionless
  std::optional<ParamValue> default_;  // nullopt: required
  double min = -std::numeric_limits<double>::infinity();  // inclusive (numbers, list items)
  double max = std::numeric_limits<double>::infinity();   // inclusive
  bool power_of_two = false;                              // integers only
  std::vector<std::string> choices;                       // kEnum / kStringList: allowed values
  std::string description;
  bool hashed = true;  // false for names and descriptions: they do not change the hardware

  // Fluent helpers for readable declaration tables.
  static ParamDecl integer(std::string path, std::string unit, std::optional<int64_t> def,
                           double min, double max, std::string description);
  static ParamDecl number(std::string path, std::string unit, std::optional<double> def, double min,
                          double max, std::string description);
  static ParamDecl boolean(std::string path, bool def, std::string description);
  static ParamDecl string(std::string path, std::optional<std::string> def,
                          std::string description);
  static ParamDecl enumeration(std::string path, std::vector<std::string> choices,
                               std::optional<std::string> def, std::string description);
  static ParamDecl string_list(std::string path, std::vector<std::string> choices,
                               std::optional<std::vector<std::string>> def,
                               std::string description);
  static ParamDecl int_list(std::string path, std::string unit,
                            std::optional<std::vector<int64_t>> def, double min, double max,
                            std::string description);
  ParamDecl& pow2() {
    power_of_two = true;
    return *this;
  }
  ParamDecl& unhashed() {
    hashed = false;
    return *this;
  }

  std::string range_text() const;  // "[1, 4096], power of two" / "one of ws, os, is" / ""
};

// Resolved values: one per declared path, with where each came from.
class ParamSet {
 public:
  struct Entry {
    ParamValue value;
    SourceLoc loc;  // where it was set; empty file for defaults
    bool from_default = false;
  };

  bool has(const std::string& path) const { return m_values.count(path) != 0; }
  const Entry& entry(const std::string& path) const;
  void set(const std::string& path, ParamValue v, SourceLoc loc, bool from_default = false);

  int64_t get_int(const std::string& path) const;
  double get_float(const std::string& path) const;  // accepts integers too
  bool get_bool(const std::string& path) const;
  const std::string& get_string(const std::string& path) const;  // kString and kEnum
  const std::vector<int64_t>& get_int_list(const std::string& path) const;
  const std::vector<std::string>& get_string_list(const std::string& path) const;

  const std::map<std::string, Entry>& entries() const { return m_values; }

  // A key that was given but rejected: fill_defaults does not also call it missing.
  void mark_invalid(const std::string& path) { m_invalid.push_back(path); }
  bool is_invalid(const std::string& path) const;

 private:
  std::map<std::string, Entry> m_values;
  std::vector<std::string> m_invalid;
};

class Schema {
 public:
  Schema() = default;
  explicit Schema(std::vector<ParamDecl> decls);

  const std::vector<ParamDecl>& decls() const { return m_decls; }
  const ParamDecl* find(const std::string& path) const;

  // Parses a mapping (nested by the dotted paths) into `out`. Every problem goes to `sink`:
  // unknown keys (with a did-you-mean), wrong types, out-of-range values, duplicates. Keys listed
  // in `ignore_top` are skipped (the caller handles them). Does not fill defaults.
  void parse(const YAML::Node& root, const std::string& file, ParamSet& out, DiagnosticSink& sink,
             const std::vector<std::string>& ignore_top = {}) const;

  // Applies "key.path=value" (value parsed as a YAML scalar or flow sequence). Problems are
  // reported with `source` as their location ("-p" on the command line).
  void apply_override(const std::string& assignment, ParamSet& out, DiagnosticSink& sink,
                      const std::string& source = "-p") const;

  // Fills defaults for unset keys; a missing required key is reported at `where`.
  void fill_defaults(ParamSet& out, const SourceLoc& where, DiagnosticSink& sink) const;

  // Checks one value against a declaration; returns "" or what was expected.
  std::string check(const ParamDecl& d, const ParamValue& v) const;

  // Converts a YAML node to a value of the declared type; "" on success, else what was expected.
  std::string convert(const ParamDecl& d, const YAML::Node& node, ParamValue& out) const;

  // Nested YAML of every declared path, in declaration order, units as comments.
  std::string emit_yaml(const ParamSet& values, const std::string& header_comment = "") const;

  // Canonical "path=value\n" text of hashed parameters, the input of the content hash.
  std::string canonical_text(const ParamSet& values) const;

 private:
  void parse_map(const YAML::Node& node, const std::string& prefix, const std::string& file,
                 ParamSet& out, DiagnosticSink& sink, const std::vector<std::string>& ignore_top,
                 int depth) const;
  std::vector<std::string> children_of(const std::string& prefix) const;  // next path segments
  bool is_section(const std::string& prefix) const;

  std::vector<ParamDecl> m_decls;
  std::map<std::string, size_t> m_index;
};

}  // namespace nax
