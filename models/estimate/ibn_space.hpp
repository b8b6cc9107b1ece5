// A MobileNet-style search space of inverted bottlenecks (ibn) and fused inverted bottlenecks
// (fused_ibn), as in MnasNet / ProxylessNAS / MobileDets: the networks on which the latency
// estimator's whole-network accuracy is measured (`nax fit` labels them itself, so they are
// never in a training set drawn by the trace sampler).
//
// A network: input resolution {128, 160, 192, 224, 256}; a 3x3 stride-2 stem of 16-40 channels;
// six stages with MobileNetV2's strides (1, 2, 2, 2, 1, 2) and base widths (16, 24, 40, 80, 112,
// 192) scaled by a per-network width multiplier {0.75, 1.0, 1.25, 1.5} and a per-stage factor
// {0.75, 1, 1.25}, rounded to 8 (a stage is unaligned, width + 4, with probability 0.1); 1-4 blocks
// per stage (the first stage 1-2); each block independently ibn or fused_ibn (fused_ibn with
// probability 0.6 in the first three stages, 0.15 after), kernel {3, 5, 7}, expansion {1, 3, 4, 6}
// (the first stage {1, 3}), squeeze-excite (ratio 0.25) with probability 0.3, activation relu6 or
// hswish per network; then a 1x1 head conv of 960 or 1280 channels, global pooling and a
// 1000-way classifier. Network `index` of `seed` depends on (seed, index) only (std::mt19937_64,
// whose output the C++ standard fixes; no std::*_distribution).
#pragma once

#include <cstdint>
#include <string>

#include "models/spec/model_spec.hpp"

namespace nax::est {

spec::ModelSpec ibn_space_network(uint64_t seed, int64_t index);

// "ibn-space seed=S index=I"
std::string ibn_space_source(uint64_t seed, int64_t index);

}  // namespace nax::est
