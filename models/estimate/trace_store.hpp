// The trace store: ground-truth latency datasets in one SQLite file (traces/README.md has the
// schema, the keys and how datasets are generated, sharded, merged and exported).
//
// Rows:
// - chips: one per chip hash, with the chip's name and its fully resolved YAML (the caller passes
//   hw::dump_chip's text: models/ does not depend on hw/).
// - units: one per (chip hash, unit hash, input_on_chip, output_on_chip). The unit hash is the
//   content hash of the unit's subgraph (est::decompose); the two flags are its context in the
//   network it was labelled in (input resident in SRAM, output kept in SRAM), because a unit's
//   cycles depend on them. This 4-tuple is what "subgraph hash" means in a dataset. A row holds
//   the unit's description (est::unit_to_json) and its labels: cycles, DRAM bytes, energy.
//   When several networks contain the same key, the row keeps the labels from the network with
//   the smallest network hash, so a dataset's content never depends on the order it was written in
//   (-j, shards and merges give identical rows).
// - networks: one per (chip hash, network hash): where it came from ("sample seed=S index=I",
//   "model mobilenet_v2"), its block-level spec YAML when it has one, its total cycles and energy
//   and its units' keys in network order (the units' cycles add up to the total exactly).
// - runs / run_indices: bookkeeping of sampling runs (which sample indices of which seed and shard
//   are done, and how many new unit rows each added) so `nax traces --resume` continues without
//   losing or duplicating work.
//
// Writes happen in transactions (Batch); WAL journal and a busy timeout let readers and several
// processes share a file. Errors name the file: a file that is not an SQLite database, a schema of
// a newer version, a chip hash missing from the store: nax::InputError; I/O and SQLite failures:
// nax::Error.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace nax::est {

// Version of the schema this build writes and reads. Older stores are read (and upgraded when
// opened for writing); newer ones are an InputError.
constexpr int kTraceSchemaVersion = 1;

// A unit row's key without the chip: the unit's content hash and its context.
struct UnitKey {
  std::string unit_hash;
  bool input_on_chip = false;
  bool output_on_chip = false;

  // "<unit_hash>:<i><o>" with i, o in {0, 1}, e.g. "3f2a9c0d11e4b7a8:10". The form the networks
  // table uses for its unit lists.
  std::string str() const;
  // Parses str()'s form; throws nax::InputError on anything else.
  static UnitKey parse(const std::string& s);

  bool operator==(const UnitKey& o) const {
    return unit_hash == o.unit_hash && input_on_chip == o.input_on_chip &&
           output_on_chip == o.output_on_chip;
  }
  bool operator<(const UnitKey& o) const;
};

struct ChipRow {
  std::string hash;
  std::string name;
  std::string yaml;  // resolved chip YAML (hw::dump_chip), parses back to the same hash
};

struct UnitRow {
  std::string chip_hash;
  UnitKey key;
  std::string unit_type;     // est::unit_type_name
  std::string unit_json;     // est::unit_to_json(unit).dump(): parse with est::unit_from_json
  std::string network_hash;  // the network the labels come from
  uint64_t cycles = 0;
  int64_t dram_read_bytes = 0;
  int64_t dram_write_bytes = 0;
  double energy_uj = 0;
};

struct NetworkRow {
  std::string chip_hash;
  std::string network_hash;  // ir::graph_hash of the network's graph
  std::string source;        // "sample seed=S index=I" or "model ARG"
  std::string spec_yaml;     // spec::write_model_yaml of its ModelSpec; empty for ONNX models
  uint64_t total_cycles = 0;
  double energy_uj = 0;
  std::vector<UnitKey> units;  // in network order; keys may repeat (repeated identical blocks)
};

// One sampling run: a chip, a seed and a shard (index % shard_count == shard_index).
struct RunKey {
  std::string chip_hash;
  uint64_t seed = 0;
  int shard_index = 0;
  int shard_count = 1;
};

// What the store knows about a run.
struct RunProgress {
  int64_t indices_done = 0;  // sample indices finished (feasible or not)
  int64_t infeasible = 0;    // of those, samples that could not be built or lowered
  int64_t new_units = 0;     // unit rows the run added (its progress towards --count)
  int64_t next_index = 0;    // the first sample index of the shard not done
  int64_t target_count = 0;  // --count it was started with (0: none)
  int64_t target_networks = 0;
};

class TraceStore {
 public:
  enum class Mode {
    kReadOnly,   // the file must exist and be a trace store
    kReadWrite,  // opened, or created with the current schema when missing
  };

  // Opens (or creates) a store. InputError (naming `path`) for a missing file in kReadOnly, a
  // file that is not SQLite, an SQLite file without a nax trace schema, a newer schema version.
  TraceStore(const std::string& path, Mode mode);
  ~TraceStore();
  TraceStore(TraceStore&&) noexcept;
  TraceStore& operator=(TraceStore&&) noexcept;
  TraceStore(const TraceStore&) = delete;
  TraceStore& operator=(const TraceStore&) = delete;

  const std::string& path() const;
  int schema_version() const;

  // ---- reading ----
  std::vector<ChipRow> chips() const;
  std::optional<ChipRow> chip(const std::string& hash) const;

  int64_t count_units(const std::string& chip_hash = "") const;
  int64_t count_networks(const std::string& chip_hash = "") const;

  // Visits unit rows (of one chip, or all when chip_hash is empty) ordered by (chip hash, unit
  // hash, input_on_chip, output_on_chip). Return false from `f` to stop.
  void for_each_unit(const std::function<bool(const UnitRow&)>& f,
                     const std::string& chip_hash = "") const;
  std::vector<UnitRow> units(const std::string& chip_hash = "") const;
  std::optional<UnitRow> unit(const std::string& chip_hash, const UnitKey& key) const;

  // Visits network rows ordered by (chip hash, network hash). Return false from `f` to stop.
  void for_each_network(const std::function<bool(const NetworkRow&)>& f,
                        const std::string& chip_hash = "") const;
  std::vector<NetworkRow> networks(const std::string& chip_hash = "") const;

  // ---- sampling runs ----
  // Runs with any finished index for this chip and seed (any shard).
  std::vector<RunKey> runs(const std::string& chip_hash, uint64_t seed) const;
  RunProgress progress(const RunKey& run) const;
  // Records a run's targets (kept from its first start; resumes may raise them).
  void set_run_targets(const RunKey& run, int64_t target_count, int64_t target_networks);

  // ---- writing: every change goes through a Batch (one transaction) ----
  class Batch {
   public:
    explicit Batch(TraceStore& store);  // BEGIN IMMEDIATE
    ~Batch();                           // rolls back unless committed
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;

    void add_chip(const ChipRow& c);  // ignored when the hash is already there
    // Inserts the row, or replaces an existing row with the same key when this row's network
    // hash is smaller. Returns true when the key was new.
    bool add_unit(const UnitRow& u);
    // Same rule on (chip hash, network hash): the smaller source string wins. Returns true when
    // the network was new.
    bool add_network(const NetworkRow& n);
    // Marks a sample index of a run as done, with the new unit rows it added and whether it was
    // feasible; the network hash is empty when it was not.
    void mark_done(const RunKey& run, int64_t index, bool feasible, int64_t new_units,
                   const std::string& network_hash, const std::string& reason = "");
    void commit();
    void rollback();

   private:
    TraceStore& m_store;
    bool m_open = false;
  };

  // Copies every chip, unit and network row of `other` into this store (the same rules as
  // Batch::add_*), and its run bookkeeping. Returns the number of new unit rows.
  int64_t merge_from(const std::string& other_path);

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace nax::est
