#include "models/spec/model_spec.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "models/common/yaml_io.hpp"

namespace nax::spec {

using ir::OpKind;
using ir::TensorId;

// ---------------------------------------------------------------- ModelSpec

BlockSpec* ModelSpec::find_block(const std::string& n) {
  for (auto& st : stages) {
    for (auto& b : st.blocks) {
      if (b.name == n) return &b;
    }
  }
  return nullptr;
}

const BlockSpec* ModelSpec::find_block(const std::string& n) const {
  return const_cast<ModelSpec*>(this)->find_block(n);
}

StageSpec* ModelSpec::find_stage(const std::string& n) {
  for (auto& st : stages) {
    if (st.name == n) return &st;
  }
  return nullptr;
}

size_t ModelSpec::num_blocks() const {
  size_t n = 0;
  for (const auto& st : stages) n += st.blocks.size();
  return n;
}

void ModelSpec::assign_names() {
  for (auto& st : stages) {
    for (size_t i = 0; i < st.blocks.size(); ++i) {
      if (st.blocks[i].name.empty()) st.blocks[i].name = fmt::format("{}.{}", st.name, i);
    }
  }
}

// ---------------------------------------------------------------- registry

namespace {
struct RegistryEntry {
  BlockType type;
  Schema schema;
};
std::map<std::string, RegistryEntry>& entries() {
  static std::map<std::string, RegistryEntry> m;
  return m;
}
const RegistryEntry* find_entry(const std::string& name) {
  auto it = entries().find(name);
  return it == entries().end() ? nullptr : &it->second;
}
}  // namespace

BlockRegistry& BlockRegistry::instance() {
  static BlockRegistry r;
  return r;
}

bool BlockRegistry::add(BlockType t) {
  if (entries().count(t.name)) throw std::logic_error("block type registered twice: " + t.name);
  auto has = [&](const std::string& k) {
    return std::any_of(t.params.begin(), t.params.end(),
                       [&](const ParamDecl& d) { return d.path == k; });
  };
  if (!has("input")) {
    t.params.push_back(ParamDecl::string(
        "input", std::string(),
        "block (or tap) whose output this block consumes; default: the previous block"));
  }
  Schema schema(t.params);
  const std::string name = t.name;
  entries().emplace(name, RegistryEntry{std::move(t), std::move(schema)});
  return true;
}

const BlockType* BlockRegistry::find(const std::string& name) const {
  const RegistryEntry* e = find_entry(name);
  return e ? &e->type : nullptr;
}

std::vector<std::string> BlockRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& kv : entries()) out.push_back(kv.first);
  return out;
}

const std::vector<std::string>& activation_names() {
  static const std::vector<std::string> k = {"relu",    "relu6", "hswish", "hsigmoid",
                                             "sigmoid", "silu",  "tanh",   "none"};
  return k;
}

// ---------------------------------------------------------------- BlockArgs

SourceLoc BlockArgs::loc(const std::string& key) const {
  auto it = m_spec.locs.find(key);
  return it != m_spec.locs.end() ? it->second : m_spec.loc;
}

void BlockArgs::fail(const std::string& key, const std::string& message) const {
  std::string value;
  auto it = m_spec.params.find(key);
  if (it != m_spec.params.end()) value = format_value(it->second);
  throw InputError(std::vector<Diagnostic>{
      Diagnostic{loc(key), key.empty() ? m_spec.name : m_spec.name + "." + key, value,
                 fmt::format("{} (block type {})", message, m_type.name)}});
}

// ---------------------------------------------------------------- BuildContext

TensorId BuildContext::input(const BlockArgs& a) {
  const std::string& from = a.s("input");
  if (from.empty()) {
    if (m_prev == ir::kNoTensor) a.fail("input", "no previous block to take input from");
    return m_prev;
  }
  return tap(a, from, "input");
}

std::vector<TensorId> BuildContext::inputs(const BlockArgs& a) {
  std::vector<TensorId> out;
  for (const auto& n : a.slist("inputs")) out.push_back(tap(a, n, "inputs"));
  if (out.empty()) a.fail("inputs", "expected at least one input block");
  return out;
}

TensorId BuildContext::find(const std::string& name) const {
  auto it = m_taps.find(name);
  return it == m_taps.end() ? ir::kNoTensor : it->second;
}

std::vector<std::string> BuildContext::tap_names() const {
  std::vector<std::string> known;
  for (const auto& kv : m_taps) known.push_back(kv.first);
  return known;
}

TensorId BuildContext::tap(const BlockArgs& a, const std::string& name, const std::string& key) {
  const TensorId t = find(name);
  if (t != ir::kNoTensor) return t;
  std::string msg = "no earlier block or tap named '" + name + "'";
  const std::string hint = did_you_mean(name, tap_names());
  if (!hint.empty()) msg += "; did you mean " + hint + "?";
  a.fail(key, msg);
}

TensorId BuildContext::op(const BlockArgs& a, OpKind kind, const std::vector<TensorId>& ins,
                          const std::string& role, ir::OpAttrs attrs) {
  const auto* t = BlockRegistry::instance().find(a.spec().type);
  ir::OpMeta meta{a.name(), t ? t->name : a.spec().type, role};
  return m_graph.add_op(kind, a.name() + "." + role, ins, std::move(attrs), std::move(meta));
}

TensorId BuildContext::act(const BlockArgs& a, TensorId x, const std::string& act,
                           const std::string& role) {
  if (act == "none" || act.empty()) return x;
  if (act == "relu") return op(a, OpKind::kRelu, {x}, role);
  if (act == "relu6") return op(a, OpKind::kRelu6, {x}, role);
  if (act == "hswish") return op(a, OpKind::kHardSwish, {x}, role);
  if (act == "hsigmoid") return op(a, OpKind::kHardSigmoid, {x}, role, ir::HardSigmoidAttrs{});
  if (act == "sigmoid") return op(a, OpKind::kSigmoid, {x}, role);
  if (act == "silu") return op(a, OpKind::kSilu, {x}, role);
  if (act == "tanh") return op(a, OpKind::kTanh, {x}, role);
  a.fail("act", "unknown activation '" + act + "'");
}

TensorId BuildContext::conv(const BlockArgs& a, TensorId x, const ir::ConvAttrs& attrs,
                            const std::string& role, const std::string& activation) {
  TensorId y = op(a, OpKind::kConv2d, {x}, role, attrs);
  return act(a, y, activation, role + ".act");
}

TensorId BuildContext::squeeze_excite(const BlockArgs& a, TensorId x, int squeeze_channels,
                                      const std::string& activation, const std::string& gate) {
  const int c = static_cast<int>(m_graph.shape(x)[1]);
  TensorId s = op(a, OpKind::kGlobalAvgPool, {x}, "se.pool");
  ir::ConvAttrs reduce = ir::ConvAttrs::make(squeeze_channels, 1);
  reduce.bias = true;
  s = conv(a, s, reduce, "se.reduce", activation);
  ir::ConvAttrs expand = ir::ConvAttrs::make(c, 1);
  expand.bias = true;
  s = conv(a, s, expand, "se.expand", gate);
  return op(a, OpKind::kMul, {x, s}, "se.mul");
}

// ---------------------------------------------------------------- resolve and build

namespace {

// Converts an already-typed value to the declared type (ints are accepted for numbers).
bool coerce(const ParamDecl& d, ParamValue& v) {
  switch (d.type) {
    case ParamType::kInt:
      return std::holds_alternative<int64_t>(v);
    case ParamType::kFloat:
      if (std::holds_alternative<int64_t>(v)) v = static_cast<double>(std::get<int64_t>(v));
      return std::holds_alternative<double>(v);
    case ParamType::kBool:
      return std::holds_alternative<bool>(v);
    case ParamType::kString:
    case ParamType::kEnum:
      return std::holds_alternative<std::string>(v);
    case ParamType::kIntList:
      return std::holds_alternative<std::vector<int64_t>>(v);
    case ParamType::kStringList:
      return std::holds_alternative<std::vector<std::string>>(v);
  }
  return false;
}

std::vector<std::string> param_names(const BlockType& t) {
  std::vector<std::string> out;
  for (const auto& d : t.params) out.push_back(d.path);
  return out;
}

}  // namespace

bool resolve_block(const BlockSpec& b, ParamSet& out, DiagnosticSink& sink) {
  const size_t before = sink.size();
  const RegistryEntry* e = find_entry(b.type);
  if (!e) {
    std::string msg = "unknown block type";
    const std::string hint = did_you_mean(b.type, BlockRegistry::instance().names());
    msg += hint.empty() ? "; see `nax describe --blocks`" : "; did you mean " + hint + "?";
    sink.add(b.loc, b.name + ".type", b.type, msg);
    return false;
  }
  for (const auto& [key, value] : b.params) {
    auto lit = b.locs.find(key);
    const SourceLoc where = lit != b.locs.end() ? lit->second : b.loc;
    const ParamDecl* d = e->schema.find(key);
    if (!d) {
      std::string msg = "not a parameter of block type " + b.type;
      const std::string hint = did_you_mean(key, param_names(e->type));
      msg += hint.empty() ? "" : "; did you mean " + hint + "?";
      sink.add(where, b.name + "." + key, format_value(value), msg);
      continue;
    }
    ParamValue v = value;
    if (!coerce(*d, v)) {
      sink.add(where, b.name + "." + key, format_value(value),
               "expected a " + type_name(d->type) +
                   (d->range_text().empty() ? "" : " (" + d->range_text() + ")"));
      continue;
    }
    const std::string problem = e->schema.check(*d, v);
    if (!problem.empty()) {
      sink.add(where, b.name + "." + key, format_value(value), problem);
      continue;
    }
    out.set(key, std::move(v), where);
  }
  DiagnosticSink missing;
  e->schema.fill_defaults(out, b.loc, missing);
  for (auto d : missing.diagnostics()) {
    d.path = b.name + "." + d.path;
    sink.add(std::move(d));
  }
  return sink.size() == before;
}

ir::Graph build_graph(const ModelSpec& spec) {
  DiagnosticSink sink;
  ir::DType dtype;
  if (!ir::parse_dtype(spec.dtype, dtype)) {
    sink.add(SourceLoc{spec.source, 0, 0}, "dtype", spec.dtype,
             "expected int8, uint8, int16, int32, float16 or float32");
  }
  if (spec.batch < 1 || spec.in_channels < 1 || spec.height < 1 || spec.width < 1) {
    sink.add(SourceLoc{spec.source, 0, 0}, "input", "",
             "batch, channels, height and width must be positive");
  }
  std::vector<std::pair<const BlockSpec*, ParamSet>> resolved;
  std::map<std::string, int> seen;
  for (const auto& st : spec.stages) {
    for (const auto& b : st.blocks) {
      if (b.name.empty()) {
        sink.add(b.loc, st.name, "", "block without a name (call assign_names)");
        continue;
      }
      if (++seen[b.name] == 2) sink.add(b.loc, b.name, "", "block name used twice");
      ParamSet ps;
      if (resolve_block(b, ps, sink)) resolved.emplace_back(&b, std::move(ps));
    }
  }
  if (spec.num_blocks() == 0)
    sink.add(SourceLoc{spec.source, 0, 0}, "stages", "", "model has no blocks");
  sink.throw_if_any();

  ir::Graph g;
  g.name = spec.name;
  BuildContext ctx(g, spec);
  const TensorId x =
      g.add_input("input", {spec.batch, spec.in_channels, spec.height, spec.width}, dtype);
  ctx.set_current("input", x);
  for (auto& [b, ps] : resolved) {
    const BlockType* t = BlockRegistry::instance().find(b->type);
    BlockArgs args(*b, *t, std::move(ps));
    TensorId out;
    try {
      out = t->build(args, ctx);
    } catch (const InputError& e) {
      // Graph shape errors name the op ("s3.1.expand"); add the block's location.
      std::vector<Diagnostic> diags = e.diagnostics();
      for (auto& d : diags) {
        if (d.loc.file.empty()) d.loc = b->loc;
      }
      throw InputError(diags);
    }
    ctx.set_current(b->name, out);
  }
  if (spec.outputs.empty()) {
    g.mark_output(ctx.previous());
  } else {
    for (const auto& o : spec.outputs) {
      const TensorId t = ctx.find(o);
      if (t == ir::kNoTensor) {
        std::string msg = "no block or tap named '" + o + "'";
        const std::string hint = did_you_mean(o, ctx.tap_names());
        if (!hint.empty()) msg += "; did you mean " + hint + "?";
        throw InputError(
            std::vector<Diagnostic>{Diagnostic{SourceLoc{spec.source, 0, 0}, "outputs", o, msg}});
      }
      g.mark_output(t);
    }
  }
  return g;
}

// ---------------------------------------------------------------- overrides

void set_stage_depth(StageSpec& stage, int depth) {
  if (depth < 1) throw InputError(fmt::format("stage {}: depth must be at least 1", stage.name));
  if (stage.blocks.empty()) throw InputError(fmt::format("stage {} has no blocks", stage.name));
  const size_t n = static_cast<size_t>(depth);
  if (stage.blocks.size() > n) stage.blocks.resize(n);
  while (stage.blocks.size() < n) {
    BlockSpec copy = stage.blocks.back();
    if (copy.has("stride")) copy.set("stride", int64_t{1});
    copy.params.erase("input");
    copy.locs.clear();
    copy.name.clear();
    stage.blocks.push_back(std::move(copy));
  }
  for (size_t i = 0; i < stage.blocks.size(); ++i) {
    stage.blocks[i].name = fmt::format("{}.{}", stage.name, i);
  }
}

void apply_depth_multiplier(ModelSpec& spec, double m) {
  if (!(m > 0)) throw InputError("depth multiplier must be positive");
  for (auto& st : spec.stages) {
    if (st.fixed_depth || st.blocks.empty()) continue;
    const int depth = std::max(1, static_cast<int>(std::ceil(st.blocks.size() * m - 1e-9)));
    set_stage_depth(st, depth);
  }
}

int make_divisible(double v, int divisor, int min_value) {
  if (min_value <= 0) min_value = divisor;
  int nv = std::max(min_value, static_cast<int>(v + divisor / 2.0) / divisor * divisor);
  if (nv < 0.9 * v) nv += divisor;
  return nv;
}

namespace {

ParamValue parse_override_value(const BlockSpec& b, const std::string& key,
                                const std::string& value) {
  const RegistryEntry* e = find_entry(b.type);
  if (!e) throw InputError(fmt::format("block {}: unknown block type '{}'", b.name, b.type));
  const ParamDecl* d = e->schema.find(key);
  if (!d) {
    std::string msg = fmt::format("{}.{}: not a parameter of block type {}", b.name, key, b.type);
    std::vector<std::string> keys = param_names(e->type);
    keys.push_back("type");
    const std::string hint = did_you_mean(key, keys);
    if (!hint.empty()) msg += "; did you mean " + hint + "?";
    throw InputError(msg);
  }
  YAML::Node node;
  try {
    node = YAML::Load(value);
  } catch (const YAML::Exception&) {
    node = YAML::Node(value);
  }
  ParamValue v;
  const std::string problem = e->schema.convert(*d, node, v);
  if (!problem.empty()) {
    throw InputError(std::vector<Diagnostic>{Diagnostic{{}, b.name + "." + key, value, problem}});
  }
  return v;
}

void set_block_param(BlockSpec& b, const std::string& key, const std::string& value) {
  if (key == "type") {
    const RegistryEntry* e = find_entry(value);
    if (!e) {
      std::string msg = fmt::format("{}.type = {}: unknown block type", b.name, value);
      const std::string hint = did_you_mean(value, BlockRegistry::instance().names());
      if (!hint.empty()) msg += "; did you mean " + hint + "?";
      throw InputError(msg);
    }
    for (const auto& kv : b.params) {
      if (!e->schema.find(kv.first)) {
        throw InputError(fmt::format("{}.type = {}: the block sets '{}', which {} does not have",
                                     b.name, value, kv.first, value));
      }
    }
    b.type = value;
    return;
  }
  b.set(key, parse_override_value(b, key, value));
}

}  // namespace

void apply_override(ModelSpec& spec, const std::string& key, const std::string& value) {
  if (value.empty()) throw InputError(fmt::format("override {}: empty value", key));
  auto as_int = [&](int64_t lo) {
    int64_t v = 0;
    try {
      size_t pos = 0;
      v = std::stoll(value, &pos);
      if (pos != value.size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      throw InputError(std::vector<Diagnostic>{Diagnostic{{}, key, value, "expected an integer"}});
    }
    if (v < lo) {
      throw InputError(std::vector<Diagnostic>{
          Diagnostic{{}, key, value, fmt::format("expected an integer >= {}", lo)}});
    }
    return v;
  };
  if (key == "resolution") {
    spec.height = spec.width = as_int(1);
    return;
  }
  if (key == "height") return void(spec.height = as_int(1));
  if (key == "width") return void(spec.width = as_int(1));
  if (key == "channels") return void(spec.in_channels = as_int(1));
  if (key == "batch") return void(spec.batch = as_int(1));
  if (key == "dtype") {
    ir::DType t;
    if (!ir::parse_dtype(value, t)) {
      throw InputError(std::vector<Diagnostic>{
          Diagnostic{{}, key, value, "expected int8, uint8, int16, int32, float16 or float32"}});
    }
    spec.dtype = value;
    return;
  }
  // Longest block name that prefixes the key.
  BlockSpec* best = nullptr;
  for (auto& st : spec.stages) {
    for (auto& b : st.blocks) {
      if (key.size() > b.name.size() + 1 && key.compare(0, b.name.size(), b.name) == 0 &&
          key[b.name.size()] == '.' && (!best || b.name.size() > best->name.size())) {
        best = &b;
      }
    }
  }
  StageSpec* stage = nullptr;
  for (auto& st : spec.stages) {
    if (key.size() > st.name.size() + 1 && key.compare(0, st.name.size(), st.name) == 0 &&
        key[st.name.size()] == '.') {
      if (!stage || st.name.size() > stage->name.size()) stage = &st;
    }
  }
  if (best && (!stage || best->name.size() >= stage->name.size())) {
    set_block_param(*best, key.substr(best->name.size() + 1), value);
    return;
  }
  if (stage) {
    const std::string param = key.substr(stage->name.size() + 1);
    if (param == "repeats" || param == "depth") {
      set_stage_depth(*stage, static_cast<int>(as_int(1)));
      return;
    }
    bool applied = false;
    for (auto& b : stage->blocks) {
      const RegistryEntry* e = find_entry(b.type);
      if (param == "type" || (e && e->schema.find(param))) {
        set_block_param(b, param, value);
        applied = true;
      }
    }
    if (!applied) {
      std::vector<std::string> keys = {"type", "repeats"};
      for (const auto& b : stage->blocks) {
        if (const RegistryEntry* e = find_entry(b.type)) {
          for (const auto& k : param_names(e->type)) keys.push_back(k);
        }
      }
      std::string msg =
          fmt::format("{}: no block of stage {} has a parameter '{}'", key, stage->name, param);
      const std::string hint = did_you_mean(param, keys);
      if (!hint.empty()) msg += "; did you mean " + hint + "?";
      throw InputError(msg);
    }
    return;
  }
  std::vector<std::string> names = {"resolution", "height", "width", "channels", "batch", "dtype"};
  for (const auto& st : spec.stages) {
    names.push_back(st.name + ".repeats");
    names.push_back(st.name + ".type");
    for (const auto& b : st.blocks) names.push_back(b.name + ".type");
  }
  std::string msg = fmt::format("{}: no such model key, block or stage", key);
  const std::string hint = did_you_mean(key, names);
  if (!hint.empty()) msg += "; did you mean " + hint + "?";
  throw InputError(msg);
}

// ---------------------------------------------------------------- YAML

namespace {

const std::vector<std::string> kTopKeys = {"name", "input", "dtype", "stages", "outputs"};
const std::vector<std::string> kInputKeys = {"channels", "height", "width", "batch"};
const std::vector<std::string> kStageKeys = {"name", "blocks", "fixed_depth"};

void unknown_key(DiagnosticSink& sink, const YAML::Node& key, const std::string& file,
                 const std::string& prefix, const std::vector<std::string>& allowed) {
  const std::string k = key.IsScalar() ? key.Scalar() : brief(key);
  std::string msg = "unknown key";
  const std::string hint = did_you_mean(k, allowed);
  if (!hint.empty()) {
    msg += "; did you mean " + hint + "?";
  } else {
    msg += "; expected one of ";
    for (size_t i = 0; i < allowed.size(); ++i) msg += (i ? ", " : "") + allowed[i];
  }
  sink.add(loc_of(key, file), prefix.empty() ? k : prefix + "." + k, "", msg);
}

bool read_int(const YAML::Node& n, const std::string& file, const std::string& path, int64_t lo,
              int64_t& out, DiagnosticSink& sink) {
  ParamDecl d = ParamDecl::integer(path, "", std::nullopt, static_cast<double>(lo),
                                   std::numeric_limits<double>::infinity(), "");
  ParamValue v;
  const std::string problem = Schema().convert(d, n, v);
  if (!problem.empty()) {
    sink.add(loc_of(n, file), path, brief(n), problem);
    return false;
  }
  out = std::get<int64_t>(v);
  return true;
}

bool read_string(const YAML::Node& n, const std::string& file, const std::string& path,
                 std::string& out, DiagnosticSink& sink) {
  if (!n.IsScalar()) {
    sink.add(loc_of(n, file), path, brief(n), "expected a string, got " + kind_name(n));
    return false;
  }
  out = n.Scalar();
  return true;
}

void read_block_entry(const YAML::Node& node, const std::string& file, StageSpec& stage,
                      const std::string& where, DiagnosticSink& sink) {
  if (!node.IsMap()) {
    sink.add(loc_of(node, file), where, brief(node),
             "expected a block mapping such as {type: ibn, out: 24}, got " + kind_name(node));
    return;
  }
  BlockSpec b;
  b.loc = loc_of(node, file);
  int64_t repeats = 1;
  const YAML::Node type = node["type"];
  if (!type) {
    sink.add(b.loc, where, "", "block has no type");
    return;
  }
  if (!read_string(type, file, where + ".type", b.type, sink)) return;
  const RegistryEntry* e = find_entry(b.type);
  if (!e) {
    std::string msg = "unknown block type";
    const std::string hint = did_you_mean(b.type, BlockRegistry::instance().names());
    msg += hint.empty() ? "; see `nax describe --blocks`" : "; did you mean " + hint + "?";
    sink.add(loc_of(type, file), where + ".type", b.type, msg);
    return;
  }
  std::set<std::string> seen;
  bool ok = true;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) {
      sink.add(loc_of(kv.first, file), where, brief(kv.first), "expected a key name");
      ok = false;
      continue;
    }
    const std::string& k = kv.first.Scalar();
    if (!seen.insert(k).second) {
      sink.add(loc_of(kv.first, file), where + "." + k, "", "key given twice");
      ok = false;
      continue;
    }
    if (k == "type") continue;
    if (k == "name") {
      ok &= read_string(kv.second, file, where + ".name", b.name, sink);
      continue;
    }
    if (k == "repeats") {
      ok &= read_int(kv.second, file, where + ".repeats", 1, repeats, sink);
      continue;
    }
    const ParamDecl* d = e->schema.find(k);
    if (!d) {
      std::vector<std::string> allowed = param_names(e->type);
      allowed.insert(allowed.end(), {"name", "repeats"});
      std::string msg = "not a parameter of block type " + b.type;
      const std::string hint = did_you_mean(k, allowed);
      msg += hint.empty() ? "; see `nax describe --blocks`" : "; did you mean " + hint + "?";
      sink.add(loc_of(kv.first, file), where + "." + k, brief(kv.second), msg);
      ok = false;
      continue;
    }
    ParamValue v;
    const std::string problem = e->schema.convert(*d, kv.second, v);
    if (!problem.empty()) {
      sink.add(loc_of(kv.second, file), where + "." + k, brief(kv.second), problem);
      ok = false;
      continue;
    }
    b.params[k] = std::move(v);
    b.locs[k] = loc_of(kv.second, file);
  }
  if (!ok) return;
  if (repeats > 1 && !b.name.empty()) {
    sink.add(b.loc, where + ".name", b.name, "a repeated block cannot have a name");
    return;
  }
  if (repeats > 10000) {
    sink.add(b.loc, where + ".repeats", std::to_string(repeats), "expected at most 10000 repeats");
    return;
  }
  for (int64_t r = 0; r < repeats; ++r) {
    BlockSpec copy = b;
    if (r > 0) {
      if (copy.has("stride")) copy.set("stride", int64_t{1});
      copy.params.erase("input");
    }
    stage.blocks.push_back(std::move(copy));
  }
}

// Reads one block entry; `index` is the position its first block will have in the stage (entries
// that fail still count one, so later messages name the block the user means).
void read_block(const YAML::Node& node, const std::string& file, StageSpec& stage, size_t& index,
                DiagnosticSink& sink) {
  const std::string where = fmt::format("{}.{}", stage.name, index);
  const size_t before = stage.blocks.size();
  read_block_entry(node, file, stage, where, sink);
  index += std::max<size_t>(1, stage.blocks.size() - before);
}
}  // namespace

ModelSpec read_model_yaml(const std::string& text, const std::string& file) {
  const YAML::Node root = parse_yaml(text, file);
  DiagnosticSink sink;
  ModelSpec spec;
  spec.source = file;
  if (!root.IsMap()) {
    throw InputError(std::vector<Diagnostic>{
        Diagnostic{loc_of(root, file), "", root.IsNull() ? "" : brief(root),
                   "expected a model description (a mapping with name, input, stages), got " +
                       kind_name(root)}});
  }
  std::set<std::string> seen;
  for (const auto& kv : root) {
    const std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "";
    if (std::find(kTopKeys.begin(), kTopKeys.end(), k) == kTopKeys.end()) {
      unknown_key(sink, kv.first, file, "", kTopKeys);
      continue;
    }
    if (!seen.insert(k).second) {
      sink.add(loc_of(kv.first, file), k, "", "key given twice");
      continue;
    }
    const YAML::Node& v = kv.second;
    if (k == "name") {
      read_string(v, file, "name", spec.name, sink);
    } else if (k == "dtype") {
      std::string s;
      ir::DType t;
      if (read_string(v, file, "dtype", s, sink)) {
        if (!ir::parse_dtype(s, t)) {
          sink.add(loc_of(v, file), "dtype", s,
                   "expected int8, uint8, int16, int32, float16 or float32");
        } else {
          spec.dtype = s;
        }
      }
    } else if (k == "input") {
      if (!v.IsMap()) {
        sink.add(loc_of(v, file), "input", brief(v),
                 "expected a mapping {channels, height, width}, got " + kind_name(v));
        continue;
      }
      for (const auto& ikv : v) {
        const std::string ik = ikv.first.IsScalar() ? ikv.first.Scalar() : "";
        int64_t* dst = ik == "channels" ? &spec.in_channels
                       : ik == "height" ? &spec.height
                       : ik == "width"  ? &spec.width
                       : ik == "batch"  ? &spec.batch
                                        : nullptr;
        if (!dst) {
          unknown_key(sink, ikv.first, file, "input", kInputKeys);
          continue;
        }
        int64_t x = 0;
        if (read_int(ikv.second, file, "input." + ik, 1, x, sink)) {
          if (x > 1000000) {
            sink.add(loc_of(ikv.second, file), "input." + ik, brief(ikv.second),
                     "expected an integer in [1, 1000000]");
          } else {
            *dst = x;
          }
        }
      }
    } else if (k == "outputs") {
      if (!v.IsSequence()) {
        sink.add(loc_of(v, file), "outputs", brief(v), "expected a list of block names");
        continue;
      }
      for (const auto& o : v) {
        std::string s;
        if (read_string(o, file, "outputs", s, sink)) spec.outputs.push_back(s);
      }
    } else if (k == "stages") {
      if (!v.IsSequence()) {
        sink.add(loc_of(v, file), "stages", brief(v),
                 "expected a list of stages, got " + kind_name(v));
        continue;
      }
      for (const auto& sn : v) {
        const std::string where = fmt::format("stages[{}]", spec.stages.size());
        if (!sn.IsMap()) {
          sink.add(loc_of(sn, file), where, brief(sn),
                   "expected a stage mapping {name, blocks}, got " + kind_name(sn));
          continue;
        }
        StageSpec st;
        st.name = fmt::format("s{}", spec.stages.size());
        for (const auto& skv : sn) {
          const std::string sk = skv.first.IsScalar() ? skv.first.Scalar() : "";
          if (sk == "name") {
            read_string(skv.second, file, where + ".name", st.name, sink);
          } else if (sk == "fixed_depth") {
            ParamValue pv;
            const std::string p =
                Schema().convert(ParamDecl::boolean("fixed_depth", false, ""), skv.second, pv);
            if (!p.empty()) {
              sink.add(loc_of(skv.second, file), where + ".fixed_depth", brief(skv.second), p);
            } else {
              st.fixed_depth = std::get<bool>(pv);
            }
          } else if (sk != "blocks") {
            unknown_key(sink, skv.first, file, where, kStageKeys);
          }
        }
        const YAML::Node blocks = sn["blocks"];
        if (!blocks || !blocks.IsSequence() || blocks.size() == 0) {
          sink.add(loc_of(sn, file), st.name + ".blocks", "",
                   "expected a non-empty list of blocks");
        } else {
          size_t index = 0;
          for (const auto& bn : blocks) read_block(bn, file, st, index, sink);
        }
        if (spec.find_stage(st.name)) {
          sink.add(loc_of(sn, file), where + ".name", st.name, "stage name used twice");
        }
        spec.stages.push_back(std::move(st));
      }
    }
  }
  if (!root["stages"]) sink.add(SourceLoc{file, 1, 1}, "stages", "", "missing required key");
  sink.throw_if_any();
  spec.assign_names();
  // Validate every block now so that a file is checked completely on load.
  DiagnosticSink vsink;
  for (const auto& st : spec.stages) {
    for (const auto& b : st.blocks) {
      ParamSet ps;
      resolve_block(b, ps, vsink);
    }
  }
  vsink.throw_if_any();
  return spec;
}

ModelSpec load_model_yaml(const std::string& path) {
  return read_model_yaml(read_text_file(path, kMaxYamlBytes), path);
}

namespace {

bool same_params_but_stride(const BlockSpec& first, const BlockSpec& next) {
  if (first.type != next.type || next.has("input")) return false;
  for (const auto& key : {std::string("stride")}) {
    auto it = next.params.find(key);
    if (it != next.params.end() && format_value(it->second) != "1") return false;
  }
  auto strip = [](const BlockSpec& b) {
    std::map<std::string, std::string> m;
    for (const auto& kv : b.params) {
      if (kv.first != "stride" && kv.first != "input") m[kv.first] = format_value(kv.second);
    }
    return m;
  };
  return strip(first) == strip(next);
}

void emit_param(YAML::Emitter& e, const ParamValue& v) {
  if (const auto* l = std::get_if<std::vector<int64_t>>(&v)) {
    e << YAML::Flow << YAML::BeginSeq;
    for (auto x : *l) e << x;
    e << YAML::EndSeq;
  } else if (const auto* sl = std::get_if<std::vector<std::string>>(&v)) {
    e << YAML::Flow << YAML::BeginSeq;
    for (const auto& x : *sl) e << x;
    e << YAML::EndSeq;
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    e << *s;
  } else {
    e << format_value(v);
  }
}

}  // namespace

std::string write_model_yaml(const ModelSpec& spec) {
  YAML::Emitter e;
  e.SetIndent(2);
  e << YAML::Comment("nax model description (see `nax describe --blocks`)") << YAML::Newline;
  e << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << spec.name;
  e << YAML::Key << "input" << YAML::Value << YAML::Flow << YAML::BeginMap;
  e << YAML::Key << "channels" << YAML::Value << spec.in_channels;
  e << YAML::Key << "height" << YAML::Value << spec.height;
  e << YAML::Key << "width" << YAML::Value << spec.width;
  if (spec.batch != 1) e << YAML::Key << "batch" << YAML::Value << spec.batch;
  e << YAML::EndMap;
  e << YAML::Key << "dtype" << YAML::Value << spec.dtype;
  e << YAML::Key << "stages" << YAML::Value << YAML::BeginSeq;
  for (const auto& st : spec.stages) {
    e << YAML::BeginMap;
    e << YAML::Key << "name" << YAML::Value << st.name;
    if (st.fixed_depth) e << YAML::Key << "fixed_depth" << YAML::Value << true;
    e << YAML::Key << "blocks" << YAML::Value << YAML::BeginSeq;
    for (size_t i = 0; i < st.blocks.size();) {
      const BlockSpec& b = st.blocks[i];
      size_t run = 1;
      const std::string auto_name = fmt::format("{}.{}", st.name, i);
      if (b.name == auto_name) {
        while (i + run < st.blocks.size() &&
               st.blocks[i + run].name == fmt::format("{}.{}", st.name, i + run) &&
               same_params_but_stride(b, st.blocks[i + run])) {
          ++run;
        }
      }
      e << YAML::Flow << YAML::BeginMap;
      e << YAML::Key << "type" << YAML::Value << b.type;
      if (b.name != auto_name) e << YAML::Key << "name" << YAML::Value << b.name;
      // Declaration order for readability.
      const BlockType* t = BlockRegistry::instance().find(b.type);
      std::vector<std::string> order;
      if (t) {
        for (const auto& d : t->params) order.push_back(d.path);
      }
      for (const auto& kv : b.params) {
        if (std::find(order.begin(), order.end(), kv.first) == order.end())
          order.push_back(kv.first);
      }
      for (const auto& k : order) {
        auto it = b.params.find(k);
        if (it == b.params.end()) continue;
        e << YAML::Key << k << YAML::Value;
        emit_param(e, it->second);
      }
      if (run > 1) e << YAML::Key << "repeats" << YAML::Value << run;
      e << YAML::EndMap;
      i += run;
    }
    e << YAML::EndSeq << YAML::EndMap;
  }
  e << YAML::EndSeq;
  if (!spec.outputs.empty()) {
    e << YAML::Key << "outputs" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& o : spec.outputs) e << o;
    e << YAML::EndSeq;
  }
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace nax::spec
