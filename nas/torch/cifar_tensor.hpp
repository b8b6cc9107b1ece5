// CIFAR-10 images (nas/accuracy/cifar.hpp) as libtorch tensors, inside the plugin.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "nas/accuracy/cifar.hpp"

namespace nax::torchnet {

// Images of `set` (all, or `indices` in that order) as float32 [N, 3, height, width], normalised
// per channel with kCifarMean / kCifarStd; resized bilinearly (half-pixel centres, no
// antialiasing) from 32x32 when height or width differ.
torch::Tensor cifar_images(const accuracy::CifarSet& set, int64_t height = 32, int64_t width = 32);
torch::Tensor cifar_images(const accuracy::CifarSet& set, const std::vector<size_t>& indices,
                           int64_t height = 32, int64_t width = 32);

// Labels as int64 [N].
torch::Tensor cifar_labels(const accuracy::CifarSet& set);
torch::Tensor cifar_labels(const accuracy::CifarSet& set, const std::vector<size_t>& indices);

// [N, 3, 32, 32] -> [N, 3, height, width], bilinear, as cifar_images resizes (no-op when equal).
torch::Tensor resize_images(const torch::Tensor& x, int64_t height, int64_t width);

}  // namespace nax::torchnet
