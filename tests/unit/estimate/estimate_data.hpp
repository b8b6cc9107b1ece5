// Small labelled datasets for the estimator tests, generated in-process (seeded, a few seconds):
// networks of the IBN space simulated on a chip and added to an est::Dataset.
#pragma once

#include <string>
#include <vector>

#include "hw/chip/chip.hpp"
#include "hw/traces/chip_features.hpp"
#include "hw/traces/label.hpp"
#include "models/estimate/dataset.hpp"
#include "models/estimate/ibn_space.hpp"
#include "models/spec/model_spec.hpp"

namespace nax::test {

// IBN-space networks [first, first + count) of `seed` at their own resolution divided by
// `shrink` (at least 64 px), labelled on `chip` into `ds` (the chip is added to ds.chips).
inline void add_ibn_networks(est::Dataset& ds, const hw::ChipParams& chip, uint64_t seed, int first,
                             int count, int shrink = 2) {
  ds.chips[chip.hash] = hw::chip_features(chip);
  for (int i = first; i < first + count; ++i) {
    spec::ModelSpec m = est::ibn_space_network(seed, i);
    m.height = m.width = std::max<int64_t>(64, m.height / shrink);
    const ir::Graph g = spec::build_graph(m);
    hw::add_network_label(ds, hw::label_network(g, chip), est::ibn_space_source(seed, i), &g);
  }
}

}  // namespace nax::test
