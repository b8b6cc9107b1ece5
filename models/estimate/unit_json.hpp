// Units as JSON: how the trace store keeps a unit's raw description, so features can be
// recomputed from a dataset when the feature schema changes.
#pragma once

#include <nlohmann/json.hpp>

#include "models/estimate/unit.hpp"

namespace nax::est {

nlohmann::json unit_to_json(const Unit& u);
// Throws nax::InputError on a malformed description.
Unit unit_from_json(const nlohmann::json& j);

}  // namespace nax::est
