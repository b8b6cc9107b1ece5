#include "models/estimate/dataset.hpp"

#include "models/common/error.hpp"
#include "models/estimate/features.hpp"
#include "models/estimate/trace_store.hpp"
#include "models/estimate/unit_json.hpp"
#include "models/spec/model_spec.hpp"

namespace nax::est {

std::string UnitSample::key() const {
  return chip_hash + "/" + unit.hash + ":" + (input_on_chip ? "1" : "0") +
         (output_on_chip ? "1" : "0");
}

int Dataset::add_sample(UnitSample s) {
  const std::string k = s.key();
  auto it = m_index.find(k);
  if (it != m_index.end()) return it->second;
  const int i = static_cast<int>(samples.size());
  samples.push_back(std::move(s));
  m_index.emplace(k, i);
  return i;
}

int Dataset::find(const std::string& key) const {
  auto it = m_index.find(key);
  return it == m_index.end() ? -1 : it->second;
}

void load_trace_store(Dataset& ds, const std::string& path, const ChipConverter& chip,
                      const std::string& chip_hash) {
  TraceStore store(path, TraceStore::Mode::kReadOnly);
  ds.sources.push_back(path);
  for (const ChipRow& c : store.chips()) {
    if (!chip_hash.empty() && c.hash != chip_hash) continue;
    if (!ds.chips.count(c.hash)) ds.chips[c.hash] = chip(c.name, c.hash, c.yaml);
  }
  if (!chip_hash.empty() && !ds.chips.count(chip_hash)) {
    throw InputError(path + ": no chip with hash " + chip_hash + " in this trace store");
  }
  store.for_each_unit(
      [&](const UnitRow& r) {
        UnitSample s;
        s.chip_hash = r.chip_hash;
        try {
          s.unit = unit_from_json(nlohmann::json::parse(r.unit_json));
        } catch (const nlohmann::json::exception& e) {
          throw InputError(path + ": unit " + r.key.str() + ": " + e.what());
        }
        s.unit.hash = r.key.unit_hash;
        s.input_on_chip = r.key.input_on_chip;
        s.output_on_chip = r.key.output_on_chip;
        s.cycles = static_cast<double>(r.cycles);
        ds.add_sample(std::move(s));
        return true;
      },
      chip_hash);
  store.for_each_network(
      [&](const NetworkRow& n) {
        NetworkRec net;
        net.chip_hash = n.chip_hash;
        net.hash = n.network_hash;
        net.source = n.source;
        net.spec_yaml = n.spec_yaml;
        net.total_cycles = static_cast<double>(n.total_cycles);
        for (const UnitKey& k : n.units) {
          const int i = ds.find(n.chip_hash + "/" + k.str());
          if (i < 0) {
            throw InputError(path + ": network " + n.network_hash + " lists unit " + k.str() +
                             " that the store does not have");
          }
          net.samples.push_back(i);
        }
        ds.networks.push_back(std::move(net));
        return true;
      },
      chip_hash);
  recover_resize_taps(ds);
}

void recover_resize_taps(Dataset& ds) {
  auto has_resize = [](const Unit& u) {
    for (const auto& l : u.layers)
      if (l.kind == ir::OpKind::kResize) return true;
    return false;
  };
  for (const NetworkRec& n : ds.networks) {
    bool needed = false;
    for (int k : n.samples) {
      const UnitSample& s = ds.samples[static_cast<size_t>(k)];
      needed = needed || (s.resize_taps == 0 && has_resize(s.unit));
    }
    if (!needed || n.spec_yaml.empty()) continue;
    std::vector<Unit> units;
    ir::Graph g;
    try {
      g = spec::build_graph(spec::read_model_yaml(n.spec_yaml, n.source));
      DecomposeOptions o;
      auto it = ds.chips.find(n.chip_hash);
      o.fuse_activations = it == ds.chips.end() || it->second.fused_activations;
      units = decompose(g, o);
    } catch (const InputError&) {
      continue;
    }
    if (units.size() != n.samples.size()) continue;
    for (size_t i = 0; i < units.size(); ++i) {
      UnitSample& s = ds.samples[static_cast<size_t>(n.samples[i])];
      if (s.unit.hash == units[i].hash && s.resize_taps == 0)
        s.resize_taps = resize_taps(g, units[i]);
    }
  }
}

}  // namespace nax::est
