#include "hw/sweep/points.hpp"

#include <fmt/format.h>

#include "hw/chip/area.hpp"
#include "models/common/hash.hpp"

namespace nax::hw::sweep {
namespace {

std::string diagnostics_text(const InputError& e) {
  std::string s;
  for (Diagnostic d : e.diagnostics()) {
    if (d.loc.file == "-p") d.loc = {};  // the override is the point itself: no "-p: " prefix
    s += (s.empty() ? "" : "; ") + d.str();
  }
  return s.empty() ? std::string(e.what()) : s;
}

const ParamValue& operand_value(const Filter::Operand& o, const SweepConfig& c,
                                const ChipParams& base, const std::vector<size_t>& vi) {
  if (o.key.empty()) return o.literal;
  for (size_t a = 0; a < c.axes.size(); ++a) {
    if (c.axes[a].key == o.key) return c.axes[a].values[vi[a]];
  }
  return base.values.entry(o.key).value;
}

bool as_number(const ParamValue& v, double& out) {
  if (const auto* i = std::get_if<int64_t>(&v)) {
    out = static_cast<double>(*i);
    return true;
  }
  if (const auto* d = std::get_if<double>(&v)) {
    out = *d;
    return true;
  }
  return false;
}

bool compare(const ParamValue& a, const ParamValue& b, Filter::Op op) {
  double x = 0, y = 0;
  int cmp = 0;
  if (as_number(a, x) && as_number(b, y)) {
    cmp = x < y ? -1 : (x > y ? 1 : 0);
  } else {
    const std::string s = format_value(a), t = format_value(b);
    cmp = s < t ? -1 : (s > t ? 1 : 0);
  }
  switch (op) {
    case Filter::Op::kLt:
      return cmp < 0;
    case Filter::Op::kLe:
      return cmp <= 0;
    case Filter::Op::kEq:
      return cmp == 0;
    case Filter::Op::kNe:
      return cmp != 0;
    case Filter::Op::kGe:
      return cmp >= 0;
    case Filter::Op::kGt:
      return cmp > 0;
  }
  return false;
}

}  // namespace

bool passes_filters(const SweepConfig& config, const ChipParams& base,
                    const std::vector<size_t>& value_index) {
  for (const auto& f : config.filters) {
    if (!compare(operand_value(f.lhs, config, base, value_index),
                 operand_value(f.rhs, config, base, value_index), f.op))
      return false;
  }
  return true;
}

std::string point_label(const Point& p) {
  std::string s;
  for (const auto& o : p.overrides) s += (s.empty() ? "" : " ") + o;
  return s;
}

Expansion expand_points(const SweepConfig& config) {
  Expansion e;
  try {
    e.base = load_chip(config.base);
  } catch (const InputError& err) {
    DiagnosticSink sink;
    sink.add(config.base_loc, "base", config.base, "the base chip does not load:");
    for (const auto& d : err.diagnostics()) sink.add(d);
    sink.throw_if_any();
  }
  const size_t n_axes = config.axes.size();
  std::vector<std::vector<size_t>> combos;
  if (config.mode == Mode::kZip) {
    const size_t n = n_axes ? config.axes.front().values.size() : 0;
    for (size_t i = 0; i < n; ++i) combos.emplace_back(n_axes, i);
  } else if (n_axes > 0) {
    std::vector<size_t> vi(n_axes, 0);
    for (bool carry = false; !carry;) {
      combos.push_back(vi);
      carry = true;  // odometer: the last axis turns fastest; a carry out of the first ends it
      for (size_t a = n_axes; carry && a > 0;) {
        --a;
        carry = ++vi[a] == config.axes[a].values.size();
        if (carry) vi[a] = 0;
      }
    }
  }
  e.combinations = combos.size();
  for (const auto& vi : combos) {
    if (!passes_filters(config, e.base, vi)) {
      ++e.filtered_out;
      continue;
    }
    Point p;
    p.index = e.points.size();
    p.value_index = vi;
    for (size_t a = 0; a < n_axes; ++a) p.overrides.push_back(config.axes[a].override_text(vi[a]));
    try {
      p.chip = load_chip(config.base, p.overrides);
      p.feasible = true;
      p.id = p.chip->hash;
      p.area_mm2 = chip_area_mm2(*p.chip);
    } catch (const InputError& err) {
      p.feasible = false;
      p.reason = diagnostics_text(err);
      p.id = "invalid-" + content_hash(e.base.hash + "\n" + point_label(p));
    }
    e.points.push_back(std::move(p));
  }
  return e;
}

}  // namespace nax::hw::sweep
