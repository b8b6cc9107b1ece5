// Chip co-design sweep descriptions (configs/sweeps/*.yaml, documented in
// configs/sweeps/README.md): a base chip, axes over chip keys, how the axes combine, filters and
// the models to run.
//
// Parsing checks everything that can be checked without a simulation, and reports every problem
// together, each at its file:line:col: unknown top-level keys, axis keys that are not chip keys
// (did-you-mean), axis values of the wrong type or out of the key's range (the chip schema's own
// per-key checks), duplicate axes, zipped axes of different lengths, filters that do not parse or
// compare an ordering of non-numeric keys. Cross-key chip validation (an SRAM too small for the
// array, ...) is left to point expansion: such a point is infeasible, not a config error.
#pragma once

#include <string>
#include <vector>

#include "models/common/error.hpp"
#include "models/common/params.hpp"

namespace nax::hw::sweep {

enum class Mode { kCartesian, kZip };

struct Axis {
  std::string key;                 // chip key path, e.g. "mac_array.rows"
  std::vector<ParamValue> values;  // converted and checked against the key's declaration
  SourceLoc loc;
  std::string text(size_t i) const { return format_value(values[i]); }
  std::string override_text(size_t i) const { return key + "=" + text(i); }
};

// `lhs op rhs`, each operand a chip key path or a literal (number or word).
struct Filter {
  enum class Op { kLt, kLe, kEq, kNe, kGe, kGt };
  struct Operand {
    std::string key;     // a chip key path, or "" for a literal
    ParamValue literal;  // when key is empty: a number (double) or a word (string)
  };
  std::string text;  // as written
  Operand lhs, rhs;
  Op op = Op::kEq;
  SourceLoc loc;
};

const char* op_name(Filter::Op op);  // "<", "<=", ...

struct ModelRef {
  std::string arg;  // zoo name with parameters, or a .yaml / .onnx path resolved against the file
  SourceLoc loc;
};

struct SweepConfig {
  std::string file;  // where it came from ("" for text)
  std::string name;
  std::string base = "default";  // chip preset, or a chip file resolved against the file
  SourceLoc base_loc;
  Mode mode = Mode::kCartesian;
  std::vector<Axis> axes;
  std::vector<Filter> filters;
  std::vector<ModelRef> models;
  std::string hash;  // content hash of the resolved description (axes, filters, base, models)
};

// Parses a sweep description. `file` names the source in messages; relative model and chip paths
// are resolved against its directory.
SweepConfig parse_sweep_config(const std::string& yaml_text, const std::string& file);
// Reads the file (missing, unreadable, too large: InputError), then parse_sweep_config.
SweepConfig load_sweep_config(const std::string& path);

}  // namespace nax::hw::sweep
