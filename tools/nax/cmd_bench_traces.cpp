// `nax bench traces`: dataset generation throughput (traces/README.md quotes its figures).
//
//  1. Throughput: `nax traces --networks K --seed S` into a fresh store, spawned as its own process
//     with -j 1 and -j 2 (the whole command: sampling, lowering, simulation, labelling, workers'
//     messages and SQLite writes). Units labelled per second (every unit of every network, as a
//     labelling run produces them) and new unit rows per second (after deduplication).
//  2. Where the time goes: the first networks of the same sample, labelled in this process stage
//     by stage (sample + build, lowering, simulation, decomposition + unit JSON).
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "hw/chip/chip.hpp"
#include "hw/lower/lower.hpp"
#include "hw/sim/simulator.hpp"
#include "hw/traces/label.hpp"
#include "models/common/error.hpp"
#include "models/estimate/sampler.hpp"
#include "models/estimate/unit_json.hpp"
#include "tools/nax/cli.hpp"

namespace nax::cli {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string slurp_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct BenchTracesOptions {
  std::string chip = "default";
  int64_t networks = 200;
  uint64_t seed = 1;
  std::vector<int> jobs = {1, 2};
  int64_t profile_networks = 60;
  std::string dir = "/tmp";
  std::string json;
};

nlohmann::json bench_throughput(const BenchTracesOptions& o) {
  std::cout << fmt::format(
      "1. nax traces --chip {} --networks {} --seed {} (whole process, fresh store)\n", o.chip,
      o.networks, o.seed);
  Table t({"jobs", "networks", "units labelled", "new rows", "seconds", "units/s", "new rows/s",
           "CPU s (writer + workers)", "units/CPU s"},
          {true, true, true, true, true, true, true, true, true});
  nlohmann::json out = nlohmann::json::array();
  for (int j : o.jobs) {
    const std::string base = fmt::format("{}/nax_bench_traces_{}_j{}", o.dir, ::getpid(), j);
    const std::string db = base + ".db", js = base + ".json";
    for (const char* ext : {"", "-wal", "-shm"}) std::remove((db + ext).c_str());
    run_self({"traces", "--chip", o.chip, "--networks", std::to_string(o.networks), "--seed",
              std::to_string(o.seed), "--db", db, "-j", std::to_string(j), "--progress", "none",
              "--json", js});
    const nlohmann::json r = nlohmann::json::parse(slurp_file(js));
    for (const char* ext : {"", "-wal", "-shm"}) std::remove((db + ext).c_str());
    std::remove(js.c_str());
    const double s = r.at("seconds").get<double>();
    const int64_t labelled = r.at("labelled_units").get<int64_t>();
    const int64_t rows = r.at("new_units").get<int64_t>();
    const double cw = r.at("cpu_seconds_writer").get<double>();
    const double ck = r.at("cpu_seconds_workers").get<double>();
    t.row({std::to_string(j), grouped(r.at("sample_indices").get<int64_t>()), grouped(labelled),
           grouped(rows), fmt::format("{:.2f}", s), fmt::format("{:.0f}", labelled / s),
           fmt::format("{:.0f}", rows / s), fmt::format("{:.2f} + {:.2f}", cw, ck),
           fmt::format("{:.0f}", labelled / (cw + ck))});
    out.push_back({{"jobs", j},
                   {"networks", r.at("sample_indices")},
                   {"labelled_units", labelled},
                   {"new_units", rows},
                   {"seconds", s},
                   {"units_per_second", labelled / s},
                   {"new_units_per_second", rows / s},
                   {"cpu_seconds_writer", cw},
                   {"cpu_seconds_workers", ck}});
  }
  std::cout << t.str()
            << "target: >= 1,000 labelled units/s with -j 2 on 2 cores (wall figures assume the "
               "cores are otherwise idle: compare the load average)\n";
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) > 0) std::cout << fmt::format("load average now: {:.2f}\n", load[0]);
  std::cout << "\n";
  return out;
}

nlohmann::json bench_profile(const BenchTracesOptions& o) {
  const hw::ChipParams chip = hw::load_chip(o.chip);
  double t_sample = 0, t_lower = 0, t_sim = 0, t_label = 0;
  int64_t units = 0, layers = 0, commands = 0, infeasible = 0;
  for (int64_t i = 0; i < o.profile_networks; ++i) {
    auto t0 = Clock::now();
    const est::Sample s = est::sample_network(o.seed, i);
    t_sample += since(t0);
    t0 = Clock::now();
    hw::Program p;
    try {
      p = hw::lower(s.graph, chip);
    } catch (const InputError&) {
      ++infeasible;
      continue;
    }
    t_lower += since(t0);
    t0 = Clock::now();
    hw::Simulator::instance().run(p, chip);
    t_sim += since(t0);
    t0 = Clock::now();
    for (const auto& u : est::decompose(s.graph, hw::decompose_options(chip))) {
      est::unit_to_json(u).dump();
      ++units;
    }
    t_label += since(t0);
    layers += static_cast<int64_t>(p.layers.size());
    commands += static_cast<int64_t>(p.cmds.size());
  }
  const double total = t_sample + t_lower + t_sim + t_label;
  std::cout << fmt::format(
      "2. Where the time goes: networks 0..{} of seed {} in this process ({} units, {} layers, {} "
      "commands, {} infeasible)\n",
      o.profile_networks - 1, o.seed, grouped(units), grouped(layers), grouped(commands),
      infeasible);
  Table t({"stage", "seconds", "share", "per unit ms", "per layer ms"},
          {false, true, true, true, true});
  auto row = [&](const char* name, double v) {
    t.row({name, fmt::format("{:.3f}", v), fmt::format("{:.1f}%", total > 0 ? 100 * v / total : 0),
           fmt::format("{:.3f}", units ? 1e3 * v / static_cast<double>(units) : 0),
           fmt::format("{:.3f}", layers ? 1e3 * v / static_cast<double>(layers) : 0)});
  };
  row("sample + build graph", t_sample);
  row("lower (tiling search)", t_lower);
  row("simulate (SystemC)", t_sim);
  row("decompose + unit JSON", t_label);
  row("total", total);
  std::cout << t.str()
            << fmt::format("single process: {:.0f} units/s\n",
                           total > 0 ? static_cast<double>(units) / total : 0);
  return {{"networks", o.profile_networks},
          {"units", units},
          {"layers", layers},
          {"commands", commands},
          {"sample_s", t_sample},
          {"lower_s", t_lower},
          {"simulate_s", t_sim},
          {"decompose_s", t_label}};
}

}  // namespace

void add_bench_traces_command(CLI::App& bench) {
  auto o = std::make_shared<BenchTracesOptions>();
  CLI::App* tr = bench.add_subcommand(
      "traces", "Dataset generation throughput: units labelled per second with -j 1 and -j 2");
  tr->add_option("--chip", o->chip, "chip preset or YAML file")->capture_default_str();
  tr->add_option("--networks", o->networks, "sample networks labelled per measurement")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  tr->add_option("--seed", o->seed, "sampler seed")->capture_default_str();
  tr->add_option("--jobs", o->jobs, "worker counts to measure")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  tr->add_option("--profile-networks", o->profile_networks,
                 "networks for the per-stage profile (0: skip it)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  tr->add_option("--dir", o->dir, "directory for the temporary stores")->capture_default_str();
  tr->add_option("--json", o->json, "write the figures as JSON to PATH ('-' for stdout)");
  tr->footer("Example:\n  nax bench traces --networks 200 --jobs 1 --jobs 2");
  tr->callback([o] {
    nlohmann::json j;
    j["tool_version"] = version();
    j["chip"] = o->chip;
    j["seed"] = o->seed;
    j["throughput"] = bench_throughput(*o);
    if (o->profile_networks > 0) j["profile"] = bench_profile(*o);
    if (!o->json.empty()) write_json(j, o->json);
  });
}

}  // namespace nax::cli
