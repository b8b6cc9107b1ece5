// The dataset sampler: random networks whose units cover the zoo and the search spaces nax
// searches (traces/README.md documents the distribution with its probabilities and ranges).
//
// Network `index` of seed `seed` is a pure function of (seed, index): its random numbers come from
// a SplitMix64 stream seeded by both (never from std::*_distribution, whose output differs
// between standard libraries), so a dataset can be regenerated, resumed, split over workers and
// shards, and extended, with identical results on any machine.
//
// Two families:
// - "chain" (70%): MobileNet/EfficientNet/ResNet-style chains drawn block by block: a stem conv,
//   3-7 stages of 1-4 blocks (ibn, fused_ibn, conv, separable dwconv+conv, basic, bottleneck)
//   with kernels, strides, expansions, squeeze-excite, activations, aligned and unaligned
//   channels, and a head (classifier, pooling, FPN-style resize+add, or resize+concat); chains
//   above 0.6 G MACs are drawn again.
// - "zoo" (30%): a zoo network with a random width, resolution and depth multiplier and random
//   per-stage overrides (ibn <-> fused_ibn, kernel, expansion, unaligned widths), as the search
//   spaces change them.
// Every sample builds (spec::build_graph); whether it fits a chip is for the lowering to say.
#pragma once

#include <cstdint>
#include <string>

#include "models/ir/graph.hpp"
#include "models/spec/model_spec.hpp"

namespace nax::est {

// SplitMix64 (Steele, Lea, Flood 2014): a 64-bit state, one addition and a mix per number.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t state) : m_state(state) {}
  // The stream of network `index` of `seed`.
  static SplitMix64 for_sample(uint64_t seed, int64_t index);

  uint64_t next();
  // Uniform integer in [lo, hi] (hi >= lo; modulo reduction, bias < 2^-40 for ranges used here).
  int64_t uniform_int(int64_t lo, int64_t hi);
  // Uniform double in [0, 1) from the top 53 bits.
  double uniform01();
  bool chance(double p) { return uniform01() < p; }
  // An index into a table of integer weights (each >= 0, sum > 0).
  size_t weighted(const std::vector<int>& weights);

 private:
  uint64_t m_state;
};

struct Sample {
  uint64_t seed = 0;
  int64_t index = 0;
  std::string family;       // "chain" or "zoo"
  std::string description;  // chain: its shape in brief; zoo: the `--model` argument it used
  spec::ModelSpec spec;
  ir::Graph graph;  // spec::build_graph(spec)
};

// Draws network `index` of `seed` (index >= 0).
Sample sample_network(uint64_t seed, int64_t index);

// The source string a dataset records for a sample: "sample seed=S index=I".
std::string sample_source(uint64_t seed, int64_t index);

}  // namespace nax::est
