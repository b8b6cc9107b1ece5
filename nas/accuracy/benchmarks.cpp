#include "nas/accuracy/benchmarks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>

#include "models/estimate/sampler.hpp"
#include "models/spec/blocks/nb201.hpp"

namespace nax::accuracy {
namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxReported = 20;

// Collects up to kMaxReported problems of one file, then counts the rest.
class Problems {
 public:
  void add(Diagnostic d) {
    if (m_diags.size() < kMaxReported) {
      m_diags.push_back(std::move(d));
    } else {
      ++m_more;
    }
  }
  void throw_if_any(const std::string& file) {
    if (m_diags.empty()) return;
    if (m_more > 0) {
      m_diags.emplace_back(SourceLoc{file}, "", "",
                           fmt::format("... and {} more problem(s)", m_more));
    }
    throw InputError(m_diags);
  }

 private:
  std::vector<Diagnostic> m_diags;
  size_t m_more = 0;
};

std::string read_file(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw InputError(SourceLoc{path},
                     fmt::format("no such file ({}); the data directory is the explicit one, else "
                                 "$NAX_DATA_DIR, else {}",
                                 what, default_data_dir()));
  }
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  if (!f) throw InputError(SourceLoc{path}, "cannot read the file");
  return ss.str();
}

bool parse_double(const std::string& s, double& out) {
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtod(s.c_str(), &end);
  return errno == 0 && end == s.c_str() + s.size() && std::isfinite(out);
}

bool parse_index(const std::string& s, int& out) {
  if (s.empty() || s.size() > 9) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

std::string short_json(const nlohmann::json& j) {
  std::string s = j.dump();
  return s.size() > 40 ? s.substr(0, 37) + "..." : s;
}

// Line and column (1-based) of a byte offset.
SourceLoc loc_of(const std::string& file, const std::string& text, size_t byte) {
  SourceLoc loc{file, 1, 1};
  for (size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++loc.line;
      loc.col = 1;
    } else {
      ++loc.col;
    }
  }
  return loc;
}

nlohmann::json parse_json(const std::string& text, const std::string& file) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based: the byte where parsing failed.
    throw InputError(loc_of(file, text, e.byte > 0 ? e.byte - 1 : 0),
                     fmt::format("not valid JSON ({})", e.what()));
  }
}

}  // namespace

// ---- the data directory ----

std::string default_data_dir() {
#ifdef NAX_DATA_DIR_DEFAULT
  return NAX_DATA_DIR_DEFAULT;
#else
  // This file is nas/accuracy/benchmarks.cpp (CMake compiles it by its absolute path).
  return (fs::path(__FILE__).parent_path().parent_path() / "data").lexically_normal().string();
#endif
}

std::string resolve_data_dir(const std::string& explicit_dir) {
  if (!explicit_dir.empty()) return explicit_dir;
  const char* env = std::getenv("NAX_DATA_DIR");
  if (env && *env) return env;
  return default_data_dir();
}

// ---- NAS-Bench-201 ----

namespace {

constexpr const char* kNb201Columns[] = {
    "arch_idx",           "arch_str",          "cifar10_test_12ep",  "cifar10_val_12ep",
    "cifar100_test_12ep", "cifar100_val_12ep", "imagenet_test_12ep", "imagenet_val_12ep"};
constexpr size_t kNb201Fields = 8;

std::string nb201_header() {
  std::string h;
  for (const char* c : kNb201Columns) h += (h.empty() ? "" : ",") + std::string(c);
  return h;
}

}  // namespace

Nb201Table Nb201Table::parse(const std::string& text, const std::string& source) {
  Nb201Table t;
  Problems problems;
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  bool header = false;
  std::unordered_map<int, int> index_line;
  std::unordered_map<std::string, int> arch_line;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!header) {
      header = true;
      if (line != nb201_header()) {
        problems.add({SourceLoc{source, lineno}, "", "",
                      fmt::format("expected the header '{}', got '{}'", nb201_header(),
                                  line.size() > 60 ? line.substr(0, 57) + "..." : line)});
        break;
      }
      continue;
    }
    if (line.empty()) continue;
    std::vector<std::string> fields;
    std::vector<int> cols;
    size_t pos = 0;
    while (true) {
      const size_t next = line.find(',', pos);
      fields.push_back(
          line.substr(pos, next == std::string::npos ? std::string::npos : next - pos));
      cols.push_back(static_cast<int>(pos) + 1);
      if (next == std::string::npos) break;
      pos = next + 1;
    }
    if (fields.size() != kNb201Fields) {
      problems.add({SourceLoc{source, lineno}, "", "",
                    fmt::format("expected {} comma-separated fields (arch_idx, arch_str and 6 "
                                "accuracies), got {}",
                                kNb201Fields, fields.size())});
      continue;
    }
    auto at = [&](size_t i) { return SourceLoc{source, lineno, cols[i]}; };
    bool ok = true;
    Nb201Record r;
    if (!parse_index(fields[0], r.index)) {
      problems.add({at(0), "arch_idx", fields[0], "expected a non-negative integer"});
      ok = false;
    }
    try {
      r.arch = spec::parse_nb201_cell(fields[1]).str();
      if (r.arch != fields[1]) {
        problems.add({at(1), "arch_str", fields[1],
                      fmt::format("expected the canonical cell string '{}'", r.arch)});
        ok = false;
      }
    } catch (const InputError& e) {
      problems.add({at(1), "arch_str", "", e.what()});
      ok = false;
    }
    double* values[] = {&r.cifar10_test, &r.cifar10_val,     &r.cifar100_test,
                        &r.cifar100_val, &r.imagenet16_test, &r.imagenet16_val};
    for (size_t i = 2; i < kNb201Fields; ++i) {
      double v = 0;
      if (!parse_double(fields[i], v) || v < 0 || v > 100) {
        problems.add(
            {at(i), kNb201Columns[i], fields[i], "expected a number in [0, 100] (percent)"});
        ok = false;
      } else {
        *values[i - 2] = v;
      }
    }
    if (!ok) continue;
    if (const auto it = index_line.find(r.index); it != index_line.end()) {
      problems.add({at(0), "arch_idx", fields[0],
                    fmt::format("duplicate index (also on line {})", it->second)});
      continue;
    }
    if (const auto it = arch_line.find(r.arch); it != arch_line.end()) {
      problems.add(
          {at(1), "arch_str", "", fmt::format("duplicate cell (also on line {})", it->second)});
      continue;
    }
    index_line[r.index] = lineno;
    arch_line[r.arch] = lineno;
    t.m_records.push_back(std::move(r));
  }
  if (!header) {
    problems.add(
        {SourceLoc{source}, "", "",
         fmt::format("empty file: expected the header '{}' and one row per cell", nb201_header())});
  }
  problems.throw_if_any(source);
  std::sort(t.m_records.begin(), t.m_records.end(),
            [](const Nb201Record& a, const Nb201Record& b) { return a.index < b.index; });
  for (size_t i = 0; i < t.m_records.size(); ++i) t.m_by_arch[t.m_records[i].arch] = i;
  return t;
}

Nb201Table Nb201Table::load(const std::string& dir) {
  const std::string path = (fs::path(dir) / kNb201File).string();
  Nb201Table t = parse(read_file(path, "the NAS-Bench-201 12-epoch table"), path);
  bool complete = t.m_records.size() == kCells;
  for (size_t i = 0; complete && i < t.m_records.size(); ++i) {
    complete = t.m_records[i].index == static_cast<int>(i);
  }
  if (!complete) {
    throw InputError(SourceLoc{path},
                     fmt::format("expected all {} cells of NAS-Bench-201 with arch_idx 0 to {}, "
                                 "got {} rows",
                                 kCells, kCells - 1, t.m_records.size()));
  }
  return t;
}

const Nb201Record* Nb201Table::find(const std::string& arch) const {
  auto it = m_by_arch.find(arch);
  if (it == m_by_arch.end()) {
    try {
      it = m_by_arch.find(spec::parse_nb201_cell(arch).str());
    } catch (const InputError&) {
      return nullptr;
    }
  }
  return it == m_by_arch.end() ? nullptr : &m_records[it->second];
}

// ---- NAS-Bench-Macro ----

namespace {

bool is_macro_arch(const std::string& s) {
  return s.size() == 8 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '2'; });
}

}  // namespace

MacroTable MacroTable::parse(const std::string& text, const std::string& source) {
  const nlohmann::json j = parse_json(text, source);
  if (!j.is_object()) {
    throw InputError(SourceLoc{source},
                     "expected a JSON object mapping 8-digit architectures to {test_acc, "
                     "mean_acc, std, params, flops}");
  }
  MacroTable t;
  Problems problems;
  const SourceLoc file{source};
  for (const auto& [key, v] : j.items()) {
    if (!is_macro_arch(key)) {
      problems.add({file, "", "",
                    fmt::format("key '{}': expected 8 digits 0-2, one per layer (0 identity, 1 "
                                "IBN k3 e3, 2 IBN k5 e6)",
                                key)});
      continue;
    }
    if (!v.is_object()) {
      problems.add({file, key, short_json(v),
                    "expected an object {test_acc, mean_acc, std, params, flops}"});
      continue;
    }
    MacroRecord r;
    r.arch = key;
    bool ok = true;
    auto number = [&](const char* field, double lo, double hi, double& out) {
      const auto it = v.find(field);
      if (it == v.end()) {
        problems.add({file, key + "." + field, "", "missing"});
        ok = false;
      } else if (!it->is_number() || it->get<double>() < lo || it->get<double>() > hi) {
        problems.add({file, key + "." + field, short_json(*it),
                      fmt::format("expected a number in [{}, {}]", lo, hi)});
        ok = false;
      } else {
        out = it->get<double>();
      }
    };
    auto integer = [&](const char* field, int64_t& out) {
      const auto it = v.find(field);
      if (it == v.end()) {
        problems.add({file, key + "." + field, "", "missing"});
        ok = false;
      } else if (!it->is_number_integer() || it->get<int64_t>() < 0) {
        problems.add({file, key + "." + field, short_json(*it), "expected a non-negative integer"});
        ok = false;
      } else {
        out = it->get<int64_t>();
      }
    };
    const auto acc = v.find("test_acc");
    if (acc == v.end()) {
      problems.add({file, key + ".test_acc", "", "missing"});
      ok = false;
    } else if (!acc->is_array() || acc->size() != 3 ||
               !std::all_of(acc->begin(), acc->end(), [](const nlohmann::json& x) {
                 return x.is_number() && x.get<double>() >= 0 && x.get<double>() <= 100;
               })) {
      problems.add({file, key + ".test_acc", short_json(*acc),
                    "expected an array of 3 accuracies in [0, 100] (one per seed)"});
      ok = false;
    } else {
      for (size_t i = 0; i < 3; ++i) r.test_acc[i] = (*acc)[i].get<double>();
    }
    number("mean_acc", 0, 100, r.mean_acc);
    number("std", 0, 100, r.std);
    integer("params", r.params);
    integer("flops", r.flops);
    if (ok) t.m_records.push_back(std::move(r));
  }
  problems.throw_if_any(source);
  std::sort(t.m_records.begin(), t.m_records.end(),
            [](const MacroRecord& a, const MacroRecord& b) { return a.arch < b.arch; });
  for (size_t i = 0; i < t.m_records.size(); ++i) t.m_by_arch[t.m_records[i].arch] = i;
  return t;
}

MacroTable MacroTable::load(const std::string& dir) {
  const std::string path = (fs::path(dir) / kMacroFile).string();
  MacroTable t = parse(read_file(path, "the NAS-Bench-Macro table"), path);
  if (t.m_records.size() != kNetworks) {
    throw InputError(SourceLoc{path},
                     fmt::format("expected all {} networks of NAS-Bench-Macro, got {}", kNetworks,
                                 t.m_records.size()));
  }
  return t;
}

const MacroRecord* MacroTable::find(const std::string& arch) const {
  const auto it = m_by_arch.find(arch);
  return it == m_by_arch.end() ? nullptr : &m_records[it->second];
}

// ---- NASLib zero-cost proxies ----

namespace {

// NASLib's op codes, by code.
const char* const kNaslibOps[] = {"skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1",
                                  "avg_pool_3x3"};
// Position in the cell string (n1e0, n2e0, n2e1, n3e0, n3e1, n3e2) of each NASLib edge.
constexpr int kEdgeSlot[6] = {0, 1, 3, 2, 4, 5};

// "(4, 3, 3, 3, 2, 3)" -> codes; false if malformed.
bool parse_codes(const std::string& key, std::array<int, 6>& codes) {
  if (key.size() < 2 || key.front() != '(' || key.back() != ')') return false;
  std::string inner = key.substr(1, key.size() - 2);
  size_t pos = 0;
  for (int i = 0; i < 6; ++i) {
    while (pos < inner.size() && inner[pos] == ' ') ++pos;
    if (pos >= inner.size() || inner[pos] < '0' || inner[pos] > '4') return false;
    codes[static_cast<size_t>(i)] = inner[pos] - '0';
    ++pos;
    while (pos < inner.size() && inner[pos] == ' ') ++pos;
    if (i < 5) {
      if (pos >= inner.size() || inner[pos] != ',') return false;
      ++pos;
    }
  }
  return pos == inner.size();
}

}  // namespace

std::string naslib_to_nb201(const std::array<int, 6>& codes) {
  std::array<std::string, 6> slot;
  for (size_t e = 0; e < 6; ++e) {
    const int c = codes[e];
    if (c < 0 || c > 4) {
      throw InputError(fmt::format(
          "NASLib op code {} on edge {}: expected 0 (skip_connect), 1 (none), 2 (nor_conv_3x3), "
          "3 (nor_conv_1x1) or 4 (avg_pool_3x3)",
          c, e));
    }
    slot[static_cast<size_t>(kEdgeSlot[e])] = kNaslibOps[c];
  }
  return fmt::format("|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|", slot[0], slot[1], slot[2], slot[3],
                     slot[4], slot[5]);
}

std::array<int, 6> nb201_to_naslib(const std::string& arch) {
  const spec::Nb201Cell cell = spec::parse_nb201_cell(arch);
  std::array<std::string, 6> slot;
  size_t k = 0;
  for (const auto& node : cell.nodes) {
    for (const auto& e : node) slot[k++] = e.op;
  }
  std::array<int, 6> codes{};
  for (size_t e = 0; e < 6; ++e) {
    const std::string& op = slot[static_cast<size_t>(kEdgeSlot[e])];
    codes[e] = static_cast<int>(std::find(std::begin(kNaslibOps), std::end(kNaslibOps), op) -
                                std::begin(kNaslibOps));
  }
  return codes;
}

ZcTable ZcTable::parse(const std::string& text, const std::string& source) {
  const nlohmann::json j = parse_json(text, source);
  const SourceLoc file{source};
  if (!j.is_object() || !j.contains("nasbench201") || !j["nasbench201"].is_object()) {
    throw InputError(file,
                     "expected {\"nasbench201\": {\"<dataset>\": {\"(a, b, c, d, e, f)\": "
                     "{<proxy>: score, ..., \"val_accuracy\": accuracy}}}}");
  }
  ZcTable t;
  Problems problems;
  for (const auto& [ds, archs] : j["nasbench201"].items()) {
    const std::string where = "nasbench201." + ds;
    if (!archs.is_object()) {
      problems.add({file, where, short_json(archs), "expected an object keyed by NASLib codes"});
      continue;
    }
    std::vector<ZcRecord>& out = t.m_sets[ds];
    for (const auto& [key, v] : archs.items()) {
      ZcRecord r;
      if (!parse_codes(key, r.codes)) {
        problems.add({file, where, key,
                      "expected a NASLib cell key '(a, b, c, d, e, f)' with op codes 0-4"});
        continue;
      }
      r.arch = naslib_to_nb201(r.codes);
      if (!v.is_object()) {
        problems.add({file, where + "." + key, short_json(v), "expected an object of scores"});
        continue;
      }
      bool ok = true;
      for (const auto& [name, x] : v.items()) {
        if (!x.is_number()) {
          problems.add({file, where + "." + key + "." + name, short_json(x), "expected a number"});
          ok = false;
        } else if (name == "val_accuracy") {
          r.val_accuracy = x.get<double>();
        } else {
          r.scores[name] = x.get<double>();
        }
      }
      if (!v.contains("val_accuracy")) {
        problems.add({file, where + "." + key + ".val_accuracy", "", "missing"});
        ok = false;
      }
      if (ok) out.push_back(std::move(r));
    }
  }
  problems.throw_if_any(source);
  return t;
}

ZcTable ZcTable::load(const std::string& dir) {
  const std::string path = (fs::path(dir) / kNaslibZcFile).string();
  return parse(read_file(path, "NASLib's zero-cost proxy scores"), path);
}

std::vector<std::string> ZcTable::datasets() const {
  std::vector<std::string> v;
  for (const auto& [name, recs] : m_sets) v.push_back(name);
  return v;
}

const std::vector<ZcRecord>& ZcTable::dataset(const std::string& name) const {
  const auto it = m_sets.find(name);
  if (it == m_sets.end()) {
    const std::vector<std::string> names = datasets();
    std::string msg = fmt::format("dataset '{}': expected one of {}", name, fmt::join(names, ", "));
    const std::string hint = did_you_mean(name, names);
    if (!hint.empty()) msg += "; did you mean " + hint + "?";
    throw InputError(msg);
  }
  return it->second;
}

// ---- identification and the oracle ----

const char* benchmark_name(Benchmark b) {
  return b == Benchmark::kNb201 ? "nb201" : "nas-bench-macro";
}

Benchmark parse_benchmark(const std::string& name) {
  if (name == "nb201") return Benchmark::kNb201;
  if (name == "nas-bench-macro") return Benchmark::kMacro;
  std::string msg = fmt::format("benchmark '{}': expected nb201 or nas-bench-macro", name);
  const std::string hint = did_you_mean(name, {"nb201", "nas-bench-macro"});
  if (!hint.empty()) msg += "; did you mean " + hint + "?";
  throw InputError(msg);
}

std::string BenchmarkArch::model_arg() const {
  return fmt::format("{}:arch={}", benchmark_name(benchmark), arch);
}

namespace {

// A block's parameters resolved against its type (defaults filled); nullopt when invalid.
std::optional<ParamSet> resolved(const spec::BlockSpec& b) {
  ParamSet ps;
  DiagnosticSink sink;
  if (!spec::resolve_block(b, ps, sink)) return std::nullopt;
  return ps;
}

std::optional<std::string> nb201_arch_of(const spec::ModelSpec& s) {
  for (const auto& st : s.stages) {
    for (const auto& b : st.blocks) {
      if (b.type != "nb201_cell") continue;
      const auto ps = resolved(b);
      if (!ps) return std::nullopt;
      try {
        return spec::parse_nb201_cell(ps->get_string("arch")).str();
      } catch (const InputError&) {
        return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

std::optional<std::string> macro_arch_of(const spec::ModelSpec& s) {
  std::string arch;
  const char* stages[] = {"s1", "s2", "s3"};
  const size_t layers[] = {2, 3, 3};
  for (size_t i = 0; i < 3; ++i) {
    const spec::StageSpec* st = nullptr;
    for (const auto& x : s.stages) {
      if (x.name == stages[i]) st = &x;
    }
    if (!st || st->blocks.size() != layers[i]) return std::nullopt;
    for (const auto& b : st->blocks) {
      if (b.type == "identity" || b.type == "conv") {
        arch += '0';
      } else if (b.type == "ibn") {
        const auto ps = resolved(b);
        if (!ps) return std::nullopt;
        const int64_t k = ps->get_int("kernel");
        const double e = ps->get_float("expansion");
        if (k == 3 && e == 3) {
          arch += '1';
        } else if (k == 5 && e == 6) {
          arch += '2';
        } else {
          return std::nullopt;
        }
      } else {
        return std::nullopt;
      }
    }
  }
  return arch;
}

// Graph hash of the benchmark's own network for an architecture (cached: building takes ~ms).
std::string canonical_hash(const BenchmarkArch& a) {
  static std::mutex mutex;
  static std::unordered_map<std::string, std::string> cache;
  const std::string arg = a.model_arg();
  {
    std::lock_guard<std::mutex> lock(mutex);
    const auto it = cache.find(arg);
    if (it != cache.end()) return it->second;
  }
  const std::string h = load_model(arg).hash;
  std::lock_guard<std::mutex> lock(mutex);
  cache[arg] = h;
  return h;
}

}  // namespace

std::optional<BenchmarkArch> identify_benchmark(const Model& m) {
  if (!m.spec) return std::nullopt;
  std::optional<BenchmarkArch> a;
  if (const auto arch = nb201_arch_of(*m.spec)) {
    a = BenchmarkArch{Benchmark::kNb201, *arch};
  } else if (const auto digits = macro_arch_of(*m.spec)) {
    a = BenchmarkArch{Benchmark::kMacro, *digits};
  }
  if (!a || canonical_hash(*a) != m.hash) return std::nullopt;
  return a;
}

BenchmarkOracle::BenchmarkOracle(std::string data_dir) : m_dir(resolve_data_dir(data_dir)) {}

const Nb201Table& BenchmarkOracle::nb201() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  if (!m_nb201) m_nb201 = std::make_unique<Nb201Table>(Nb201Table::load(m_dir));
  return *m_nb201;
}

const MacroTable& BenchmarkOracle::macro() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  if (!m_macro) m_macro = std::make_unique<MacroTable>(MacroTable::load(m_dir));
  return *m_macro;
}

OracleResult BenchmarkOracle::accuracy(const BenchmarkArch& a) const {
  OracleResult r;
  r.arch = a;
  if (a.benchmark == Benchmark::kNb201) {
    const Nb201Record* rec = nb201().find(a.arch);
    if (!rec) {
      throw InputError(fmt::format("nb201 cell '{}' is not in the NAS-Bench-201 table", a.arch));
    }
    r.arch.arch = rec->arch;
    r.accuracy = rec->cifar10_test;
    r.metric = "CIFAR-10 test accuracy after 12 epochs (mini-NAS-Bench-201)";
  } else {
    const MacroRecord* rec = macro().find(a.arch);
    if (!rec) {
      throw InputError(
          fmt::format("nas-bench-macro arch '{}' is not in the NAS-Bench-Macro table", a.arch));
    }
    r.accuracy = rec->mean_acc;
    r.metric = "CIFAR-10 test accuracy, mean of 3 seeds (NAS-Bench-Macro)";
  }
  return r;
}

std::optional<OracleResult> BenchmarkOracle::lookup(const Model& m) const {
  const auto a = identify_benchmark(m);
  if (!a) return std::nullopt;
  return accuracy(*a);
}

std::optional<OracleResult> BenchmarkOracle::lookup(const std::string& model_arg) const {
  return lookup(load_model(model_arg));
}

// ---- sampling ----

std::vector<size_t> sample_indices(size_t population, size_t n, uint64_t seed) {
  if (n > population) {
    throw InputError(fmt::format("cannot draw {} distinct architectures from {}", n, population));
  }
  std::vector<size_t> idx(population);
  std::iota(idx.begin(), idx.end(), size_t{0});
  est::SplitMix64 rng(seed);
  for (size_t i = 0; i < n; ++i) {
    const auto j = static_cast<size_t>(
        rng.uniform_int(static_cast<int64_t>(i), static_cast<int64_t>(population) - 1));
    std::swap(idx[i], idx[j]);
  }
  idx.resize(n);
  return idx;
}

std::vector<OracleResult> sample_benchmark(const BenchmarkOracle& oracle, Benchmark b, size_t n,
                                           uint64_t seed) {
  std::vector<OracleResult> out;
  if (b == Benchmark::kNb201) {
    const auto& recs = oracle.nb201().records();
    for (size_t i : sample_indices(recs.size(), n, seed)) {
      out.push_back(oracle.accuracy({b, recs[i].arch}));
    }
  } else {
    const auto& recs = oracle.macro().records();
    for (size_t i : sample_indices(recs.size(), n, seed)) {
      out.push_back(oracle.accuracy({b, recs[i].arch}));
    }
  }
  return out;
}

}  // namespace nax::accuracy
