#include "tools/nax/oracles.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "hw/chip/area.hpp"
#include "hw/lower/lower.hpp"
#include "hw/sim/simulator.hpp"
#include "hw/traces/chip_features.hpp"
#include "models/common/error.hpp"
#include "models/common/hash.hpp"
#include "models/common/yaml_io.hpp"
#include "models/estimate/estimator.hpp"
#include "tools/nax/cli.hpp"

namespace nax::cli {
namespace {

class SimulatorOracle : public search::LatencyOracle {
 public:
  explicit SimulatorOracle(const hw::ChipParams& chip) : m_chip(chip) {}
  std::string id() const override { return std::string("simulator:") + version(); }
  std::string chip_hash() const override { return m_chip.hash; }
  double latency_ms(const ir::Graph& g) override { return run(g).latency_ms; }
  bool measures_energy() const override { return true; }
  Measurement measure(const ir::Graph& g) override {
    const hw::RunResult r = run(g);
    return {r.latency_ms, r.energy_uj};
  }
  std::vector<std::pair<std::string, double>> breakdown_ms(const ir::Graph& g) override {
    const hw::RunResult r = run(g);
    std::vector<std::pair<std::string, double>> out;
    for (const auto& l : r.layers)
      out.emplace_back(l.name, static_cast<double>(l.cycles) / m_chip.clock_mhz / 1e3);
    return out;
  }

 private:
  hw::RunResult run(const ir::Graph& g) {
    const hw::Program p = hw::lower(g, m_chip);
    return hw::Simulator::instance().run(p, m_chip);
  }
  hw::ChipParams m_chip;
};

constexpr int64_t kMaxEstimatorBytes = int64_t{256} << 20;

}  // namespace

std::unique_ptr<search::LatencyOracle> simulator_oracle(const hw::ChipParams& chip) {
  return std::make_unique<SimulatorOracle>(chip);
}

search::ChipLimits chip_limits(const hw::ChipParams& chip) {
  search::ChipLimits l = search::chip_limits(hw::chip_features(chip));
  l.area_mm2 = hw::chip_area_mm2(chip);
  return l;
}

std::string cache_dir() {
  if (const char* d = std::getenv("NAX_CACHE_DIR"); d && *d) return d;
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d) return std::string(d) + "/nax";
  if (const char* d = std::getenv("HOME"); d && *d) return std::string(d) + "/.cache/nax";
  return ".nax-cache";
}

std::unique_ptr<search::LatencyOracle> estimator_oracle(
    const hw::ChipParams& chip, const EstimatorSource& src, std::string* path_out,
    std::shared_ptr<const est::Estimator>* estimator_out) {
  namespace fs = std::filesystem;
  std::string path = src.path;
  if (path.empty()) {
    const fs::path dir = fs::path(cache_dir()) / "estimators";
    const std::string stem = fmt::format("{}-{}", chip.hash, version());
    path = (dir / (stem + ".est.json")).string();
    if (!fs::exists(path)) {
      std::error_code ec;
      fs::create_directories(dir, ec);
      if (ec)
        throw Error(
            fmt::format("cannot create the cache directory {}: {}", dir.string(), ec.message()));
      const std::string db = (dir / (stem + ".traces.db")).string();
      const std::string tmp = path + ".tmp";
      if (!src.quiet)
        std::cerr << fmt::format(
            "nax: no estimator for chip {} (hash {}) in {}: fitting one ({} labelled units, "
            "`nax traces` then `nax fit`; done once per chip and nax version)\n",
            chip.name, chip.hash, dir.string(), src.units);
      std::vector<std::string> chip_args = {"--chip",
                                            src.chip_arg.empty() ? "default" : src.chip_arg};
      for (const auto& o : src.overrides) chip_args.insert(chip_args.end(), {"-p", o});
      std::vector<std::string> traces = {
          "traces",   "--count", std::to_string(src.units), "--seed", "1", "--db", db,
          "--resume", "-j",      std::to_string(src.jobs)};
      traces.insert(traces.end(), chip_args.begin(), chip_args.end());
      if (!fs::exists(db)) traces.erase(traces.begin() + 7);  // no --resume for a new store
      run_self(traces, !src.quiet);
      run_self({"fit", "--db", db, "--out", tmp, "--zoo", "mobilenet_v2", "--eval-random", "10",
                "--no-baselines"},
               !src.quiet);
      fs::rename(tmp, path);
    }
  }
  auto e = std::make_shared<est::Estimator>(est::Estimator::load(path));
  const std::string text = read_text_file(path, kMaxEstimatorBytes);
  e->check_chip(chip.hash, chip.name, false);
  if (path_out) *path_out = path;
  if (estimator_out) *estimator_out = e;
  return search::make_estimator_oracle(e, hw::chip_features(chip),
                                       "estimator:" + content_hash(text));
}

// ---- ChipResolver ----

namespace {

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
  return s;
}

// An InputError's diagnostics as one line, without the file prefix of overrides.
std::string chip_error_text(const InputError& e) {
  std::string s;
  for (const auto& d : e.diagnostics()) {
    std::string m = d.message;
    if (!d.path.empty() && m.rfind(d.path, 0) != 0)
      m = d.path + (d.value.empty() ? "" : " = " + d.value) + ": " + m;
    s += (s.empty() ? "" : "; ") + m;
  }
  return s.empty() ? e.what() : s;
}

}  // namespace

ChipResolver::ChipResolver(std::string chip_arg, std::vector<std::string> base_overrides,
                           search::LatencyOracle& base_latency,
                           std::shared_ptr<const est::Estimator> estimator)
    : m_chip_arg(std::move(chip_arg)),
      m_base_overrides(std::move(base_overrides)),
      m_base_latency(base_latency),
      m_estimator(std::move(estimator)),
      m_base(hw::load_chip(m_chip_arg, m_base_overrides)) {
  if (base_latency.chip_hash() != m_base.hash)
    throw Error(fmt::format("chip resolver: the base oracle measures chip {}, not the base chip {}",
                            base_latency.chip_hash(), m_base.hash));
}

const search::CandidateChip& ChipResolver::base() {
  return chip({});
}

const search::CandidateChip& ChipResolver::chip(const std::vector<std::string>& overrides) {
  const std::string key = joined(overrides);
  auto it = m_entries.find(key);
  if (it != m_entries.end()) return it->second->chip;
  auto e = std::make_unique<Entry>();
  e->chip.overrides = overrides;
  std::vector<std::string> all = m_base_overrides;
  all.insert(all.end(), overrides.begin(), overrides.end());
  try {
    e->params = overrides.empty() ? m_base : hw::load_chip(m_chip_arg, all);
  } catch (const InputError& err) {
    e->chip.error = chip_error_text(err);
  }
  if (e->params) {
    const hw::ChipParams& c = *e->params;
    e->chip.limits = chip_limits(c);
    if (c.hash == m_base.hash) {
      e->chip.latency = &m_base_latency;
    } else {
      auto& oracle = m_oracles[c.hash];
      if (!oracle) {
        oracle = m_estimator ? search::make_estimator_oracle(m_estimator, hw::chip_features(c),
                                                             m_base_latency.id())
                             : simulator_oracle(c);
      }
      e->chip.latency = oracle.get();
    }
  }
  return m_entries.emplace(key, std::move(e)).first->second->chip;
}

const hw::ChipParams& ChipResolver::params(const std::vector<std::string>& overrides) {
  chip(overrides);
  const Entry& e = *m_entries.at(joined(overrides));
  if (!e.params)
    throw Error("chip resolver: not a valid chip (" + joined(overrides) + "): " + e.chip.error);
  return *e.params;
}

std::string ChipResolver::yaml(const std::vector<std::string>& overrides) {
  const hw::ChipParams& c = params(overrides);
  if (overrides.empty()) return hw::dump_chip(c);
  std::vector<std::string> all = m_base_overrides;
  all.insert(all.end(), overrides.begin(), overrides.end());
  all.push_back(fmt::format("name={}-{}", m_base.name, c.hash.substr(0, 8)));
  all.push_back(fmt::format("description={} with {}", m_base.name, joined(overrides)));
  const hw::ChipParams named = hw::load_chip(m_chip_arg, all);
  if (named.hash != c.hash)
    throw Error("chip resolver: naming the chip changed its hash (" + named.hash + ")");
  return hw::dump_chip(named);
}

search::ChipAxes chip_axes(const std::string& chip_arg,
                           const std::vector<std::string>& base_overrides) {
  search::ChipAxes a;
  const hw::ChipParams base = hw::load_chip(chip_arg, base_overrides);
  a.base_value = [base](const std::string& key) {
    const ParamDecl* d = hw::chip_schema().find(key);
    if (!d || !base.values.has(key)) {
      std::vector<std::string> keys;
      for (const auto& decl : hw::chip_schema().decls()) keys.push_back(decl.path);
      const std::string hint = did_you_mean(key, keys);
      throw InputError("not a chip parameter" + (hint.empty()
                                                     ? std::string("; `nax describe` lists them")
                                                     : "; did you mean " + hint + "?"));
    }
    return format_value(base.values.entry(key).value);
  };
  a.check = [chip_arg, base_overrides](const std::vector<std::string>& overrides) {
    std::vector<std::string> all = base_overrides;
    all.insert(all.end(), overrides.begin(), overrides.end());
    try {
      hw::load_chip(chip_arg, all);
      return std::string();
    } catch (const InputError& e) {
      return chip_error_text(e);
    }
  };
  return a;
}

void check_estimator(const search::SearchSpace& space, const std::string& latency_mode,
                     const est::Estimator* estimator, const std::string& estimator_path) {
  if (!space.has_chip() || latency_mode != "estimate") return;
  std::string names;
  for (const auto& d : space.decisions())
    if (d.is_chip()) names += (names.empty() ? "" : ", ") + d.name;
  if (!estimator || !estimator->chip_aware())
    throw InputError(fmt::format(
        "{}: the space has chip decisions ({}), so every candidate runs on its own chip, but the "
        "estimator {} was fitted for one chip{}: use --latency simulate, or --estimator FILE with "
        "a chip-aware estimator (`nax fit --chip-aware` on trace stores of several chips)",
        space.file(), names, estimator_path.empty() ? "cached for the base chip" : estimator_path,
        estimator ? " (" + estimator->chip().name + ")" : ""));
}

}  // namespace nax::cli
