#include "hw/traces/generate.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "hw/traces/label.hpp"
#include "models/common/error.hpp"
#include "models/common/workers.hpp"
#include "models/estimate/sampler.hpp"
#include "models/estimate/unit_json.hpp"

namespace nax::hw {

using Clock = std::chrono::steady_clock;

constexpr int64_t kMaxConsecutiveInfeasible = 200;

namespace {

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

LabelledNetwork label_graph(const ir::Graph& g, const ChipParams& chip, const std::string& source,
                            const std::string& spec_yaml) {
  const NetworkLabel nl = label_network(g, chip);
  LabelledNetwork out;
  out.network.chip_hash = chip.hash;
  out.network.network_hash = nl.model_hash;
  out.network.source = source;
  out.network.spec_yaml = spec_yaml;
  out.network.total_cycles = nl.total_cycles;
  out.network.energy_uj = nl.energy_uj;
  out.units.reserve(nl.units.size());
  for (const auto& u : nl.units) {
    est::UnitRow r;
    r.chip_hash = chip.hash;
    r.key = {u.unit.hash, u.input_on_chip, u.output_on_chip};
    r.unit_type = est::unit_type_name(u.unit.type);
    r.unit_json = est::unit_to_json(u.unit).dump();
    r.network_hash = nl.model_hash;
    r.cycles = u.cycles;
    r.dram_read_bytes = u.dram_read_bytes;
    r.dram_write_bytes = u.dram_write_bytes;
    r.energy_uj = u.energy_uj;
    out.network.units.push_back(r.key);
    out.units.push_back(std::move(r));
  }
  return out;
}

LabelledNetwork label_sample(uint64_t seed, int64_t index, const ChipParams& chip) {
  const auto t0 = Clock::now();
  const est::Sample s = est::sample_network(seed, index);
  LabelledNetwork out;
  try {
    out =
        label_graph(s.graph, chip, est::sample_source(seed, index), spec::write_model_yaml(s.spec));
  } catch (const InputError& e) {
    out = LabelledNetwork{};
    out.feasible = false;
    out.reason = e.what();
    out.network.chip_hash = chip.hash;
    out.network.source = est::sample_source(seed, index);
  }
  out.index = index;
  out.seconds = since(t0);
  return out;
}

int64_t write_labelled(est::TraceStore::Batch& batch, const est::RunKey* run,
                       const LabelledNetwork& n) {
  int64_t added = 0;
  if (n.feasible) {
    for (const auto& u : n.units) added += batch.add_unit(u) ? 1 : 0;
    batch.add_network(n.network);
  }
  if (run) {
    batch.mark_done(*run, n.index, n.feasible, added, n.feasible ? n.network.network_hash : "",
                    n.reason);
  }
  return added;
}

namespace {

// ---- messages between workers and the writer ----

nlohmann::json to_json(const LabelledNetwork& n) {
  nlohmann::json units = nlohmann::json::array();
  for (const auto& u : n.units) {
    units.push_back({{"h", u.key.unit_hash},
                     {"i", u.key.input_on_chip},
                     {"o", u.key.output_on_chip},
                     {"t", u.unit_type},
                     {"j", u.unit_json},
                     {"c", u.cycles},
                     {"r", u.dram_read_bytes},
                     {"w", u.dram_write_bytes},
                     {"e", u.energy_uj}});
  }
  return {{"index", n.index},
          {"feasible", n.feasible},
          {"reason", n.reason},
          {"seconds", n.seconds},
          {"chip_hash", n.network.chip_hash},
          {"network_hash", n.network.network_hash},
          {"source", n.network.source},
          {"spec_yaml", n.network.spec_yaml},
          {"total_cycles", n.network.total_cycles},
          {"energy_uj", n.network.energy_uj},
          {"units", units}};
}

LabelledNetwork from_json(const nlohmann::json& j) {
  LabelledNetwork n;
  n.index = j.at("index").get<int64_t>();
  n.feasible = j.at("feasible").get<bool>();
  n.reason = j.at("reason").get<std::string>();
  n.seconds = j.at("seconds").get<double>();
  n.network.chip_hash = j.at("chip_hash").get<std::string>();
  n.network.network_hash = j.at("network_hash").get<std::string>();
  n.network.source = j.at("source").get<std::string>();
  n.network.spec_yaml = j.at("spec_yaml").get<std::string>();
  n.network.total_cycles = j.at("total_cycles").get<uint64_t>();
  n.network.energy_uj = j.at("energy_uj").get<double>();
  for (const auto& ju : j.at("units")) {
    est::UnitRow u;
    u.chip_hash = n.network.chip_hash;
    u.key.unit_hash = ju.at("h").get<std::string>();
    u.key.input_on_chip = ju.at("i").get<bool>();
    u.key.output_on_chip = ju.at("o").get<bool>();
    u.unit_type = ju.at("t").get<std::string>();
    u.unit_json = ju.at("j").get<std::string>();
    u.network_hash = n.network.network_hash;
    u.cycles = ju.at("c").get<uint64_t>();
    u.dram_read_bytes = ju.at("r").get<int64_t>();
    u.dram_write_bytes = ju.at("w").get<int64_t>();
    u.energy_uj = ju.at("e").get<double>();
    n.network.units.push_back(u.key);
    n.units.push_back(std::move(u));
  }
  return n;
}

struct WorkerPlan {
  uint64_t seed = 0;
  int shard_index = 0;
  int shard_count = 1;
  int64_t first_position = 0;  // position in the shard's sequence where the run continues
  int jobs = 1;
  int64_t networks = 0;  // index bound (0: none)
};

int64_t index_at(const WorkerPlan& p, int64_t position) {
  return p.shard_index + position * p.shard_count;
}

// Worker w of the pool: labels the positions p of the shard's sequence with p % jobs == w.
void worker_body(int w, const ForkPool::Send& send, const WorkerPlan& plan,
                 const ChipParams& chip) {
  for (int64_t pos = plan.first_position + w;; pos += plan.jobs) {
    const int64_t index = index_at(plan, pos);
    if (plan.networks > 0 && index >= plan.networks) break;
    if (!send(to_json(label_sample(plan.seed, index, chip)))) break;
  }
}

}  // namespace

GenerateStatus generate(est::TraceStore& store, const ChipParams& chip,
                        const std::string& chip_yaml, const GenerateOptions& o,
                        const GenerateHooks& hooks) {
  if (o.jobs < 1) throw InputError("-j must be >= 1");
  if (o.shard_count < 1 || o.shard_index < 0 || o.shard_index >= o.shard_count) {
    throw InputError("--shard i/n needs 0 <= i < n");
  }
  const auto t0 = Clock::now();
  const est::RunKey run{chip.hash, o.seed, o.shard_index, o.shard_count};
  {
    est::TraceStore::Batch b(store);
    b.add_chip({chip.hash, chip.name, chip_yaml});
    b.commit();
  }
  store.set_run_targets(run, o.count, o.networks);
  const est::RunProgress p0 = store.progress(run);

  GenerateStatus st;
  st.target_units = o.count;
  st.new_units = p0.new_units;
  st.indices_done = p0.indices_done;
  st.infeasible = p0.infeasible;
  st.next_index = p0.next_index;
  auto finished = [&] {
    return (o.count > 0 && st.new_units >= o.count) ||
           (o.networks > 0 && st.next_index >= o.networks) || (o.count == 0 && o.networks == 0);
  };
  st.done = finished();
  if (st.done) return st;

  std::optional<est::TraceStore::Batch> batch;
  auto batch_start = Clock::now();
  int64_t batch_units = 0;
  auto last_progress = Clock::now();
  auto report = [&](bool force) {
    st.seconds = since(t0);
    if (hooks.progress && (force || since(last_progress) >= 0.25)) {
      last_progress = Clock::now();
      hooks.progress(st);
    }
  };
  auto commit = [&] {
    if (!batch) return;
    batch->commit();
    batch.reset();
    batch_units = 0;
    report(true);
  };
  std::map<int64_t, LabelledNetwork> pending;
  int64_t consecutive_infeasible = 0;
  std::string last_reason;
  // A chip that holds none of many consecutive samples would never reach --count.
  auto check_feasible = [&] {
    if (consecutive_infeasible < kMaxConsecutiveInfeasible) return;
    commit();
    throw InputError(fmt::format(
        "chip '{}' cannot run any of {} consecutive sampled networks (the last: {}); give it more "
        "SRAM or vector_unit.ops",
        chip.name, consecutive_infeasible, last_reason));
  };
  // Applies the results that are next in index order.
  auto apply_ready = [&] {
    for (auto it = pending.find(st.next_index); !st.done && it != pending.end();
         it = pending.find(st.next_index)) {
      if (!batch) {
        batch.emplace(store);
        batch_start = Clock::now();
      }
      const int64_t added = write_labelled(*batch, &run, it->second);
      st.new_units += added;
      st.session_units += added;
      batch_units += added;
      st.labelled_units += static_cast<int64_t>(it->second.units.size());
      ++st.indices_done;
      ++st.session_indices;
      const bool it_feasible = it->second.feasible;
      if (!it_feasible) ++st.infeasible;
      last_reason = it->second.reason;
      pending.erase(it);
      st.next_index += o.shard_count;
      consecutive_infeasible = it_feasible ? 0 : consecutive_infeasible + 1;
      st.done = finished();
      if (batch_units >= o.batch_units || since(batch_start) >= o.batch_seconds) commit();
    }
  };
  auto stop = [&] { return hooks.stop_requested && hooks.stop_requested(); };

  const WorkerPlan plan{o.seed,        o.shard_index,
                        o.shard_count, (p0.next_index - o.shard_index) / o.shard_count,
                        o.jobs,        o.networks};
  if (o.jobs == 1) {
    // In this process: the simulator is elaborated here once.
    while (!st.done && !stop()) {
      pending.emplace(st.next_index, label_sample(o.seed, st.next_index, chip));
      apply_ready();
      check_feasible();
      if (batch && since(batch_start) >= o.batch_seconds) commit();
      report(false);
    }
  } else {
    ForkPool pool(o.jobs,
                  [&](int w, const ForkPool::Send& send) { worker_body(w, send, plan, chip); });
    while (!st.done && !stop()) {
      for (const auto& [worker, m] : pool.poll(250)) {
        (void)worker;
        if (m.contains("error")) {
          commit();
          throw Error("trace worker failed: " + m.at("error").get<std::string>());
        }
        LabelledNetwork n = from_json(m);
        pending.emplace(n.index, std::move(n));
      }
      apply_ready();
      check_feasible();
      if (batch && since(batch_start) >= o.batch_seconds) commit();
      // The worker that owns the next index is gone without it (killed, out of memory): the
      // run cannot continue in order.
      const int64_t owner =
          ((st.next_index - o.shard_index) / o.shard_count - plan.first_position) % o.jobs;
      if (!st.done && !pool.is_open(static_cast<size_t>(owner)) &&
          pending.find(st.next_index) == pending.end()) {
        commit();
        throw Error(fmt::format(
            "trace worker {} exited before labelling sample index {}; what is committed stays "
            "(--resume continues)",
            owner, st.next_index));
      }
      report(false);
    }
  }
  st.interrupted = !st.done;
  commit();
  report(true);
  return st;
}

}  // namespace nax::hw
