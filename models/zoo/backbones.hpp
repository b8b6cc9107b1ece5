// Backbones shared by several zoo builders (classification nets and detection/segmentation heads).
#pragma once

#include <string>

#include "models/spec/model_spec.hpp"

namespace nax::zoo {

// MobileNetV3 as torchvision builds it (arch "large" or "small"): stages "stem", "s1".."sN" of
// bneck blocks (ibn with per-block kernel, expanded width, SE, activation) and "last" (the final
// 1x1 conv, 960 or 576 channels x width), with no pooling or classifier.
// dilated: the last stride-2 stage uses stride 1 and dilation 2 (torchvision's dilated=True, as in
// its segmentation models); reduced_tail: the last stage's widths are halved (reduce_divider=2).
// Defined in mobilenet_v3.cpp.
spec::ModelSpec mobilenet_v3_backbone(const std::string& arch, double width, int64_t resolution,
                                      bool dilated, bool reduced_tail);

// MobileNetV2 features as torchvision builds them: "stem", "s1".."s7" and "head" holding the final
// 1x1 conv (1280 x max(1, width)), without pooling or classifier. Defined in mobilenet_v2.cpp.
spec::ModelSpec mobilenet_v2_backbone(double width, int64_t resolution);

}  // namespace nax::zoo
