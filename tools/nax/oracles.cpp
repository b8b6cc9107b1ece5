#include "tools/nax/oracles.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

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
  return search::chip_limits(hw::chip_features(chip));
}

std::string cache_dir() {
  if (const char* d = std::getenv("NAX_CACHE_DIR"); d && *d) return d;
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d) return std::string(d) + "/nax";
  if (const char* d = std::getenv("HOME"); d && *d) return std::string(d) + "/.cache/nax";
  return ".nax-cache";
}

std::unique_ptr<search::LatencyOracle> estimator_oracle(const hw::ChipParams& chip,
                                                        const EstimatorSource& src,
                                                        std::string* path_out) {
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
  return search::make_estimator_oracle(e, hw::chip_features(chip),
                                       "estimator:" + content_hash(text));
}

}  // namespace nax::cli
