// `nax traces`: ground-truth latency datasets (traces/README.md).
//
//   nax traces --chip C --count N --seed S --db PATH [-j N] [--shard i/n] [--resume] [--model M]
//       samples networks (models/estimate/sampler.hpp), simulates each once on the chip and stores
//       every unit's labels in its context (hw/traces/generate.hpp); --model labels whole networks
//       too, for validation.
//   nax traces export --db PATH --csv PATH [--networks]    one CSV row per unit (or network)
//   nax traces merge --db OUT SHARD.db...                  union of shard stores of one chip
//   nax traces info --db PATH                              what a store holds
//
// Progress: on a terminal (stderr) a one-line bar with done/total, rate and ETA, redrawn about
// four times a second; otherwise a plain line every five seconds. Ctrl-C (or SIGTERM) commits the
// networks already complete, prints how to resume and exits with 130 (143).
#include <fmt/format.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>

#include "hw/chip/chip.hpp"
#include "hw/lower/lower.hpp"
#include "hw/traces/generate.hpp"
#include "models/common/csv.hpp"
#include "models/common/error.hpp"
#include "models/estimate/trace_store.hpp"
#include "models/estimate/unit_json.hpp"
#include "models/model_source.hpp"
#include "tools/nax/cli.hpp"
#include "tools/nax/progress.hpp"

namespace nax::cli {
namespace {

struct TracesOptions {
  std::string chip = "default";
  std::vector<std::string> overrides;
  int64_t count = 0;
  int64_t networks = 0;
  uint64_t seed = 0;
  std::string db;
  int jobs = 1;
  std::string shard;
  bool resume = false;
  std::vector<std::string> models;
  int64_t batch_units = 256;
  std::string progress = "auto";
  std::string json;
  bool quiet = false;
};

struct ExportOptions {
  std::string db;
  std::string csv;
  bool networks = false;
  std::string chip_hash;
};

struct MergeOptions {
  std::string db;
  std::vector<std::string> shards;
  std::string json;
};

struct InfoOptions {
  std::string db;
  std::string json;
};

// ---- progress ----

class Progress {
 public:
  Progress(const std::string& mode, bool quiet, int64_t target_units, int64_t target_networks)
      : m_line("traces", mode, quiet), m_units(target_units), m_networks(target_networks) {}

  void update(const hw::GenerateStatus& st) {
    const double rate = st.seconds > 0 ? static_cast<double>(st.session_units) / st.seconds : 0;
    std::string done, eta = "?";
    double frac = 0;
    if (m_units > 0) {
      done = fmt::format("{}/{} units", grouped(st.new_units), grouped(m_units));
      frac = static_cast<double>(st.new_units) / static_cast<double>(m_units);
      if (rate > 0) eta = duration_str(static_cast<double>(m_units - st.new_units) / rate);
    } else {
      done = fmt::format("{}/{} networks", grouped(st.next_index), grouped(m_networks));
      frac = static_cast<double>(st.next_index) /
             static_cast<double>(std::max<int64_t>(1, m_networks));
      const double nrate =
          st.seconds > 0 ? static_cast<double>(st.session_indices) / st.seconds : 0;
      if (nrate > 0) eta = duration_str(static_cast<double>(m_networks - st.next_index) / nrate);
    }
    if (st.done) eta = "0s";
    m_line.update(frac,
                  fmt::format("{}, {} networks ({} infeasible), {:.0f} units/s, ETA {}", done,
                              grouped(st.indices_done), grouped(st.infeasible), rate, eta),
                  st.seconds, st.done);
  }
  void finish() { m_line.finish(); }

 private:
  ProgressLine m_line;
  int64_t m_units, m_networks;
};

// ---- helpers ----

// The single chip of a store, or nothing when it has none.
std::optional<est::ChipRow> store_chip(const est::TraceStore& store) {
  const auto chips = store.chips();
  if (chips.size() > 1) {
    throw InputError(
        fmt::format("{}: holds traces of {} chips; nax traces keeps one chip per store",
                    store.path(), chips.size()));
  }
  if (chips.empty()) return std::nullopt;
  return chips.front();
}

void check_chip(const est::TraceStore& store, const hw::ChipParams& chip) {
  const auto c = store_chip(store);
  if (c && c->hash != chip.hash) {
    throw InputError(fmt::format(
        "{}: holds traces of chip '{}' (hash {}), not of --chip '{}' (hash {}); use another --db",
        store.path(), c->name, c->hash, chip.name, chip.hash));
  }
}

std::string resume_command(const TracesOptions& o) {
  std::string s = "nax traces --chip " + o.chip;
  for (const auto& p : o.overrides) s += " -p " + p;
  if (o.count > 0) s += fmt::format(" --count {}", o.count);
  if (o.networks > 0) s += fmt::format(" --networks {}", o.networks);
  s += fmt::format(" --seed {} --db {}", o.seed, o.db);
  if (o.jobs > 1) s += fmt::format(" -j {}", o.jobs);
  if (!o.shard.empty()) s += " --shard " + o.shard;
  for (const auto& m : o.models) s += " --model " + m;
  return s + " --resume";
}

// ---- nax traces ----

void run_traces(const TracesOptions& o) {
  if (o.count == 0 && o.networks == 0 && o.models.empty()) {
    throw InputError("nothing to label: give --count N (unit rows), --networks K or --model M");
  }
  int shard_index = 0, shard_count = 1;
  parse_shard(o.shard, shard_index, shard_count);
  if (o.seed > static_cast<uint64_t>(INT64_MAX)) {
    throw InputError(std::vector<Diagnostic>{
        Diagnostic{{}, "--seed", std::to_string(o.seed), "expected 0 .. 2^63-1"}});
  }
  const hw::ChipParams chip = hw::load_chip(o.chip, o.overrides);
  // Models are checked before the long part: they load and fit the chip.
  std::vector<Model> models;
  for (const auto& arg : o.models) {
    models.push_back(load_model(arg));
    hw::lower(models.back().graph, chip);
  }
  est::TraceStore store(o.db, est::TraceStore::Mode::kReadWrite);
  check_chip(store, chip);
  const bool sampling = o.count > 0 || o.networks > 0;
  // Per shard, --count is split: shard i of n adds count / n rows (+1 for i < count % n).
  int64_t count = o.count;
  if (shard_count > 1 && count > 0) {
    count = o.count / shard_count + (shard_index < o.count % shard_count ? 1 : 0);
  }
  if (sampling) {
    const auto runs = store.runs(chip.hash, o.seed);
    int64_t done = 0;
    for (const auto& r : runs) {
      done += store.progress(r).indices_done;
      if (r.shard_count != shard_count) {
        throw InputError(fmt::format(
            "{}: holds the run of seed {} split into {} shard(s), not {}: use the same --shard "
            "i/{} to resume it, or another --db",
            o.db, o.seed, r.shard_count, shard_count, r.shard_count));
      }
    }
    if (!runs.empty() && !o.resume) {
      throw InputError(
          fmt::format("{}: already holds sampling run seed={} on chip '{}' ({} networks done); "
                      "pass --resume to continue it, or use another --db",
                      o.db, o.seed, chip.name, done));
    }
  }

  nlohmann::json summary;
  summary["tool_version"] = version();
  summary["chip"] = {{"name", chip.name}, {"hash", chip.hash}};
  summary["db"] = o.db;
  summary["seed"] = o.seed;
  summary["shard"] = fmt::format("{}/{}", shard_index, shard_count);
  summary["jobs"] = o.jobs;
  const bool quiet = o.quiet || o.json == "-";
  if (sampling) {
    hw::GenerateOptions g;
    g.seed = o.seed;
    g.count = count;
    g.networks = o.networks;
    g.jobs = o.jobs;
    g.shard_index = shard_index;
    g.shard_count = shard_count;
    g.batch_units = o.batch_units;
    Progress progress(o.progress, quiet, count, o.networks);
    hw::GenerateStatus st;
    {
      StopSignals guard;
      hw::GenerateHooks hooks;
      hooks.progress = [&](const hw::GenerateStatus& s) { progress.update(s); };
      hooks.stop_requested = [] { return StopSignals::stop_requested(); };
      st = hw::generate(store, chip, hw::dump_chip(chip), g, hooks);
      progress.finish();
    }
    const double rate = st.seconds > 0 ? static_cast<double>(st.session_units) / st.seconds : 0.0;
    summary["count"] = count;
    summary["networks"] = o.networks;
    summary["new_units"] = st.session_units;
    summary["run_units"] = st.new_units;
    summary["labelled_units"] = st.labelled_units;
    summary["sample_indices"] = st.session_indices;
    summary["run_indices"] = st.indices_done;
    summary["infeasible"] = st.infeasible;
    summary["next_index"] = st.next_index;
    summary["seconds"] = st.seconds;
    summary["units_per_second"] = rate;
    summary["interrupted"] = st.interrupted;
    // CPU time: this process (the writer; with -j 1 also the labelling) and its workers.
    rusage self{}, children{};
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    auto cpu = [](const rusage& r) {
      return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
             static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) * 1e-6;
    };
    summary["cpu_seconds_writer"] = cpu(self);
    summary["cpu_seconds_workers"] = cpu(children);
    if (!quiet) {
      std::cout << fmt::format(
          "{} new unit rows from {} networks in {:.1f} s ({:.0f} units/s; {} units labelled); "
          "run seed={} shard {}/{}: {} unit rows, {} networks done ({} infeasible)\n",
          grouped(st.session_units), grouped(st.session_indices), st.seconds, rate,
          grouped(st.labelled_units), o.seed, shard_index, shard_count, grouped(st.new_units),
          grouped(st.indices_done), grouped(st.infeasible));
    }
    if (st.interrupted) {
      if (!o.json.empty()) write_json(summary, o.json);
      const int sig = StopSignals::stop_signal() ? StopSignals::stop_signal() : SIGINT;
      std::cerr << fmt::format(
          "nax: interrupted: {} networks committed to {}; continue with:\n  {}\n",
          grouped(st.indices_done), o.db, resume_command(o));
      set_exit_code(128 + sig);
      return;
    }
  }
  nlohmann::json mj = nlohmann::json::array();
  for (const auto& m : models) {
    const hw::LabelledNetwork n = hw::label_graph(m.graph, chip, "model " + m.source,
                                                  m.spec ? spec::write_model_yaml(*m.spec) : "");
    est::TraceStore::Batch b(store);
    b.add_chip({chip.hash, chip.name, hw::dump_chip(chip)});
    const int64_t added = hw::write_labelled(b, nullptr, n);
    b.commit();
    mj.push_back({{"model", m.source},
                  {"network_hash", n.network.network_hash},
                  {"units", n.units.size()},
                  {"new_units", added},
                  {"total_cycles", n.network.total_cycles}});
    if (!quiet) {
      std::cout << fmt::format("model {}: {} units ({} new rows), {} cycles\n", m.source,
                               n.units.size(), added,
                               grouped(static_cast<int64_t>(n.network.total_cycles)));
    }
  }
  summary["models"] = mj;
  summary["store_units"] = store.count_units(chip.hash);
  summary["store_networks"] = store.count_networks(chip.hash);
  if (!quiet) {
    std::cout << fmt::format("{}: {} unit rows, {} networks of chip {} ({})\n", o.db,
                             grouped(store.count_units(chip.hash)),
                             grouped(store.count_networks(chip.hash)), chip.name, chip.hash);
  }
  if (!o.json.empty()) write_json(summary, o.json);
}

// ---- export ----

std::string num(double v) {
  return fmt::format("{}", v);
}

// Writes through a temporary file renamed at the end (or to stdout for "-").
class CsvOut {
 public:
  explicit CsvOut(const std::string& path) : m_path(path) {
    if (path == "-") return;
    m_file.open(path + ".tmp", std::ios::binary | std::ios::trunc);
    if (!m_file) throw InputError(path + ": cannot write");
  }
  std::ostream& out() { return m_path == "-" ? std::cout : m_file; }
  void row(const std::vector<std::string>& cells) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) line += (i ? "," : "") + csv_field(cells[i]);
    line += "\n";
    out() << line;
  }
  void close() {
    if (m_path == "-") {
      std::cout.flush();
      return;
    }
    m_file.flush();
    if (!m_file) throw Error(m_path + ": error writing");
    m_file.close();
    if (std::rename((m_path + ".tmp").c_str(), m_path.c_str()) != 0) {
      throw Error(m_path + ": cannot write");
    }
  }

 private:
  std::string m_path;
  std::ofstream m_file;
};

int64_t dim(const ir::Shape& s, size_t i, int64_t missing) {
  return s.size() > i ? s[i] : missing;
}

void run_export(const ExportOptions& o) {
  const est::TraceStore store(o.db, est::TraceStore::Mode::kReadOnly);
  CsvOut csv(o.csv);
  int64_t rows = 0;
  if (o.networks) {
    csv.row({"chip_hash", "network_hash", "source", "total_cycles", "energy_uj", "num_units",
             "unit_keys"});
    store.for_each_network(
        [&](const est::NetworkRow& n) {
          nlohmann::json keys = nlohmann::json::array();
          for (const auto& k : n.units) keys.push_back(k.str());
          csv.row({n.chip_hash, n.network_hash, n.source, std::to_string(n.total_cycles),
                   num(n.energy_uj), std::to_string(n.units.size()), keys.dump()});
          ++rows;
          return true;
        },
        o.chip_hash);
  } else {
    csv.row({"chip_hash",
             "unit_hash",
             "input_on_chip",
             "output_on_chip",
             "unit_type",
             "cin",
             "hidden",
             "cout",
             "kernel",
             "stride",
             "in_h",
             "in_w",
             "out_h",
             "out_w",
             "macs",
             "params",
             "cycles",
             "dram_read_bytes",
             "dram_write_bytes",
             "energy_uj",
             "network_hash"});
    store.for_each_unit(
        [&](const est::UnitRow& r) {
          est::Unit u;
          try {
            u = est::unit_from_json(nlohmann::json::parse(r.unit_json));
          } catch (const nlohmann::json::exception& e) {
            throw InputError(
                fmt::format("{}: unit {}: malformed unit_json: {}", o.db, r.key.str(), e.what()));
          }
          const bool block = u.cin > 0 || u.cout > 0;
          int kernel = u.kernel, stride = u.stride;
          if (!block) {
            kernel = 0;
            stride = 0;
            for (const auto& L : u.layers) {
              if (kernel == 0 || L.kernel_h > kernel) {
                kernel = L.kernel_h;
                stride = L.stride_h;
              }
            }
          }
          csv.row({r.chip_hash,
                   r.key.unit_hash,
                   r.key.input_on_chip ? "1" : "0",
                   r.key.output_on_chip ? "1" : "0",
                   r.unit_type,
                   std::to_string(block ? u.cin : dim(u.in_shape, 1, 0)),
                   std::to_string(u.hidden),
                   std::to_string(block ? u.cout : dim(u.out_shape, 1, 0)),
                   std::to_string(kernel),
                   std::to_string(stride),
                   std::to_string(dim(u.in_shape, 2, 1)),
                   std::to_string(dim(u.in_shape, 3, 1)),
                   std::to_string(dim(u.out_shape, 2, 1)),
                   std::to_string(dim(u.out_shape, 3, 1)),
                   std::to_string(u.macs),
                   std::to_string(u.params),
                   std::to_string(r.cycles),
                   std::to_string(r.dram_read_bytes),
                   std::to_string(r.dram_write_bytes),
                   num(r.energy_uj),
                   r.network_hash});
          ++rows;
          return true;
        },
        o.chip_hash);
  }
  csv.close();
  if (o.csv != "-") {
    std::cout << fmt::format("{}: {} {} rows\n", o.csv, grouped(rows),
                             o.networks ? "network" : "unit");
  }
}

// ---- merge ----

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {
  }, sb{};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

void run_merge(const MergeOptions& o) {
  // Check every input first: trace stores, one chip between them and the output.
  std::optional<est::ChipRow> chip;
  {
    struct stat st {};
    if (::stat(o.db.c_str(), &st) == 0) {
      const est::TraceStore out(o.db, est::TraceStore::Mode::kReadOnly);
      chip = store_chip(out);
    }
  }
  std::string chip_from = o.db;
  for (const auto& s : o.shards) {
    if (same_file(s, o.db)) throw InputError(s + ": is the output store (--db) itself");
    const est::TraceStore in(s, est::TraceStore::Mode::kReadOnly);
    const auto c = store_chip(in);
    if (!c) continue;
    if (chip && chip->hash != c->hash) {
      throw InputError(
          fmt::format("{}: holds traces of chip '{}' (hash {}), but {} holds chip "
                      "'{}' (hash {}); merge stores of one chip",
                      s, c->name, c->hash, chip_from, chip->name, chip->hash));
    }
    if (!chip) {
      chip = c;
      chip_from = s;
    }
  }
  est::TraceStore out(o.db, est::TraceStore::Mode::kReadWrite);
  nlohmann::json j;
  j["tool_version"] = version();
  j["db"] = o.db;
  nlohmann::json inputs = nlohmann::json::array();
  for (const auto& s : o.shards) {
    const int64_t added = out.merge_from(s);
    inputs.push_back({{"path", s}, {"new_units", added}});
    if (o.json != "-") std::cout << fmt::format("{}: {} new unit rows\n", s, grouped(added));
  }
  j["inputs"] = inputs;
  j["units"] = out.count_units();
  j["networks"] = out.count_networks();
  if (chip) j["chip"] = {{"name", chip->name}, {"hash", chip->hash}};
  if (o.json != "-") {
    std::cout << fmt::format("{}: {} unit rows, {} networks\n", o.db, grouped(out.count_units()),
                             grouped(out.count_networks()));
  }
  if (!o.json.empty()) write_json(j, o.json);
}

// ---- info ----

void run_info(const InfoOptions& o) {
  const est::TraceStore store(o.db, est::TraceStore::Mode::kReadOnly);
  nlohmann::json j;
  j["tool_version"] = version();
  j["db"] = o.db;
  j["schema_version"] = store.schema_version();
  nlohmann::json chips = nlohmann::json::array();
  const bool text = o.json != "-";
  if (text)
    std::cout << fmt::format("{}: trace store, schema version {}\n", o.db, store.schema_version());
  for (const auto& c : store.chips()) {
    std::map<std::string, int64_t> by_type;
    std::map<std::string, int64_t> contexts;
    store.for_each_unit(
        [&](const est::UnitRow& u) {
          ++by_type[u.unit_type];
          ++contexts[fmt::format("in={} out={}", u.key.input_on_chip ? "sram" : "dram",
                                 u.key.output_on_chip ? "sram" : "dram")];
          return true;
        },
        c.hash);
    std::map<std::string, int64_t> sources;
    store.for_each_network(
        [&](const est::NetworkRow& n) {
          ++sources[n.source.rfind("sample", 0) == 0 ? "sampled" : "--model"];
          return true;
        },
        c.hash);
    nlohmann::json cj = {{"name", c.name},
                         {"hash", c.hash},
                         {"units", store.count_units(c.hash)},
                         {"networks", store.count_networks(c.hash)},
                         {"units_by_type", by_type},
                         {"units_by_context", contexts},
                         {"networks_by_source", sources}};
    chips.push_back(cj);
    if (text) {
      std::cout << fmt::format("chip {} ({}): {} unit rows, {} networks\n", c.name, c.hash,
                               grouped(store.count_units(c.hash)),
                               grouped(store.count_networks(c.hash)));
      Table t({"unit type", "rows"}, {false, true});
      for (const auto& [k, v] : by_type) t.row({k, grouped(v)});
      std::cout << t.str();
      for (const auto& [k, v] : contexts) std::cout << fmt::format("  {}: {}\n", k, grouped(v));
      for (const auto& [k, v] : sources)
        std::cout << fmt::format("  {} networks: {}\n", k, grouped(v));
    }
  }
  j["chips"] = chips;
  if (!o.json.empty()) write_json(j, o.json);
}

}  // namespace

void add_traces_commands(CLI::App& app) {
  auto o = std::make_shared<TracesOptions>();
  CLI::App* tr = app.add_subcommand(
      "traces",
      "Ground-truth datasets: sample networks, simulate them, store every unit's labels (SQLite)");
  tr->add_option("--chip", o->chip, "chip preset or YAML file")->capture_default_str();
  tr->add_option("-p", o->overrides, "chip override key.path=value (repeatable)");
  tr->add_option("--count,-n", o->count,
                 "label sampled networks until the run has added N unit rows (with --shard: this "
                 "shard's share, N/n)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  tr->add_option("--networks", o->networks,
                 "label sample indices 0..K-1 (this shard's part of them), whatever rows they add")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  tr->add_option("--seed", o->seed, "sampler seed")->capture_default_str();
  tr->add_option("--db", o->db, "trace store (SQLite file; created when missing)");
  tr->add_option("-j,--jobs", o->jobs, "worker processes")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  tr->add_option("--shard", o->shard,
                 "i/n: this process labels sample indices with index % n == i (merge the shards "
                 "with `nax traces merge`)");
  tr->add_flag("--resume", o->resume, "continue the run (chip, seed, shard) already in --db");
  tr->add_option("--model,-m", o->models,
                 "also label every unit of this whole network (zoo name, .yaml, .onnx; "
                 "repeatable)");
  tr->add_option("--batch-units", o->batch_units,
                 "commit a transaction every N new unit rows (or every second)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  tr->add_option("--progress", o->progress,
                 "auto (a bar on a terminal, lines otherwise), bar, lines or none")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "bar", "lines", "none"}));
  tr->add_option("--json", o->json, "write a summary as JSON to PATH ('-' for stdout)");
  tr->add_flag("--quiet,-q", o->quiet, "no summary or progress");
  tr->footer(
      "Examples:\n"
      "  nax traces --chip default --count 10000 --seed 1 --db traces.db -j 2\n"
      "  nax traces --chip default --count 10000 --seed 1 --db traces.db -j 2 --resume\n"
      "  nax traces --chip default --count 100000 --seed 1 --db shard3.db --shard 3/8\n"
      "  nax traces --chip default --db traces.db --model mobilenet_v2 --model person_detector\n"
      "  nax traces merge --db all.db shard*.db\n"
      "  nax traces export --db traces.db --csv units.csv\n"
      "traces/README.md describes the dataset, the sampling distribution and the schema.");

  auto e = std::make_shared<ExportOptions>();
  CLI::App* ex =
      tr->add_subcommand("export", "Write a trace store's unit (or network) rows as CSV");
  ex->add_option("--db", e->db, "trace store")->required();
  ex->add_option("--csv", e->csv, "CSV file to write ('-' for stdout)")->required();
  ex->add_flag("--networks", e->networks, "export the networks table instead of the units");
  ex->add_option("--chip-hash", e->chip_hash, "only rows of this chip hash");
  ex->footer("Example:\n  nax traces export --db traces.db --csv units.csv");
  ex->callback([e] { run_export(*e); });

  auto mg = std::make_shared<MergeOptions>();
  CLI::App* me = tr->add_subcommand("merge", "Merge trace stores of one chip (shards) into one");
  me->add_option("--db", mg->db, "output store (created when missing)")->required();
  me->add_option("shards", mg->shards, "stores to merge in")->required();
  me->add_option("--json", mg->json, "write a summary as JSON to PATH ('-' for stdout)");
  me->footer("Example:\n  nax traces merge --db all.db shard0.db shard1.db");
  me->callback([mg] { run_merge(*mg); });

  auto in = std::make_shared<InfoOptions>();
  CLI::App* inf = tr->add_subcommand("info", "What a trace store holds");
  inf->add_option("--db", in->db, "trace store")->required();
  inf->add_option("--json", in->json, "write it as JSON to PATH ('-' for stdout)");
  inf->footer("Example:\n  nax traces info --db traces.db");
  inf->callback([in] { run_info(*in); });

  tr->callback([o, ex, me, inf] {
    if (ex->parsed() || me->parsed() || inf->parsed()) return;
    if (o->db.empty()) throw InputError("--db PATH is required");
    run_traces(*o);
  });
}

}  // namespace nax::cli
