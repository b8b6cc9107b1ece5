#include "models/estimate/sampler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "models/common/error.hpp"
#include "models/ir/analysis.hpp"
#include "models/zoo/zoo.hpp"

namespace nax::est {

// ---- SplitMix64 ----

namespace {

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

SplitMix64 SplitMix64::for_sample(uint64_t seed, int64_t index) {
  return SplitMix64(
      mix64(mix64(seed) ^ ((static_cast<uint64_t>(index) + 1) * 0xD1B54A32D192ED03ull)));
}

uint64_t SplitMix64::next() {
  m_state += 0x9E3779B97F4A7C15ull;
  return mix64(m_state);
}

int64_t SplitMix64::uniform_int(int64_t lo, int64_t hi) {
  if (hi <= lo) return lo;
  const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
  return lo + static_cast<int64_t>(next() % span);
}

double SplitMix64::uniform01() {
  return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0);
}

size_t SplitMix64::weighted(const std::vector<int>& weights) {
  int total = 0;
  for (int w : weights) total += w;
  int64_t r = uniform_int(0, total - 1);
  for (size_t i = 0; i < weights.size(); ++i) {
    if (r < weights[i]) return i;
    r -= weights[i];
  }
  return weights.size() - 1;
}

std::string sample_source(uint64_t seed, int64_t index) {
  return fmt::format("sample seed={} index={}", seed, index);
}

namespace {

template <typename T>
const T& pick(SplitMix64& rng, const std::vector<T>& v) {
  return v[static_cast<size_t>(rng.uniform_int(0, static_cast<int64_t>(v.size()) - 1))];
}

// A channel count in [lo, hi]: with probability 1/2 as drawn (any integer), else rounded up to a
// multiple of 8, 16, 32 or 64 (equally likely).
int64_t draw_channels(SplitMix64& rng, int64_t lo, int64_t hi) {
  const int64_t v = rng.uniform_int(lo, hi);
  if (rng.chance(0.5)) return v;
  const int64_t m = pick<int64_t>(rng, {8, 16, 32, 64});
  return (v + m - 1) / m * m;
}

int64_t draw_resolution(SplitMix64& rng) {
  if (rng.chance(0.8)) return 96 + 32 * rng.uniform_int(0, 7);
  return rng.uniform_int(64, 320);
}

spec::BlockSpec block(const std::string& type, const std::string& name) {
  spec::BlockSpec b;
  b.type = type;
  b.name = name;
  return b;
}

int64_t down(int64_t h, int64_t stride) {
  return (h + stride - 1) / stride;
}

const std::vector<std::string> kActs = {"relu", "relu6", "hswish"};
constexpr int64_t kMaxChainMacs = 600000000;
constexpr int kChainAttempts = 16;

// ---- the "chain" family ----

enum ChainBlock { kIbn, kFusedIbn, kConv, kSeparable, kBasic, kBottleneck };
const std::vector<int> kChainBlockWeights = {14, 8, 4, 4, 5, 5};  // /40
const char* chain_block_name(int t) {
  static const char* names[] = {"ibn", "fused_ibn", "conv", "separable", "basic", "bottleneck"};
  return names[t];
}

spec::ModelSpec sample_chain(SplitMix64& rng, std::string& description) {
  spec::ModelSpec m;
  m.name = "chain";
  m.height = m.width = draw_resolution(rng);
  int64_t h = m.height;
  const std::string net_act = pick(rng, kActs);

  // Stem: a KxK stride-2 conv, sometimes a 3x3 stride-2 max pool.
  spec::StageSpec stem;
  stem.name = "stem";
  stem.fixed_depth = true;
  {
    spec::BlockSpec c = block("conv", "stem.0");
    c.set("out", draw_channels(rng, 8, 48));
    const int64_t k = rng.chance(0.8) ? 3 : 5;
    c.set("kernel", k);
    c.set("stride", int64_t{2});
    c.set("act", net_act);
    stem.blocks.push_back(c);
    h = down(h, 2);
    if (rng.chance(0.15)) {
      spec::BlockSpec p = block("maxpool", "stem.pool");
      p.set("kernel", int64_t{3});
      p.set("stride", int64_t{2});
      p.set("padding", int64_t{1});
      stem.blocks.push_back(p);
      h = down(h, 2);
    }
  }
  m.stages.push_back(stem);

  // Stages: a width that grows as the feature map shrinks (a multiplicative random walk from
  // the stem's width, clipped to [8, 320]), as in the networks nax searches.
  const int64_t n_stages = rng.uniform_int(3, 7);
  int64_t width = std::get<int64_t>(stem.blocks.front().params.at("out"));
  struct Tap {
    std::string block;
    int64_t h;
  };
  std::vector<Tap> stage_outputs;
  std::string shape;
  for (int64_t s = 0; s < n_stages; ++s) {
    spec::StageSpec st;
    st.name = "s" + std::to_string(s + 1);
    const int type = static_cast<int>(rng.weighted(kChainBlockWeights));
    const int64_t depth = rng.uniform_int(1, 4);
    const int64_t kernel = pick<int64_t>(rng, {3, 5, 7});
    // Stride 2 with probability 0.7 while the map is larger than 14 px, 0.25 down to 8 px.
    const int64_t stride =
        (h > 14 && rng.chance(0.7)) || (h >= 8 && h <= 14 && rng.chance(0.25)) ? 2 : 1;
    const double expansion = pick<double>(rng, {1, 2, 3, 4, 6});
    const bool se = rng.chance(0.25);
    const std::string act = rng.chance(0.2) ? pick(rng, kActs) : net_act;
    // Width: x U[1.2, 2.5) after a stride-2 stage, x U[0.8, 1.6) otherwise, clipped to [8, 320];
    // then aligned (a multiple of 8/16/32/64) or left as drawn, each with probability 1/2.
    const double grow = stride == 2 ? 1.2 + 1.3 * rng.uniform01() : 0.8 + 0.8 * rng.uniform01();
    width = std::min<int64_t>(320, std::max<int64_t>(8, static_cast<int64_t>(width * grow)));
    int64_t out = width;
    if (rng.chance(0.5)) {
      const int64_t mult = pick<int64_t>(rng, {8, 16, 32, 64});
      out = (out + mult - 1) / mult * mult;
    }
    shape += fmt::format("{}{}x{}", s ? "," : "", chain_block_name(type), depth);
    for (int64_t j = 0; j < depth; ++j) {
      const int t = rng.chance(0.15) ? static_cast<int>(rng.weighted(kChainBlockWeights)) : type;
      const int64_t bs = j == 0 ? stride : 1;
      const std::string name = st.name + "." + std::to_string(j);
      switch (t) {
        case kIbn:
        case kFusedIbn: {
          spec::BlockSpec b = block(t == kIbn ? "ibn" : "fused_ibn", name);
          b.set("out", out);
          b.set("expansion", expansion);
          b.set("kernel", kernel);
          b.set("stride", bs);
          b.set("act", act);
          if (se) {
            b.set("se_ratio", 0.25);
            b.set("se_gate", std::string("hsigmoid"));
          }
          st.blocks.push_back(b);
          break;
        }
        case kConv: {
          spec::BlockSpec b = block("conv", name);
          b.set("out", out);
          b.set("kernel", kernel);
          b.set("stride", bs);
          b.set("act", act);
          st.blocks.push_back(b);
          break;
        }
        case kSeparable: {
          spec::BlockSpec dw = block("dwconv", name + ".dw");
          dw.set("kernel", kernel);
          dw.set("stride", bs);
          dw.set("act", act);
          st.blocks.push_back(dw);
          spec::BlockSpec pw = block("conv", name + ".pw");
          pw.set("out", out);
          pw.set("kernel", int64_t{1});
          pw.set("act", act);
          st.blocks.push_back(pw);
          break;
        }
        case kBasic:
        case kBottleneck: {
          spec::BlockSpec b = block(t == kBasic ? "basic" : "bottleneck", name);
          b.set("out", out);
          b.set("stride", bs);
          b.set("act", act == "hswish" ? std::string("relu") : act);
          st.blocks.push_back(b);
          break;
        }
      }
      h = down(h, bs);
    }
    stage_outputs.push_back({st.blocks.back().name, h});
    m.stages.push_back(st);
  }

  // Head.
  spec::StageSpec head;
  head.name = "head";
  head.fixed_depth = true;
  const std::string last = stage_outputs.back().block;
  const int64_t last_h = stage_outputs.back().h;
  std::string earlier;  // the latest stage output with a larger feature map than the last one
  for (const auto& t : stage_outputs) {
    if (t.h > last_h) earlier = t.block;
  }
  size_t kind = rng.weighted({55, 15, 15, 15});  // classifier, pool, fpn add, fpn concat
  if ((kind == 2 || kind == 3) && earlier.empty()) kind = 0;
  if (kind == 1 && last_h < 3) kind = 0;
  static const char* kHeadNames[] = {"classifier", "pool", "fpn_add", "fpn_concat"};
  if (kind == 0 || kind == 1) {
    if (kind == 1) {
      spec::BlockSpec p = block(rng.chance(0.5) ? "avgpool" : "maxpool", "head.pool");
      p.set("kernel", pick<int64_t>(rng, {2, 3}));
      p.set("stride", int64_t{2});
      head.blocks.push_back(p);
    }
    if (kind == 1 || rng.chance(0.5)) {
      spec::BlockSpec c = block("conv", "head.conv");
      c.set("out", draw_channels(rng, 256, 1280));
      c.set("kernel", int64_t{1});
      c.set("act", net_act);
      head.blocks.push_back(c);
    }
    spec::BlockSpec g = block("global_pool", "head.gap");
    if (rng.chance(0.15)) g.set("mode", std::string("max"));
    head.blocks.push_back(g);
    spec::BlockSpec fc = block("fc", "head.fc");
    fc.set("out", rng.uniform_int(2, 1000));
    head.blocks.push_back(fc);
  } else {
    const int64_t c = draw_channels(rng, 16, 256);
    const std::string mode = rng.chance(0.5) ? "nearest" : "linear";
    if (kind == 2) {
      spec::BlockSpec top = block("conv", "head.top");
      top.set("out", c);
      top.set("kernel", int64_t{1});
      top.set("act", std::string("none"));
      head.blocks.push_back(top);
      spec::BlockSpec up = block("resize", "head.up");
      up.set("like", earlier);
      up.set("mode", mode);
      head.blocks.push_back(up);
      spec::BlockSpec lat = block("conv", "head.lateral");
      lat.set("input", earlier);
      lat.set("out", c);
      lat.set("kernel", int64_t{1});
      lat.set("act", std::string("none"));
      head.blocks.push_back(lat);
      spec::BlockSpec add = block("add", "head.add");
      add.set("inputs", std::vector<std::string>{"head.up", "head.lateral"});
      add.set("act", rng.chance(0.5) ? std::string("relu") : std::string("none"));
      head.blocks.push_back(add);
      spec::BlockSpec smooth = block("conv", "head.smooth");
      smooth.set("out", c);
      smooth.set("kernel", int64_t{3});
      smooth.set("act", net_act);
      head.blocks.push_back(smooth);
    } else {
      spec::BlockSpec up = block("resize", "head.up");
      up.set("like", earlier);
      up.set("mode", mode);
      head.blocks.push_back(up);
      spec::BlockSpec cat = block("concat", "head.cat");
      cat.set("inputs", std::vector<std::string>{"head.up", earlier});
      head.blocks.push_back(cat);
      spec::BlockSpec fuse = block("conv", "head.fuse");
      fuse.set("out", c);
      fuse.set("kernel", int64_t{1});
      fuse.set("act", net_act);
      head.blocks.push_back(fuse);
    }
    if (rng.chance(0.1)) {
      spec::BlockSpec sm = block("softmax", "head.softmax");
      sm.set("axis", int64_t{1});
      head.blocks.push_back(sm);
    }
  }
  // Softmax is rare (chips without it in vector_unit.ops cannot run the whole sample).
  if ((kind == 0 || kind == 1) && rng.chance(0.1)) {
    head.blocks.push_back(block("softmax", "head.softmax"));
  }
  m.stages.push_back(head);
  description = fmt::format("chain resolution={} act={} stages={} head={}", m.height, net_act,
                            shape, kHeadNames[kind]);
  return m;
}

// ---- the "zoo" family ----

struct ZooChoice {
  const char* name;
  int weight;
};
const std::vector<ZooChoice> kZoo = {{"mobilenet_v2", 4},
                                     {"person_detector", 3},
                                     {"mobilenet_v3_large", 2},
                                     {"mobilenet_v3_small", 2},
                                     {"efficientnet_b0", 1},
                                     {"efficientnet_lite0", 1},
                                     {"efficientnet_edgetpu_s", 1},
                                     {"mnasnet1_0", 1},
                                     {"resnet18", 1},
                                     {"resnet50", 1},
                                     {"ssdlite_mobilenet_v2", 1},
                                     {"lraspp_mobilenet_v3_large", 1}};

bool declares(const zoo::ZooEntry& e, const std::string& key) {
  for (const auto& d : e.params) {
    if (d.path == key) return true;
  }
  return false;
}

std::string join(const std::string& name, const std::vector<std::string>& args) {
  std::string s = name;
  for (size_t i = 0; i < args.size(); ++i) s += (i ? "," : ":") + args[i];
  return s;
}

// Per-stage overrides of a zoo network's ibn / fused_ibn stages, as the search spaces make them.
std::vector<std::string> draw_overrides(SplitMix64& rng, const spec::ModelSpec& base) {
  std::vector<std::string> out;
  for (const auto& st : base.stages) {
    if (st.fixed_depth || st.blocks.empty()) continue;
    bool mb = true;
    for (const auto& b : st.blocks) mb = mb && (b.type == "ibn" || b.type == "fused_ibn");
    if (!mb) continue;
    if (rng.chance(0.3)) {
      out.push_back(st.name + ".type=" +
                    (st.blocks.front().type == "ibn" ? "fused_ibn" : std::string("ibn")));
    }
    if (rng.chance(0.3))
      out.push_back(st.name + ".kernel=" + std::to_string(pick<int>(rng, {3, 5, 7})));
    if (rng.chance(0.2)) {
      out.push_back(st.name + ".expansion=" + std::to_string(pick<int>(rng, {1, 2, 3, 4, 6})));
    }
    const auto it = st.blocks.back().params.find("out");
    if (rng.chance(0.2) && it != st.blocks.back().params.end() &&
        std::holds_alternative<int64_t>(it->second)) {
      const int64_t w = std::get<int64_t>(it->second);
      out.push_back(st.name + ".out=" +
                    std::to_string(rng.uniform_int(std::max<int64_t>(8, w / 2), w * 3 / 2)));
    }
  }
  return out;
}

spec::ModelSpec sample_zoo(SplitMix64& rng, std::string& description, ir::Graph& graph) {
  std::vector<int> weights;
  for (const auto& z : kZoo) weights.push_back(z.weight);
  const std::string name = kZoo[rng.weighted(weights)].name;
  const zoo::ZooEntry* e = zoo::ZooRegistry::instance().find(name);
  if (!e) throw std::logic_error("sampler: zoo builder '" + name + "' is not registered");
  std::vector<std::string> args;
  if (declares(*e, "width")) {
    const double w = rng.chance(0.7) ? pick<double>(rng, {0.35, 0.5, 0.75, 1.0, 1.25})
                                     : 0.3 + 1.1 * rng.uniform01();
    args.push_back(fmt::format("width={:.3f}", w));
  }
  if (declares(*e, "resolution"))
    args.push_back(fmt::format("resolution={}", draw_resolution(rng)));
  if (rng.chance(0.5)) {
    args.push_back(fmt::format("depth={}", pick<double>(rng, {0.5, 0.75, 1.25, 1.5})));
  }
  const spec::ModelSpec base = zoo::build(join(name, args));
  std::vector<std::string> all = args;
  for (auto& o : draw_overrides(rng, base)) all.push_back(std::move(o));
  // Overrides that do not build (a head tapping a re-widened stage) fall back to the base network.
  for (const auto* candidate : {&all, &args}) {
    try {
      spec::ModelSpec m = zoo::build(join(name, *candidate));
      graph = spec::build_graph(m);
      description = join(name, *candidate);
      return m;
    } catch (const InputError&) {
    }
  }
  graph = spec::build_graph(base);
  description = join(name, args);
  return base;
}

}  // namespace

Sample sample_network(uint64_t seed, int64_t index) {
  if (index < 0) throw InputError("sample index must be >= 0");
  SplitMix64 rng = SplitMix64::for_sample(seed, index);
  Sample s;
  s.seed = seed;
  s.index = index;
  if (rng.chance(0.7)) {
    s.family = "chain";
    // Chains above kMaxChainMacs are drawn again from the same stream (the searched spaces are
    // 0.05-0.6 G MACs and the labelling cost grows with the work); after kChainAttempts the
    // smallest drawn is kept.
    int64_t best_macs = -1;
    for (int attempt = 0; attempt < kChainAttempts; ++attempt) {
      std::string description;
      spec::ModelSpec m = sample_chain(rng, description);
      ir::Graph g = spec::build_graph(m);
      const int64_t macs = ir::analyze(g).macs;
      if (best_macs < 0 || macs < best_macs) {
        best_macs = macs;
        s.spec = std::move(m);
        s.graph = std::move(g);
        s.description = std::move(description);
      }
      if (macs <= kMaxChainMacs) break;
    }
  } else {
    s.family = "zoo";
    s.spec = sample_zoo(rng, s.description, s.graph);
  }
  return s;
}

}  // namespace nax::est
