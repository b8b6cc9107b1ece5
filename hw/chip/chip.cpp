// Chip descriptions: parsing, cross-field validation, presets, dump. See chip.hpp for the rules.
#include "hw/chip/chip.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <system_error>

#include "hw/chip/preset_data.hpp"
#include "models/common/hash.hpp"
#include "models/common/yaml_io.hpp"

namespace nax::hw {

const char* dataflow_name(Dataflow d) {
  switch (d) {
    case Dataflow::kWeightStationary:
      return "ws";
    case Dataflow::kOutputStationary:
      return "os";
    case Dataflow::kInputStationary:
      return "is";
  }
  return "?";
}

const char* depthwise_mapping_name(DepthwiseMapping d) {
  return d == DepthwiseMapping::kVectorUnit ? "vector_unit" : "mac_array";
}

const char* sram_organization_name(SramOrganization o) {
  return o == SramOrganization::kSplit ? "split" : "unified";
}

bool ChipParams::VectorUnit::runs(const std::string& op) const {
  return std::find(ops.begin(), ops.end(), op) != ops.end();
}

namespace {

int64_t tile_part(int64_t bytes, bool doubled) {
  return doubled ? 2 * bytes : bytes;
}

MinimalTile minimal_tile_of(int64_t rows, int64_t cols, int weight_bytes, int act_bytes,
                            int acc_bytes, bool doubled) {
  MinimalTile t;
  t.weight_bytes = tile_part(rows * cols * weight_bytes, doubled);
  t.input_bytes = tile_part(rows * act_bytes, doubled);
  t.accumulator_bytes = tile_part(cols * acc_bytes, doubled);
  return t;
}

int bytes_of_bits(int64_t bits) {
  return static_cast<int>((bits + 7) / 8);
}

}  // namespace

MinimalTile minimal_tile(const ChipParams& c) {
  return minimal_tile_of(c.mac_array.rows, c.mac_array.cols, c.weight_bytes(), c.activation_bytes(),
                         c.accumulator_bytes(), c.sram.double_buffering);
}

// ---- presets ----

namespace {

const std::map<std::string, std::string>& presets() {
  static const std::map<std::string, std::string> kPresets = [] {
    std::map<std::string, std::string> m;
    for (size_t i = 0; i < detail::kNumEmbeddedPresets; ++i) {
      const auto& p = detail::kEmbeddedPresets[i];
      m.emplace(p.name, std::string(reinterpret_cast<const char*>(p.data), p.size));
    }
    return m;
  }();
  return kPresets;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

}  // namespace

std::vector<std::string> preset_names() {
  std::vector<std::string> out;
  for (const auto& kv : presets()) out.push_back(kv.first);
  return out;
}

const std::string& preset_text(const std::string& name) {
  const auto& m = presets();
  auto it = m.find(name);
  if (it != m.end()) return it->second;
  const std::vector<std::string> names = preset_names();
  std::string msg = "unknown chip preset";
  const std::string hint = did_you_mean(name, names);
  if (!hint.empty()) msg += "; did you mean " + hint + "?";
  msg += " (presets: " + join(names, ", ") + "; or a path to a chip .yaml file)";
  throw InputError({Diagnostic{SourceLoc{}, "--chip", name, msg}});
}

bool is_chip_path(const std::string& arg) {
  auto ends_with = [&](const std::string& suffix) {
    return arg.size() >= suffix.size() &&
           arg.compare(arg.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return arg.find('/') != std::string::npos || ends_with(".yaml") || ends_with(".yml");
}

// ---- parsing and validation ----

namespace {

constexpr size_t kMaxDiagnostics = 100;

bool is_pow2(int64_t v) {
  return v > 0 && (v & (v - 1)) == 0;
}

// A sharper reason for a number the schema rejected ("6 is not a power of two"); "" when the
// value is not a number of the declared kind (the schema's message already says what is wanted).
std::string range_reason(const ParamDecl& d, const std::string& text) {
  if (d.type != ParamType::kInt && d.type != ParamType::kFloat) return "";
  if (text.empty()) return "";
  char* end = nullptr;
  const double x = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(x)) return "";
  if (d.type == ParamType::kInt && x != std::floor(x)) return "";
  const bool size_unit = d.unit == "KiB" || d.unit == "B" || d.unit == "bits" || d.unit == "PEs";
  if (x < 0 && d.min >= 0) return size_unit ? "a size cannot be negative" : "cannot be negative";
  if (x == 0 && d.min > 0) return "zero is not allowed";
  if (x < d.min) return text + " is below the minimum";
  if (x > d.max) return text + " is above the maximum";
  if (d.power_of_two && !is_pow2(static_cast<int64_t>(x))) return text + " is not a power of two";
  return "";
}

// Where a missing key belongs: the deepest of its parent sections written in the file, else
// `where`. (Walks by const reference: assigning one YAML::Node to another rewrites the tree.)
SourceLoc section_loc(const YAML::Node& node, const std::string& rest, const std::string& file,
                      const SourceLoc& where) {
  const size_t dot = rest.find('.');
  if (dot == std::string::npos || !node.IsMap()) return where;
  const std::string seg = rest.substr(0, dot);
  for (const auto& kv : node) {
    if (kv.first.IsScalar() && kv.first.Scalar() == seg) {
      return section_loc(kv.second, rest.substr(dot + 1), file, loc_of(kv.first, file));
    }
  }
  return where;
}

// True when `path` or one of its sections failed its own check.
bool under_bad(const std::set<std::string>& bad, const std::string& path) {
  if (bad.count(path)) return true;
  for (size_t dot = path.find('.'); dot != std::string::npos; dot = path.find('.', dot + 1)) {
    if (bad.count(path.substr(0, dot))) return true;
  }
  return false;
}

// Cross-field checks over resolved values. Keys that failed their own checks are skipped, so a
// problem is reported once, where it is.
class CrossChecker {
 public:
  CrossChecker(const ParamSet& ps, const std::set<std::string>& bad, const std::string& file,
               DiagnosticSink& sink)
      : m_ps(ps), m_bad(bad), m_file(file), m_sink(sink) {}

  bool ok(std::initializer_list<const char*> paths) const {
    for (const char* p : paths) {
      if (!m_ps.has(p) || is_bad(p)) return false;
    }
    return true;
  }
  int64_t i(const std::string& p) const { return m_ps.get_int(p); }
  double f(const std::string& p) const { return m_ps.get_float(p); }
  bool b(const std::string& p) const { return m_ps.get_bool(p); }
  const std::string& s(const std::string& p) const { return m_ps.get_string(p); }
  const std::vector<std::string>& sl(const std::string& p) const { return m_ps.get_string_list(p); }

  // A problem located where `path` was set (a default is located at the file, marked).
  void fail(const std::string& path, const std::string& message) {
    const auto& e = m_ps.entry(path);
    std::string value = format_value(e.value);
    SourceLoc loc = e.loc;
    if (e.from_default || loc.file.empty()) {
      loc = SourceLoc{m_file, 0, 0};
      value += " (default)";
    }
    m_sink.add(loc, path, value, message);
  }

 private:
  bool is_bad(const std::string& p) const { return under_bad(m_bad, p); }

  const ParamSet& m_ps;
  const std::set<std::string>& m_bad;
  const std::string& m_file;
  DiagnosticSink& m_sink;
};

std::string bytes_text(int64_t b) {
  return std::to_string(b) + " bytes";
}

void check_sram(CrossChecker& c) {
  if (!c.ok({"sram.organization", "sram.capacity_kib", "sram.ifmap_kib", "sram.weight_kib",
             "sram.ofmap_kib"})) {
    return;
  }
  const bool split = c.s("sram.organization") == "split";
  const char* kParts[] = {"sram.ifmap_kib", "sram.weight_kib", "sram.ofmap_kib"};
  bool parts_ok = true;
  for (const char* p : kParts) {
    if (!split && c.i(p) != 0) {
      c.fail(p,
             "only used with sram.organization: split (a unified SRAM is sized by "
             "sram.capacity_kib); expected 0 or no key");
    } else if (split && c.i(p) < 1) {
      parts_ok = false;
      c.fail(p,
             "with sram.organization: split, each of sram.ifmap_kib, sram.weight_kib and "
             "sram.ofmap_kib must be at least 1");
    }
  }
  if (split && parts_ok) {
    const int64_t sum = c.i("sram.ifmap_kib") + c.i("sram.weight_kib") + c.i("sram.ofmap_kib");
    if (c.i("sram.capacity_kib") != sum) {
      c.fail(
          "sram.capacity_kib",
          fmt::format("with sram.organization: split, expected the sum sram.ifmap_kib + "
                      "sram.weight_kib + sram.ofmap_kib = {} + {} + {} = {}",
                      c.i("sram.ifmap_kib"), c.i("sram.weight_kib"), c.i("sram.ofmap_kib"), sum));
    }
  }

  // Banking: each buffer is `banks` banks of whole `bank_bytes_per_cycle`-byte rows.
  if (c.ok({"sram.banks", "sram.bank_bytes_per_cycle"}) && (!split || parts_ok)) {
    const int64_t row = c.i("sram.banks") * c.i("sram.bank_bytes_per_cycle");
    std::vector<const char*> buffers;
    if (split) {
      buffers.assign(std::begin(kParts), std::end(kParts));
    } else {
      buffers = {"sram.capacity_kib"};
    }
    for (const char* p : buffers) {
      const int64_t bytes = c.i(p) * 1024;
      if (bytes % row != 0) {
        c.fail(p, fmt::format("{} do not divide into sram.banks = {} banks of whole "
                              "sram.bank_bytes_per_cycle = {}-byte rows; expected a multiple of "
                              "{} bytes",
                              bytes_text(bytes), c.i("sram.banks"),
                              c.i("sram.bank_bytes_per_cycle"), row));
      }
    }
  }

  // The minimal tile (chip.hpp, MinimalTile).
  if (!c.ok({"mac_array.rows", "mac_array.cols", "data.activation_bits", "data.weight_bits",
             "data.accumulator_bits", "sram.double_buffering"})) {
    return;
  }
  const int64_t rows = c.i("mac_array.rows"), cols = c.i("mac_array.cols");
  const int wb = bytes_of_bits(c.i("data.weight_bits"));
  const int ab = bytes_of_bits(c.i("data.activation_bits"));
  const int accb = bytes_of_bits(c.i("data.accumulator_bits"));
  const bool dbl = c.b("sram.double_buffering");
  const MinimalTile t = minimal_tile_of(rows, cols, wb, ab, accb, dbl);
  const std::string twice = dbl ? ", doubled for double buffering" : "";
  const std::string w_text =
      fmt::format("{}x{} weights x {} B = {} B", rows, cols, wb, rows * cols * wb);
  const std::string i_text = fmt::format("{} input activations x {} B = {} B", rows, ab, rows * ab);
  const std::string o_text = fmt::format("{} accumulators x {} B = {} B", cols, accb, cols * accb);
  if (!split) {
    const int64_t have = c.i("sram.capacity_kib") * 1024;
    if (t.total_bytes() > have) {
      c.fail("sram.capacity_kib",
             fmt::format("SRAM too small to hold one minimal tile: needs {} ({} + {} + {}{}), "
                         "has {}",
                         bytes_text(t.total_bytes()), w_text, i_text, o_text, twice,
                         bytes_text(have)));
    }
  } else if (parts_ok) {
    const struct {
      const char* key;
      const char* what;
      int64_t need;
      const std::string& detail;
    } parts[] = {{"sram.weight_kib", "weight", t.weight_bytes, w_text},
                 {"sram.ifmap_kib", "ifmap", t.input_bytes, i_text},
                 {"sram.ofmap_kib", "ofmap", t.accumulator_bytes, o_text}};
    for (const auto& p : parts) {
      const int64_t have = c.i(p.key) * 1024;
      if (p.need > have) {
        c.fail(p.key, fmt::format("{} SRAM too small to hold one minimal tile's part: needs {} "
                                  "({}{}), has {}",
                                  p.what, bytes_text(p.need), p.detail, twice, bytes_text(have)));
      }
    }
  }
}

void cross_check(CrossChecker& c) {
  if (c.ok({"name"}) && c.s("name").empty()) c.fail("name", "expected a non-empty name");
  check_sram(c);
  if (c.ok({"depthwise_on", "vector_unit.ops"}) && c.s("depthwise_on") == "vector_unit") {
    const auto& ops = c.sl("vector_unit.ops");
    if (std::find(ops.begin(), ops.end(), "dwconv") == ops.end()) {
      c.fail("depthwise_on",
             "the vector unit does not run dwconv (vector_unit.ops = " + format_value(ops) +
                 "); add dwconv to vector_unit.ops or set depthwise_on: mac_array");
    }
  }
  if (c.ok({"data.accumulator_bits", "data.activation_bits", "data.weight_bits"})) {
    const int64_t a = c.i("data.activation_bits"), w = c.i("data.weight_bits");
    if (c.i("data.accumulator_bits") < std::max(a, w)) {
      c.fail("data.accumulator_bits",
             fmt::format("expected at least {}, the wider of data.activation_bits = {} and "
                         "data.weight_bits = {}",
                         std::max(a, w), a, w));
    }
  }
}

ChipParams from_values(const ParamSet& ps) {
  ChipParams c;
  auto in = [&](const char* p) { return static_cast<int>(ps.get_int(p)); };
  c.name = ps.get_string("name");
  c.description = ps.get_string("description");
  c.clock_mhz = ps.get_float("clock_mhz");

  c.mac_array.rows = in("mac_array.rows");
  c.mac_array.cols = in("mac_array.cols");
  const std::string& df = ps.get_string("mac_array.dataflow");
  c.mac_array.dataflow = df == "os"   ? Dataflow::kOutputStationary
                         : df == "is" ? Dataflow::kInputStationary
                                      : Dataflow::kWeightStationary;
  c.mac_array.mac_latency_cycles = in("mac_array.mac_latency_cycles");
  c.mac_array.overlap_preload = ps.get_bool("mac_array.overlap_preload");
  c.mac_array.pad_partial_folds = ps.get_bool("mac_array.pad_partial_folds");
  c.mac_array.fused_activations = ps.get_bool("mac_array.fused_activations");

  c.vector_unit.lanes = in("vector_unit.lanes");
  c.vector_unit.pipeline_latency_cycles = in("vector_unit.pipeline_latency_cycles");
  c.vector_unit.ops = ps.get_string_list("vector_unit.ops");

  c.sram.organization = ps.get_string("sram.organization") == "split" ? SramOrganization::kSplit
                                                                      : SramOrganization::kUnified;
  c.sram.capacity_kib = ps.get_int("sram.capacity_kib");
  c.sram.ifmap_kib = ps.get_int("sram.ifmap_kib");
  c.sram.weight_kib = ps.get_int("sram.weight_kib");
  c.sram.ofmap_kib = ps.get_int("sram.ofmap_kib");
  c.sram.banks = in("sram.banks");
  c.sram.ports_per_bank = in("sram.ports_per_bank");
  c.sram.bank_bytes_per_cycle = in("sram.bank_bytes_per_cycle");
  c.sram.ideal = ps.get_bool("sram.ideal");
  c.sram.double_buffering = ps.get_bool("sram.double_buffering");

  c.dma.channels = in("dma.channels");
  c.dma.burst_bytes = in("dma.burst_bytes");
  c.dma.setup_cycles = in("dma.setup_cycles");
  c.dma.max_outstanding = in("dma.max_outstanding");

  c.dram.ideal = ps.get_bool("dram.ideal");
  c.dram.bandwidth_gb_per_s = ps.get_float("dram.bandwidth_gb_per_s");
  c.dram.latency_ns = ps.get_float("dram.latency_ns");

  c.data.activation_bits = in("data.activation_bits");
  c.data.weight_bits = in("data.weight_bits");
  c.data.accumulator_bits = in("data.accumulator_bits");

  c.depthwise_on = ps.get_string("depthwise_on") == "vector_unit" ? DepthwiseMapping::kVectorUnit
                                                                  : DepthwiseMapping::kMacArray;

  c.energy.mac_pj = ps.get_float("energy.mac_pj");
  c.energy.sram_read_pj_per_byte = ps.get_float("energy.sram_read_pj_per_byte");
  c.energy.sram_write_pj_per_byte = ps.get_float("energy.sram_write_pj_per_byte");
  c.energy.dram_pj_per_byte = ps.get_float("energy.dram_pj_per_byte");
  c.energy.vector_op_pj = ps.get_float("energy.vector_op_pj");
  c.energy.static_mw = ps.get_float("energy.static_mw");

  c.area.pe_um2 = ps.get_float("area.pe_um2");
  c.area.sram_mm2_per_mib = ps.get_float("area.sram_mm2_per_mib");
  c.area.vector_lane_um2 = ps.get_float("area.vector_lane_um2");
  c.area.dma_channel_mm2 = ps.get_float("area.dma_channel_mm2");
  c.area.other_mm2 = ps.get_float("area.other_mm2");

  c.values = ps;
  c.hash = content_hash(chip_schema().canonical_text(ps));
  return c;
}

}  // namespace

ChipParams parse_chip(const std::string& yaml_text, const std::string& file,
                      const std::vector<std::string>& overrides) {
  if (yaml_text.size() > kMaxChipYamlBytes) {
    throw InputError(SourceLoc{file, 0, 0},
                     fmt::format("file is {} bytes; a chip description is at most {} bytes",
                                 yaml_text.size(), kMaxChipYamlBytes));
  }
  const YAML::Node root = parse_yaml(yaml_text, file);  // NUL bytes, syntax, nesting depth
  if (!root.IsDefined() || root.IsNull()) {
    throw InputError(SourceLoc{file, 0, 0},
                     "file is empty; expected a chip description (a YAML mapping with keys such "
                     "as name, clock_mhz, mac_array and sram)");
  }
  if (!root.IsMap()) {
    throw InputError(loc_of(root, file),
                     "expected a chip description (a YAML mapping with keys "
                     "such as name, clock_mhz, mac_array and sram), got " +
                         kind_name(root));
  }

  const Schema& schema = chip_schema();
  ParamSet ps;
  DiagnosticSink parsed;
  schema.parse(root, file, ps, parsed);
  for (const auto& ov : overrides) schema.apply_override(ov, ps, parsed, "-p");

  // Sharpen range messages and remember which keys failed their own checks.
  DiagnosticSink sink;
  std::set<std::string> bad;
  for (Diagnostic d : parsed.diagnostics()) {
    if (!d.path.empty()) bad.insert(d.path);
    if (const ParamDecl* decl = schema.find(d.path)) {
      const std::string why = range_reason(*decl, d.value);
      if (!why.empty()) d.message += "; " + why;
    }
    sink.add(std::move(d));
  }

  DiagnosticSink missing;
  schema.fill_defaults(ps, SourceLoc{file, 1, 1}, missing);
  for (Diagnostic d : missing.diagnostics()) {
    if (under_bad(bad, d.path)) continue;  // given, but rejected (or its section was)
    bad.insert(d.path);
    d.loc = section_loc(root, d.path, file, SourceLoc{file, 1, 1});
    sink.add(std::move(d));
  }

  CrossChecker checker(ps, bad, file, sink);
  cross_check(checker);

  if (!sink.empty()) {
    std::vector<Diagnostic> diags = sink.diagnostics();
    if (diags.size() > kMaxDiagnostics) {
      const size_t more = diags.size() - kMaxDiagnostics;
      diags.resize(kMaxDiagnostics);
      diags.push_back(
          Diagnostic{SourceLoc{file, 0, 0}, "", "", fmt::format("... and {} more problems", more)});
    }
    throw InputError(std::move(diags));
  }
  return from_values(ps);
}

ChipParams load_chip_file(const std::string& path, const std::vector<std::string>& overrides) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) throw InputError(SourceLoc{path, 0, 0}, "no such file");
  if (fs::is_directory(st)) {
    throw InputError(SourceLoc{path, 0, 0}, "is a directory; expected a chip .yaml file");
  }
  if (!fs::is_regular_file(st)) {
    throw InputError(SourceLoc{path, 0, 0}, "not a regular file; expected a chip .yaml file");
  }
  const auto size = fs::file_size(path, ec);
  if (!ec && size > kMaxChipYamlBytes) {
    throw InputError(SourceLoc{path, 0, 0},
                     fmt::format("file is {} bytes; a chip description is at most {} bytes", size,
                                 kMaxChipYamlBytes));
  }
  return parse_chip(read_text_file(path, kMaxChipYamlBytes), path, overrides);
}

ChipParams load_chip(const std::string& chip_arg, const std::vector<std::string>& overrides) {
  if (is_chip_path(chip_arg)) return load_chip_file(chip_arg, overrides);
  const std::string& text = preset_text(chip_arg);
  return parse_chip(text, "configs/chips/" + chip_arg + ".yaml", overrides);
}

std::string dump_chip(const ChipParams& chip) {
  std::string name = chip.name;
  for (char& ch : name) {
    if (static_cast<unsigned char>(ch) < 0x20) ch = ' ';  // keep the comment on one line
  }
  std::string head = "# nax chip '" + name +
                     "', fully resolved: every key, defaults included (`nax describe` explains "
                     "each).\n";
  head +=
      "# hash " + chip.hash + " (over the hardware keys; name and description are not hashed)\n";
  return head + chip_schema().emit_yaml(chip.values);
}

}  // namespace nax::hw
