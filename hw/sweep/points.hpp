// The points of a sweep: every combination of axis values (cartesian or zipped) that passes the
// filters, each resolved to a chip and validated before anything is simulated.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "hw/chip/chip.hpp"
#include "hw/sweep/sweep_config.hpp"

namespace nax::hw::sweep {

struct Point {
  size_t index = 0;                    // position among the sweep's points (after filters)
  std::vector<size_t> value_index;     // per axis: which of its values
  std::vector<std::string> overrides;  // "key.path=value", one per axis
  bool feasible = false;               // the chip loaded and passed validation
  std::string reason;                  // why not (the chip validation's messages)
  // Stable id: the chip hash; for an infeasible chip "invalid-" + the hash of base and overrides.
  std::string id;
  std::optional<ChipParams> chip;  // when feasible
  double area_mm2 = 0;             // when feasible (chip_area_mm2)
};

struct Expansion {
  ChipParams base;
  std::vector<Point> points;
  size_t combinations = 0;  // before filters
  size_t filtered_out = 0;
};

// Expands the axes in order (cartesian: the last axis varies fastest; zip: position by position),
// drops combinations a filter rejects, and loads each remaining one with
// load_chip(base, overrides). A chip that fails validation is an infeasible point with the reason.
// A base chip that cannot be loaded is an InputError located at the config's `base`.
//
// Filters compare values of the point: an axis key takes the point's value, any other chip key
// the base chip's. Numbers compare as numbers; other values (enums, booleans, names) as text.
Expansion expand_points(const SweepConfig& config);

// Whether `point` (values per axis of `config`) passes every filter.
bool passes_filters(const SweepConfig& config, const ChipParams& base,
                    const std::vector<size_t>& value_index);

// "mac_array.rows=16 sram.capacity_kib=256": the overrides of a point, for messages.
std::string point_label(const Point& p);

}  // namespace nax::hw::sweep
