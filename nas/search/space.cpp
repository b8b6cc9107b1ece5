#include "nas/search/space.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
#include <set>

#include "models/common/hash.hpp"
#include "models/common/params.hpp"
#include "models/common/yaml_io.hpp"
#include "models/ir/analysis.hpp"
#include "models/model_source.hpp"

namespace nax::search {

namespace {

namespace fs = std::filesystem;

constexpr int kDefaultCuratedValues = 6;
constexpr double kDefaultDepthStep = 0.05;
constexpr int64_t kMaxRangeValues = 65536;  // widest channel range (uncurated options)
constexpr int kMaxDepthValues = 10000;      // most uncurated depth multipliers

const std::vector<std::string> kTopKeys = {"name",           "description", "base",
                                           "curated_values", "resolution",  "depth_multiplier",
                                           "stages",         "variants",    "chip"};
const std::vector<std::string> kChipKeys = {"values", "group", "same_as"};
const std::vector<std::string> kChoiceKeys = {"values", "min", "max", "per", "group"};
const std::vector<std::string> kDepthKeys = {"values", "step"};

// One option as the file gives it: its text (what realize() applies), its number (numeric
// options), where it was written.
struct Option {
  std::string text;
  double number = 0;
  SourceLoc loc;
};

// A choice the file declares, before the baseline's depth and the variant are known.
struct Declared {
  std::string stage;  // "" for resolution and depth_multiplier
  std::string key;
  std::string group;
  bool per_block = false;
  bool numeric = false;
  std::vector<Option> values;  // list form
  bool range = false;          // {min, max}: a channel range
  int64_t lo = 0;
  int64_t hi = 0;
  double step = 0;  // depth_multiplier (uncurated)
  SourceLoc loc;    // the key
};

// A chip axis the file declares: its keys (the first is the axis; the others are tied to it with
// `same_as`) and options.
struct ChipDeclared {
  std::vector<std::string> keys;
  std::vector<SourceLoc> key_locs;
  std::string group = "chip";
  std::vector<Option> values;
  bool numeric = true;  // every option is a number (then ordered increasing)
  SourceLoc loc;
};

// `text` as a number when all of it is one.
bool parse_number(const std::string& text, double& out) {
  try {
    size_t pos = 0;
    out = std::stod(text, &pos);
    return pos == text.size() && std::isfinite(out);
  } catch (const std::exception&) {
    return false;
  }
}

bool same_option(const Option& a, const Option& b, bool numeric) {
  return numeric ? a.number == b.number : a.text == b.text;
}

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 100) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

std::string join(const std::vector<std::string>& items) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + items[i];
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

double number_of(const ParamValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  return 0;
}

// Depth multipliers as text: rounded to 1e-6 so that 0.5 + 5 x 0.05 prints "0.75".
double round6(double x) {
  return std::round(x * 1e6) / 1e6;
}
std::string dm_text(double x) {
  return fmt::format("{}", round6(x));
}

const ParamDecl* find_decl(const spec::BlockType& t, const std::string& key) {
  for (const auto& d : t.params) {
    if (d.path == key) return &d;
  }
  return nullptr;
}

bool declares(const spec::BlockSpec& b, const std::string& key) {
  if (key == "type") return true;
  const spec::BlockType* t = spec::BlockRegistry::instance().find(b.type);
  return t && find_decl(*t, key);
}

// A block's value of `key` with the type's default filled in ("" when it cannot be resolved).
bool resolved_value(const spec::BlockSpec& b, const std::string& key, ParamValue& out) {
  if (key == "type") {
    out = b.type;
    return true;
  }
  ParamSet ps;
  DiagnosticSink ignore;
  spec::resolve_block(b, ps, ignore);
  if (!ps.has(key)) return false;
  out = ps.entry(key).value;
  return true;
}

class Reader {
 public:
  Reader(std::string file, DiagnosticSink& sink) : m_file(std::move(file)), m_sink(sink) {}

  SourceLoc loc(const YAML::Node& n) const { return loc_of(n, m_file); }
  const std::string& file() const { return m_file; }

  void fail(const YAML::Node& at, const std::string& path, const std::string& value,
            const std::string& msg) {
    m_sink.add(loc(at), path, value, msg);
  }
  void fail(const SourceLoc& at, const std::string& path, const std::string& value,
            const std::string& msg) {
    m_sink.add(at, path, value, msg);
  }

  void unknown_key(const YAML::Node& key, const std::string& prefix,
                   const std::vector<std::string>& allowed) {
    const std::string k = key.IsScalar() ? key.Scalar() : brief(key);
    std::string msg = "unknown key";
    const std::string hint = did_you_mean(k, allowed);
    msg += hint.empty() ? "; expected one of " + join(allowed) : "; did you mean " + hint + "?";
    fail(key, prefix.empty() ? k : prefix + "." + k, "", msg);
  }

  // Iterates a mapping's entries with scalar, non-repeated keys.
  template <typename F>
  bool each_entry(const YAML::Node& map, const std::string& path, F&& f) {
    std::set<std::string> seen;
    bool ok = true;
    for (const auto& kv : map) {
      if (!kv.first.IsScalar()) {
        fail(kv.first, path, brief(kv.first), "expected a key name");
        ok = false;
        continue;
      }
      const std::string& k = kv.first.Scalar();
      if (!seen.insert(k).second) {
        fail(kv.first, path.empty() ? k : path + "." + k, "", "key given twice");
        ok = false;
        continue;
      }
      f(k, kv.first, kv.second);
    }
    return ok;
  }

  bool value(const YAML::Node& n, const ParamDecl& d, const std::string& path, ParamValue& out) {
    const std::string problem = Schema().convert(d, n, out);
    if (problem.empty()) return true;
    fail(n, path, brief(n), problem);
    return false;
  }

  bool integer(const YAML::Node& n, const std::string& path, double lo, double hi, int64_t& out) {
    ParamValue v;
    if (!value(n, ParamDecl::integer(path, "", std::nullopt, lo, hi, ""), path, v)) return false;
    out = std::get<int64_t>(v);
    return true;
  }

  bool string(const YAML::Node& n, const std::string& path, std::string& out) {
    if (!n.IsScalar()) {
      fail(n, path, brief(n), "expected a string, got " + kind_name(n));
      return false;
    }
    out = n.Scalar();
    return true;
  }

  // A non-empty list of options of the declared type; repeated options are kept once.
  bool options(const YAML::Node& n, const ParamDecl& d, const std::string& path,
               std::vector<Option>& out) {
    if (!n.IsSequence() || n.size() == 0) {
      fail(n, path, brief(n),
           n.IsSequence() ? "expected at least one option, got an empty list"
                          : "expected a list of options, got " + kind_name(n));
      return false;
    }
    bool ok = true;
    for (const auto& item : n) {
      ParamValue v;
      if (!value(item, d, path, v)) {
        ok = false;
        continue;
      }
      Option o{format_value(v), number_of(v), loc(item)};
      if (std::none_of(out.begin(), out.end(), [&](const Option& x) { return x.text == o.text; }))
        out.push_back(std::move(o));
    }
    return ok;
  }

 private:
  std::string m_file;
  DiagnosticSink& m_sink;
};

std::string default_group(const std::string& key) {
  if (key == "out") return "channels";
  if (key == "repeats") return "depth";
  return key;  // type, kernel, expansion, or the parameter's own name
}

bool default_per_block(const std::string& key) {
  return key == "type" || key == "kernel" || key == "expansion";
}

// Reads one `stages:` entry: `stage: {key: options, ...}`.
void read_stage(Reader& r, const YAML::Node& key_node, const YAML::Node& node,
                const spec::ModelSpec& base, std::vector<Declared>& out) {
  const std::string stage = key_node.Scalar();
  const std::string where = "stages." + stage;
  const spec::StageSpec* st = nullptr;
  std::vector<std::string> stage_names;
  for (const auto& s : base.stages) {
    stage_names.push_back(s.name);
    if (s.name == stage) st = &s;
  }
  if (!st) {
    std::string msg = fmt::format("the baseline {} has no stage of this name", base.name);
    const std::string hint = did_you_mean(stage, stage_names);
    msg += hint.empty() ? "" : "; did you mean " + hint + "?";
    msg += " (stages: " + join(stage_names) + ")";
    r.fail(key_node, where, "", msg);
    return;
  }
  if (!node.IsMap() || node.size() == 0) {
    r.fail(node, where, brief(node),
           "expected a mapping of decisions such as {type: [ibn, fused_ibn], out: {min: 16, "
           "max: 48}}, got " +
               (node.IsMap() ? std::string("an empty mapping") : kind_name(node)));
    return;
  }
  // The parameters the stage's block types declare (the first declaration of each name).
  std::vector<ParamDecl> decls;
  std::vector<std::string> allowed = {"repeats", "type"};
  for (const auto& b : st->blocks) {
    const spec::BlockType* t = spec::BlockRegistry::instance().find(b.type);
    if (!t) continue;
    for (const auto& d : t->params) {
      if (d.path == "input" || d.path == "inputs") continue;
      if (std::find(allowed.begin(), allowed.end(), d.path) != allowed.end()) continue;
      allowed.push_back(d.path);
      decls.push_back(d);
    }
  }
  r.each_entry(node, where, [&](const std::string& k, const YAML::Node& kn, const YAML::Node& v) {
    const std::string path = where + "." + k;
    Declared d;
    d.stage = stage;
    d.key = k;
    d.loc = r.loc(kn);
    d.group = default_group(k);
    d.per_block = default_per_block(k);
    ParamDecl decl;
    if (k == "repeats") {
      decl = ParamDecl::integer(k, "", std::nullopt, 1, 10000, "");
    } else if (k == "type") {
      decl = ParamDecl::string(k, std::nullopt, "");
    } else {
      auto it =
          std::find_if(decls.begin(), decls.end(), [&](const ParamDecl& x) { return x.path == k; });
      if (it == decls.end()) {
        std::string msg =
            "unknown key: expected repeats, type or a parameter of the stage's blocks";
        const std::string hint = did_you_mean(k, allowed);
        msg += hint.empty() ? " (" + join(allowed) + ")" : "; did you mean " + hint + "?";
        r.fail(kn, path, "", msg);
        return;
      }
      decl = *it;
    }
    d.numeric = decl.type == ParamType::kInt || decl.type == ParamType::kFloat;
    bool ok = true;
    if (v.IsSequence()) {
      ok = r.options(v, decl, path, d.values);
    } else if (v.IsMap()) {
      const YAML::Node values = v["values"], lo = v["min"], hi = v["max"];
      const bool keys_ok = r.each_entry(
          v, path, [&](const std::string& mk, const YAML::Node& mkn, const YAML::Node& mv) {
            if (std::find(kChoiceKeys.begin(), kChoiceKeys.end(), mk) == kChoiceKeys.end()) {
              r.unknown_key(mkn, path, kChoiceKeys);
              ok = false;
            } else if (mk == "per") {
              std::string per;
              if (!r.string(mv, path + ".per", per)) {
                ok = false;
              } else if (per != "block" && per != "stage") {
                r.fail(mv, path + ".per", per, "expected block or stage");
                ok = false;
              } else if (per == "block" && k == "repeats") {
                r.fail(mv, path + ".per", per, "repeats is a stage's depth: expected stage");
                ok = false;
              } else {
                d.per_block = per == "block";
              }
            } else if (mk == "group") {
              if (!r.string(mv, path + ".group", d.group) || !valid_name(d.group)) {
                r.fail(mv, path + ".group", brief(mv),
                       "expected a group name (letters, digits, '_', '-', '.')");
                ok = false;
              }
            }
          });
      ok = ok && keys_ok;
      if (values && (lo || hi)) {
        r.fail(v, path, "", "expected either values or min and max, not both");
        ok = false;
      } else if (values) {
        ok &= r.options(values, decl, path + ".values", d.values);
      } else if (lo || hi) {
        if (decl.type != ParamType::kInt || decl.unit != "channels") {
          r.fail(v, path, "",
                 "a {min, max} range is for channel counts (block parameters in channels, such "
                 "as out); expected a list of options");
          ok = false;
        } else if (!lo || !hi) {
          r.fail(v, path, "", "a channel range needs both min and max");
          ok = false;
        } else {
          const double top = std::min(decl.max, 1048576.0);
          ok &= r.integer(lo, path + ".min", std::max(1.0, decl.min), top, d.lo);
          ok &= r.integer(hi, path + ".max", std::max(1.0, decl.min), top, d.hi);
          if (ok && d.lo > d.hi) {
            r.fail(v, path, fmt::format("{{min: {}, max: {}}}", d.lo, d.hi), "expected min <= max");
            ok = false;
          } else if (ok && d.hi - d.lo + 1 > kMaxRangeValues) {
            r.fail(v, path, fmt::format("{{min: {}, max: {}}}", d.lo, d.hi),
                   fmt::format("expected a range of at most {} values", kMaxRangeValues));
            ok = false;
          }
          d.range = true;
        }
      } else {
        r.fail(v, path, "", "expected values: [...] or min and max");
        ok = false;
      }
    } else {
      r.fail(v, path, brief(v),
             "expected a list of options or a mapping {min, max} / {values: [...]}, got " +
                 kind_name(v));
      ok = false;
    }
    if (ok && k == "type") {
      for (const auto& o : d.values) {
        if (!spec::BlockRegistry::instance().find(o.text)) {
          std::string msg = "unknown block type";
          const std::string hint = did_you_mean(o.text, spec::BlockRegistry::instance().names());
          msg += hint.empty() ? "; see `nax describe --blocks`" : "; did you mean " + hint + "?";
          r.fail(o.loc, path, o.text, msg);
          ok = false;
        }
      }
    }
    if (ok) out.push_back(std::move(d));
  });
}

// Reads `chip:`: `key: [options]`, `key: {values: [...], group: NAME}` or `key: {same_as: KEY}`.
// Every key must be a chip parameter (axes.base_value), tied keys must agree on the base chip,
// and every option, alone, must give a valid chip (axes.check).
void read_chip(Reader& r, const SourceLoc& key_loc, const YAML::Node& n, const ChipAxes& axes,
               std::vector<ChipDeclared>& out) {
  if (!axes.available()) {
    r.fail(key_loc, "chip", "",
           "chip decisions need a command that resolves chips per candidate (nax search); this "
           "one searches networks on one chip");
    return;
  }
  if (!n.IsMap() || n.size() == 0) {
    r.fail(n, "chip", brief(n),
           "expected a mapping of chip keys to options, such as {mac_array.rows: [16, 32, 64], "
           "mac_array.cols: {same_as: mac_array.rows}}");
    return;
  }
  struct Tie {
    std::string key, target;
    SourceLoc key_loc, target_loc;
  };
  std::vector<Tie> ties;
  std::vector<std::string> all_keys;
  std::set<std::string> bad_keys;
  r.each_entry(n, "chip", [&](const std::string& k, const YAML::Node& kn, const YAML::Node& v) {
    const std::string path = "chip." + k;
    all_keys.push_back(k);
    bool ok = true;
    if (k == "name" || k == "description") {
      r.fail(kn, path, "", "not a hardware parameter; expected a chip key such as mac_array.rows");
      ok = false;
    } else {
      try {
        axes.base_value(k);
      } catch (const InputError& e) {
        r.fail(kn, path, "", e.what());
        ok = false;
      }
    }
    if (!ok) bad_keys.insert(k);
    ChipDeclared d;
    d.keys = {k};
    d.key_locs = {r.loc(kn)};
    d.loc = r.loc(kn);
    // (yaml-cpp: a default-constructed Node is defined, and assigning to one aliases; optionals.)
    std::optional<YAML::Node> values;
    if (v.IsSequence()) {
      values.emplace(v);
    } else if (v.IsMap()) {
      std::optional<YAML::Node> same_as;
      bool has_group = false;
      const bool keys_ok = r.each_entry(
          v, path, [&](const std::string& mk, const YAML::Node& mkn, const YAML::Node& mv) {
            if (std::find(kChipKeys.begin(), kChipKeys.end(), mk) == kChipKeys.end()) {
              r.unknown_key(mkn, path, kChipKeys);
              ok = false;
            } else if (mk == "values") {
              values.emplace(mv);
            } else if (mk == "same_as") {
              same_as.emplace(mv);
            } else {
              has_group = true;
              if (!r.string(mv, path + ".group", d.group) || !valid_name(d.group)) {
                r.fail(mv, path + ".group", brief(mv),
                       "expected a group name (letters, digits, '_', '-', '.')");
                ok = false;
              }
            }
          });
      ok = ok && keys_ok;
      if (same_as) {
        std::string target;
        if (values || has_group) {
          r.fail(v, path, "",
                 "same_as ties this key to another axis (its options and group): expected "
                 "same_as alone");
        } else if (r.string(*same_as, path + ".same_as", target)) {
          ties.push_back({k, target, r.loc(kn), r.loc(*same_as)});
        }
        return;
      }
      if (!values) {
        r.fail(v, path, "", "expected values: [...] or same_as: KEY");
        return;
      }
    } else {
      r.fail(v, path, brief(v),
             "expected a list of options, {values: [...], group: NAME} or {same_as: KEY}, got " +
                 kind_name(v));
      return;
    }
    if (!values->IsSequence() || values->size() == 0) {
      r.fail(*values, path, brief(*values),
             values->IsSequence() ? "expected at least one option, got an empty list"
                                  : "expected a list of options, got " + kind_name(*values));
      return;
    }
    for (const auto& item : *values) {
      if (!item.IsScalar() || item.Scalar().empty()) {
        r.fail(item, path, brief(item),
               "expected a value (a number, true/false or a name), got " + kind_name(item));
        ok = false;
        continue;
      }
      Option o{item.Scalar(), 0, r.loc(item)};
      d.numeric = parse_number(o.text, o.number) && d.numeric;
      d.values.push_back(std::move(o));
    }
    if (ok) out.push_back(std::move(d));
  });
  // Ties: the target is an axis with options (not itself tied), each key on one axis only.
  for (const Tie& t : ties) {
    if (bad_keys.count(t.key)) continue;
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const ChipDeclared& d) { return d.keys.front() == t.target; });
    if (it == out.end()) {
      std::string msg = "same_as: expected a key of this chip section that has options";
      std::vector<std::string> axes_keys;
      for (const auto& d : out) axes_keys.push_back(d.keys.front());
      const std::string hint = did_you_mean(t.target, axes_keys);
      msg += hint.empty() ? " (" + join(axes_keys) + ")" : "; did you mean " + hint + "?";
      r.fail(t.target_loc, "chip." + t.key + ".same_as", t.target, msg);
      continue;
    }
    it->keys.push_back(t.key);
    it->key_locs.push_back(t.key_loc);
  }
  // Options: numbers compare by value (17 and 17.0 are one option); kept once, file order.
  for (ChipDeclared& d : out) {
    std::vector<Option> unique;
    for (const auto& o : d.values) {
      if (std::none_of(unique.begin(), unique.end(),
                       [&](const Option& x) { return same_option(x, o, d.numeric); }))
        unique.push_back(o);
    }
    d.values = std::move(unique);
  }
  // Tied keys agree on the base chip (else the baseline option would change the base chip), and
  // every option alone gives a valid chip.
  for (const ChipDeclared& d : out) {
    const std::string path = "chip." + d.keys.front();
    bool ok = true;
    const std::string first = axes.base_value(d.keys.front());
    for (size_t i = 1; i < d.keys.size(); ++i) {
      const std::string other = axes.base_value(d.keys[i]);
      double a = 0, b = 0;
      const bool same =
          (parse_number(first, a) && parse_number(other, b)) ? a == b : first == other;
      if (!same) {
        r.fail(d.key_locs[i], "chip." + d.keys[i], "",
               fmt::format("tied to {} (same_as), but the base chip has {} = {} and {} = {}: the "
                           "baseline would not be the base chip",
                           d.keys.front(), d.keys.front(), first, d.keys[i], other));
        ok = false;
      }
    }
    if (!ok) continue;
    for (const auto& o : d.values) {
      std::vector<std::string> overrides;
      for (const auto& k : d.keys) overrides.push_back(k + "=" + o.text);
      const std::string why = axes.check(overrides);
      if (!why.empty()) r.fail(o.loc, path, o.text, "not a valid chip with this option: " + why);
    }
  }
}

// The options of a decision: the declared ones plus the baseline's value (numeric ones sorted
// increasing), and the baseline's index.
void finish(Decision& dec, const std::vector<Option>& declared, const Option& base, bool numeric) {
  std::vector<Option> all;
  for (const auto& o : declared) {
    if (std::none_of(all.begin(), all.end(), [&](const Option& x) { return x.text == o.text; }))
      all.push_back(o);
  }
  if (std::none_of(all.begin(), all.end(), [&](const Option& x) { return x.text == base.text; }))
    all.push_back(base);
  if (numeric) {
    std::stable_sort(all.begin(), all.end(),
                     [](const Option& a, const Option& b) { return a.number < b.number; });
  }
  dec.values.clear();
  for (const auto& o : all) dec.values.push_back(o.text);
  dec.baseline = static_cast<int>(std::find(dec.values.begin(), dec.values.end(), base.text) -
                                  dec.values.begin());
  dec.ordered = numeric;
}

void set_options(Decision& dec, const Declared& d, const ParamValue& base, const SpaceOptions& o,
                 int curated_values) {
  if (d.range) {
    const int b = static_cast<int>(std::get<int64_t>(base));
    const std::vector<int> v = channel_options(static_cast<int>(d.lo), static_cast<int>(d.hi), b,
                                               o.curated, o.parallelism, curated_values);
    dec.values.clear();
    for (int x : v) dec.values.push_back(std::to_string(x));
    dec.baseline = static_cast<int>(std::find(v.begin(), v.end(), b) - v.begin());
    dec.ordered = true;
    return;
  }
  finish(dec, d.values, Option{format_value(base), number_of(base), {}}, d.numeric);
}

std::string resolve_base(const std::string& base, const std::string& file) {
  if (!(ends_with(base, ".yaml") || ends_with(base, ".yml") || ends_with(base, ".onnx")))
    return base;  // a zoo name
  const fs::path p(base);
  if (p.is_absolute()) return base;
  return (fs::path(file).parent_path() / p).lexically_normal().string();
}

// What an InputError says, without the "path = value: " prefix its messages may repeat.
std::string detail(const InputError& e, const std::string& path, const std::string& value) {
  const std::string prefix = path + " = " + value + ": ";
  std::string out;
  for (const Diagnostic& d : e.diagnostics()) {
    std::string s = d.str();
    if ((d.path == path && d.value == value) || (d.path.empty() && d.loc.file.empty())) {
      s = d.message;
      if (s.compare(0, prefix.size(), prefix) == 0) s = s.substr(prefix.size());
    }
    out += (out.empty() ? "" : "; ") + s;
  }
  return out;
}

struct Variant {
  std::string name;
  SourceLoc loc;
  std::vector<std::pair<std::string, SourceLoc>> groups;
};

}  // namespace

// ---------------------------------------------------------------- channel options

std::vector<int> channel_options(int lo, int hi, int baseline, bool curated, int parallelism,
                                 int max_values) {
  if (lo < 1 || lo > hi) {
    throw InputError(fmt::format("channel range [{}, {}]: expected 1 <= min <= max", lo, hi));
  }
  if (baseline < 1) throw InputError(fmt::format("baseline channels {}: expected >= 1", baseline));
  std::vector<int> v;
  if (!curated) {
    for (int x = lo; x <= hi; ++x) v.push_back(x);
  } else {
    if (parallelism < 1) {
      throw InputError(fmt::format("parallelism factor {}: expected >= 1", parallelism));
    }
    if (max_values < 1) {
      throw InputError(fmt::format("curated values {}: expected >= 1", max_values));
    }
    const int p = parallelism;
    const int first = (lo + p - 1) / p * p;
    const int last = hi / p * p;
    if (first > last) {
      // No multiple inside: the nearest one outside (never 0).
      const int below = lo / p * p;
      v.push_back(below >= p && lo - below < first - hi ? below : first);
    } else {
      const int n = (last - first) / p + 1;
      if (n <= max_values) {
        for (int i = 0; i < n; ++i) v.push_back(first + i * p);
      } else if (max_values == 1) {
        // One value: the multiple nearest the baseline.
        const int k = std::clamp((baseline + p / 2) / p * p, first, last);
        v.push_back(k);
      } else {
        for (int i = 0; i < max_values; ++i) {
          const long idx = std::lround(static_cast<double>(i) * (n - 1) / (max_values - 1));
          v.push_back(first + static_cast<int>(idx) * p);
        }
      }
    }
  }
  if (std::find(v.begin(), v.end(), baseline) == v.end()) {
    v.insert(std::upper_bound(v.begin(), v.end(), baseline), baseline);
  }
  return v;
}

// ---------------------------------------------------------------- loading

SearchSpace SearchSpace::load(const std::string& path, const SpaceOptions& o) {
  return parse(read_text_file(path, kMaxYamlBytes), path, o);
}

SearchSpace SearchSpace::parse(const std::string& yaml_text, const std::string& file,
                               const SpaceOptions& o) {
  if (o.parallelism < 1) {
    throw InputError(
        SourceLoc{file, 0, 0},
        fmt::format("parallelism factor {}: expected a positive number of lanes", o.parallelism));
  }
  const YAML::Node root = parse_yaml(yaml_text, file);
  if (!root.IsMap()) {
    throw InputError(std::vector<Diagnostic>{
        Diagnostic{loc_of(root, file), "", root.IsNull() ? "" : brief(root),
                   "expected a search space (a mapping with name, base, stages, variants), got " +
                       kind_name(root)}});
  }
  DiagnosticSink sink;
  Reader r(file, sink);
  SearchSpace s;
  s.m_file = file;
  s.m_options = o;

  r.each_entry(root, "", [&](const std::string& k, const YAML::Node& kn, const YAML::Node&) {
    if (std::find(kTopKeys.begin(), kTopKeys.end(), k) == kTopKeys.end())
      r.unknown_key(kn, "", kTopKeys);
  });
  for (const char* required : {"name", "base"}) {
    if (!root[required]) {
      sink.add(SourceLoc{file, 1, 1}, required, "",
               std::string("missing required key (") +
                   (std::string(required) == "name" ? "the space's name"
                                                    : "a zoo model or a model YAML") +
                   ")");
    }
  }
  if (const YAML::Node n = root["name"]) {
    if (r.string(n, "name", s.m_name) && !valid_name(s.m_name)) {
      r.fail(n, "name", s.m_name, "expected letters, digits, '_', '-' or '.' (it names models)");
    }
  }
  if (const YAML::Node n = root["description"]) {
    std::string ignored;
    r.string(n, "description", ignored);
  }
  int64_t curated_values = kDefaultCuratedValues;
  if (const YAML::Node n = root["curated_values"]) {
    r.integer(n, "curated_values", 2, 1000, curated_values);
  }

  std::vector<Declared> declared;
  if (const YAML::Node n = root["resolution"]) {
    Declared d;
    d.key = d.group = "resolution";
    d.numeric = true;
    d.loc = r.loc(n);
    if (r.options(n, ParamDecl::integer("resolution", "px", std::nullopt, 1, 1000000, ""),
                  "resolution", d.values)) {
      declared.push_back(std::move(d));
    }
  }
  if (const YAML::Node n = root["depth_multiplier"]) {
    Declared d;
    d.key = "depth_multiplier";
    d.group = "depth";
    d.numeric = true;
    d.loc = r.loc(n);
    d.step = kDefaultDepthStep;
    const ParamDecl decl = ParamDecl::number("depth_multiplier", "x", std::nullopt, 0.05, 16, "");
    bool ok = true;
    if (n.IsMap()) {
      const bool keys_ok = r.each_entry(
          n, "depth_multiplier",
          [&](const std::string& k, const YAML::Node& kn, const YAML::Node& v) {
            if (k == "values") {
              ok &= r.options(v, decl, "depth_multiplier.values", d.values);
            } else if (k == "step") {
              ParamValue pv;
              if (r.value(v, ParamDecl::number("step", "x", std::nullopt, 0.001, 16, ""),
                          "depth_multiplier.step", pv)) {
                d.step = std::get<double>(pv);
              } else {
                ok = false;
              }
            } else {
              r.unknown_key(kn, "depth_multiplier", kDepthKeys);
              ok = false;
            }
          });
      ok = ok && keys_ok;
      if (!n["values"]) {
        r.fail(n, "depth_multiplier.values", "", "missing required key (the curated multipliers)");
        ok = false;
      }
    } else {
      ok = r.options(n, decl, "depth_multiplier", d.values);
    }
    if (ok) {
      double lo = d.values.front().number, hi = lo;
      for (const auto& v : d.values) {
        lo = std::min(lo, v.number);
        hi = std::max(hi, v.number);
      }
      if ((hi - lo) / d.step + 1 > kMaxDepthValues) {
        r.fail(n, "depth_multiplier.step", fmt::format("{}", d.step),
               fmt::format("expected at most {} multipliers between {} and {}", kMaxDepthValues, lo,
                           hi));
      } else {
        declared.push_back(std::move(d));
      }
    }
  }

  std::vector<Variant> variants;
  const YAML::Node variants_node = root["variants"];
  if (variants_node) {
    if (!variants_node.IsMap() || variants_node.size() == 0) {
      r.fail(variants_node, "variants", brief(variants_node),
             "expected a mapping of variant names to lists of groups, such as {v1: [depth]}");
    } else {
      r.each_entry(variants_node, "variants",
                   [&](const std::string& k, const YAML::Node& kn, const YAML::Node& v) {
                     const std::string path = "variants." + k;
                     if (!valid_name(k)) {
                       r.fail(kn, path, "", "expected letters, digits, '_', '-' or '.'");
                       return;
                     }
                     if (!v.IsSequence() || v.size() == 0) {
                       r.fail(v, path, brief(v),
                              "expected a non-empty list of groups (resolution, depth, type, "
                              "kernel, expansion, channels or a group the file names)");
                       return;
                     }
                     Variant var{k, r.loc(kn), {}};
                     for (const auto& g : v) {
                       std::string name;
                       if (r.string(g, path, name)) var.groups.emplace_back(name, r.loc(g));
                     }
                     variants.push_back(std::move(var));
                   });
    }
  }

  // The baseline model.
  Model base_model;
  bool have_base = false;
  if (const YAML::Node n = root["base"]) {
    std::string arg;
    if (r.string(n, "base", arg)) {
      s.m_base_source = resolve_base(arg, file);
      if (ends_with(arg, ".onnx")) {
        r.fail(n, "base", arg,
               "an ONNX model has no block-level description; expected a zoo name (such as "
               "mobilenet_v2:width=0.5) or a model YAML");
      } else {
        try {
          base_model = load_model(s.m_base_source);
          if (!base_model.spec) {
            r.fail(n, "base", arg, "the model has no block-level description");
          } else {
            s.m_base = *base_model.spec;
            have_base = true;
          }
        } catch (const InputError& e) {
          r.fail(n, "base", arg, std::string("cannot load the baseline model: ") + e.what());
        }
      }
    }
  }
  if (!have_base) {
    sink.throw_if_any();
    throw InputError(SourceLoc{file, 0, 0}, "no baseline model");
  }

  if (const YAML::Node n = root["stages"]) {
    if (!n.IsMap() || n.size() == 0) {
      r.fail(n, "stages", brief(n),
             "expected a mapping of stage names to decisions, such as {s2: {repeats: [1, 2]}}");
    } else {
      std::vector<Declared> stage_decls;
      r.each_entry(n, "stages", [&](const std::string&, const YAML::Node& kn, const YAML::Node& v) {
        read_stage(r, kn, v, s.m_base, stage_decls);
      });
      // Baseline stage order (file order within a stage).
      for (const auto& st : s.m_base.stages) {
        for (auto& d : stage_decls) {
          if (d.stage == st.name) declared.push_back(std::move(d));
        }
      }
    }
  }
  std::vector<ChipDeclared> chip_declared;
  for (const auto& kv : root) {
    if (kv.first.IsScalar() && kv.first.Scalar() == "chip")
      read_chip(r, r.loc(kv.first), kv.second, o.chip, chip_declared);
  }
  if (declared.empty() && chip_declared.empty() && sink.empty()) {
    sink.add(SourceLoc{file, 1, 1}, "", "",
             "the space declares no decisions: expected resolution, depth_multiplier, stages or "
             "chip");
  }
  // A depth multiplier that cannot change any stage (every stage it applies to has its depth set
  // by `repeats`, or is too shallow for its options) would only multiply the space's size.
  for (const auto& d : declared) {
    if (d.key != "depth_multiplier") continue;
    bool changes = false;
    for (const auto& st : s.m_base.stages) {
      const bool has_repeats =
          std::any_of(declared.begin(), declared.end(),
                      [&](const Declared& x) { return x.stage == st.name && x.key == "repeats"; });
      if (st.fixed_depth || st.blocks.empty() || has_repeats) continue;
      const int n = static_cast<int>(st.blocks.size());
      for (const auto& v : d.values) {
        changes |= std::max(1, static_cast<int>(std::ceil(n * v.number - 1e-9))) != n;
      }
    }
    if (!changes) {
      sink.add(d.loc, "depth_multiplier", "",
               "changes no stage's depth: the stages it applies to (no fixed_depth) either have "
               "a repeats decision, which sets their depth after it, or keep their depth at "
               "every multiplier given");
    }
  }
  sink.throw_if_any();

  // Variants name groups that the file's decisions have.
  std::vector<std::string> groups;
  for (const auto& d : declared) {
    if (std::find(groups.begin(), groups.end(), d.group) == groups.end()) groups.push_back(d.group);
  }
  for (const auto& d : chip_declared) {
    if (std::find(groups.begin(), groups.end(), d.group) == groups.end()) groups.push_back(d.group);
  }
  for (const auto& v : variants) {
    s.m_variants.push_back(v.name);
    for (const auto& [g, loc] : v.groups) {
      if (std::find(groups.begin(), groups.end(), g) != groups.end()) continue;
      std::string msg = "no decision of this space is in this group";
      const std::string hint = did_you_mean(g, groups);
      msg += hint.empty() ? "" : "; did you mean " + hint + "?";
      sink.add(loc, "variants." + v.name, g, msg + " (groups: " + join(groups) + ")");
    }
  }
  sink.throw_if_any();
  std::vector<std::string> enabled = groups;
  if (!o.variant.empty()) {
    auto it = std::find_if(variants.begin(), variants.end(),
                           [&](const Variant& v) { return v.name == o.variant; });
    if (it == variants.end()) {
      const SourceLoc where = variants_node ? r.loc(variants_node) : SourceLoc{file, 1, 1};
      std::string msg = variants.empty()
                            ? "the space declares no variants"
                            : "not a variant of this space; expected one of " + join(s.m_variants);
      const std::string hint = did_you_mean(o.variant, s.m_variants);
      if (!hint.empty()) msg += " (did you mean " + hint + "?)";
      throw InputError(std::vector<Diagnostic>{Diagnostic{where, "variant", o.variant, msg}});
    }
    enabled.clear();
    for (const auto& g : it->groups) enabled.push_back(g.first);
  }
  std::vector<const Declared*> act;
  for (const auto& d : declared) {
    if (std::find(enabled.begin(), enabled.end(), d.group) != enabled.end()) act.push_back(&d);
  }

  // The deepest the baseline's stages get: blocks that exist in some genotype.
  double max_dm = 1.0;
  bool has_dm = false;
  for (const Declared* d : act) {
    if (d->key != "depth_multiplier") continue;
    has_dm = true;
    for (const auto& v : d->values) max_dm = std::max(max_dm, v.number);
  }
  spec::ModelSpec deep = s.m_base;
  for (auto& st : deep.stages) {
    const int n = static_cast<int>(st.blocks.size());
    if (n == 0) continue;
    int depth = n;
    auto rep = std::find_if(act.begin(), act.end(), [&](const Declared* d) {
      return d->stage == st.name && d->key == "repeats";
    });
    if (rep != act.end()) {
      for (const auto& v : (*rep)->values) depth = std::max(depth, static_cast<int>(v.number));
    } else if (has_dm && !st.fixed_depth) {
      depth = std::max(n, static_cast<int>(std::ceil(n * max_dm - 1e-9)));
    }
    if (depth != n) spec::set_stage_depth(st, depth);
  }

  // Decisions, each with the declaration it came from.
  std::vector<const Declared*> from;
  auto add = [&](Decision dec, const Declared* d) {
    s.m_decisions.push_back(std::move(dec));
    from.push_back(d);
  };
  for (const Declared* d : act) {
    if (d->key == "resolution") {
      if (s.m_base.height != s.m_base.width) {
        sink.add(d->loc, "resolution", "",
                 fmt::format("the baseline's input is {}x{}; a resolution decision needs a square "
                             "input",
                             s.m_base.height, s.m_base.width));
        continue;
      }
      Decision dec{"resolution", d->group, "", -1, "resolution", {}, 0, true, {}};
      finish(dec, d->values,
             Option{std::to_string(s.m_base.height), static_cast<double>(s.m_base.height), {}},
             true);
      add(std::move(dec), d);
    } else if (d->key == "depth_multiplier") {
      std::vector<Option> opts;
      if (!o.curated) {
        double lo = d->values.front().number, hi = lo;
        for (const auto& v : d->values) {
          lo = std::min(lo, v.number);
          hi = std::max(hi, v.number);
        }
        const long n = static_cast<long>(std::floor((hi - lo) / d->step + 1e-9)) + 1;
        for (long k = 0; k < n; ++k) {
          const double x = round6(lo + static_cast<double>(k) * d->step);
          opts.push_back(Option{dm_text(x), x, d->loc});
        }
      }
      opts.insert(opts.end(), d->values.begin(), d->values.end());
      Decision dec{"depth_multiplier", d->group, "", -1, "depth_multiplier", {}, 0, true, {}};
      finish(dec, opts, Option{"1", 1.0, {}}, true);
      add(std::move(dec), d);
    }
  }
  for (size_t si = 0; si < s.m_base.stages.size(); ++si) {
    const spec::StageSpec& st = s.m_base.stages[si];
    const spec::StageSpec& deep_st = deep.stages[si];
    for (const Declared* d : act) {
      if (d->stage != st.name || d->per_block) continue;
      Decision dec{st.name + "." + d->key, d->group, st.name, -1, d->key, {}, 0, false, {}};
      if (d->key == "repeats") {
        const int n = static_cast<int>(st.blocks.size());
        finish(dec, d->values, Option{std::to_string(n), static_cast<double>(n), {}}, true);
        add(std::move(dec), d);
        continue;
      }
      std::vector<ParamValue> seen;
      std::vector<std::string> texts;
      for (const auto& b : st.blocks) {
        ParamValue v;
        if (!declares(b, d->key) || !resolved_value(b, d->key, v)) continue;
        seen.push_back(v);
        texts.push_back(b.name + ": " + format_value(v));
      }
      if (seen.empty()) {
        sink.add(d->loc, "stages." + st.name + "." + d->key, "",
                 "no block of the stage has this parameter");
        continue;
      }
      if (std::any_of(seen.begin(), seen.end(), [&](const ParamValue& v) {
            return format_value(v) != format_value(seen.front());
          })) {
        sink.add(d->loc, "stages." + st.name + "." + d->key, "",
                 "the stage's blocks differ (" + join(texts) +
                     "): a stage-wide decision cannot keep the baseline; use per: block");
        continue;
      }
      set_options(dec, *d, seen.front(), o, static_cast<int>(curated_values));
      add(std::move(dec), d);
    }
    std::vector<int> positions(act.size(), 0);
    for (size_t i = 0; i < deep_st.blocks.size(); ++i) {
      const spec::BlockSpec& b = deep_st.blocks[i];
      for (size_t k = 0; k < act.size(); ++k) {
        const Declared* d = act[k];
        if (d->stage != st.name || !d->per_block) continue;
        ParamValue v;
        if (!declares(b, d->key) || !resolved_value(b, d->key, v)) continue;
        ++positions[k];
        Decision dec{fmt::format("{}.{}.{}", st.name, i, d->key),
                     d->group,
                     st.name,
                     static_cast<int>(i),
                     d->key,
                     {},
                     0,
                     false,
                     {}};
        set_options(dec, *d, v, o, static_cast<int>(curated_values));
        add(std::move(dec), d);
      }
    }
    for (size_t k = 0; k < act.size(); ++k) {
      if (act[k]->stage == st.name && act[k]->per_block && positions[k] == 0) {
        sink.add(act[k]->loc, "stages." + st.name + "." + act[k]->key, "",
                 "no block of the stage has this parameter");
      }
    }
  }
  // Chip decisions last: options in file order (numbers increasing), the base chip's value added
  // when missing.
  for (const ChipDeclared& d : chip_declared) {
    if (std::find(enabled.begin(), enabled.end(), d.group) == enabled.end()) continue;
    const std::string base_text = o.chip.base_value(d.keys.front());
    Option base{base_text, 0, {}};
    const bool base_numeric = parse_number(base_text, base.number);
    const bool numeric = d.numeric && base_numeric;
    std::vector<Option> all = d.values;
    if (std::none_of(all.begin(), all.end(),
                     [&](const Option& x) { return same_option(x, base, numeric); }))
      all.push_back(base);
    if (numeric) {
      std::stable_sort(all.begin(), all.end(),
                       [](const Option& a, const Option& b) { return a.number < b.number; });
    }
    Decision dec{"chip." + d.keys.front(), d.group, "", -1, "chip", {}, 0, numeric, d.keys};
    for (size_t i = 0; i < all.size(); ++i) {
      dec.values.push_back(all[i].text);
      if (same_option(all[i], base, numeric)) dec.baseline = static_cast<int>(i);
    }
    s.m_decisions.push_back(std::move(dec));
    from.push_back(nullptr);
  }
  sink.throw_if_any();

  // Every option, alone, on the deepest model of the space: applied and built. An option that
  // breaks the model is reported where the file gives it.
  Genotype deepest = s.baseline();
  for (size_t i = 0; i < s.m_decisions.size(); ++i) {
    const Decision& dec = s.m_decisions[i];
    if (dec.key == "repeats" || dec.key == "depth_multiplier")
      deepest[i] = static_cast<int>(dec.values.size()) - 1;
  }
  {
    spec::ModelSpec m = s.m_base;
    try {
      s.apply(deepest, m, nullptr);
      spec::build_graph(m);
    } catch (const InputError& e) {
      for (size_t i = 0; i < s.m_decisions.size(); ++i) {
        if (deepest[i] != s.m_decisions[i].baseline && from[i]) {
          sink.add(from[i]->loc, s.m_decisions[i].name, s.m_decisions[i].values[deepest[i]],
                   std::string("the deepest model of the space does not build: ") + e.what());
        }
      }
      sink.throw_if_any();
      throw;
    }
  }
  std::set<std::pair<const Declared*, std::string>> reported;
  for (size_t i = 0; i < s.m_decisions.size(); ++i) {
    const Decision& dec = s.m_decisions[i];
    if (dec.is_chip()) continue;  // the model does not change (the chip options were checked)
    const int n = static_cast<int>(dec.values.size());
    for (int j = 0; j < n; ++j) {
      if (j == deepest[i]) continue;
      // Channel counts inside a range pass when its ends do (parameter ranges are intervals).
      if (from[i]->range && j != 0 && j != n - 1) continue;
      if (reported.count({from[i], dec.values[j]})) continue;
      Genotype g = deepest;
      g[i] = j;
      spec::ModelSpec m = s.m_base;
      try {
        s.apply(g, m, nullptr);
        spec::build_graph(m);
      } catch (const InputError& e) {
        reported.insert({from[i], dec.values[j]});
        SourceLoc where = from[i]->loc;
        for (const auto& opt : from[i]->values) {
          if (opt.text == dec.values[j]) where = opt.loc;
        }
        sink.add(where, dec.name, dec.values[j], detail(e, dec.name, dec.values[j]));
      }
    }
  }
  sink.throw_if_any();

  // The baseline genotype is the baseline model.
  const spec::ModelSpec again = s.realize(s.baseline());
  const std::string hash = ir::graph_hash(spec::build_graph(again));
  if (hash != base_model.hash) {
    throw Error(
        fmt::format("{}: internal error: the baseline genotype realizes graph {}, not the "
                    "baseline model's {}",
                    file, hash, base_model.hash));
  }
  return s;
}

// ---------------------------------------------------------------- queries

std::vector<int> SearchSpace::cardinalities() const {
  std::vector<int> out;
  for (const auto& d : m_decisions) out.push_back(static_cast<int>(d.values.size()));
  return out;
}

std::vector<bool> SearchSpace::ordered() const {
  std::vector<bool> out;
  for (const auto& d : m_decisions) out.push_back(d.ordered);
  return out;
}

std::vector<std::string> SearchSpace::variants() const {
  return m_variants;
}

double SearchSpace::log10_size() const {
  double s = 0;
  for (const auto& d : m_decisions) s += std::log10(static_cast<double>(d.values.size()));
  return s;
}

Genotype SearchSpace::baseline() const {
  Genotype g;
  for (const auto& d : m_decisions) g.push_back(d.baseline);
  return g;
}

void SearchSpace::check(const Genotype& g) const {
  if (g.size() != m_decisions.size()) {
    throw InputError(fmt::format("space {}: a genotype has {} indices, one per decision; got {}",
                                 m_name, m_decisions.size(), g.size()));
  }
  DiagnosticSink sink;
  for (size_t i = 0; i < g.size(); ++i) {
    const int n = static_cast<int>(m_decisions[i].values.size());
    if (g[i] < 0 || g[i] >= n) {
      sink.add(SourceLoc{}, m_decisions[i].name, std::to_string(g[i]),
               fmt::format("expected an option index in [0, {}) (space {})", n, m_name));
    }
  }
  sink.throw_if_any();
}

void SearchSpace::apply(const Genotype& g, spec::ModelSpec& m, std::vector<bool>* active) const {
  const size_t n = m_decisions.size();
  if (active) active->assign(n, true);
  auto value = [&](size_t i) -> const std::string& {
    return m_decisions[i].values[static_cast<size_t>(g[i])];
  };
  auto stage_of = [&](size_t i) {
    spec::StageSpec* st = m.find_stage(m_decisions[i].stage);
    if (!st) throw Error("search space: the model lost stage " + m_decisions[i].stage);
    return st;
  };
  // 1. resolution, 2. depth multiplier.
  for (size_t i = 0; i < n; ++i) {
    if (m_decisions[i].key == "resolution") spec::apply_override(m, "resolution", value(i));
  }
  for (size_t i = 0; i < n; ++i) {
    if (m_decisions[i].key != "depth_multiplier") continue;
    const double v = std::stod(value(i));
    if (v != 1.0) spec::apply_depth_multiplier(m, v);
    if (active) {
      // Inactive when every stage it could change has its depth set by a repeats decision.
      bool matters = false;
      for (const auto& st : m.stages) {
        if (st.fixed_depth || st.blocks.empty()) continue;
        matters |= std::none_of(m_decisions.begin(), m_decisions.end(), [&](const Decision& d) {
          return d.stage == st.name && d.key == "repeats";
        });
      }
      (*active)[i] = matters;
    }
  }
  // 3. stage decisions: repeats, then type, then the others.
  for (int pass = 0; pass < 3; ++pass) {
    for (size_t i = 0; i < n; ++i) {
      const Decision& d = m_decisions[i];
      if (d.block >= 0 || d.stage.empty()) continue;
      const int want = d.key == "repeats" ? 0 : d.key == "type" ? 1 : 2;
      if (want != pass) continue;
      if (d.key == "repeats") {
        spec::StageSpec* st = stage_of(i);
        const int depth = std::stoi(value(i));
        if (depth != static_cast<int>(st->blocks.size())) spec::set_stage_depth(*st, depth);
      } else {
        spec::apply_override(m, d.stage + "." + d.key, value(i));
      }
    }
  }
  // 4. block decisions: type, then the others; blocks beyond the realized depth are inactive.
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < n; ++i) {
      const Decision& d = m_decisions[i];
      if (d.block < 0 || (d.key == "type") != (pass == 0)) continue;
      spec::StageSpec* st = stage_of(i);
      if (d.block >= static_cast<int>(st->blocks.size())) {
        if (active) (*active)[i] = false;
        continue;
      }
      spec::apply_override(m, st->blocks[static_cast<size_t>(d.block)].name + "." + d.key,
                           value(i));
    }
  }
}

spec::ModelSpec SearchSpace::realize(const Genotype& g) const {
  check(g);
  spec::ModelSpec m = m_base;
  try {
    apply(g, m, nullptr);
  } catch (const InputError& e) {
    throw InputError(fmt::format("space {} ({}): {}", m_name, m_file, e.what()));
  }
  m.name = m_name;
  m.source = m_file;
  const std::string hash = content_hash(spec::write_model_yaml(m));
  m.name = m_name + "-" + hash.substr(0, 8);
  return m;
}

std::vector<bool> SearchSpace::active(const Genotype& g) const {
  check(g);
  spec::ModelSpec m = m_base;
  std::vector<bool> out;
  apply(g, m, &out);
  return out;
}

bool SearchSpace::has_chip() const {
  return std::any_of(m_decisions.begin(), m_decisions.end(),
                     [](const Decision& d) { return d.is_chip(); });
}

std::vector<std::string> SearchSpace::chip_overrides(const Genotype& g) const {
  check(g);
  std::vector<std::string> out;
  for (size_t i = 0; i < g.size(); ++i) {
    const Decision& d = m_decisions[i];
    if (!d.is_chip() || g[i] == d.baseline) continue;
    for (const auto& k : d.chip_keys) out.push_back(k + "=" + d.values[static_cast<size_t>(g[i])]);
  }
  return out;
}

std::string SearchSpace::describe(const Genotype& g) const {
  const std::vector<bool> on = active(g);
  std::string s;
  for (size_t i = 0; i < g.size(); ++i) {
    const Decision& d = m_decisions[i];
    if (!on[i] || g[i] == d.baseline) continue;
    if (!s.empty()) s += " ";
    s += d.name + "=" + d.values[static_cast<size_t>(g[i])];
  }
  return s.empty() ? "baseline" : s;
}

}  // namespace nax::search
