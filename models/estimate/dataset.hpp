// Labelled units and networks in memory: what `nax fit` trains and evaluates on. Read from trace
// stores (models/estimate/trace_store.hpp) or built in-process from labelled networks
// (hw/traces/chip_features.hpp). Units are keyed as the store keys them: (chip hash, unit hash,
// input_on_chip, output_on_chip); a network lists its units' sample indices in order (repeats
// allowed), and their cycles add up to its total.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/estimate/chip_features.hpp"
#include "models/estimate/unit.hpp"

namespace nax::est {

struct UnitSample {
  std::string chip_hash;
  Unit unit;
  bool input_on_chip = false;
  bool output_on_chip = false;
  double cycles = 0;
  int resize_taps = 0;      // of its resize layer, when known (features.hpp unit_geom)
  std::string key() const;  // "<chip hash>/<unit hash>:<i><o>"
};

struct NetworkRec {
  std::string chip_hash;
  std::string hash;
  std::string source;     // "sample seed=S index=I", "model ARG", "ibn-space seed=S index=I"
  std::string spec_yaml;  // block-level description (empty for ONNX models)
  double total_cycles = 0;
  std::vector<int> samples;  // in network order
};

struct Dataset {
  std::vector<UnitSample> samples;
  std::vector<NetworkRec> networks;
  std::map<std::string, ChipFeatures> chips;  // by hash
  std::vector<std::string> sources;           // trace store paths it was read from

  // Adds a sample unless its key is present; returns the index of the sample with that key.
  int add_sample(UnitSample s);
  int find(const std::string& key) const;

 private:
  std::unordered_map<std::string, int> m_index;
};

// Converts a store's chip row (name, hash, resolved YAML) into ChipFeatures; the tool layer
// supplies it (it parses the YAML with hw::parse_chip).
using ChipConverter = std::function<ChipFeatures(const std::string& name, const std::string& hash,
                                                 const std::string& yaml)>;

// Appends every chip, unit row and network of the trace store at `path` (all chips, or only
// `chip_hash`). Throws InputError for a missing or malformed store, or a network listing a unit
// key the store does not have.
void load_trace_store(Dataset& ds, const std::string& path, const ChipConverter& chip,
                      const std::string& chip_hash = "");

// Unit records do not say how a resize interpolates (unit_json.hpp); the networks' block-level
// descriptions do. Fills UnitSample::resize_taps of resize units from them (load_trace_store
// calls it). Units of networks without a description stay unknown (taken as nearest).
void recover_resize_taps(Dataset& ds);

}  // namespace nax::est
