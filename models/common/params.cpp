#include "models/common/params.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <set>

#include "models/common/yaml_io.hpp"

namespace nax {

std::string type_name(ParamType t) {
  switch (t) {
    case ParamType::kInt:
      return "integer";
    case ParamType::kFloat:
      return "number";
    case ParamType::kBool:
      return "boolean";
    case ParamType::kString:
      return "string";
    case ParamType::kEnum:
      return "enum";
    case ParamType::kIntList:
      return "list of integers";
    case ParamType::kStringList:
      return "list of names";
  }
  return "?";
}

namespace {

std::string format_double(double v) {
  return fmt::format("{}", v);
}

template <typename T>
std::string join(const std::vector<T>& items, const std::string& sep) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) s += sep;
    if constexpr (std::is_same_v<T, std::string>) {
      s += items[i];
    } else {
      s += std::to_string(items[i]);
    }
  }
  return s;
}

bool parse_int(const std::string& s, int64_t& out) {
  if (s.empty()) return false;
  const char* b = s.data();
  const char* e = s.data() + s.size();
  if (*b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, out);
  return ec == std::errc() && p == e;
}

bool parse_float(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(out);
}

bool parse_bool(std::string s, bool& out) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  if (s == "true" || s == "yes" || s == "on") {
    out = true;
    return true;
  }
  if (s == "false" || s == "no" || s == "off") {
    out = false;
    return true;
  }
  return false;
}

bool is_pow2(int64_t v) {
  return v > 0 && (v & (v - 1)) == 0;
}

std::string bounds_text(double min, double max) {
  const bool lo = std::isfinite(min), hi = std::isfinite(max);
  if (lo && hi) return "[" + format_double(min) + ", " + format_double(max) + "]";
  if (lo) return ">= " + format_double(min);
  if (hi) return "<= " + format_double(max);
  return "";
}

std::string expected_text(const ParamDecl& d) {
  const std::string b = bounds_text(d.min, d.max);
  const std::string in = b.empty() ? "" : (b[0] == '[' ? " in " : " ") + b;
  switch (d.type) {
    case ParamType::kInt:
      return std::string("expected an integer") + (d.power_of_two ? " power of two" : "") + in;
    case ParamType::kFloat:
      return "expected a number" + in;
    case ParamType::kBool:
      return "expected true or false";
    case ParamType::kString:
      return "expected a string";
    case ParamType::kEnum:
      return "expected " + d.range_text();
    case ParamType::kIntList:
      return "expected a list of integers" + in;
    case ParamType::kStringList:
      return "expected a list of names" + (d.choices.empty() ? "" : ", " + d.range_text());
  }
  return "";
}

}  // namespace

std::string format_value(const ParamValue& v) {
  struct V {
    std::string operator()(int64_t x) const { return std::to_string(x); }
    std::string operator()(double x) const { return format_double(x); }
    std::string operator()(bool x) const { return x ? "true" : "false"; }
    std::string operator()(const std::string& x) const { return x; }
    std::string operator()(const std::vector<int64_t>& x) const {
      return "[" + join(x, ", ") + "]";
    }
    std::string operator()(const std::vector<std::string>& x) const {
      return "[" + join(x, ", ") + "]";
    }
  };
  return std::visit(V{}, v);
}

// ---- declarations ----

ParamDecl ParamDecl::integer(std::string path, std::string unit, std::optional<int64_t> def,
                             double min, double max, std::string description) {
  ParamDecl d;
  d.path = std::move(path);
  d.type = ParamType::kInt;
  d.unit = std::move(unit);
  if (def) d.default_ = *def;
  d.min = min;
  d.max = max;
  d.description = std::move(description);
  return d;
}

ParamDecl ParamDecl::number(std::string path, std::string unit, std::optional<double> def,
                            double min, double max, std::string description) {
  ParamDecl d;
  d.path = std::move(path);
  d.type = ParamType::kFloat;
  d.unit = std::move(unit);
  if (def) d.default_ = *def;
  d.min = min;
  d.max = max;
  d.description = std::move(description);
  return d;
}

ParamDecl ParamDecl::boolean(std::string path, bool def, std::string description) {
  ParamDecl d;
  d.path = std::move(path);
  d.type = ParamType::kBool;
  d.default_ = def;
  d.description = std::move(description);
  return d;
}

ParamDecl ParamDecl::string(std::string path, std::optional<std::string> def,
                            std::string description) {
  ParamDecl d;
  d.path = std::move(path);
  d.type = ParamType::kString;
  if (def) d.default_ = *def;
  d.description = std::move(description);
  return d;
}

ParamDecl ParamDecl::enumeration(std::string path, std::vector<std::string> choices,
                                 std::optional<std::string> def, std::string description) {
  ParamDecl d;
  d.path = std::move(path);
  d.type = ParamType::kEnum;
  d.choices = std::move(choices);
  if (def) d.default_ = *def;
  d.description = std::move(description);
  return d;
}

ParamDecl ParamDecl::string_list(std::string path, std::vector<std::string> choices,
                                 std::optional<std::vector<std::string>> def,
                                 std::string description) {
  ParamDecl d;
  d.path = std::move(path);
  d.type = ParamType::kStringList;
  d.choices = std::move(choices);
  if (def) d.default_ = *def;
  d.description = std::move(description);
  return d;
}

ParamDecl ParamDecl::int_list(std::string path, std::string unit,
                              std::optional<std::vector<int64_t>> def, double min, double max,
                              std::string description) {
  ParamDecl d;
  d.path = std::move(path);
  d.type = ParamType::kIntList;
  d.unit = std::move(unit);
  if (def) d.default_ = *def;
  d.min = min;
  d.max = max;
  d.description = std::move(description);
  return d;
}

std::string ParamDecl::range_text() const {
  switch (type) {
    case ParamType::kInt:
    case ParamType::kFloat:
    case ParamType::kIntList: {
      std::string s = bounds_text(min, max);
      if (power_of_two) s += s.empty() ? "power of two" : ", power of two";
      return s;
    }
    case ParamType::kEnum:
      return "one of " + join(choices, ", ");
    case ParamType::kStringList:
      return choices.empty() ? "" : "each one of " + join(choices, ", ");
    default:
      return "";
  }
}

// ---- ParamSet ----

const ParamSet::Entry& ParamSet::entry(const std::string& path) const {
  auto it = m_values.find(path);
  if (it == m_values.end()) throw std::logic_error("parameter not set: " + path);
  return it->second;
}

bool ParamSet::is_invalid(const std::string& path) const {
  return std::find(m_invalid.begin(), m_invalid.end(), path) != m_invalid.end();
}

void ParamSet::set(const std::string& path, ParamValue v, SourceLoc loc, bool from_default) {
  m_values[path] = Entry{std::move(v), std::move(loc), from_default};
}

namespace {
template <typename T>
const T& get_as(const ParamSet& ps, const std::string& path) {
  const auto& v = ps.entry(path).value;
  if (const T* p = std::get_if<T>(&v)) return *p;
  throw std::logic_error("parameter " + path + " has another type");
}
}  // namespace

int64_t ParamSet::get_int(const std::string& path) const {
  return get_as<int64_t>(*this, path);
}
double ParamSet::get_float(const std::string& path) const {
  const auto& v = entry(path).value;
  if (const int64_t* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  return get_as<double>(*this, path);
}
bool ParamSet::get_bool(const std::string& path) const {
  return get_as<bool>(*this, path);
}
const std::string& ParamSet::get_string(const std::string& path) const {
  return get_as<std::string>(*this, path);
}
const std::vector<int64_t>& ParamSet::get_int_list(const std::string& path) const {
  return get_as<std::vector<int64_t>>(*this, path);
}
const std::vector<std::string>& ParamSet::get_string_list(const std::string& path) const {
  return get_as<std::vector<std::string>>(*this, path);
}

// ---- Schema ----

Schema::Schema(std::vector<ParamDecl> decls) : m_decls(std::move(decls)) {
  for (size_t i = 0; i < m_decls.size(); ++i) {
    if (!m_index.emplace(m_decls[i].path, i).second) {
      throw std::logic_error("parameter declared twice: " + m_decls[i].path);
    }
  }
}

const ParamDecl* Schema::find(const std::string& path) const {
  auto it = m_index.find(path);
  return it == m_index.end() ? nullptr : &m_decls[it->second];
}

bool Schema::is_section(const std::string& prefix) const {
  const std::string p = prefix + ".";
  for (const auto& d : m_decls) {
    if (d.path.compare(0, p.size(), p) == 0) return true;
  }
  return false;
}

std::vector<std::string> Schema::children_of(const std::string& prefix) const {
  std::vector<std::string> out;
  const std::string p = prefix.empty() ? "" : prefix + ".";
  for (const auto& d : m_decls) {
    if (d.path.compare(0, p.size(), p) != 0) continue;
    std::string rest = d.path.substr(p.size());
    rest = rest.substr(0, rest.find('.'));
    if (std::find(out.begin(), out.end(), rest) == out.end()) out.push_back(rest);
  }
  return out;
}

std::string Schema::convert(const ParamDecl& d, const YAML::Node& node, ParamValue& out) const {
  const std::string want = expected_text(d);

  const bool list = d.type == ParamType::kIntList || d.type == ParamType::kStringList;
  if (list) {
    if (!node.IsSequence()) return want + ", got " + kind_name(node);
    if (d.type == ParamType::kIntList) {
      std::vector<int64_t> v;
      for (const auto& item : node) {
        int64_t x = 0;
        if (!item.IsScalar() || !parse_int(item.Scalar(), x)) return want;
        v.push_back(x);
      }
      out = std::move(v);
    } else {
      std::vector<std::string> v;
      for (const auto& item : node) {
        if (!item.IsScalar()) return want;
        v.push_back(item.Scalar());
      }
      out = std::move(v);
    }
    const std::string problem = check(d, out);
    return problem;
  }
  if (!node.IsScalar()) return want + ", got " + kind_name(node);
  const std::string& s = node.Scalar();
  switch (d.type) {
    case ParamType::kInt: {
      int64_t x = 0;
      if (!parse_int(s, x)) return want;
      out = x;
      break;
    }
    case ParamType::kFloat: {
      double x = 0;
      if (!parse_float(s, x)) return want;
      out = x;
      break;
    }
    case ParamType::kBool: {
      bool x = false;
      if (!parse_bool(s, x)) return want;
      out = x;
      break;
    }
    case ParamType::kString:
    case ParamType::kEnum:
      out = s;
      break;
    default:
      break;
  }
  return check(d, out);
}

std::string Schema::check(const ParamDecl& d, const ParamValue& v) const {
  auto in_range = [&](double x) { return x >= d.min && x <= d.max; };
  switch (d.type) {
    case ParamType::kInt: {
      const int64_t x = std::get<int64_t>(v);
      if (!in_range(static_cast<double>(x)) || (d.power_of_two && !is_pow2(x))) {
        return expected_text(d);
      }
      return "";
    }
    case ParamType::kFloat: {
      const double x = std::holds_alternative<int64_t>(v)
                           ? static_cast<double>(std::get<int64_t>(v))
                           : std::get<double>(v);
      return in_range(x) ? "" : expected_text(d);
    }
    case ParamType::kEnum: {
      const auto& s = std::get<std::string>(v);
      if (std::find(d.choices.begin(), d.choices.end(), s) != d.choices.end()) return "";
      std::string r = "expected one of " + join(d.choices, ", ");
      const std::string hint = did_you_mean(s, d.choices);
      if (!hint.empty()) r += "; did you mean " + hint + "?";
      return r;
    }
    case ParamType::kIntList: {
      for (int64_t x : std::get<std::vector<int64_t>>(v)) {
        if (!in_range(static_cast<double>(x)) || (d.power_of_two && !is_pow2(x))) {
          return expected_text(d);
        }
      }
      return "";
    }
    case ParamType::kStringList: {
      if (d.choices.empty()) return "";
      std::set<std::string> seen;
      for (const auto& s : std::get<std::vector<std::string>>(v)) {
        if (std::find(d.choices.begin(), d.choices.end(), s) == d.choices.end()) {
          std::string r = "'" + s + "' is not one of " + join(d.choices, ", ");
          const std::string hint = did_you_mean(s, d.choices);
          if (!hint.empty()) r += "; did you mean " + hint + "?";
          return r;
        }
        if (!seen.insert(s).second) return "'" + s + "' is listed twice";
      }
      return "";
    }
    default:
      return "";
  }
}

void Schema::parse(const YAML::Node& root, const std::string& file, ParamSet& out,
                   DiagnosticSink& sink, const std::vector<std::string>& ignore_top) const {
  parse_map(root, "", file, out, sink, ignore_top, 0);
}

void Schema::parse_map(const YAML::Node& node, const std::string& prefix, const std::string& file,
                       ParamSet& out, DiagnosticSink& sink,
                       const std::vector<std::string>& ignore_top, int depth) const {
  if (!node.IsMap()) {
    sink.add(loc_of(node, file), prefix, brief(node),
             "expected a mapping of keys, got " + kind_name(node));
    const std::string p = prefix.empty() ? "" : prefix + ".";
    for (const auto& d : m_decls) {
      if (d.path.compare(0, p.size(), p) == 0) out.mark_invalid(d.path);
    }
    return;
  }
  std::set<std::string> seen;
  for (const auto& kv : node) {
    const YAML::Node& key = kv.first;
    const YAML::Node& val = kv.second;
    if (!key.IsScalar()) {
      sink.add(loc_of(key, file), prefix, brief(key), "expected a key name, got " + kind_name(key));
      continue;
    }
    const std::string& k = key.Scalar();
    const std::string path = prefix.empty() ? k : prefix + "." + k;
    if (!seen.insert(k).second) {
      sink.add(loc_of(key, file), path, "", "key given twice");
      continue;
    }
    if (depth == 0 && std::find(ignore_top.begin(), ignore_top.end(), k) != ignore_top.end()) {
      continue;
    }
    if (const ParamDecl* d = find(path)) {
      ParamValue v;
      const std::string problem = convert(*d, val, v);
      if (!problem.empty()) {
        sink.add(loc_of(val, file), path, brief(val), problem);
        out.mark_invalid(path);
      } else {
        out.set(path, std::move(v), loc_of(val, file));
      }
    } else if (is_section(path)) {
      parse_map(val, path, file, out, sink, ignore_top, depth + 1);
    } else {
      std::vector<std::string> siblings = children_of(prefix);
      if (depth == 0) siblings.insert(siblings.end(), ignore_top.begin(), ignore_top.end());
      std::string msg = "unknown key";
      const std::string hint = did_you_mean(k, siblings);
      if (!hint.empty()) {
        msg += "; did you mean " + (prefix.empty() ? hint : prefix + "." + hint) + "?";
      } else {
        msg += "; expected one of " + join(siblings, ", ");
      }
      sink.add(loc_of(key, file), path, brief(val), msg);
    }
  }
}

void Schema::apply_override(const std::string& assignment, ParamSet& out, DiagnosticSink& sink,
                            const std::string& source) const {
  const SourceLoc where{source, 0, 0};
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    sink.add(where, "", assignment, "expected key.path=value");
    return;
  }
  const std::string path = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  const ParamDecl* d = find(path);
  if (!d) {
    std::vector<std::string> all;
    for (const auto& decl : m_decls) all.push_back(decl.path);
    std::string msg = "no such key";
    const std::string hint = did_you_mean(path, all);
    if (!hint.empty()) msg += "; did you mean " + hint + "?";
    sink.add(where, path, text, msg);
    return;
  }
  YAML::Node node;
  try {
    node = YAML::Load(text);
  } catch (const YAML::Exception&) {
    node = YAML::Node(text);  // treat as a plain string; convert() reports the type problem
  }
  ParamValue v;
  const std::string problem = convert(*d, node, v);
  if (!problem.empty()) {
    sink.add(where, path, text, problem);
    out.mark_invalid(path);
    return;
  }
  out.set(path, std::move(v), where);
}

void Schema::fill_defaults(ParamSet& out, const SourceLoc& where, DiagnosticSink& sink) const {
  for (const auto& d : m_decls) {
    if (out.has(d.path) || out.is_invalid(d.path)) continue;
    if (d.default_) {
      out.set(d.path, *d.default_, SourceLoc{}, true);
    } else {
      sink.add(where, d.path, "",
               "missing required key (" + type_name(d.type) +
                   (d.unit.empty() ? "" : ", " + d.unit) + ": " + d.description + ")");
    }
  }
}

namespace {
void emit_value(YAML::Emitter& e, const ParamValue& v) {
  struct V {
    YAML::Emitter& e;
    void operator()(int64_t x) const { e << x; }
    void operator()(double x) const {
      std::string s = format_double(x);
      if (s.find_first_of(".eE") == std::string::npos) s += ".0";
      e << s;
    }
    void operator()(bool x) const { e << (x ? "true" : "false"); }
    void operator()(const std::string& x) const { e << x; }
    void operator()(const std::vector<int64_t>& x) const {
      e << YAML::Flow << YAML::BeginSeq;
      for (auto i : x) e << i;
      e << YAML::EndSeq;
    }
    void operator()(const std::vector<std::string>& x) const {
      e << YAML::Flow << YAML::BeginSeq;
      for (const auto& i : x) e << i;
      e << YAML::EndSeq;
    }
  };
  std::visit(V{e}, v);
}
}  // namespace

std::string Schema::emit_yaml(const ParamSet& values, const std::string& header_comment) const {
  YAML::Emitter e;
  e.SetIndent(2);
  if (!header_comment.empty()) e << YAML::Comment(header_comment) << YAML::Newline;
  // Recursive emission in declaration order.
  std::function<void(const std::string&)> emit_section = [&](const std::string& prefix) {
    e << YAML::BeginMap;
    for (const auto& child : children_of(prefix)) {
      const std::string path = prefix.empty() ? child : prefix + "." + child;
      e << YAML::Key << child << YAML::Value;
      if (const ParamDecl* d = find(path)) {
        emit_value(e, values.entry(path).value);
        if (!d->unit.empty()) e << YAML::Comment(d->unit);
      } else {
        emit_section(path);
      }
    }
    e << YAML::EndMap;
  };
  emit_section("");
  return std::string(e.c_str()) + "\n";
}

std::string Schema::canonical_text(const ParamSet& values) const {
  std::string s;
  for (const auto& d : m_decls) {
    if (!d.hashed) continue;
    s += d.path + "=" + format_value(values.entry(d.path).value) + "\n";
  }
  return s;
}

}  // namespace nax
