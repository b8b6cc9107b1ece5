#include "nas/search/advise.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "models/common/error.hpp"
#include "models/common/params.hpp"
#include "models/ir/analysis.hpp"

namespace nax::search {
namespace {

const spec::BlockType& block_type(const std::string& name) {
  const spec::BlockType* t = spec::BlockRegistry::instance().find(name);
  if (!t) throw InputError(fmt::format("unknown block type '{}'", name));
  return *t;
}

const ParamDecl* find_decl(const spec::BlockType& t, const std::string& key) {
  for (const auto& d : t.params) {
    if (d.path == key) return &d;
  }
  return nullptr;
}

bool is_ibn_family(const std::string& type) {
  return type == "ibn" || type == "fused_ibn";
}

std::string tap_block(const std::string& tap) {
  return tap.substr(0, tap.find('/'));
}

// All parameters of a block, defaults filled in.
ParamSet resolved(const spec::BlockSpec& b) {
  ParamSet ps;
  DiagnosticSink sink;
  spec::resolve_block(b, ps, sink);
  sink.throw_if_any();
  return ps;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

std::string plural(size_t n, const std::string& word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

std::string level_text(int64_t level) {
  return level == 1 ? "full" : fmt::format("1/{}", level);
}

// Stage -> the shape of its output (the last op of its blocks, in graph order).
std::map<std::string, ir::Shape> stage_outputs(const spec::ModelSpec& m, const ir::Graph& g) {
  std::map<std::string, std::string> stage_of;
  for (const auto& st : m.stages) {
    for (const auto& b : st.blocks) stage_of[b.name] = st.name;
  }
  std::map<std::string, ir::Shape> out;
  for (const auto& op : g.ops()) {
    const auto it = stage_of.find(op.meta.block);
    if (it != stage_of.end()) out[it->second] = g.shape(op.output);
  }
  return out;
}

std::map<std::string, int64_t> levels_of(const spec::ModelSpec& m, const ir::Graph& g) {
  std::map<std::string, int64_t> out;
  for (const auto& [stage, shape] : stage_outputs(m, g)) {
    if (shape.size() != 4 || shape[2] <= 0) continue;
    out[stage] = std::max<int64_t>(
        1, std::llround(static_cast<double>(m.height) / static_cast<double>(shape[2])));
  }
  return out;
}

// The explicitly set channel counts align/even round: parameters with unit `channels` but
// squeeze-excite bottlenecks, and the task outputs' `out`. Calls f(block, key, value&).
template <typename F>
void for_each_channel_param(spec::ModelSpec& m, const std::set<std::string>& task, F f) {
  for (auto& st : m.stages) {
    for (auto& b : st.blocks) {
      const spec::BlockType* t = spec::BlockRegistry::instance().find(b.type);
      if (!t) continue;
      for (const auto& d : t->params) {
        if (d.unit != "channels" || d.path == "se_channels") continue;
        if (d.path == "out" && task.count(b.name)) continue;
        const auto it = b.params.find(d.path);
        if (it == b.params.end()) continue;
        auto* v = std::get_if<int64_t>(&it->second);
        if (v && *v > 0) f(b, d.path, *v);
      }
    }
  }
}

size_t count_blocks(const spec::StageSpec& st, const std::string& type) {
  return static_cast<size_t>(
      std::count_if(st.blocks.begin(), st.blocks.end(),
                    [&](const spec::BlockSpec& b) { return b.type == type; }));
}

bool same_model(const spec::ModelSpec& a, const spec::ModelSpec& b) {
  return spec_changes(a, b).empty();
}

// Applies the transfer patterns, saying what it did in `what`.
spec::ModelSpec apply_patterns_impl(const spec::ModelSpec& target, const TransferPatterns& p,
                                    std::vector<std::string>* what) {
  spec::ModelSpec out = target;
  std::vector<std::string> depth_notes;
  for (auto& st : out.stages) {
    const auto it = p.depths.find(st.name);
    if (st.fixed_depth || st.blocks.empty() || it == p.depths.end()) continue;
    const int d = std::max(1, it->second);
    if (static_cast<int>(st.blocks.size()) == d) continue;
    depth_notes.push_back(fmt::format("{} {}->{}", st.name, st.blocks.size(), d));
    spec::set_stage_depth(st, d);
  }
  if (what && !depth_notes.empty())
    what->push_back("the source's depth of the stages it shares by name (" +
                    join(depth_notes, ", ") + ")");

  const ir::Graph g = spec::build_graph(out);
  const auto levels = levels_of(out, g);
  std::map<int64_t, std::vector<std::string>> stages_at;  // this model's IBN stages per level
  for (const auto& st : out.stages) {
    const bool ibn = std::any_of(st.blocks.begin(), st.blocks.end(),
                                 [](const spec::BlockSpec& b) { return is_ibn_family(b.type); });
    const auto lv = levels.find(st.name);
    if (ibn && lv != levels.end()) stages_at[lv->second].push_back(st.name);
  }
  std::vector<std::string> fuse, fuse_notes;
  for (const auto& [level, names] : stages_at) {
    const auto it = p.fused_by_level.find(level);
    if (it == p.fused_by_level.end() || it->second.empty()) continue;
    const auto& flags = it->second;
    for (size_t j = 0; j < names.size(); ++j) {
      if (!flags[j * flags.size() / names.size()]) continue;
      const spec::StageSpec* st = out.find_stage(names[j]);
      if (count_blocks(*st, "ibn") == 0) continue;  // already fused
      fuse.push_back(names[j]);
      fuse_notes.push_back(fmt::format("{} ({})", names[j], level_text(level)));
    }
  }
  if (!fuse.empty()) {
    out = fuse_stages(out, fuse);
    if (what)
      what->push_back("fused like the source's stages at the same resolution: " +
                      join(fuse_notes, ", "));
  }
  if (p.alignment > 1) {
    spec::ModelSpec aligned = align_channels(out, p.alignment);
    if (!same_model(out, aligned)) {
      out = std::move(aligned);
      if (what)
        what->push_back(fmt::format("channel counts rounded to multiples of {}, like the source's",
                                    p.alignment));
    }
  }
  return out;
}

const char* empty_note(const std::string& rule) {
  if (rule == "fuse") return "no stage where fusing its IBN blocks lowers the latency";
  if (rule == "align") return "every channel count is already a multiple of the parallelism factor";
  if (rule == "even") return "every channel count is already even";
  if (rule == "standard_conv") return "no depthwise convolution to replace";
  if (rule == "depth") return "every stage is already at its minimum depth";
  return "nothing to change";
}

nlohmann::json opt(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}

std::optional<double> pct_gain(const std::optional<double>& before,
                               const std::optional<double>& after) {
  if (!before || !after || *before <= 0) return std::nullopt;
  return 100.0 * (*before - *after) / *before;
}

std::optional<double> delta(const std::optional<double>& before,
                            const std::optional<double>& after) {
  if (!before || !after) return std::nullopt;
  return *after - *before;
}

int64_t memory_bytes(const Metrics& m) {
  return m.param_bytes + m.peak_activation_bytes;
}

void add_deltas(nlohmann::json& j, const Evaluation& before, const Evaluation& after) {
  const Metrics& b = before.metrics;
  const Metrics& a = after.metrics;
  j["latency_ms_before"] = opt(b.latency_ms);
  j["latency_ms_after"] = opt(a.latency_ms);
  j["gain_pct"] = opt(pct_gain(b.latency_ms, a.latency_ms));
  j["simulated_latency_ms_before"] = opt(before.simulated_ms);
  j["simulated_latency_ms_after"] = opt(after.simulated_ms);
  j["simulated_gain_pct"] = opt(pct_gain(before.simulated_ms, after.simulated_ms));
  j["score_before"] = opt(b.score);
  j["score_after"] = opt(a.score);
  j["score_delta"] = opt(delta(b.score, a.score));
  j["params_before"] = b.params;
  j["params_after"] = a.params;
  j["params_delta"] = a.params - b.params;
  j["param_bytes_delta"] = a.param_bytes - b.param_bytes;
  j["peak_activation_bytes_delta"] = a.peak_activation_bytes - b.peak_activation_bytes;
  j["macs_delta"] = a.macs - b.macs;
  j["memory_gain_bytes"] = memory_bytes(b) - memory_bytes(a);
}

}  // namespace

// ---------------------------------------------------------------- model edits

std::set<std::string> task_output_blocks(const spec::ModelSpec& m) {
  std::vector<const spec::BlockSpec*> order;
  std::map<std::string, size_t> index;
  for (const auto& st : m.stages) {
    for (const auto& b : st.blocks) {
      index[b.name] = order.size();
      order.push_back(&b);
    }
  }
  std::vector<std::string> starts;
  for (const auto& o : m.outputs) starts.push_back(tap_block(o));
  if (starts.empty() && !order.empty()) starts.push_back(order.back()->name);
  std::set<std::string> out;
  for (const auto& s : starts) {
    auto it = index.find(s);
    for (size_t steps = 0; it != index.end() && steps <= order.size(); ++steps) {
      const spec::BlockSpec& b = *order[it->second];
      const spec::BlockType* t = spec::BlockRegistry::instance().find(b.type);
      if (t && find_decl(*t, "out")) {
        out.insert(b.name);
        break;
      }
      if (b.has("inputs")) break;  // a head over several inputs: its dims are its own
      const auto in = b.params.find("input");
      const std::string* input =
          in != b.params.end() ? std::get_if<std::string>(&in->second) : nullptr;
      if (input && !input->empty()) {
        it = index.find(tap_block(*input));
      } else if (it->second > 0) {
        it = index.find(order[it->second - 1]->name);
      } else {
        break;
      }
    }
  }
  return out;
}

std::map<std::string, int64_t> stage_levels(const spec::ModelSpec& m) {
  return levels_of(m, spec::build_graph(m));
}

void retype_block(spec::BlockSpec& b, const std::string& type) {
  const spec::BlockType& from = block_type(b.type);
  const spec::BlockType& to = block_type(type);
  const ParamSet values = resolved(b);
  for (const auto& d : to.params) {
    if (b.has(d.path)) continue;
    const ParamDecl* fd = find_decl(from, d.path);
    if (!fd || !fd->default_ || !values.has(d.path)) continue;
    if (d.default_ && *d.default_ == *fd->default_) continue;
    b.set(d.path, values.entry(d.path).value);
  }
  for (auto it = b.params.begin(); it != b.params.end();) {
    if (it->first == "input" || it->first == "inputs" || find_decl(to, it->first)) {
      ++it;
    } else {
      b.locs.erase(it->first);
      it = b.params.erase(it);
    }
  }
  b.type = type;
}

spec::ModelSpec fuse_stages(const spec::ModelSpec& m, const std::vector<std::string>& stages) {
  spec::ModelSpec out = m;
  for (auto& st : out.stages) {
    if (std::find(stages.begin(), stages.end(), st.name) == stages.end()) continue;
    for (auto& b : st.blocks) {
      if (b.type == "ibn") retype_block(b, "fused_ibn");
    }
  }
  return out;
}

int64_t round_channels(int64_t v, int factor) {
  if (factor <= 1) return v;
  const int64_t f = factor;
  const int64_t n = (v + f / 2) / f;  // nearest, ties up (v >= 0)
  return std::max<int64_t>(1, n) * f;
}

spec::ModelSpec align_channels(const spec::ModelSpec& m, int factor) {
  if (factor < 1) throw InputError(fmt::format("channel alignment {}: expected >= 1", factor));
  spec::ModelSpec out = m;
  if (factor == 1) return out;
  const std::set<std::string> task = task_output_blocks(m);
  for_each_channel_param(out, task, [&](spec::BlockSpec&, const std::string&, int64_t& v) {
    v = round_channels(v, factor);
  });
  // Expanded widths derived from `expansion` (only where a separate expansion conv exists).
  const ir::Graph g = spec::build_graph(out);
  std::set<std::string> expands;
  std::map<std::string, int64_t> hidden;
  for (const auto& op : g.ops()) {
    if (op.meta.block.empty()) continue;
    if (op.meta.role == "expand" || op.meta.role == "fused") expands.insert(op.meta.block);
    if (op.meta.role == "project" && !op.inputs.empty())
      hidden[op.meta.block] = g.shape(op.inputs[0])[1];
  }
  for (auto& st : out.stages) {
    for (auto& b : st.blocks) {
      if (!is_ibn_family(b.type) || b.has("expand_channels")) continue;
      const auto h = hidden.find(b.name);
      if (h == hidden.end() || !expands.count(b.name) || h->second % factor == 0) continue;
      b.set("expand_channels", round_channels(h->second, factor));
    }
  }
  return out;
}

spec::ModelSpec standard_convs(const spec::ModelSpec& m) {
  const ir::Graph g = spec::build_graph(m);
  std::map<std::string, int64_t> in_channels;  // block -> input channels of its first conv
  for (const auto& op : g.ops()) {
    if (op.kind != ir::OpKind::kConv2d || op.meta.block.empty() || op.inputs.empty()) continue;
    in_channels.emplace(op.meta.block, g.shape(op.inputs[0])[1]);
  }
  spec::ModelSpec out = m;
  for (auto& st : out.stages) {
    for (auto& b : st.blocks) {
      if (b.type == "ibn") {
        retype_block(b, "fused_ibn");
        continue;
      }
      const auto in = in_channels.find(b.name);
      if (b.type == "dwconv") {
        if (in == in_channels.end()) continue;
        const int64_t mult = resolved(b).get_int("multiplier");
        retype_block(b, "conv");
        b.set("out", in->second * mult);
        continue;
      }
      const spec::BlockType* t = spec::BlockRegistry::instance().find(b.type);
      if (!t) continue;
      const ParamSet values = resolved(b);
      if (b.type == "conv") {
        const int64_t groups = values.get_int("groups");
        if (groups > 1 && in != in_channels.end() && groups == in->second)
          b.set("groups", int64_t{1});
      } else if (const ParamDecl* sep = find_decl(*t, "separable");
                 sep && sep->type == ParamType::kBool && values.get_bool("separable")) {
        b.set("separable", false);
      }
    }
  }
  return out;
}

std::vector<std::string> spec_changes(const spec::ModelSpec& before, const spec::ModelSpec& after) {
  std::vector<std::string> out;
  if (before.height != after.height || before.width != after.width) {
    if (after.height == after.width) {
      out.push_back(fmt::format("resolution={}", after.height));
    } else {
      out.push_back(fmt::format("height={}", after.height));
      out.push_back(fmt::format("width={}", after.width));
    }
  }
  if (before.in_channels != after.in_channels)
    out.push_back(fmt::format("channels={}", after.in_channels));
  if (before.dtype != after.dtype) out.push_back("dtype=" + after.dtype);
  using Edits = std::vector<std::pair<std::string, std::string>>;
  for (const auto& sa : after.stages) {
    const spec::StageSpec* sb = nullptr;
    for (const auto& s : before.stages) {
      if (s.name == sa.name) sb = &s;
    }
    if (!sb) {
      out.push_back(sa.name + ": new stage");
      continue;
    }
    if (sa.blocks.size() != sb->blocks.size())
      out.push_back(fmt::format("{}.repeats={}", sa.name, sa.blocks.size()));
    std::vector<std::pair<std::string, Edits>> blocks;
    for (const auto& ba : sa.blocks) {
      const spec::BlockSpec* bb = nullptr;
      for (const auto& b : sb->blocks) {
        if (b.name == ba.name) bb = &b;
      }
      if (!bb) continue;
      Edits e;
      if (ba.type != bb->type) e.emplace_back("type", ba.type);
      for (const auto& [k, v] : ba.params) {
        const auto it = bb->params.find(k);
        if (it == bb->params.end() || !(it->second == v)) e.emplace_back(k, format_value(v));
      }
      for (const auto& [k, v] : bb->params) {
        if (ba.params.count(k)) continue;
        std::string def = "(default)";
        if (const spec::BlockType* t = spec::BlockRegistry::instance().find(ba.type)) {
          const ParamDecl* d = find_decl(*t, k);
          if (d && d->default_) def = format_value(*d->default_);
        }
        e.emplace_back(k, def);
      }
      blocks.emplace_back(ba.name, std::move(e));
    }
    const bool uniform =
        !blocks.empty() && blocks.size() == sa.blocks.size() && !blocks.front().second.empty() &&
        std::all_of(blocks.begin(), blocks.end(),
                    [&](const auto& b) { return b.second == blocks.front().second; });
    if (uniform) {
      for (const auto& [k, v] : blocks.front().second)
        out.push_back(fmt::format("{}.{}={}", sa.name, k, v));
    } else {
      for (const auto& [name, e] : blocks) {
        for (const auto& [k, v] : e) out.push_back(fmt::format("{}.{}={}", name, k, v));
      }
    }
  }
  for (const auto& sb : before.stages) {
    const bool kept = std::any_of(after.stages.begin(), after.stages.end(),
                                  [&](const spec::StageSpec& s) { return s.name == sb.name; });
    if (!kept) out.push_back(sb.name + ": stage removed");
  }
  return out;
}

// ---------------------------------------------------------------- rules

std::vector<Suggestion> rule_fuse(const spec::ModelSpec& m, LatencyOracle& latency) {
  const ir::Graph g = spec::build_graph(m);
  const double base = latency.latency_ms(g);
  const auto outputs = stage_outputs(m, g);
  const auto levels = levels_of(m, g);
  std::vector<Suggestion> out;
  std::vector<std::string> paying;
  for (const auto& st : m.stages) {
    const size_t n = count_blocks(st, "ibn");
    if (n == 0) continue;
    spec::ModelSpec fused = fuse_stages(m, {st.name});
    const double ms = latency.latency_ms(spec::build_graph(fused));
    if (!(ms < base)) continue;
    paying.push_back(st.name);
    Suggestion s;
    s.rule = "fuse";
    s.name = "fuse " + st.name;
    std::string where;
    const auto lv = levels.find(st.name);
    const auto sh = outputs.find(st.name);
    if (lv != levels.end() && sh != outputs.end())
      where = fmt::format(" (output {}x{}, {} resolution)", sh->second[2], sh->second[3],
                          level_text(lv->second));
    s.description =
        fmt::format("fuse the {} of stage {}{}", plural(n, "IBN block"), st.name, where);
    s.changes = spec_changes(m, fused);
    s.model = std::move(fused);
    const std::vector<std::string> names = {st.name};
    s.transform = [names](const spec::ModelSpec& x) { return fuse_stages(x, names); };
    out.push_back(std::move(s));
  }
  if (paying.size() > 1) {
    Suggestion s;
    s.rule = "fuse";
    s.name = "fuse " + join(paying, "+");
    s.description = "fuse every stage where fusing alone lowers the latency: " + join(paying, ", ");
    s.model = fuse_stages(m, paying);
    s.changes = spec_changes(m, s.model);
    s.transform = [paying](const spec::ModelSpec& x) { return fuse_stages(x, paying); };
    out.push_back(std::move(s));
  }
  return out;
}

namespace {

std::vector<Suggestion> rounding_rule(const spec::ModelSpec& m, int factor, const std::string& rule,
                                      const std::string& what) {
  Suggestion s;
  s.rule = rule;
  s.name = rule;
  s.model = align_channels(m, factor);
  s.changes = spec_changes(m, s.model);
  if (s.changes.empty()) return {};
  s.description = fmt::format("{} ({})", what, plural(s.changes.size(), "change"));
  s.transform = [factor](const spec::ModelSpec& x) { return align_channels(x, factor); };
  return {std::move(s)};
}

}  // namespace

std::vector<Suggestion> rule_align(const spec::ModelSpec& m, int parallelism) {
  if (parallelism <= 1) return {};
  return rounding_rule(
      m, parallelism, "align",
      fmt::format("round channel counts to the nearest multiple of the parallelism factor {}",
                  parallelism));
}

std::vector<Suggestion> rule_even(const spec::ModelSpec& m) {
  return rounding_rule(m, 2, "even", "make odd channel counts and expanded widths even");
}

std::vector<Suggestion> rule_standard_conv(const spec::ModelSpec& m) {
  Suggestion s;
  s.rule = "standard_conv";
  s.name = "standard_conv";
  s.model = standard_convs(m);
  s.changes = spec_changes(m, s.model);
  if (s.changes.empty()) return {};
  size_t ibn = 0, dw = 0, grouped = 0, separable = 0;
  for (size_t i = 0; i < m.stages.size(); ++i) {
    for (size_t j = 0; j < m.stages[i].blocks.size(); ++j) {
      const spec::BlockSpec& a = m.stages[i].blocks[j];
      const spec::BlockSpec& b = s.model.stages[i].blocks[j];
      if (a.type == "ibn" && b.type == "fused_ibn") ++ibn;
      if (a.type == "dwconv" && b.type == "conv") ++dw;
      if (a.type == "conv" && !(a.params == b.params)) ++grouped;
      if (a.type == b.type && a.type != "conv" && !(a.params == b.params)) ++separable;
    }
  }
  std::vector<std::string> parts;
  if (ibn) parts.push_back(plural(ibn, "IBN block") + " -> fused-IBN");
  if (dw) parts.push_back(plural(dw, "dwconv block") + " -> conv");
  if (grouped) parts.push_back(plural(grouped, "depthwise conv block") + " -> groups 1");
  if (separable) parts.push_back(plural(separable, "separable head block") + " -> full convs");
  s.description = "replace depthwise convolutions with standard ones: " + join(parts, ", ");
  s.transform = [](const spec::ModelSpec& x) { return standard_convs(x); };
  return {std::move(s)};
}

std::vector<Suggestion> rule_depth(const spec::ModelSpec& m,
                                   const std::vector<double>& multipliers) {
  std::vector<Suggestion> out;
  for (const double mult : multipliers) {
    Suggestion s;
    s.rule = "depth";
    s.name = fmt::format("depth {}", mult);
    s.model = m;
    spec::apply_depth_multiplier(s.model, mult);
    s.changes = spec_changes(m, s.model);
    if (s.changes.empty()) continue;
    // Absolute depths, so that re-making it never compounds; it never deepens a stage.
    std::map<std::string, int> depths;
    std::vector<std::string> notes;
    for (size_t i = 0; i < m.stages.size(); ++i) {
      const size_t a = m.stages[i].blocks.size(), b = s.model.stages[i].blocks.size();
      if (a == b) continue;
      depths[m.stages[i].name] = static_cast<int>(b);
      notes.push_back(fmt::format("{} {}->{}", m.stages[i].name, a, b));
    }
    s.description =
        fmt::format("depth multiplier {}: {} -> {} ({})", mult, plural(m.num_blocks(), "block"),
                    s.model.num_blocks(), join(notes, ", "));
    s.transform = [depths](const spec::ModelSpec& x) {
      spec::ModelSpec y = x;
      for (auto& st : y.stages) {
        const auto it = depths.find(st.name);
        if (it != depths.end() && !st.fixed_depth && !st.blocks.empty() &&
            static_cast<int>(st.blocks.size()) > it->second)
          spec::set_stage_depth(st, it->second);
      }
      return y;
    };
    out.push_back(std::move(s));
  }
  return out;
}

// ---------------------------------------------------------------- transfer

nlohmann::json TransferPatterns::to_json() const {
  nlohmann::json fused = nlohmann::json::object();
  for (const auto& [level, flags] : fused_by_level) fused[level_text(level)] = flags;
  return {
      {"source", source}, {"fused_by_level", fused}, {"alignment", alignment}, {"depths", depths}};
}

std::string TransferPatterns::summary() const {
  std::vector<std::string> fused;
  for (const auto& [level, flags] : fused_by_level) {
    std::vector<std::string> f;
    for (const bool b : flags) f.push_back(b ? "fused" : "ibn");
    fused.push_back(fmt::format("{}: {}", level_text(level), join(f, " ")));
  }
  std::vector<std::string> d;
  for (const auto& [stage, n] : depths) d.push_back(fmt::format("{}={}", stage, n));
  return fmt::format("stages by resolution [{}]; channels multiples of {}; depths [{}]",
                     join(fused, ", "), alignment, join(d, " "));
}

TransferPatterns extract_patterns(const spec::ModelSpec& source, int parallelism) {
  TransferPatterns p;
  p.source = source.name;
  const auto levels = stage_levels(source);
  for (const auto& st : source.stages) {
    size_t family = 0, fused = 0;
    for (const auto& b : st.blocks) {
      family += is_ibn_family(b.type);
      fused += b.type == "fused_ibn";
    }
    const auto lv = levels.find(st.name);
    if (family == 0 || lv == levels.end()) continue;
    p.fused_by_level[lv->second].push_back(2 * fused >= family);
  }
  spec::ModelSpec copy = source;
  std::vector<int64_t> counts;
  for_each_channel_param(
      copy, task_output_blocks(source),
      [&](spec::BlockSpec&, const std::string&, int64_t& v) { counts.push_back(v); });
  std::vector<int> factors;
  if (parallelism > 1) factors.push_back(parallelism);
  for (int f = 1 << 20; f >= 2; f /= 2) {
    if (f < parallelism) factors.push_back(f);
  }
  if (!counts.empty()) {
    for (const int f : factors) {
      if (std::all_of(counts.begin(), counts.end(), [f](int64_t v) { return v % f == 0; })) {
        p.alignment = f;
        break;
      }
    }
  }
  for (const auto& st : source.stages) {
    if (!st.fixed_depth && !st.blocks.empty())
      p.depths[st.name] = static_cast<int>(st.blocks.size());
  }
  return p;
}

spec::ModelSpec apply_patterns(const spec::ModelSpec& target, const TransferPatterns& p) {
  return apply_patterns_impl(target, p, nullptr);
}

std::vector<Suggestion> rule_transfer(const spec::ModelSpec& target, const TransferPatterns& p) {
  Suggestion s;
  s.rule = "transfer";
  s.name = "transfer";
  std::vector<std::string> what;
  s.model = apply_patterns_impl(target, p, &what);
  s.changes = spec_changes(target, s.model);
  if (s.changes.empty()) return {};
  s.description = fmt::format("patterns of {}: {}", p.source, join(what, "; "));
  s.transform = [p](const spec::ModelSpec& x) { return apply_patterns(x, p); };
  return {std::move(s)};
}

// ---------------------------------------------------------------- evaluation

nlohmann::json Evaluation::to_json() const {
  nlohmann::json j = metrics.to_json();
  j["simulated_latency_ms"] = opt(simulated_ms);
  if (!score_note.empty()) j["score_note"] = score_note;
  return j;
}

nlohmann::json RankedSuggestion::to_json(const Evaluation& baseline) const {
  nlohmann::json j = {{"rule", suggestion.rule},
                      {"name", suggestion.name},
                      {"description", suggestion.description},
                      {"changes", suggestion.changes}};
  add_deltas(j, baseline, after);
  j["metrics"] = after.to_json();
  return j;
}

nlohmann::json Applied::to_json(const Evaluation& baseline) const {
  nlohmann::json steps_j = nlohmann::json::array();
  for (const auto& s : steps) {
    nlohmann::json sj = {{"name", s.name},
                         {"kept", s.kept},
                         {"latency_ms", opt(s.latency_ms)},
                         {"score", opt(s.score)},
                         {"changes", s.changes}};
    if (!s.reason.empty()) sj["reason"] = s.reason;
    steps_j.push_back(sj);
  }
  nlohmann::json j = {{"combined", kept}, {"changes", changes}, {"steps", steps_j}};
  add_deltas(j, baseline, after);
  j["metrics"] = after.to_json();
  return j;
}

const std::vector<std::string>& advise_rule_names() {
  static const std::vector<std::string> names = {"fuse", "align", "even", "standard_conv", "depth"};
  return names;
}

// Remembers latencies by graph hash (the fuse rule and the evaluation ask for the same graphs).
class Advisor::CachedOracle : public LatencyOracle {
 public:
  explicit CachedOracle(LatencyOracle& inner) : m_inner(inner) {}
  std::string id() const override { return m_inner.id(); }
  std::string chip_hash() const override { return m_inner.chip_hash(); }
  double latency_ms(const ir::Graph& g) override {
    const std::string h = ir::graph_hash(g);
    const auto it = m_cache.find(h);
    if (it != m_cache.end()) return it->second;
    const double ms = m_inner.latency_ms(g);
    m_cache.emplace(h, ms);
    return ms;
  }
  std::vector<std::pair<std::string, double>> breakdown_ms(const ir::Graph& g) override {
    return m_inner.breakdown_ms(g);
  }

 private:
  LatencyOracle& m_inner;
  std::map<std::string, double> m_cache;
};

Advisor::Advisor(spec::ModelSpec model, ChipLimits chip, LatencyOracle& latency,
                 LatencyOracle* simulator, ScoreOptions score)
    : m_model(std::move(model)),
      m_chip(std::move(chip)),
      m_latency(std::make_unique<CachedOracle>(latency)),
      m_score(std::move(score)) {
  if (simulator == &latency) {
    m_sim_is_latency = true;
  } else if (simulator) {
    m_simulator = std::make_unique<CachedOracle>(*simulator);
  }
}

Advisor::~Advisor() = default;

Evaluation Advisor::evaluate(const spec::ModelSpec& m, const std::string& what, bool with_score) {
  const ir::Graph g = spec::build_graph(m);
  Evaluation e;
  e.metrics = static_metrics(g, m_chip, Constraints{});
  e.metrics.latency_ms = m_latency->latency_ms(g);
  if (m_sim_is_latency) {
    e.simulated_ms = e.metrics.latency_ms;
  } else if (m_simulator) {
    e.simulated_ms = m_simulator->latency_ms(g);
  }
  if (with_score && m_score.enabled) {
    auto it = m_scores.find(e.metrics.arch_hash);
    if (it == m_scores.end()) {
      if (m_progress) m_progress(what, m_scored);
      ++m_scored;
      std::string why;
      std::optional<double> s = candidate_score(m, m_score, &why);
      it = m_scores.emplace(e.metrics.arch_hash, std::make_pair(s, s ? std::string() : why)).first;
    }
    e.metrics.score = it->second.first;
    e.score_note = it->second.second;
  }
  return e;
}

std::vector<std::string> rules_to_run(const std::vector<std::string>& rules, bool has_transfer) {
  std::vector<std::string> known = advise_rule_names();
  known.push_back("transfer");
  for (const auto& r : rules) {
    if (std::find(known.begin(), known.end(), r) != known.end()) continue;
    std::string msg =
        fmt::format("unknown advisor rule '{}'; expected one of {}", r, join(known, ", "));
    const std::string hint = did_you_mean(r, known);
    if (!hint.empty()) msg = fmt::format("unknown advisor rule '{}'; did you mean {}?", r, hint);
    throw InputError(msg);
  }
  if (rules.empty()) {
    std::vector<std::string> all = advise_rule_names();
    if (has_transfer) all.push_back("transfer");
    return all;
  }
  if (!has_transfer && std::find(rules.begin(), rules.end(), "transfer") != rules.end())
    throw InputError("rule transfer needs a source model (--from)");
  std::vector<std::string> out;
  for (const auto& r : known) {
    if (std::find(rules.begin(), rules.end(), r) != rules.end()) out.push_back(r);
  }
  return out;
}

Advice Advisor::advise(const AdviseOptions& o) {
  std::vector<std::string> rules = rules_to_run(o.rules, o.transfer.has_value());
  const auto tr = std::find(rules.begin(), rules.end(), "transfer");
  const bool transfer = tr != rules.end();
  if (transfer) rules.erase(tr);
  Advice a;
  a.baseline = evaluate(m_model, "baseline");
  std::vector<Suggestion> all;
  auto run = [&](const std::string& rule, const std::function<std::vector<Suggestion>()>& f,
                 const std::string& empty) {
    try {
      std::vector<Suggestion> v = f();
      if (v.empty()) a.notes.emplace_back(rule, empty);
      for (auto& s : v) all.push_back(std::move(s));
    } catch (const InputError& e) {
      a.notes.emplace_back(rule, "cannot be applied to this model: " + one_line(e));
    }
  };
  for (const auto& r : rules) {
    std::function<std::vector<Suggestion>()> f;
    if (r == "fuse") f = [&] { return rule_fuse(m_model, *m_latency); };
    if (r == "align") f = [&] { return rule_align(m_model, m_chip.parallelism); };
    if (r == "even") f = [&] { return rule_even(m_model); };
    if (r == "standard_conv") f = [&] { return rule_standard_conv(m_model); };
    if (r == "depth") f = [&] { return rule_depth(m_model, o.depth_multipliers); };
    std::string empty = empty_note(r);
    if (r == "align")
      empty = fmt::format("every channel count is already a multiple of the parallelism factor {}",
                          m_chip.parallelism);
    run(r, f, empty);
  }
  if (transfer) {
    run(
        "transfer", [&] { return rule_transfer(m_model, *o.transfer); },
        fmt::format("none of the patterns of {} changes this model ({})", o.transfer->source,
                    o.transfer->summary()));
  }
  for (auto& s : all) {
    RankedSuggestion r;
    try {
      r.after = evaluate(s.model, s.name);
    } catch (const InputError& e) {
      a.notes.emplace_back(s.rule, s.name + ": the modified model does not build: " + one_line(e));
      continue;
    }
    const Metrics& b = a.baseline.metrics;
    r.gain_pct = pct_gain(b.latency_ms, r.after.metrics.latency_ms).value_or(0.0);
    r.simulated_gain_pct = pct_gain(a.baseline.simulated_ms, r.after.simulated_ms);
    r.score_delta = delta(b.score, r.after.metrics.score);
    r.memory_gain_bytes = memory_bytes(b) - memory_bytes(r.after.metrics);
    r.suggestion = std::move(s);
    a.suggestions.push_back(std::move(r));
  }
  std::stable_sort(a.suggestions.begin(), a.suggestions.end(),
                   [](const RankedSuggestion& x, const RankedSuggestion& y) {
                     if (x.gain_pct != y.gain_pct) return x.gain_pct > y.gain_pct;
                     return x.memory_gain_bytes > y.memory_gain_bytes;
                   });
  return a;
}

Applied Advisor::apply(const Advice& a) {
  Applied r;
  spec::ModelSpec cur = m_model;
  Evaluation cur_eval = a.baseline;
  const bool check_score = m_score.enabled && a.baseline.metrics.score.has_value();
  const double min_score = check_score ? *a.baseline.metrics.score : 0.0;
  for (const auto& rs : a.suggestions) {
    const Suggestion& s = rs.suggestion;
    ApplyStep step;
    step.name = s.name;
    spec::ModelSpec cand;
    try {
      cand = s.transform(cur);
      step.changes = spec_changes(cur, cand);
      if (step.changes.empty()) {
        step.reason = "already part of the combined model";
        r.steps.push_back(std::move(step));
        continue;
      }
      Evaluation ev = evaluate(cand, "apply: " + s.name, false);
      step.latency_ms = ev.metrics.latency_ms;
      if (!(*ev.metrics.latency_ms < *cur_eval.metrics.latency_ms)) {
        step.reason = fmt::format("latency {:.4f} ms, not below the combined model's {:.4f} ms",
                                  *ev.metrics.latency_ms, *cur_eval.metrics.latency_ms);
        r.steps.push_back(std::move(step));
        continue;
      }
      if (m_score.enabled) ev = evaluate(cand, "apply: " + s.name, true);
      step.score = ev.metrics.score;
      if (check_score && (!ev.metrics.score || *ev.metrics.score < min_score)) {
        step.reason = ev.metrics.score ? fmt::format("score {:.4f} below the original's {:.4f}",
                                                     *ev.metrics.score, min_score)
                                       : "cannot be scored: " + ev.score_note;
        r.steps.push_back(std::move(step));
        continue;
      }
      step.kept = true;
      cur = std::move(cand);
      cur_eval = ev;
      r.kept.push_back(s.name);
    } catch (const InputError& e) {
      step.reason = "cannot be made on the combined model: " + one_line(e);
    }
    r.steps.push_back(std::move(step));
  }
  if (m_score.enabled && !cur_eval.metrics.score) cur_eval = evaluate(cur, "applied", true);
  r.changes = spec_changes(m_model, cur);
  r.model = std::move(cur);
  r.after = cur_eval;
  r.gain_pct = pct_gain(a.baseline.metrics.latency_ms, r.after.metrics.latency_ms).value_or(0.0);
  r.simulated_gain_pct = pct_gain(a.baseline.simulated_ms, r.after.simulated_ms);
  r.score_delta = delta(a.baseline.metrics.score, r.after.metrics.score);
  return r;
}

}  // namespace nax::search
