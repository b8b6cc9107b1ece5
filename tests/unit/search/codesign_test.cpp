// Joint chip + network search (issue 7): chip decisions in a space file (`chip:`: options, the
// base chip's value as the baseline, `same_as` ties, variants, overrides, located errors) and the
// driver evaluating each candidate on its own chip: the cache keys on the resolved chip's hash, the
// area budget makes big chips infeasible with the reason, a combination the chip's validation
// refuses is infeasible, the energy objective needs an oracle that measures energy, and a joint
// search finds a chip other than the base when that pays. The space's hooks check options with the
// real chip loader (hw::load_chip); the driver's chips are a small analytic model (compute on
// rows x cols PEs, memory traffic that grows when the SRAM is small), so no SystemC runs here: the
// simulator path is tests/integration/cli_search_codesign_test.cpp.
#include <unistd.h>

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "hw/chip/chip.hpp"
#include "models/common/error.hpp"
#include "models/ir/analysis.hpp"
#include "nas/search/driver.hpp"
#include "tests/unit/search/temp_dir.hpp"

using namespace nax;
using namespace nax::search;
namespace fs = std::filesystem;

namespace {

const std::string kModel = std::string(NAX_SOURCE_DIR) + "/configs/models/camera_classifier.yaml";

using test::TempDir;  // tests/unit/search/temp_dir.hpp

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

// The hooks nax search gives a space (tools/nax/oracles.cpp chip_axes), over the default chip.
ChipAxes real_axes() {
  ChipAxes a;
  a.base_value = [](const std::string& key) {
    const hw::ChipParams base = hw::load_chip("default");
    if (!hw::chip_schema().find(key) || !base.values.has(key)) {
      std::vector<std::string> keys;
      for (const auto& d : hw::chip_schema().decls()) keys.push_back(d.path);
      throw InputError("not a chip parameter; did you mean " + did_you_mean(key, keys) + "?");
    }
    return format_value(base.values.entry(key).value);
  };
  a.check = [](const std::vector<std::string>& overrides) {
    try {
      hw::load_chip("default", overrides);
      return std::string();
    } catch (const InputError& e) {
      return std::string(e.what());
    }
  };
  return a;
}

SpaceOptions opts(const std::string& variant = "", bool with_chip = true) {
  SpaceOptions o;
  o.parallelism = 32;
  o.variant = variant;
  if (with_chip) o.chip = real_axes();
  return o;
}

const std::string kHead = "name: cd\nbase: " + kModel + "\n";

// A chip-aware space over the camera classifier: block types of s1 and s2, depth, and the chip.
const std::string kSpace = kHead +
                           "depth_multiplier: [0.5, 0.75, 1.0]\n"
                           "stages:\n"
                           "  s1: {type: [ibn, fused_ibn]}\n"
                           "  s2: {type: [ibn, fused_ibn]}\n"
                           "chip:\n"
                           "  mac_array.rows: [16, 32, 64]\n"
                           "  mac_array.cols: {same_as: mac_array.rows}\n"
                           "  sram.capacity_kib: [512, 1024]\n"
                           "  mac_array.dataflow: [os, ws]\n"
                           "  dram.bandwidth_gb_per_s: {values: [8.5, 17.0, 34], group: dram}\n"
                           "variants:\n"
                           "  net: [depth, type]\n"
                           "  joint: [depth, type, chip]\n"
                           "  all: [depth, type, chip, dram]\n";

int index_of(const SearchSpace& s, const std::string& name) {
  const auto& d = s.decisions();
  for (size_t i = 0; i < d.size(); ++i)
    if (d[i].name == name) return static_cast<int>(i);
  FAIL("no decision " << name);
  return -1;
}

Genotype with(const SearchSpace& s, Genotype g, const std::string& name, const std::string& v) {
  const Decision& d = s.decisions()[static_cast<size_t>(index_of(s, name))];
  const auto it = std::find(d.values.begin(), d.values.end(), v);
  REQUIRE(it != d.values.end());
  g[static_cast<size_t>(index_of(s, name))] = static_cast<int>(it - d.values.begin());
  return g;
}

// ---- a small analytic chip model for the driver ----

struct FakeChip {
  int rows = 32, cols = 32;
  int64_t sram_kib = 2048;
  std::string hash() const { return fmt::format("fake-{}x{}-{}", rows, cols, sram_kib); }
  // PEs 400 um2 each, 1 mm2 per MiB of SRAM, 0.58 mm2 of the rest (the default chip's table).
  double area_mm2() const {
    return 400e-6 * rows * cols + static_cast<double>(sram_kib) / 1024 + 0.58;
  }
};

// Cycles: per layer, compute on rows x cols PEs, or memory at 256 B/cycle, whichever is larger; an
// SRAM under 1 MiB re-reads every layer's weights and inputs twice. Energy: 1 pJ per MAC, 40 pJ
// per DRAM byte.
class FakeOracle : public LatencyOracle {
 public:
  FakeOracle(FakeChip c, int* calls, bool energy) : m_chip(c), m_calls(calls), m_energy(energy) {}
  std::string id() const override { return "fake-oracle"; }
  std::string chip_hash() const override { return m_chip.hash(); }
  double latency_ms(const ir::Graph& g) override { return measure(g).latency_ms; }
  bool measures_energy() const override { return m_energy; }
  Measurement measure(const ir::Graph& g) override {
    ++*m_calls;
    double cycles = 0, bytes = 0, macs = 0;
    const double reread = m_chip.sram_kib < 1024 ? 3 : 1;
    for (const auto& l : ir::analyze(g).layers) {
      const double b =
          static_cast<double>(l.weight_bytes + l.input_bytes) * reread + l.output_bytes;
      cycles += std::max(static_cast<double>(l.macs) / (m_chip.rows * m_chip.cols), b / 256);
      bytes += b;
      macs += static_cast<double>(l.macs);
    }
    Measurement m{cycles / 1e6, std::nullopt};
    if (m_energy) m.energy_uj = (macs * 1.0 + bytes * 40.0) * 1e-6;
    return m;
  }
  std::vector<std::pair<std::string, double>> breakdown_ms(const ir::Graph& g) override {
    return {{"all", latency_ms(g)}};
  }

 private:
  FakeChip m_chip;
  int* m_calls;
  bool m_energy;
};

// Resolves overrides of rows, cols and SRAM capacity; a 64x64 array with less than 1 MiB of SRAM
// is refused (as the chip loader refuses combinations).
class FakeChips : public ChipProvider {
 public:
  explicit FakeChips(bool energy = false) : m_energy(energy) {}
  const CandidateChip& base() override { return chip({}); }
  const CandidateChip& chip(const std::vector<std::string>& overrides) override {
    // One entry (and one oracle) per override set: two sets giving one chip share the cache only
    // through the driver's store, which is what the tests check.
    std::string key;
    for (const auto& o : overrides) key += o + ";";
    auto& e = m_entries[key];
    if (e) return e->chip;
    e = std::make_unique<Entry>();
    FakeChip c;
    for (const auto& o : overrides) {
      const auto eq = o.find('=');
      const std::string k = o.substr(0, eq), v = o.substr(eq + 1);
      if (k == "mac_array.rows")
        c.rows = std::stoi(v);
      else if (k == "mac_array.cols")
        c.cols = std::stoi(v);
      else if (k == "sram.capacity_kib")
        c.sram_kib = std::stoll(v);
      else
        e->chip.error = "unknown key " + k;
    }
    e->chip.overrides = overrides;
    if (c.rows * c.cols >= 4096 && c.sram_kib < 1024)
      e->chip.error = "sram.capacity_kib: a 64x64 array needs at least 1 MiB";
    if (e->chip.error.empty()) {
      e->oracle = std::make_unique<FakeOracle>(c, &calls, m_energy);
      e->chip.latency = e->oracle.get();
      e->chip.limits.name = "fake";
      e->chip.limits.hash = c.hash();
      e->chip.limits.sram_bytes = c.sram_kib * 1024;
      e->chip.limits.parallelism = c.cols;
      e->chip.limits.area_mm2 = c.area_mm2();
    }
    return e->chip;
  }
  int calls = 0;

 private:
  struct Entry {
    CandidateChip chip;
    std::unique_ptr<FakeOracle> oracle;
  };
  bool m_energy;
  std::map<std::string, std::unique_ptr<Entry>> m_entries;
};

// Hooks matching FakeChips (its keys and base values).
ChipAxes fake_axes() {
  ChipAxes a;
  a.base_value = [](const std::string& key) -> std::string {
    if (key == "mac_array.rows" || key == "mac_array.cols") return "32";
    if (key == "sram.capacity_kib") return "2048";
    throw InputError("not a chip parameter");
  };
  a.check = [](const std::vector<std::string>&) { return std::string(); };
  return a;
}

const std::string kJointSpace = kHead +
                                "stages:\n"
                                "  s1: {type: [ibn, fused_ibn]}\n"
                                "  s2: {type: [ibn, fused_ibn]}\n"
                                "  s3: {type: [ibn, fused_ibn]}\n"
                                "chip:\n"
                                "  mac_array.rows: [16, 32, 64]\n"
                                "  mac_array.cols: [16, 32, 64]\n"
                                "  sram.capacity_kib: [512, 1024, 2048]\n"
                                "variants:\n"
                                "  net: [type]\n"
                                "  joint: [type, chip]\n";

SearchSpace joint_space(const TempDir& dir, const std::string& variant) {
  SpaceOptions o;
  o.parallelism = 32;
  o.variant = variant;
  o.chip = fake_axes();
  return SearchSpace::load(dir.write("joint.yaml", kJointSpace), o);
}

SearchConfig config(int budget) {
  SearchConfig c;
  c.algorithm = "evolution";
  c.budget = budget;
  c.seed = 3;
  c.batch = 8;
  c.score.enabled = false;
  c.algorithm_options.population = 8;
  return c;
}

}  // namespace

TEST_CASE("space: chip decisions: options, baseline, ties, overrides, variants", "[space]") {
  TempDir dir("codesign_test_parse");
  const std::string path = dir.write("space.yaml", kSpace);
  const SearchSpace s = SearchSpace::load(path, opts());
  REQUIRE(s.has_chip());
  const Decision& rows = s.decisions()[static_cast<size_t>(index_of(s, "chip.mac_array.rows"))];
  CHECK(rows.is_chip());
  CHECK(rows.key == "chip");
  CHECK(rows.group == "chip");
  CHECK(rows.values == std::vector<std::string>{"16", "32", "64"});
  CHECK(rows.values[static_cast<size_t>(rows.baseline)] == "32");
  CHECK(rows.ordered);
  CHECK(rows.chip_keys == std::vector<std::string>{"mac_array.rows", "mac_array.cols"});
  // The tied key is no decision of its own.
  for (const auto& d : s.decisions()) CHECK(d.name != "chip.mac_array.cols");
  // The base chip's value is added where the file lacks it.
  const Decision& sram = s.decisions()[static_cast<size_t>(index_of(s, "chip.sram.capacity_kib"))];
  CHECK(sram.values == std::vector<std::string>{"512", "1024", "2048"});
  CHECK(sram.baseline == 2);
  // Names keep the file's order; 17.0 is the base chip's 17.
  const Decision& df = s.decisions()[static_cast<size_t>(index_of(s, "chip.mac_array.dataflow"))];
  CHECK(df.values == std::vector<std::string>{"os", "ws"});
  CHECK(df.values[static_cast<size_t>(df.baseline)] == "ws");
  CHECK_FALSE(df.ordered);
  const Decision& bw =
      s.decisions()[static_cast<size_t>(index_of(s, "chip.dram.bandwidth_gb_per_s"))];
  CHECK(bw.values == std::vector<std::string>{"8.5", "17.0", "34"});
  CHECK(bw.baseline == 1);
  CHECK(bw.group == "dram");

  // Overrides: only the options that differ from the base chip, tied keys together.
  const Genotype base = s.baseline();
  CHECK(s.chip_overrides(base).empty());
  CHECK(s.describe(base) == "baseline");
  Genotype g = with(s, base, "chip.mac_array.rows", "64");
  g = with(s, g, "chip.sram.capacity_kib", "1024");
  CHECK(s.chip_overrides(g) == std::vector<std::string>{"mac_array.rows=64", "mac_array.cols=64",
                                                        "sram.capacity_kib=1024"});
  CHECK(s.describe(g) == "chip.mac_array.rows=64 chip.sram.capacity_kib=1024");
  // The chip does not change the network.
  CHECK(ir::graph_hash(spec::build_graph(s.realize(g))) ==
        ir::graph_hash(spec::build_graph(s.realize(base))));
  CHECK(s.realize(g).name == s.realize(base).name);
  // Every override set the space can give is a chip the real loader accepts.
  for (const auto& d : s.decisions()) {
    if (!d.is_chip()) continue;
    for (size_t v = 0; v < d.values.size(); ++v) {
      Genotype x = base;
      x[static_cast<size_t>(&d - s.decisions().data())] = static_cast<int>(v);
      CHECK_NOTHROW(hw::load_chip("default", s.chip_overrides(x)));
    }
  }

  // Variants select chip groups like any other.
  CHECK_FALSE(SearchSpace::load(path, opts("net")).has_chip());
  const SearchSpace joint = SearchSpace::load(path, opts("joint"));
  CHECK(joint.has_chip());
  for (const auto& d : joint.decisions()) CHECK(d.group != "dram");
  CHECK(SearchSpace::load(path, opts("all")).decisions().size() == s.decisions().size());
  // Without a chip section the hooks are never needed; with one they are.
  CHECK_NOTHROW(SearchSpace::load(path, opts("net", true)));
  const std::string e = error_of([&] { SearchSpace::load(path, opts("net", false)); });
  INFO(e);
  CHECK(e.find(path + ":7:1: chip") != std::string::npos);
  CHECK(e.find("nax search") != std::string::npos);
}

TEST_CASE("space: the shipped co-design space loads with the default chip's checks", "[space]") {
  const std::string path =
      std::string(NAX_SOURCE_DIR) + "/configs/spaces/codesign-person-detector.yaml";
  for (const std::string variant : {"", "network", "joint", "joint-dram"}) {
    INFO(variant);
    const SearchSpace s = SearchSpace::load(path, opts(variant));
    CHECK(s.has_chip() == (variant != "network"));
    const Genotype b = s.baseline();
    CHECK(s.chip_overrides(b).empty());
    // The network decisions are person-detector.yaml's v3.
    SpaceOptions pd = opts("v3", false);
    const SearchSpace net =
        SearchSpace::load(std::string(NAX_SOURCE_DIR) + "/configs/spaces/person-detector.yaml", pd);
    size_t network = 0;
    for (const auto& d : s.decisions()) network += !d.is_chip();
    CHECK(network == net.decisions().size());
  }
}

TEST_CASE("space: chip decision errors name the file, the line and what was expected", "[space]") {
  TempDir dir("codesign_test_errors");
  const std::string file = (dir.path / "space.yaml").string();
  auto load_text = [&](const std::string& chip) {
    dir.write("space.yaml", kHead + "stages:\n  s1: {type: [ibn, fused_ibn]}\nchip:\n" + chip);
    return error_of([&] { SearchSpace::load(file, opts()); });
  };
  CHECK(load_text("  mac_array.rows: [16, 64]\n").empty());
  SECTION("an unknown key, with a did-you-mean") {
    const std::string e = load_text("  mac_array.rowz: [16, 64]\n");
    CHECK(e.find(file + ":6:3: chip.mac_array.rowz") != std::string::npos);
    CHECK(e.find("did you mean mac_array.rows?") != std::string::npos);
    CHECK(load_text("  name: [a, b]\n").find("not a hardware parameter") != std::string::npos);
  }
  SECTION("a value the chip refuses, at the option's line") {
    const std::string e = load_text("  mac_array.rows:\n    - 16\n    - 0\n  sram.banks: [3]\n");
    CHECK(e.find(file + ":8:7: chip.mac_array.rows = 0") != std::string::npos);
    CHECK(e.find(file + ":9:") != std::string::npos);  // 3 banks: not a power of two
    CHECK(e.find("not a valid chip") != std::string::npos);
    CHECK(load_text("  mac_array.dataflow: [ws, xs]\n").find("xs") != std::string::npos);
  }
  SECTION("malformed entries") {
    std::string e = load_text("  mac_array.rows: []\n");
    CHECK(e.find(file + ":6:") != std::string::npos);
    CHECK(e.find("empty list") != std::string::npos);
    e = load_text("  mac_array.rows: [[16, 32]]\n");
    CHECK(e.find("expected a value") != std::string::npos);
    e = load_text("  mac_array.rows: {valus: [16]}\n");
    CHECK(e.find(file + ":6:") != std::string::npos);
    CHECK(e.find("did you mean values?") != std::string::npos);
    e = load_text("  mac_array.rows: 16\n");
    CHECK(e.find("expected a list of options") != std::string::npos);
  }
  SECTION("ties") {
    std::string e = load_text("  mac_array.rows: [16, 64]\n  mac_array.cols: {same_as: rows}\n");
    CHECK(e.find(file + ":7:") != std::string::npos);
    CHECK(e.find("expected a key of this chip section") != std::string::npos);
    CHECK(e.find("(mac_array.rows)") != std::string::npos);
    // Tied keys must agree on the base chip (32 rows, 2048 KiB).
    e = load_text("  mac_array.rows: [16, 64]\n  sram.capacity_kib: {same_as: mac_array.rows}\n");
    CHECK(e.find(file + ":7:3: chip.sram.capacity_kib") != std::string::npos);
    CHECK(e.find("baseline would not be the base chip") != std::string::npos);
    e = load_text(
        "  mac_array.rows: [16, 64]\n  mac_array.cols: {same_as: mac_array.rows, values: [8]}\n");
    CHECK(e.find("same_as alone") != std::string::npos);
  }
  SECTION("a variant naming the chip group of a space without one") {
    dir.write("space.yaml",
              kHead + "stages:\n  s1: {type: [ibn, fused_ibn]}\nvariants:\n  j: [type, chip]\n");
    CHECK(error_of([&] { SearchSpace::load(file, opts()); }).find("chip") != std::string::npos);
  }
}

TEST_CASE("search: each candidate runs on its chip; the cache keys on the resolved chip",
          "[search]") {
  TempDir dir("codesign_test_cache");
  const SearchSpace s = joint_space(dir, "joint");
  FakeChips chips;
  const std::string db = (dir.path / "cache.db").string();
  Searcher searcher(s, chips, config(8), db, false);
  const spec::ModelSpec m = s.realize(s.baseline());
  const Metrics a = searcher.evaluate_model(m, false);
  const Metrics b = searcher.evaluate_model(m, false, {"mac_array.rows=64", "mac_array.cols=64"});
  CHECK(chips.calls == 2);
  CHECK(a.arch_hash == b.arch_hash);
  CHECK(a.chip_hash == "fake-32x32-2048");
  CHECK(b.chip_hash == "fake-64x64-2048");
  CHECK(*b.latency_ms < *a.latency_ms);
  CHECK(*b.area_mm2 > *a.area_mm2);
  CHECK(b.chip_overrides == std::vector<std::string>{"mac_array.rows=64", "mac_array.cols=64"});
  // Again: both from the cache. Another override set that resolves to a cached chip: the cache.
  CHECK(*searcher.evaluate_model(m, false).latency_ms == *a.latency_ms);
  CHECK(*searcher.evaluate_model(m, false, {"mac_array.rows=64", "mac_array.cols=64"}).latency_ms ==
        *b.latency_ms);
  CHECK(*searcher.evaluate_model(m, false, {"mac_array.rows=32"}).latency_ms == *a.latency_ms);
  CHECK(chips.calls == 2);
  // A new process (a new provider) on the same store measures nothing again.
  FakeChips chips2;
  Searcher again(s, chips2, config(8), db, true);
  CHECK(*again.evaluate_model(m, false, {"mac_array.rows=64", "mac_array.cols=64"}).latency_ms ==
        *b.latency_ms);
  CHECK(chips2.calls == 0);
  // An invalid chip: infeasible with the loader's reason, nothing measured.
  const Metrics bad = searcher.evaluate_model(
      m, false, {"mac_array.rows=64", "mac_array.cols=64", "sram.capacity_kib=512"});
  CHECK_FALSE(bad.feasible);
  CHECK(bad.reason.find("invalid chip: sram.capacity_kib") == 0);
  CHECK_FALSE(bad.latency_ms);
  CHECK(chips.calls == 2);
}

TEST_CASE("search: joint search under an area budget finds a better chip than the base",
          "[search]") {
  TempDir dir("codesign_test_joint");
  FakeChips net_chips, joint_chips;
  const SearchSpace net = joint_space(dir, "net");
  const SearchSpace joint = joint_space(dir, "joint");
  const double budget = FakeChip{}.area_mm2();
  SearchConfig c = config(96);
  c.constraints.max_area_mm2 = budget;
  c.algorithm_options.start = net.baseline();
  Searcher ns(net, net_chips, c, "", false);
  const SearchOutcome n = ns.run();
  c.algorithm_options.start = joint.baseline();
  Searcher js(joint, joint_chips, c, "", false);
  const SearchOutcome j = js.run();
  REQUIRE(n.best);
  REQUIRE(j.best);
  const Step& nb = n.steps[static_cast<size_t>(*n.best)];
  const Step& jb = j.steps[static_cast<size_t>(*j.best)];
  // Network-only: always the base chip.
  for (const auto& st : n.steps) CHECK(st.metrics.chip_hash == "fake-32x32-2048");
  // Joint: a bigger array paid for with SRAM, within the budget, faster than network-only.
  CHECK(jb.metrics.chip_hash != "fake-32x32-2048");
  CHECK(*jb.metrics.area_mm2 <= budget);
  CHECK(*jb.metrics.latency_ms < *nb.metrics.latency_ms);
  CHECK(jb.metrics.chip_overrides == joint.chip_overrides(jb.genotype));
  // Over-budget chips were proposed and refused with the reason; invalid ones too.
  int over = 0;
  for (const auto& st : j.steps) {
    if (st.metrics.feasible) {
      CHECK(*st.metrics.area_mm2 <= budget);
    } else if (st.metrics.reason.find("chip area") == 0) {
      ++over;
      CHECK(*st.metrics.area_mm2 > budget);
      CHECK(st.metrics.reason.find("mm2 > budget") != std::string::npos);
    }
  }
  CHECK(over > 0);
  // The front reports the area, one entry per (network, chip).
  std::set<std::string> seen;
  for (int i : j.pareto) {
    const Metrics& m = j.steps[static_cast<size_t>(i)].metrics;
    CHECK(m.area_mm2);
    CHECK(seen.insert(m.arch_hash + m.chip_hash).second);
  }
  CHECK(search::steps_csv(joint, j.steps).find("energy_uj,area_mm2,chip_hash") !=
        std::string::npos);
  // Deterministic: the same run again gives the same steps.
  FakeChips again_chips;
  Searcher js2(joint, again_chips, c, "", false);
  const SearchOutcome j2 = js2.run();
  REQUIRE(j2.steps.size() == j.steps.size());
  for (size_t i = 0; i < j.steps.size(); ++i) {
    CHECK(j2.steps[i].genotype == j.steps[i].genotype);
    CHECK(j2.steps[i].metrics.to_json() == j.steps[i].metrics.to_json());
  }
  // Without the budget the biggest chip wins.
  SearchConfig free = c;
  free.constraints.max_area_mm2.reset();
  FakeChips free_chips;
  Searcher fs_(joint, free_chips, free, "", false);
  const SearchOutcome f = fs_.run();
  REQUIRE(f.best);
  CHECK(*f.steps[static_cast<size_t>(*f.best)].metrics.area_mm2 > budget);
}

TEST_CASE("search: chip decisions need a chip provider; energy needs an oracle that measures it",
          "[search]") {
  TempDir dir("codesign_test_refuse");
  const SearchSpace joint = joint_space(dir, "joint");
  FakeChips chips;
  FakeOracle oracle(FakeChip{}, &chips.calls, false);
  ChipLimits limits;
  limits.hash = "fake-32x32-2048";
  limits.parallelism = 32;
  const std::string e = error_of([&] { Searcher(joint, oracle, limits, config(8), "", false); });
  CHECK(e.find("chip decisions") != std::string::npos);
  SearchConfig c = config(24);
  c.objective = Objective::kEnergy;
  const std::string e2 = error_of([&] { Searcher(joint, chips, c, "", false); });
  CHECK(e2.find("does not measure energy") != std::string::npos);
  // With energy measured: the best minimises energy, and every feasible step has it.
  FakeChips energy_chips(true);
  Searcher s(joint, energy_chips, c, "", false);
  const SearchOutcome out = s.run();
  REQUIRE(out.best);
  for (const auto& st : out.steps)
    if (st.metrics.feasible) CHECK(st.metrics.energy_uj);
  const double best = *out.steps[static_cast<size_t>(*out.best)].metrics.energy_uj;
  for (const auto& st : out.steps)
    if (st.metrics.feasible) CHECK(*st.metrics.energy_uj >= best);
}

TEST_CASE("evolution: start_free draws the chip decisions of the initial population at random",
          "[search]") {
  TempDir dir("codesign_test_start");
  const SearchSpace joint = joint_space(dir, "joint");
  AlgorithmOptions o;
  o.population = 12;
  o.start = joint.baseline();
  for (const auto& d : joint.decisions()) o.start_free.push_back(d.is_chip());
  auto algo = make_algorithm("evolution", joint.cardinalities(), joint.ordered(), 5, o);
  const std::vector<Genotype> first = algo->ask(12);
  REQUIRE(first.size() == 12);
  CHECK(first.front() == joint.baseline());
  std::set<std::vector<std::string>> chips;
  for (const auto& g : first) {
    for (size_t d = 0; d < g.size(); ++d)
      if (!joint.decisions()[d].is_chip()) CHECK(g[d] == joint.baseline()[d]);
    chips.insert(joint.chip_overrides(g));
  }
  CHECK(chips.size() == 12);  // every member a different chip, the network the baseline's
  // A flag per decision, or none.
  o.start_free.pop_back();
  CHECK_THROWS_AS(make_algorithm("evolution", joint.cardinalities(), joint.ordered(), 5, o),
                  InputError);
}
