#include "models/zoo/zoo.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <map>

namespace nax::zoo {

namespace {
std::map<std::string, ZooEntry>& entries() {
  static std::map<std::string, ZooEntry> m;
  return m;
}
}  // namespace

ZooRegistry& ZooRegistry::instance() {
  static ZooRegistry r;
  return r;
}

bool ZooRegistry::add(ZooEntry e) {
  if (entries().count(e.name)) throw std::logic_error("zoo model registered twice: " + e.name);
  e.params.push_back(ParamDecl::number("depth", "x", 1.0, 0.05, 16,
                                       "depth multiplier: scales the blocks of every stage"));
  Schema check(e.params);  // throws on a duplicate declaration
  (void)check;
  const std::string name = e.name;
  entries().emplace(name, std::move(e));
  return true;
}

const ZooEntry* ZooRegistry::find(const std::string& name) const {
  auto it = entries().find(name);
  return it == entries().end() ? nullptr : &it->second;
}

std::vector<std::string> ZooRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& kv : entries()) out.push_back(kv.first);
  return out;
}

bool is_zoo_name(const std::string& arg) {
  return ZooRegistry::instance().find(arg.substr(0, arg.find(':'))) != nullptr;
}

spec::ModelSpec build(const std::string& arg) {
  const size_t colon = arg.find(':');
  const std::string name = arg.substr(0, colon);
  const ZooEntry* e = ZooRegistry::instance().find(name);
  if (!e) {
    std::string msg = fmt::format("--model {}: not a zoo model, .yaml or .onnx file", name);
    const std::string hint = did_you_mean(name, ZooRegistry::instance().names());
    msg += hint.empty() ? "; `nax model list` shows the zoo" : "; did you mean " + hint + "?";
    throw InputError(msg);
  }
  const Schema schema(e->params);
  ParamSet values;
  DiagnosticSink sink;
  std::vector<std::pair<std::string, std::string>> overrides;
  if (colon != std::string::npos) {
    const std::string rest = arg.substr(colon + 1);
    size_t pos = 0;
    while (pos <= rest.size()) {
      size_t comma = rest.find(',', pos);
      if (comma == std::string::npos) comma = rest.size();
      const std::string item = rest.substr(pos, comma - pos);
      pos = comma + 1;
      if (item.empty()) continue;
      const size_t eq = item.find('=');
      if (eq == std::string::npos || eq == 0) {
        sink.add(SourceLoc{"--model " + arg, 0, 0}, "", item, "expected key=value");
        continue;
      }
      const std::string key = item.substr(0, eq);
      if (schema.find(key)) {
        schema.apply_override(item, values, sink, "--model " + name);
      } else {
        overrides.emplace_back(key, item.substr(eq + 1));
      }
    }
  }
  schema.fill_defaults(values, SourceLoc{}, sink);
  sink.throw_if_any();
  spec::ModelSpec s = e->build(values);
  s.assign_names();
  const double depth = values.get_float("depth");
  if (depth != 1.0) spec::apply_depth_multiplier(s, depth);
  for (const auto& [k, v] : overrides) {
    try {
      spec::apply_override(s, k, v);
    } catch (const InputError& err) {
      std::vector<std::string> keys;
      for (const auto& d : e->params) keys.push_back(d.path);
      const std::string hint = did_you_mean(k, keys);
      std::string msg = fmt::format("--model {}: {}", name, err.what());
      if (!hint.empty() && msg.find("did you mean") == std::string::npos) {
        msg += "; did you mean " + hint + "?";
      }
      throw InputError(msg);
    }
  }
  return s;
}

}  // namespace nax::zoo
