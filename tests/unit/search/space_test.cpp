// Search spaces (nas/search/space.hpp): the shipped spaces in configs/spaces load in every form
// and their baselines are their base models; channel options (curated multiples of the
// parallelism factor vs every integer); realize() changes exactly what a genotype says and ignores
// decisions of blocks that do not exist; variants; and the loader's located error messages.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "models/ir/analysis.hpp"
#include "models/model_source.hpp"
#include "nas/search/space.hpp"
#include "tests/unit/search/temp_dir.hpp"

using namespace nax;
using namespace nax::search;
namespace fs = std::filesystem;

namespace {

const std::string kSpaces = std::string(NAX_SOURCE_DIR) + "/configs/spaces";
const std::vector<std::string> kShipped = {"person-detector", "camera-classifier", "segmentation"};

std::string space_path(const std::string& name) {
  return kSpaces + "/" + name + ".yaml";
}

SpaceOptions opts(bool curated, int parallelism, const std::string& variant = "") {
  SpaceOptions o;
  o.curated = curated;
  o.parallelism = parallelism;
  o.variant = variant;
  return o;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

std::string hash_of(const spec::ModelSpec& m) {
  return ir::graph_hash(spec::build_graph(m));
}

int index_of(const SearchSpace& s, const std::string& name) {
  const auto& d = s.decisions();
  for (size_t i = 0; i < d.size(); ++i) {
    if (d[i].name == name) return static_cast<int>(i);
  }
  FAIL("no decision " << name);
  return -1;
}

int option_of(const SearchSpace& s, const std::string& name, const std::string& value) {
  const Decision& d = s.decisions()[static_cast<size_t>(index_of(s, name))];
  for (size_t i = 0; i < d.values.size(); ++i) {
    if (d.values[i] == value) return static_cast<int>(i);
  }
  FAIL("decision " << name << " has no option " << value);
  return -1;
}

Genotype with(const SearchSpace& s, Genotype g, const std::string& name, const std::string& v) {
  g[static_cast<size_t>(index_of(s, name))] = option_of(s, name, v);
  return g;
}

// Type and explicit parameters of every block, by name.
std::map<std::string, std::string> blocks_of(const spec::ModelSpec& m) {
  std::map<std::string, std::string> out;
  for (const auto& st : m.stages) {
    for (const auto& b : st.blocks) {
      std::string s = b.type;
      for (const auto& kv : b.params) s += " " + kv.first + "=" + format_value(kv.second);
      out[b.name] = s;
    }
  }
  return out;
}

// The resolved value of a block parameter, as text.
std::string param(const spec::ModelSpec& m, const std::string& block, const std::string& key) {
  const spec::BlockSpec* b = m.find_block(block);
  REQUIRE(b != nullptr);
  ParamSet ps;
  DiagnosticSink sink;
  REQUIRE(spec::resolve_block(*b, ps, sink));
  return format_value(ps.entry(key).value);
}

using test::TempDir;  // tests/unit/search/temp_dir.hpp

const char* const kSmallModel = R"(name: small
input: {channels: 3, height: 32, width: 32}
stages:
  - name: stem
    fixed_depth: true
    blocks:
      - {type: conv, out: 16, kernel: 3, stride: 2}
  - name: s1
    blocks:
      - {type: ibn, out: 24, expansion: 4, stride: 2}
      - {type: ibn, out: 24, expansion: 4, repeats: 2}
  - name: s2
    blocks:
      - {type: ibn, out: 32, expansion: 4, stride: 2}
      - {type: ibn, out: 48, expansion: 4}
  - name: head
    fixed_depth: true
    blocks:
      - {type: global_pool}
      - {type: fc, out: 10}
)";

}  // namespace

TEST_CASE("space: every shipped space loads in every form and its baseline is its base model",
          "[space]") {
  for (const std::string& name : kShipped) {
    const std::string path = space_path(name);
    const SearchSpace all = SearchSpace::load(path, opts(true, 32));
    const Model base = load_model(all.base_source());
    std::vector<std::string> variants = all.variants();
    REQUIRE(variants.size() >= 3);
    variants.insert(variants.begin(), "");
    for (const std::string& variant : variants) {
      for (const bool curated : {true, false}) {
        for (const int p : {8, 32}) {
          INFO(name << " variant '" << variant << "' curated " << curated << " parallelism " << p);
          const SearchSpace s = SearchSpace::load(path, opts(curated, p, variant));
          CHECK(s.name() == name);
          REQUIRE(!s.decisions().empty());
          spec::ModelSpec m = s.realize(s.baseline());
          CHECK(hash_of(m) == base.hash);
          CHECK(m.name.rfind(name + "-", 0) == 0);
          CHECK(m.name.size() == name.size() + 9);
          CHECK(s.describe(s.baseline()) == "baseline");
          for (const Decision& d : s.decisions()) {
            INFO(d.name);
            CHECK(d.baseline >= 0);
            CHECK(d.baseline < static_cast<int>(d.values.size()));
            CHECK(std::set<std::string>(d.values.begin(), d.values.end()).size() ==
                  d.values.size());
            if (d.ordered) {
              for (size_t i = 1; i < d.values.size(); ++i)
                CHECK(std::stod(d.values[i - 1]) < std::stod(d.values[i]));
            }
          }
          double lg = 0;
          for (int c : s.cardinalities()) lg += std::log10(c);
          CHECK(s.log10_size() == Approx(lg));
        }
      }
    }
  }
}

TEST_CASE("space: random genotypes of the shipped spaces realize to models that build", "[space]") {
  uint64_t state = 12345;
  auto next = [&](int n) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<int>((state >> 33) % static_cast<uint64_t>(n));
  };
  for (const std::string& name : kShipped) {
    for (const bool curated : {true, false}) {
      const SearchSpace s = SearchSpace::load(space_path(name), opts(curated, 8));
      const std::string base_hash = hash_of(s.realize(s.baseline()));
      std::set<std::string> names;
      for (int k = 0; k < 25; ++k) {
        Genotype g;
        for (int c : s.cardinalities()) g.push_back(next(c));
        INFO(name << " curated " << curated << ": " << s.describe(g));
        spec::ModelSpec m;
        REQUIRE_NOTHROW(m = s.realize(g));
        std::string h;
        REQUIRE_NOTHROW(h = hash_of(m));
        CHECK(h != base_hash);
        names.insert(m.name);
        // The decisions describe() leaves out are inactive or at the baseline: setting them to
        // the baseline gives the same model.
        const std::vector<bool> on = s.active(g);
        Genotype same = g;
        for (size_t i = 0; i < g.size(); ++i) {
          if (!on[i]) same[i] = s.decisions()[i].baseline;
        }
        CHECK(s.realize(same).name == m.name);
      }
      CHECK(names.size() == 25);
    }
  }
}

TEST_CASE("space: channel options", "[space]") {
  SECTION("curated: multiples of the parallelism factor, evenly spread, ends kept") {
    CHECK(channel_options(16, 48, 32, true, 8, 6) == std::vector<int>{16, 24, 32, 40, 48});
    // 13 multiples of 8 in [32, 128], six kept: indices round(i x 12 / 5) = 0, 2, 5, 7, 10, 12.
    CHECK(channel_options(32, 128, 64, true, 8, 6) ==
          std::vector<int>{32, 48, 64, 72, 88, 112, 128});
    CHECK(channel_options(30, 100, 64, true, 32, 6) == std::vector<int>{32, 64, 96});
    // The baseline is added when it is not one of them.
    CHECK(channel_options(12, 36, 24, true, 32, 6) == std::vector<int>{24, 32});
    CHECK(channel_options(80, 240, 160, true, 32, 3) == std::vector<int>{96, 160, 224});
    CHECK(channel_options(80, 240, 100, true, 32, 3) == std::vector<int>{96, 100, 160, 224});
  }
  SECTION("curated: no multiple inside the range gives the nearest one") {
    CHECK(channel_options(9, 12, 10, true, 16, 6) == std::vector<int>{10, 16});
    CHECK(channel_options(34, 36, 35, true, 32, 6) == std::vector<int>{32, 35});
    CHECK(channel_options(3, 5, 4, true, 32, 6) == std::vector<int>{4, 32});  // never 0
  }
  SECTION("uncurated: every integer of the range") {
    const std::vector<int> v = channel_options(12, 36, 24, false, 32, 6);
    REQUIRE(v.size() == 25);
    for (size_t i = 0; i < v.size(); ++i) CHECK(v[i] == 12 + static_cast<int>(i));
    CHECK(channel_options(12, 14, 20, false, 32, 6) == std::vector<int>{12, 13, 14, 20});
  }
  SECTION("bad ranges") {
    CHECK(error_of([] { channel_options(10, 9, 9, true, 8, 6); }).find("min <= max") !=
          std::string::npos);
    CHECK_THROWS_AS(channel_options(0, 9, 9, false, 8, 6), InputError);
    CHECK_THROWS_AS(channel_options(8, 16, 8, true, 0, 6), InputError);
  }
}

TEST_CASE(
    "space: curated channels are multiples of the parallelism factor, uncurated every "
    "integer, and the curated space is inside the uncurated one",
    "[space]") {
  for (const std::string& name : kShipped) {
    for (const int p : {8, 32}) {
      INFO(name << " parallelism " << p);
      const SearchSpace cur = SearchSpace::load(space_path(name), opts(true, p));
      const SearchSpace unc = SearchSpace::load(space_path(name), opts(false, p));
      REQUIRE(cur.decisions().size() == unc.decisions().size());
      CHECK(cur.log10_size() < unc.log10_size());
      int channel_decisions = 0;
      for (size_t i = 0; i < cur.decisions().size(); ++i) {
        const Decision& c = cur.decisions()[i];
        const Decision& u = unc.decisions()[i];
        INFO(c.name);
        REQUIRE(c.name == u.name);
        CHECK(c.values[static_cast<size_t>(c.baseline)] ==
              u.values[static_cast<size_t>(u.baseline)]);
        for (const auto& v : c.values)
          CHECK(std::find(u.values.begin(), u.values.end(), v) != u.values.end());
        if (c.key != "out" && c.key != "inter") {
          if (c.key != "depth_multiplier") CHECK(c.values == u.values);
          continue;
        }
        ++channel_decisions;
        const std::string& base = c.values[static_cast<size_t>(c.baseline)];
        CHECK(c.values.size() <= 7);  // curated_values 6, plus the baseline
        for (const auto& v : c.values) {
          if (v != base) CHECK(std::stoi(v) % p == 0);
        }
        // Uncurated: consecutive integers (the baseline may sit outside the range).
        int steps_of_one = 0;
        for (size_t k = 1; k < u.values.size(); ++k)
          steps_of_one += std::stoi(u.values[k]) - std::stoi(u.values[k - 1]) == 1;
        CHECK(steps_of_one >= static_cast<int>(u.values.size()) - 2);
        CHECK(u.values.size() > c.values.size());
      }
      CHECK(channel_decisions > 0);
    }
  }
  // Depth multipliers: the file's list vs every 0.05 over its span.
  const SearchSpace cur = SearchSpace::load(space_path("camera-classifier"), opts(true, 8));
  const SearchSpace unc = SearchSpace::load(space_path("camera-classifier"), opts(false, 8));
  const Decision& dc = cur.decisions()[static_cast<size_t>(index_of(cur, "depth_multiplier"))];
  const Decision& du = unc.decisions()[static_cast<size_t>(index_of(unc, "depth_multiplier"))];
  CHECK(dc.values == std::vector<std::string>{"0.5", "0.75", "1", "1.25"});
  REQUIRE(du.values.size() == 16);
  CHECK(du.values.front() == "0.5");
  CHECK(du.values[1] == "0.55");
  CHECK(du.values.back() == "1.25");
  CHECK(du.values[static_cast<size_t>(du.baseline)] == "1");
}

TEST_CASE("space: realize changes exactly what the genotype says", "[space]") {
  const SearchSpace s = SearchSpace::load(space_path("person-detector"), opts(true, 8));
  spec::ModelSpec base = s.realize(s.baseline());
  const auto base_blocks = blocks_of(base);

  SECTION("one block's type") {
    const Genotype g = with(s, s.baseline(), "s3.1.type", "fused_ibn");
    spec::ModelSpec m = s.realize(g);
    auto blocks = blocks_of(m);
    REQUIRE(blocks.size() == base_blocks.size());
    CHECK(m.find_block("s3.1")->type == "fused_ibn");
    for (const auto& [name, text] : base_blocks) {
      if (name != "s3.1") CHECK(blocks[name] == text);
    }
    CHECK(hash_of(m) != hash_of(base));
    CHECK(m.name != base.name);
    CHECK(s.describe(g) == "s3.1.type=fused_ibn");
    // The same genotype gives the same model and name.
    CHECK(s.realize(g).name == m.name);
  }
  SECTION("a stage's width changes every block of the stage") {
    const Genotype g = with(s, s.baseline(), "s4.out", "48");
    spec::ModelSpec m = s.realize(g);
    for (int i = 0; i < 4; ++i) CHECK(param(m, "s4." + std::to_string(i), "out") == "48");
    CHECK(param(m, "s5.0", "out") == "96");
    CHECK(param(m, "s3.2", "out") == "32");
  }
  SECTION("repeats, and decisions of blocks that no longer exist are ignored") {
    const Genotype shallow = with(s, s.baseline(), "s3.repeats", "1");
    spec::ModelSpec m = s.realize(shallow);
    CHECK(m.find_stage("s3")->blocks.size() == 1);
    CHECK(m.num_blocks() + 2 == base.num_blocks());
    const Genotype also =
        with(s, with(s, shallow, "s3.2.type", "fused_ibn"), "s3.1.type", "fused_ibn");
    spec::ModelSpec m2 = s.realize(also);
    CHECK(m2.name == m.name);
    CHECK(hash_of(m2) == hash_of(m));
    const std::vector<bool> on = s.active(also);
    CHECK_FALSE(on[static_cast<size_t>(index_of(s, "s3.1.type"))]);
    CHECK_FALSE(on[static_cast<size_t>(index_of(s, "s3.2.type"))]);
    CHECK(on[static_cast<size_t>(index_of(s, "s3.0.type"))]);
    CHECK(s.describe(also) == "s3.repeats=1");
    // A block that does exist is changed.
    spec::ModelSpec m3 = s.realize(with(s, shallow, "s3.0.type", "fused_ibn"));
    CHECK(m3.find_block("s3.0")->type == "fused_ibn");
    CHECK(hash_of(m3) != hash_of(m));
  }
  SECTION("bad genotypes") {
    Genotype g = s.baseline();
    g.pop_back();
    CHECK(error_of([&] { s.realize(g); }).find("one per decision") != std::string::npos);
    g = s.baseline();
    const int i = index_of(s, "s6.out");
    g[static_cast<size_t>(i)] =
        static_cast<int>(s.decisions()[static_cast<size_t>(i)].values.size());
    const std::string e = error_of([&] { s.realize(g); });
    CHECK(e.find("s6.out") != std::string::npos);
    CHECK(e.find("expected an option index in [0, ") != std::string::npos);
    g[static_cast<size_t>(i)] = -1;
    CHECK_THROWS_AS(s.realize(g), InputError);
  }
}

TEST_CASE("space: depth multiplier, expansion and head width (camera classifier)", "[space]") {
  const SearchSpace s = SearchSpace::load(space_path("camera-classifier"), opts(true, 8));
  spec::ModelSpec base = s.realize(s.baseline());
  CHECK(base.num_blocks() == 21);

  spec::ModelSpec half = s.realize(with(s, s.baseline(), "depth_multiplier", "0.5"));
  // s1..s7 have 1, 2, 3, 4, 3, 3, 1 blocks; x0.5 rounded up: 1, 1, 2, 2, 2, 2, 1.
  CHECK(half.num_blocks() == 21 - 6);
  CHECK(half.find_stage("s4")->blocks.size() == 2);
  CHECK(half.find_stage("head")->blocks.size() == 1);  // fixed depth

  // x1.25: blocks beyond the baseline's depth have decisions of their own.
  const Genotype deep = with(s, s.baseline(), "depth_multiplier", "1.25");
  CHECK(s.realize(deep).find_stage("s4")->blocks.size() == 5);
  spec::ModelSpec deep_fused = s.realize(with(s, deep, "s4.4.type", "fused_ibn"));
  CHECK(deep_fused.find_block("s4.4")->type == "fused_ibn");
  CHECK(deep_fused.find_block("s4.3")->type == "ibn");
  // ... which do nothing at the baseline's depth.
  CHECK(s.realize(with(s, s.baseline(), "s4.4.type", "fused_ibn")).name == base.name);

  spec::ModelSpec m =
      s.realize(with(s, with(s, s.baseline(), "s4.0.expansion", "3"), "head.out", "320"));
  CHECK(param(m, "s4.0", "expansion") == "3");
  CHECK(param(m, "s4.1", "expansion") == "6");
  CHECK(param(m, "head.0", "out") == "320");
  CHECK(param(m, "classifier.1", "out") == "10");
  CHECK(hash_of(m) != hash_of(base));
}

TEST_CASE("space: variants keep only their groups' decisions", "[space]") {
  const std::string path = space_path("person-detector");
  const SearchSpace all = SearchSpace::load(path, opts(true, 8));
  CHECK(all.variants() == std::vector<std::string>{"v1", "v2", "v3", "curation"});

  const SearchSpace v2 = SearchSpace::load(path, opts(true, 8, "v2"));
  // Types only, and only of blocks the baseline has (depth stays at the baseline's):
  // s1..s7 have 1 + 2 + 3 + 4 + 3 + 3 + 1 blocks.
  CHECK(v2.decisions().size() == 17);
  for (const Decision& d : v2.decisions()) CHECK(d.group == "type");
  // The full space has type decisions for the same blocks (repeats never exceed the baseline).
  int full_types = 0;
  for (const Decision& d : all.decisions()) full_types += d.group == "type";
  CHECK(full_types == 17);

  const SearchSpace v1 = SearchSpace::load(path, opts(true, 8, "v1"));
  CHECK(v1.decisions().size() == 5);
  for (const Decision& d : v1.decisions()) CHECK(d.key == "repeats");

  const SearchSpace cur = SearchSpace::load(path, opts(true, 8, "curation"));
  std::set<std::string> groups;
  for (const Decision& d : cur.decisions()) groups.insert(d.group);
  CHECK(groups == std::set<std::string>{"channels", "depth"});
  CHECK(cur.decisions().size() == 10);

  // A variant's genotype realizes the same model as the full space's genotype with the same
  // choices and the other decisions at the baseline.
  spec::ModelSpec a = v2.realize(with(v2, v2.baseline(), "s5.2.type", "fused_ibn"));
  spec::ModelSpec b = all.realize(with(all, all.baseline(), "s5.2.type", "fused_ibn"));
  CHECK(a.name.substr(a.name.find('-')) == b.name.substr(b.name.find('-')));
  CHECK(hash_of(a) == hash_of(b));

  // Segmentation: the head group; resolution.
  const SearchSpace seg = SearchSpace::load(space_path("segmentation"), opts(true, 32, "v1"));
  REQUIRE(seg.decisions().size() == 1);
  CHECK(seg.decisions()[0].values == std::vector<std::string>{"384", "448", "512"});
  spec::ModelSpec small = seg.realize(Genotype{0});
  CHECK(small.height == 384);
  CHECK(small.width == 384);
}

TEST_CASE("space: a base model YAML relative to the space file", "[space]") {
  TempDir dir("space_test_relative");
  fs::create_directories(dir.path / "models");
  fs::create_directories(dir.path / "spaces");
  dir.write("models/small.yaml", kSmallModel);
  const std::string path = dir.write("spaces/small.yaml", R"(name: small-space
base: ../models/small.yaml
stages:
  s1: {type: [ibn, fused_ibn], out: {min: 8, max: 40}}
  s2: {kernel: [3, 5], out: {min: 16, max: 64, per: block}}
)");
  const SearchSpace s = SearchSpace::load(path, opts(true, 16));
  CHECK(fs::equivalent(s.base_source(), dir.path / "models/small.yaml"));
  CHECK(hash_of(s.realize(s.baseline())) == load_model(s.base_source()).hash);
  // s2's blocks differ in width (32, 48): per block, each with its own baseline.
  const Decision& w0 = s.decisions()[static_cast<size_t>(index_of(s, "s2.0.out"))];
  const Decision& w1 = s.decisions()[static_cast<size_t>(index_of(s, "s2.1.out"))];
  CHECK(w0.values == std::vector<std::string>{"16", "32", "48", "64"});
  CHECK(w0.values[static_cast<size_t>(w0.baseline)] == "32");
  CHECK(w1.values[static_cast<size_t>(w1.baseline)] == "48");
  CHECK(w1.group == "channels");
  const Decision& k0 = s.decisions()[static_cast<size_t>(index_of(s, "s2.0.kernel"))];
  CHECK(k0.values == std::vector<std::string>{"3", "5"});
  CHECK(k0.ordered);
  spec::ModelSpec m = s.realize(with(s, s.baseline(), "s2.1.kernel", "5"));
  CHECK(param(m, "s2.1", "kernel") == "5");
  CHECK(param(m, "s2.0", "kernel") == "3");
}

TEST_CASE("space: errors name the file, the line and what was expected", "[space]") {
  TempDir dir("space_test_errors");
  dir.write("small.yaml", kSmallModel);
  auto load_text = [&](const std::string& text, const std::string& variant = "") {
    const std::string path = dir.write("space.yaml", text);
    return error_of([&] { SearchSpace::load(path, opts(true, 8, variant)); });
  };
  const std::string file = (dir.path / "space.yaml").string();
  const std::string head = "name: t\nbase: small.yaml\n";

  SECTION("an unknown key") {
    const std::string e =
        load_text(head + "stages:\n  s1: {type: [ibn, fused_ibn]}\nvariant:\n  v1: [type]\n");
    CHECK(e.find(file + ":5:1: variant") != std::string::npos);
    CHECK(e.find("did you mean variants?") != std::string::npos);
    const std::string e2 = load_text(head + "stages:\n  s1: {type: [ibn], kernal: [3, 5]}\n");
    CHECK(e2.find(file + ":4:") != std::string::npos);
    CHECK(e2.find("stages.s1.kernal") != std::string::npos);
    CHECK(e2.find("did you mean kernel?") != std::string::npos);
    const std::string e3 = load_text(head + "stages:\n  s1:\n    out: {min: 8, mx: 32}\n");
    CHECK(e3.find(file + ":5:") != std::string::npos);
    CHECK(e3.find("did you mean max?") != std::string::npos);
  }
  SECTION("a stage the baseline lacks") {
    const std::string e = load_text(head + "stages:\n  s3: {type: [ibn, fused_ibn]}\n");
    CHECK(e.find(file + ":4:3: stages.s3") != std::string::npos);
    CHECK(e.find("no stage of this name") != std::string::npos);
    CHECK(e.find("stem, s1, s2, head") != std::string::npos);
  }
  SECTION("an undeclared variant") {
    const std::string text =
        head + "stages:\n  s1: {type: [ibn, fused_ibn]}\nvariants:\n  v1: [type]\n";
    CHECK(load_text(text, "v1").empty());
    const std::string e = load_text(text, "v2");
    CHECK(e.find(file + ":6:") != std::string::npos);
    CHECK(e.find("variant = v2") != std::string::npos);
    CHECK(e.find("expected one of v1") != std::string::npos);
  }
  SECTION("a variant naming a group no decision has") {
    const std::string e = load_text(
        head + "stages:\n  s1: {type: [ibn, fused_ibn]}\nvariants:\n  v1: [type, kernle]\n");
    CHECK(e.find(file + ":6:") != std::string::npos);
    CHECK(e.find("kernle") != std::string::npos);
    CHECK(e.find("groups: type") != std::string::npos);
  }
  SECTION("bad options") {
    std::string e = load_text(head + "stages:\n  s1: {type: []}\n");
    CHECK(e.find(file + ":4:") != std::string::npos);
    CHECK(e.find("empty list") != std::string::npos);
    e = load_text(head + "stages:\n  s1: {out: {min: 40, max: 8}}\n");
    CHECK(e.find(file + ":4:") != std::string::npos);
    CHECK(e.find("min <= max") != std::string::npos);
    e = load_text(head + "stages:\n  s1: {type: [ibn, fused_inb]}\n");
    CHECK(e.find(file + ":4:") != std::string::npos);
    CHECK(e.find("did you mean fused_ibn?") != std::string::npos);
    // conv has no expansion: the option cannot apply to an ibn block.
    e = load_text(head + "stages:\n  s1: {type: [ibn, conv]}\n");
    CHECK(e.find(file + ":4:") != std::string::npos);
    CHECK(e.find("conv") != std::string::npos);
    // A kernel the block builder refuses is found when the file is loaded.
    e = load_text(head + "stages:\n  s1: {kernel: [3, 4]}\n");
    CHECK(e.find(file + ":4:") != std::string::npos);
    CHECK(e.find("odd kernel") != std::string::npos);
    e = load_text(head + "stages:\n  s1: {kernel: {min: 3, max: 5}}\n");
    CHECK(e.find("expected a list of options") != std::string::npos);
    e = load_text(head + "stages:\n  s1: {repeats: [0, 1]}\n");
    CHECK(e.find(file + ":4:") != std::string::npos);
  }
  SECTION("a stage-wide decision over blocks that differ") {
    const std::string e = load_text(head + "stages:\n  s2: {out: {min: 16, max: 64}}\n");
    CHECK(e.find(file + ":4:") != std::string::npos);
    CHECK(e.find("per: block") != std::string::npos);
  }
  SECTION("a depth multiplier that changes nothing") {
    const std::string e = load_text(head +
                                    "depth_multiplier: [0.75, 1.0]\nstages:\n  s1: {repeats: [1, "
                                    "2, 3]}\n  s2: {repeats: [1, 2]}\n");
    CHECK(e.find(file + ":3:") != std::string::npos);
    CHECK(e.find("changes no stage") != std::string::npos);
    CHECK(load_text(head + "depth_multiplier: [0.5, 1.0]\nstages:\n  s1: {repeats: [1, 2, 3]}\n")
              .empty());
  }
  SECTION("a base that cannot be used") {
    std::string e = load_text("name: t\nbase: mobilenet_v9\nstages:\n  s1: {type: [ibn]}\n");
    CHECK(e.find(file + ":2:") != std::string::npos);
    CHECK(e.find("mobilenet_v2") != std::string::npos);
    e = load_text("name: t\nbase: net.onnx\nstages:\n  s1: {type: [ibn]}\n");
    CHECK(e.find(file + ":2:") != std::string::npos);
    CHECK(e.find("ONNX") != std::string::npos);
    e = load_text("name: t\nstages:\n  s1: {type: [ibn]}\n");
    CHECK(e.find("base: missing required key") != std::string::npos);
  }
  SECTION("several problems are reported together") {
    const std::string e =
        load_text(head + "curated_values: 1\nstages:\n  s1: {type: [ibm]}\n  s9: {type: [ibn]}\n");
    CHECK(e.find(file + ":3:") != std::string::npos);
    CHECK(e.find(file + ":5:") != std::string::npos);
    CHECK(e.find(file + ":6:") != std::string::npos);
  }
}
