// ChipParams -> est::ChipFeatures (the chip as the latency estimator sees it; models/ does not
// depend on hw/, so the tool layer converts here), and labelled networks -> est::Dataset rows.
#pragma once

#include <string>

#include "hw/chip/chip.hpp"
#include "hw/traces/label.hpp"
#include "models/estimate/chip_features.hpp"
#include "models/estimate/dataset.hpp"
#include "models/estimate/fit.hpp"

namespace nax::hw {

est::ChipFeatures chip_features(const ChipParams& chip);

// Adds a labelled network to `ds` (its chip must be in ds.chips): one NetworkRec and a sample
// per unit key (chip, unit hash, context) not yet in `ds`, as the trace store does. `g` (the
// labelled graph, optional) supplies what unit records do not say (resize modes).
void add_network_label(est::Dataset& ds, const NetworkLabel& label, const std::string& source,
                       const ir::Graph* g = nullptr);

// Simulates `g` on `chip` and returns it as an evaluation network: labelled units (with
// `features`, which must outlive the result, as their chip) and the contexts a GraphScanner
// predicts. Throws InputError when the network cannot be lowered on the chip.
est::EvalNetwork label_eval_network(const ir::Graph& g, const ChipParams& chip,
                                    const est::ChipFeatures& features, const std::string& name,
                                    const std::string& group);

}  // namespace nax::hw
