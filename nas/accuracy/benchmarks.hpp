// Public NAS benchmark data (nas/data, README there: sources, commits, licences) and the accuracy
// oracle built on it:
// - NAS-Bench-201 at 12 epochs (mini-NAS-Bench-201): all 15,625 cells, CIFAR-10/100 and
//   ImageNet16-120 test and validation accuracy;
// - NAS-Bench-Macro: all 6,561 networks, CIFAR-10 test accuracy of 3 seeds, params, FLOPs;
// - NASLib's zero-cost proxy scores for 491 NAS-Bench-201 cells on 3 datasets.
//
// Oracle semantics: a network has a published accuracy only when it *is* a benchmark network.
// identify_benchmark() reads the candidate's architecture from its block-level spec (the
// `nb201_cell` blocks' `arch`; the 8 layers of stages s1-s3 for NAS-Bench-Macro), builds the
// benchmark's own network for that architecture with the zoo's defaults (`nb201:arch=...`,
// `nas-bench-macro:arch=...`) and accepts the candidate only if its graph hash is that network's.
// So any change (channels, cells, resolution, num_classes, depth, a block override, the data
// type) means "no published accuracy", whether the model came from a zoo name or a YAML file;
// ONNX models have no spec and never match. The accuracy is, in percent:
//   nb201            CIFAR-10 test accuracy after 12 epochs (CSV column cifar10_test_12ep)
//   nas-bench-macro  mean CIFAR-10 test accuracy of the 3 seeds (JSON mean_acc)
//
// Readers report bad files as InputError naming the file, the line (CSV) or key (JSON) and what
// was expected; all problems of a file are reported together (up to 20).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/model_source.hpp"

namespace nax::accuracy {

// ---- the data directory ----

constexpr const char* kNb201File = "nb201_acc_12epoch_minibench.csv";
constexpr const char* kMacroFile = "nas-bench-macro_cifar10.json";
constexpr const char* kNaslibZcFile = "naslib_zc_nasbench201_491archs.json";

// `explicit_dir` if not empty, else $NAX_DATA_DIR if set and not empty, else the source tree's
// nas/data (NAX_DATA_DIR_DEFAULT if the build defines it, else found from this file's path).
// Does not check that the directory exists: loading a file does, naming the path and this order.
std::string resolve_data_dir(const std::string& explicit_dir = "");
// The compile-time default (the last step above).
std::string default_data_dir();

// ---- NAS-Bench-201, 12 epochs ----

struct Nb201Record {
  int index = 0;                             // arch_idx: position in the benchmark (0..15624)
  std::string arch;                          // canonical cell string
  double cifar10_test = 0, cifar10_val = 0;  // percent, after 12 epochs
  double cifar100_test = 0, cifar100_val = 0;
  double imagenet16_test = 0, imagenet16_val = 0;
};

class Nb201Table {
 public:
  static constexpr size_t kCells = 15625;  // 5 operations on 6 edges
  // Parses the CSV (header, then rows of arch_idx, arch_str and 6 accuracies in [0, 100]). Rows
  // must have distinct indices and canonical, distinct cell strings; they are kept in index order.
  static Nb201Table parse(const std::string& text, const std::string& source);
  // Reads `dir`/nb201_acc_12epoch_minibench.csv and checks that it holds all 15,625 cells.
  static Nb201Table load(const std::string& dir);

  const std::vector<Nb201Record>& records() const { return m_records; }
  // The record of a cell string (any spelling parse_nb201_cell accepts), or nullptr.
  const Nb201Record* find(const std::string& arch) const;

 private:
  std::vector<Nb201Record> m_records;
  std::unordered_map<std::string, size_t> m_by_arch;
};

// ---- NAS-Bench-Macro ----

struct MacroRecord {
  std::string arch;  // 8 digits 0-2
  std::array<double, 3> test_acc{};
  double mean_acc = 0, std = 0;  // percent
  int64_t params = 0, flops = 0;
};

class MacroTable {
 public:
  static constexpr size_t kNetworks = 6561;  // 3^8
  // Parses the JSON object {"<8 digits>": {test_acc: [3], mean_acc, std, params, flops}}.
  // Records are kept sorted by arch.
  static MacroTable parse(const std::string& text, const std::string& source);
  // Reads `dir`/nas-bench-macro_cifar10.json and checks that it holds all 6,561 networks.
  static MacroTable load(const std::string& dir);

  const std::vector<MacroRecord>& records() const { return m_records; }
  const MacroRecord* find(const std::string& arch) const;

 private:
  std::vector<MacroRecord> m_records;
  std::unordered_map<std::string, size_t> m_by_arch;
};

// ---- NASLib zero-cost proxy scores (NAS-Bench-201) ----

// NASLib's 6-edge encoding of a cell: op codes 0 skip_connect, 1 none, 2 nor_conv_3x3,
// 3 nor_conv_1x1, 4 avg_pool_3x3 on edges 1<-0, 2<-0, 3<-0, 2<-1, 3<-1, 3<-2. The cell string
// lists edges node by node: codes (a, b, c, d, e, f) are |a~0|+|b~0|d~1|+|c~0|e~1|f~2|.
std::string naslib_to_nb201(const std::array<int, 6>& codes);
// The inverse (InputError for an invalid cell string).
std::array<int, 6> nb201_to_naslib(const std::string& arch);

struct ZcRecord {
  std::array<int, 6> codes{};
  std::string arch;                      // NB201 cell string (naslib_to_nb201)
  std::map<std::string, double> scores;  // every published number but val_accuracy, by name
  double val_accuracy = 0;               // percent (200-epoch NAS-Bench-201)
};

class ZcTable {
 public:
  // Parses {"nasbench201": {"<dataset>": {"(a, b, c, d, e, f)": {<name>: number, ...}}}}.
  static ZcTable parse(const std::string& text, const std::string& source);
  static ZcTable load(const std::string& dir);  // `dir`/naslib_zc_nasbench201_491archs.json

  std::vector<std::string> datasets() const;  // "ImageNet16-120", "cifar10", "cifar100"
  // Records of one dataset in key order; InputError (with a did-you-mean) for an unknown one.
  const std::vector<ZcRecord>& dataset(const std::string& name) const;

 private:
  std::map<std::string, std::vector<ZcRecord>> m_sets;
};

// ---- identification and the oracle ----

enum class Benchmark { kNb201, kMacro };
const char* benchmark_name(Benchmark b);  // "nb201", "nas-bench-macro" (the zoo names)
// Parses a benchmark name; InputError with the accepted names and a did-you-mean.
Benchmark parse_benchmark(const std::string& name);

struct BenchmarkArch {
  Benchmark benchmark = Benchmark::kNb201;
  std::string arch;               // canonical cell string or 8 digits
  std::string model_arg() const;  // the zoo argument that builds it: "nb201:arch=..."
};

// The benchmark network a model is (see the header comment), or nullopt. Needs no data files.
std::optional<BenchmarkArch> identify_benchmark(const Model& m);

struct OracleResult {
  BenchmarkArch arch;
  double accuracy = 0;  // percent
  std::string metric;   // what the number is, in words
};

// Published accuracy of benchmark networks. Tables are read on first use (thread-safe).
class BenchmarkOracle {
 public:
  explicit BenchmarkOracle(std::string data_dir = "");  // resolved by resolve_data_dir()

  const std::string& data_dir() const { return m_dir; }
  // The published accuracy of a model, or nullopt when it is not a benchmark network.
  std::optional<OracleResult> lookup(const Model& m) const;
  // Same for a --model argument (loaded with load_model; its errors propagate).
  std::optional<OracleResult> lookup(const std::string& model_arg) const;
  // The accuracy of a benchmark architecture (InputError if the table does not have it).
  OracleResult accuracy(const BenchmarkArch& a) const;

  const Nb201Table& nb201() const;
  const MacroTable& macro() const;

 private:
  std::string m_dir;
  mutable std::mutex m_mutex;
  mutable std::unique_ptr<Nb201Table> m_nb201;
  mutable std::unique_ptr<MacroTable> m_macro;
};

// ---- sampling for validation runs ----

// `n` distinct indices of [0, population) in the order drawn (a partial Fisher-Yates shuffle on
// SplitMix64(seed)): identical on every platform. InputError when n > population.
std::vector<size_t> sample_indices(size_t population, size_t n, uint64_t seed);

// `n` distinct architectures of a benchmark, drawn uniformly with sample_indices over the table
// (NB201 in arch_idx order, Macro in arch order), with their published accuracy.
std::vector<OracleResult> sample_benchmark(const BenchmarkOracle& oracle, Benchmark b, size_t n,
                                           uint64_t seed);

}  // namespace nax::accuracy
