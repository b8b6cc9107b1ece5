#include "hw/sweep/sweep_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "hw/chip/chip.hpp"
#include "models/common/hash.hpp"
#include "models/common/yaml_io.hpp"

namespace nax::hw::sweep {
namespace {

constexpr size_t kMaxSweepBytes = 1u << 20;
constexpr size_t kMaxPoints = 1000000;  // a product beyond this is a typo, not a sweep

const std::vector<std::string> kTopKeys = {"name", "base", "mode", "axes", "filters", "models"};

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

bool is_numeric_type(ParamType t) {
  return t == ParamType::kInt || t == ParamType::kFloat;
}

bool is_list_type(ParamType t) {
  return t == ParamType::kIntList || t == ParamType::kStringList;
}

bool parse_number(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end && *end == '\0';
}

// Resolves a relative path against the directory of `file`.
std::string relative_to(const std::string& path, const std::string& file) {
  namespace fs = std::filesystem;
  if (path.empty() || fs::path(path).is_absolute() || file.empty()) return path;
  const fs::path dir = fs::path(file).parent_path();
  return dir.empty() ? path : (dir / path).lexically_normal().string();
}

bool is_model_path(const std::string& arg) {
  auto ends_with = [&](const char* suffix) {
    const std::string s(suffix);
    return arg.size() >= s.size() && arg.compare(arg.size() - s.size(), s.size(), s) == 0;
  };
  return ends_with(".yaml") || ends_with(".yml") || ends_with(".onnx");
}

std::vector<std::string> chip_keys() {
  std::vector<std::string> keys;
  for (const auto& d : chip_schema().decls()) keys.push_back(d.path);
  return keys;
}

// A chip key or "", reporting an unknown one (with a did-you-mean) to `sink`.
const ParamDecl* find_key(const std::string& key, const SourceLoc& loc, const std::string& path,
                          DiagnosticSink& sink) {
  const ParamDecl* d = chip_schema().find(key);
  if (d) return d;
  std::string msg = "not a chip key (see `nax describe`)";
  const std::string hint = did_you_mean(key, chip_keys());
  if (!hint.empty()) msg += "; did you mean " + hint + "?";
  sink.add(loc, path, key, msg);
  return nullptr;
}

void parse_axis(const YAML::Node& node, size_t i, const std::string& file, SweepConfig& c,
                DiagnosticSink& sink) {
  const std::string path = fmt::format("axes[{}]", i);
  const SourceLoc loc = loc_of(node, file);
  if (!node.IsMap()) {
    sink.add(loc, path, brief(node), "expected a mapping {key: <chip key>, values: [...]}");
    return;
  }
  for (const auto& kv : node) {
    const std::string k = kv.first.Scalar();
    if (k != "key" && k != "values") {
      std::string msg = "unknown axis key; expected key or values";
      const std::string hint = did_you_mean(k, {"key", "values"});
      if (!hint.empty()) msg += "; did you mean " + hint + "?";
      sink.add(loc_of(kv.first, file), path + "." + k, "", msg);
    }
  }
  const YAML::Node key = node["key"];
  const YAML::Node values = node["values"];
  if (!key.IsDefined() || !key.IsScalar()) {
    sink.add(loc, path + ".key", brief(key), "expected a chip key path, e.g. mac_array.rows");
    return;
  }
  Axis a;
  a.key = key.Scalar();
  a.loc = loc_of(key, file);
  const ParamDecl* d = find_key(a.key, a.loc, path + ".key", sink);
  if (!d) return;
  if (d->path == "name" || d->path == "description") {
    sink.add(a.loc, path + ".key", a.key, "does not change the hardware; not a sweep axis");
    return;
  }
  for (const auto& other : c.axes) {
    if (other.key == a.key) {
      sink.add(a.loc, path + ".key", a.key,
               "duplicate axis (first at " + other.loc.str() + "); list all its values once");
      return;
    }
  }
  if (!values.IsDefined() || !values.IsSequence() || values.size() == 0) {
    sink.add(values.IsDefined() ? loc_of(values, file) : loc, path + ".values", brief(values),
             "expected a non-empty sequence of values for " + a.key);
    return;
  }
  std::set<std::string> seen;
  bool ok = true;
  for (size_t j = 0; j < values.size(); ++j) {
    const YAML::Node v = values[j];
    const std::string vpath = fmt::format("{}.values[{}]", path, j);
    ParamValue pv;
    std::string err = chip_schema().convert(*d, v, pv);
    if (err.empty()) err = chip_schema().check(*d, pv);
    if (!err.empty()) {
      sink.add(loc_of(v, file), vpath, brief(v), a.key + ": " + err);
      ok = false;
      continue;
    }
    if (c.mode == Mode::kCartesian && !seen.insert(format_value(pv)).second) {
      sink.add(loc_of(v, file), vpath, brief(v), "duplicate value of " + a.key);
      ok = false;
      continue;
    }
    a.values.push_back(std::move(pv));
  }
  if (ok) c.axes.push_back(std::move(a));
}

void parse_filter(const YAML::Node& node, size_t i, const std::string& file, SweepConfig& c,
                  DiagnosticSink& sink) {
  const std::string path = fmt::format("filters[{}]", i);
  const SourceLoc loc = loc_of(node, file);
  const std::string syntax =
      "expected \"<key or value> <op> <key or value>\" with op one of <, "
      "<=, ==, !=, >=, > (e.g. \"mac_array.rows == mac_array.cols\")";
  if (!node.IsScalar()) {
    sink.add(loc, path, brief(node), syntax);
    return;
  }
  Filter f;
  f.text = node.Scalar();
  f.loc = loc;
  static const std::vector<std::pair<std::string, Filter::Op>> kOps = {
      {"<=", Filter::Op::kLe}, {">=", Filter::Op::kGe}, {"==", Filter::Op::kEq},
      {"!=", Filter::Op::kNe}, {"<", Filter::Op::kLt},  {">", Filter::Op::kGt}};
  size_t pos = std::string::npos, len = 0;
  for (const auto& [tok, op] : kOps) {
    const size_t p = f.text.find(tok);
    if (p != std::string::npos && (pos == std::string::npos || p < pos)) {
      pos = p;
      len = tok.size();
      f.op = op;
    }
  }
  if (pos == std::string::npos) {
    sink.add(loc, path, f.text, syntax);
    return;
  }
  const std::string lhs = trim(f.text.substr(0, pos)), rhs = trim(f.text.substr(pos + len));
  const bool ordering = f.op != Filter::Op::kEq && f.op != Filter::Op::kNe;
  bool ok = !lhs.empty() && !rhs.empty();
  if (!ok) sink.add(loc, path, f.text, syntax);
  const ParamDecl* decls[2] = {nullptr, nullptr};
  auto operand = [&](const std::string& tok, Filter::Operand& out, int side) {
    if (tok.empty()) return;
    double x = 0;
    if (parse_number(tok, x)) {
      out.literal = x;
    } else if (tok.find('.') != std::string::npos || chip_schema().find(tok)) {
      const ParamDecl* d = find_key(tok, loc, path, sink);
      if (!d) {
        ok = false;
        return;
      }
      if (is_list_type(d->type)) {
        sink.add(loc, path, tok, "list-valued keys cannot be compared in a filter");
        ok = false;
        return;
      }
      out.key = d->path;
      decls[side] = d;
      if (ordering && !is_numeric_type(d->type)) {
        sink.add(loc, path, f.text,
                 tok + " is " + type_name(d->type) + ": only == and != compare it");
        ok = false;
      }
    } else {
      if (ordering) {
        sink.add(loc, path, f.text, "'" + tok + "' is not a number or a chip key");
        ok = false;
      }
      out.literal = tok;
    }
  };
  operand(lhs, f.lhs, 0);
  operand(rhs, f.rhs, 1);
  if (!ok) return;
  if (f.lhs.key.empty() && f.rhs.key.empty()) {
    sink.add(loc, path, f.text, "compares two constants; name at least one chip key");
    return;
  }
  // A numeric key against a word, or a key of one kind against another, never matches.
  auto numeric = [&](const Filter::Operand& o, const ParamDecl* d) {
    return d ? is_numeric_type(d->type) : std::holds_alternative<double>(o.literal);
  };
  if (numeric(f.lhs, decls[0]) != numeric(f.rhs, decls[1])) {
    sink.add(loc, path, f.text, "compares a number with a word");
    return;
  }
  c.filters.push_back(std::move(f));
}

}  // namespace

const char* op_name(Filter::Op op) {
  switch (op) {
    case Filter::Op::kLt:
      return "<";
    case Filter::Op::kLe:
      return "<=";
    case Filter::Op::kEq:
      return "==";
    case Filter::Op::kNe:
      return "!=";
    case Filter::Op::kGe:
      return ">=";
    case Filter::Op::kGt:
      return ">";
  }
  return "?";
}

SweepConfig parse_sweep_config(const std::string& yaml_text, const std::string& file) {
  const YAML::Node root = parse_yaml(yaml_text, file);
  SweepConfig c;
  c.file = file;
  DiagnosticSink sink;
  const SourceLoc top = loc_of(root, file);
  if (!root.IsMap()) {
    sink.add(top, "", brief(root),
             "expected a sweep description (a mapping with name, base, axes, models)");
    sink.throw_if_any();
  }
  for (const auto& kv : root) {
    const std::string k = kv.first.Scalar();
    if (std::find(kTopKeys.begin(), kTopKeys.end(), k) == kTopKeys.end()) {
      std::string msg = "unknown key; expected one of name, base, mode, axes, filters, models";
      const std::string hint = did_you_mean(k, kTopKeys);
      if (!hint.empty()) msg += "; did you mean " + hint + "?";
      sink.add(loc_of(kv.first, file), k, "", msg);
    }
  }
  const YAML::Node name = root["name"];
  if (!name.IsDefined() || !name.IsScalar() || name.Scalar().empty()) {
    sink.add(name.IsDefined() ? loc_of(name, file) : top, "name", brief(name),
             "expected the sweep's name (a non-empty string)");
  } else {
    c.name = name.Scalar();
  }
  if (const YAML::Node base = root["base"]; base.IsDefined()) {
    c.base_loc = loc_of(base, file);
    if (!base.IsScalar() || base.Scalar().empty()) {
      sink.add(c.base_loc, "base", brief(base), "expected a chip preset name or a chip YAML path");
    } else {
      c.base = base.Scalar();
      if (is_chip_path(c.base)) c.base = relative_to(c.base, file);
    }
  } else {
    c.base_loc = top;
  }
  if (const YAML::Node mode = root["mode"]; mode.IsDefined()) {
    const std::string m = mode.IsScalar() ? mode.Scalar() : "";
    if (m == "cartesian") {
      c.mode = Mode::kCartesian;
    } else if (m == "zip") {
      c.mode = Mode::kZip;
    } else {
      sink.add(loc_of(mode, file), "mode", brief(mode), "expected cartesian or zip");
    }
  }
  const YAML::Node axes = root["axes"];
  if (!axes.IsDefined() || !axes.IsSequence() || axes.size() == 0) {
    sink.add(axes.IsDefined() ? loc_of(axes, file) : top, "axes", brief(axes),
             "expected a non-empty sequence of {key: <chip key>, values: [...]}");
  } else {
    for (size_t i = 0; i < axes.size(); ++i) parse_axis(axes[i], i, file, c, sink);
  }
  if (const YAML::Node filters = root["filters"]; filters.IsDefined() && !filters.IsNull()) {
    if (!filters.IsSequence()) {
      sink.add(loc_of(filters, file), "filters", brief(filters),
               "expected a sequence of \"<key> <op> <key or value>\" strings");
    } else {
      for (size_t i = 0; i < filters.size(); ++i) parse_filter(filters[i], i, file, c, sink);
    }
  }
  const YAML::Node models = root["models"];
  if (!models.IsDefined() || !models.IsSequence() || models.size() == 0) {
    sink.add(models.IsDefined() ? loc_of(models, file) : top, "models", brief(models),
             "expected a non-empty sequence of models (zoo names with parameters, .yaml or .onnx "
             "paths)");
  } else {
    std::set<std::string> seen;
    for (size_t i = 0; i < models.size(); ++i) {
      const YAML::Node m = models[i];
      const std::string path = fmt::format("models[{}]", i);
      if (!m.IsScalar() || m.Scalar().empty()) {
        sink.add(loc_of(m, file), path, brief(m),
                 "expected a zoo name with parameters (mobilenet_v2:width=0.5) or a model path");
        continue;
      }
      ModelRef r;
      r.arg = is_model_path(m.Scalar()) ? relative_to(m.Scalar(), file) : m.Scalar();
      r.loc = loc_of(m, file);
      if (!seen.insert(r.arg).second) {
        sink.add(r.loc, path, m.Scalar(), "duplicate model");
        continue;
      }
      c.models.push_back(std::move(r));
    }
  }
  if (c.mode == Mode::kZip && !c.axes.empty()) {
    for (const auto& a : c.axes) {
      if (a.values.size() != c.axes.front().values.size()) {
        sink.add(
            a.loc, "axes", a.key,
            fmt::format("mode zip needs axes of one length: {} has {} values, {} has {}", a.key,
                        a.values.size(), c.axes.front().key, c.axes.front().values.size()));
      }
    }
  }
  if (c.mode == Mode::kZip && !c.axes.empty() && sink.empty()) {
    std::set<std::string> tuples;
    for (size_t i = 0; i < c.axes.front().values.size(); ++i) {
      std::string t;
      for (const auto& a : c.axes) t += a.text(i) + "\n";
      if (!tuples.insert(t).second) {
        sink.add(c.axes.front().loc, "axes", "",
                 fmt::format("mode zip: position {} repeats an earlier combination", i));
      }
    }
  }
  if (c.mode == Mode::kCartesian && !c.axes.empty()) {
    size_t n = 1;
    for (const auto& a : c.axes) {
      n *= a.values.size();
      if (n > kMaxPoints) {
        sink.add(a.loc, "axes", a.key,
                 fmt::format("the axes make more than {} points; split the sweep", kMaxPoints));
        break;
      }
    }
  }
  sink.throw_if_any();

  std::string canon = "base=" + c.base + "\nmode=" + (c.mode == Mode::kZip ? "zip" : "cartesian");
  for (const auto& a : c.axes) {
    canon += "\naxis " + a.key + ":";
    for (size_t i = 0; i < a.values.size(); ++i) canon += " " + a.text(i);
  }
  for (const auto& f : c.filters) canon += "\nfilter " + f.text;
  for (const auto& m : c.models) canon += "\nmodel " + m.arg;
  c.hash = content_hash(canon);
  return c;
}

SweepConfig load_sweep_config(const std::string& path) {
  return parse_sweep_config(read_text_file(path, kMaxSweepBytes), path);
}

}  // namespace nax::hw::sweep
