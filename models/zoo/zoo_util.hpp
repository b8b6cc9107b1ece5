// Small helpers for zoo builders.
#pragma once

#include <initializer_list>
#include <utility>

#include "models/spec/model_spec.hpp"

namespace nax::zoo {

using Params = std::initializer_list<std::pair<const std::string, ParamValue>>;

// A block of `type` with the given parameters: blk("ibn", {{"out", 24}, {"stride", 2}}).
inline spec::BlockSpec blk(const std::string& type, Params params) {
  spec::BlockSpec b;
  b.type = type;
  for (const auto& kv : params) b.params[kv.first] = kv.second;
  return b;
}

inline spec::StageSpec stage(const std::string& name, std::vector<spec::BlockSpec> blocks,
                             bool fixed_depth = false) {
  spec::StageSpec s;
  s.name = name;
  s.blocks = std::move(blocks);
  s.fixed_depth = fixed_depth;
  return s;
}

// `b` repeated n times, the stride applying to the first copy only.
inline std::vector<spec::BlockSpec> repeat(const spec::BlockSpec& b, int n) {
  std::vector<spec::BlockSpec> out;
  for (int i = 0; i < n; ++i) {
    spec::BlockSpec c = b;
    if (i > 0 && c.has("stride")) c.set("stride", int64_t{1});
    out.push_back(std::move(c));
  }
  return out;
}

// ParamValue literals: integers must be int64_t, numbers double.
inline ParamValue I(int64_t v) {
  return v;
}
inline ParamValue F(double v) {
  return v;
}
inline ParamValue S(const char* v) {
  return std::string(v);
}
inline ParamValue B(bool v) {
  return v;
}

}  // namespace nax::zoo
