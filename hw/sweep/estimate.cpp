#include "hw/sweep/estimate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <set>

#include "hw/sweep/analysis.hpp"
#include "hw/traces/chip_features.hpp"
#include "models/common/csv.hpp"
#include "models/common/error.hpp"
#include "models/estimate/fast_units.hpp"
#include "models/estimate/metrics.hpp"

namespace nax::hw::sweep {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

int64_t ceil_div(int64_t a, int64_t b) {
  return b > 0 ? (a + b - 1) / b : 0;
}

// SRAM bytes a layer reads and writes, in closed form over the lowering's folds
// (hw/lower/tiling.cpp): an array layer is a GEMM per group (K = kernel x input channels, M =
// output channels, N = output pixels) folded onto R x C PEs. Weight-stationary streams the input
// once per column fold and writes partial sums (accumulator width) for every row fold but the
// last, reading them back for every row fold but the first; output-stationary streams inputs
// once per column fold and weights once per row fold (pixel tiles) and writes outputs once;
// input-stationary is weight-stationary with inputs and weights swapped. A vector layer reads its
// inputs and weights and writes its output.
struct SramBytes {
  double read = 0, write = 0;
};
SramBytes layer_sram(const est::LayerGeom& g, const est::ChipFeatures& cf) {
  const double ab = cf.act_bytes, wb = cf.weight_bytes, acc = cf.acc_bytes;
  SramBytes s;
  if (!est::on_array(g, cf)) {
    const double inputs = g.kind == ir::OpKind::kAdd ? 2.0 : 1.0;
    s.read = inputs * static_cast<double>(g.in_elems()) * ab + static_cast<double>(g.params) * wb;
    s.write = static_cast<double>(g.out_elems()) * ab;
    return s;
  }
  const bool fc = g.kind == ir::OpKind::kFullyConnected;
  const int64_t groups = std::max(1, g.groups);
  const int64_t k = fc ? g.cin : int64_t{g.kh} * g.kw * (g.cin / groups);
  const int64_t m = fc ? g.cout : g.cout / groups;
  const int64_t n = fc ? g.n : g.n * g.oh * g.ow;
  const int64_t rows = cf.rows, cols = cf.cols;
  const double G = static_cast<double>(groups), K = static_cast<double>(k),
               M = static_cast<double>(m), N = static_cast<double>(n);
  switch (cf.dataflow) {
    case est::DataflowKind::kWs: {
      const double rf = static_cast<double>(ceil_div(k, rows));
      const double cfo = static_cast<double>(ceil_div(m, cols));
      s.read = G * (N * K * ab * cfo + K * M * wb + N * M * acc * (rf - 1));
      s.write = G * N * M * (acc * (rf - 1) + ab);
      break;
    }
    case est::DataflowKind::kOs: {
      const double rf = static_cast<double>(ceil_div(n, rows));
      const double cfo = static_cast<double>(ceil_div(m, cols));
      s.read = G * (K * N * ab * cfo + K * M * wb * rf);
      s.write = G * N * M * ab;
      break;
    }
    case est::DataflowKind::kIs: {
      const double rf = static_cast<double>(ceil_div(k, rows));
      const double cfo = static_cast<double>(ceil_div(n, cols));
      s.read = G * (M * K * wb * cfo + K * N * ab + N * M * acc * (rf - 1));
      s.write = G * N * M * (acc * (rf - 1) + ab);
      break;
    }
  }
  return s;
}

}  // namespace

PairResult estimate_pair(const est::Estimator& estimator, const ChipParams& chip,
                         const est::ChipFeatures& cf, const ir::Graph& graph,
                         est::GraphScanner& scanner) {
  scanner.scan(graph, cf);
  const double bw = cf.dma_bytes_per_cycle();
  double cycles = 0, array_busy = 0, vector_busy = 0;
  double dram_read = 0, dram_write = 0, sram_read = 0, sram_write = 0;
  double array_macs = 0, vector_ops = 0, macs = 0;
  double f[est::kNumHwFeatures];
  for (const est::ScannedUnit& u : scanner.units()) {
    est::hw_features(u.geom, u.context, cf, f);
    const double c = estimator.predict_features(u.geom.type, f, cf);
    cycles += c;
    array_busy += std::min(c, f[est::kFArrayCycles]);
    vector_busy += std::min(c, f[est::kFVectorCycles]);
    // DRAM: what leaves the chip is written (outputs, half of each spill), the rest read.
    const double out = f[est::kFOutputDram] * bw;
    const double spill = f[est::kFSpillDram] * bw;
    dram_write += out + spill / 2;
    dram_read +=
        (f[est::kFWeightDram] + f[est::kFInputDram] + f[est::kFRereadDram]) * bw + spill / 2;
    for (int i = 0; i < u.geom.num_layers; ++i) {
      const est::LayerGeom& g = u.geom.layers[i];
      macs += static_cast<double>(g.macs);
      if (est::on_array(g, cf)) {
        array_macs += static_cast<double>(g.macs);
      } else {
        vector_ops += static_cast<double>(g.macs);
      }
      vector_ops += static_cast<double>(g.vector_ops);
      const SramBytes sb = layer_sram(g, cf);
      sram_read += sb.read;
      sram_write += sb.write;
    }
  }
  PairResult r;
  r.feasible = true;
  r.cycles = static_cast<int64_t>(std::llround(cycles));
  r.latency_ms = cycles / chip.clock_mhz / 1e3;
  const auto& e = chip.energy;
  // DMA transfers write what they load into SRAM and read what they store.
  sram_write += dram_read;
  sram_read += dram_write;
  constexpr double kUjPerPj = 1e-6;
  r.energy_uj =
      kUjPerPj * (array_macs * e.mac_pj + vector_ops * e.vector_op_pj +
                  sram_read * e.sram_read_pj_per_byte + sram_write * e.sram_write_pj_per_byte +
                  (dram_read + dram_write) * e.dram_pj_per_byte) +
      e.static_mw * r.latency_ms;
  if (cycles > 0) {
    r.mac_array_utilization = array_busy / cycles;
    r.vector_unit_utilization = vector_busy / cycles;
    if (chip.num_pes() > 0)
      r.mac_efficiency = macs / (cycles * static_cast<double>(chip.num_pes()));
  }
  r.dram_read_bytes = static_cast<int64_t>(std::llround(dram_read));
  r.dram_write_bytes = static_cast<int64_t>(std::llround(dram_write));
  return r;
}

SweepRun estimate_sweep(const SweepConfig& config, const est::Estimator& estimator,
                        const RunHooks& hooks, std::optional<Expansion> expansion) {
  const auto t0 = Clock::now();
  SweepRun run;
  run.sweep_hash = config.hash;
  run.expansion = expansion ? std::move(*expansion) : expand_points(config);
  run.models = load_sweep_models(config);
  const auto& points = run.expansion.points;
  const size_t n_models = run.models.size();
  run.results.assign(points.size(), std::vector<std::optional<PairResult>>(n_models));
  RunProgress progress;
  for (const Point& p : points) {
    run.share.push_back(p.index);
    if (!p.feasible) continue;
    progress.total += static_cast<int64_t>(n_models);
    if (!estimator.chip_aware() && p.id != estimator.chip().hash)
      throw InputError(fmt::format(
          "the estimator is made for chip {} (hash {}) and is not chip-aware, but point {} ({}) "
          "is another chip: fit one with `nax fit --chip-aware` or use --estimator auto",
          estimator.chip().name, estimator.chip().hash, p.index, point_label(p)));
  }
  est::GraphScanner scanner;
  auto last = Clock::now();
  for (const Point& p : points) {
    if (!p.feasible) continue;
    const est::ChipFeatures features = chip_features(*p.chip);
    for (size_t m = 0; m < n_models; ++m) {
      run.results[p.index][m] =
          estimate_pair(estimator, *p.chip, features, run.models[m].graph, scanner);
      ++run.simulated;
      ++progress.done;
      ++progress.session;
    }
    if (since(last) >= 0.25) {
      last = Clock::now();
      progress.seconds = since(t0);
      if (hooks.progress) hooks.progress(progress);
      if (hooks.stop_requested && hooks.stop_requested()) {
        run.interrupted = true;
        break;
      }
    }
  }
  run.seconds = since(t0);
  progress.seconds = run.seconds;
  if (hooks.progress) hooks.progress(progress);
  return run;
}

std::vector<size_t> check_points(const SweepRun& estimated, size_t n, uint64_t seed) {
  std::vector<size_t> feasible;
  for (size_t p : estimated.share)
    if (estimated.expansion.points[p].feasible) feasible.push_back(p);
  // Partial Fisher-Yates on the engine's raw output (the same draw on every platform).
  std::mt19937_64 rng(seed);
  std::set<size_t> chosen;
  const size_t k = std::min(n, feasible.size());
  for (size_t i = 0; i < k; ++i) {
    const size_t j = i + static_cast<size_t>(rng() % (feasible.size() - i));
    std::swap(feasible[i], feasible[j]);
    chosen.insert(feasible[i]);
  }
  size_t front = 0;
  for (const Front& f : pareto_fronts(estimated)) {
    if (f.kind != "latency_area" || f.model != "all") continue;
    for (const FrontEntry& e : f.entries) {
      if (front++ >= n) break;
      chosen.insert(e.point);
    }
  }
  return {chosen.begin(), chosen.end()};
}

namespace {

struct Compared {
  std::vector<double> sim_lat, est_lat, sim_energy, est_energy;
  int64_t refused = 0;  // pairs the lowering refused (estimated anyway)
};

double signed_mean_pct(const std::vector<double>& truth, const std::vector<double>& pred) {
  double s = 0;
  for (size_t i = 0; i < truth.size(); ++i) s += pred[i] / truth[i] - 1;
  return truth.empty() ? 0 : 100 * s / static_cast<double>(truth.size());
}

nlohmann::json compared_json(const Compared& c) {
  const est::ErrorStats lat = est::error_stats(c.sim_lat, c.est_lat);
  const est::ErrorStats en = est::error_stats(c.sim_energy, c.est_energy);
  return {{"pairs", c.sim_lat.size()},
          {"refused_by_lowering", c.refused},
          {"latency",
           {{"mape_pct", lat.mape},
            {"max_ape_pct", lat.max_ape},
            {"bias_pct", signed_mean_pct(c.sim_lat, c.est_lat)},
            {"within5", lat.within5},
            {"within10", lat.within10},
            {"spearman", lat.spearman}}},
          {"energy",
           {{"mape_pct", en.mape},
            {"max_ape_pct", en.max_ape},
            {"bias_pct", signed_mean_pct(c.sim_energy, c.est_energy)},
            {"spearman", en.spearman}}}};
}

// The latency-area front of the model set ("all", as pareto_fronts builds it) over `points`.
std::set<size_t> front_over(const SweepRun& run, const std::vector<size_t>& points) {
  std::vector<size_t> ids;
  std::vector<std::pair<double, double>> xy;
  for (size_t p : points) {
    const Totals t = totals(run, p, run.models.size());
    if (!run.expansion.points[p].feasible || !t.ok) continue;
    ids.push_back(p);
    xy.emplace_back(t.latency_ms, run.expansion.points[p].area_mm2);
  }
  std::set<size_t> out;
  for (size_t i : pareto_front(xy)) out.insert(ids[i]);
  return out;
}

}  // namespace

nlohmann::json check_report(const SweepRun& estimated, const SweepRun& simulated,
                            const std::vector<size_t>& points) {
  const size_t n_models = estimated.models.size();
  std::vector<Compared> per(n_models + 1);
  for (size_t p : points) {
    for (size_t m = 0; m < n_models; ++m) {
      const auto& e = estimated.results[p][m];
      const auto& s = simulated.results[p][m];
      if (!e || !s) continue;
      for (Compared* c : {&per[m], &per[n_models]}) {
        if (!s->feasible) {
          ++c->refused;
          continue;
        }
        c->sim_lat.push_back(s->latency_ms);
        c->est_lat.push_back(e->latency_ms);
        c->sim_energy.push_back(s->energy_uj);
        c->est_energy.push_back(e->energy_uj);
      }
    }
  }
  nlohmann::json j;
  j["points"] = points.size();
  nlohmann::json models = nlohmann::json::array();
  for (size_t m = 0; m < n_models; ++m) {
    nlohmann::json mj = compared_json(per[m]);
    mj["model"] = estimated.models[m].arg;
    models.push_back(mj);
  }
  j["models"] = models;
  j["all"] = compared_json(per[n_models]);
  // The estimated and simulated latency-area fronts of the model set over the checked points.
  const std::set<size_t> est_front = front_over(estimated, points),
                         sim_front = front_over(simulated, points);
  size_t agree = 0;
  for (size_t p : est_front) agree += sim_front.count(p);
  j["front"] = {{"estimated", est_front.size()},
                {"simulated", sim_front.size()},
                {"estimated_on_simulated", agree}};
  return j;
}

std::string check_csv(const SweepRun& estimated, const SweepRun& simulated,
                      const std::vector<size_t>& points) {
  std::string out =
      "point,overrides,model,est_latency_ms,sim_latency_ms,latency_err_pct,est_energy_uj,"
      "sim_energy_uj,energy_err_pct\n";
  for (size_t p : points) {
    for (size_t m = 0; m < estimated.models.size(); ++m) {
      const auto& e = estimated.results[p][m];
      const auto& s = simulated.results[p][m];
      if (!e || !s) continue;
      const std::string head =
          fmt::format("{},{},{}", p, csv_field(point_label(estimated.expansion.points[p])),
                      csv_field(estimated.models[m].arg));
      if (!s->feasible) {
        out += head + fmt::format(",{:.6g},,,{:.6g},,\n", e->latency_ms, e->energy_uj);
        continue;
      }
      out +=
          head + fmt::format(",{:.6g},{:.6g},{:.3f},{:.6g},{:.6g},{:.3f}\n", e->latency_ms,
                             s->latency_ms, 100 * (e->latency_ms / s->latency_ms - 1), e->energy_uj,
                             s->energy_uj, 100 * (e->energy_uj / s->energy_uj - 1));
    }
  }
  return out;
}

}  // namespace nax::hw::sweep
