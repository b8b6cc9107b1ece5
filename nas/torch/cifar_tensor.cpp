#include "nas/torch/cifar_tensor.hpp"

#include <fmt/format.h>

#include "models/common/error.hpp"

namespace nax::torchnet {

using accuracy::CifarSet;
using accuracy::kCifarImageBytes;

torch::Tensor resize_images(const torch::Tensor& x, int64_t height, int64_t width) {
  if (height <= 0 || width <= 0) {
    throw InputError(fmt::format("cannot resize images to {}x{}", height, width));
  }
  if (x.size(2) == height && x.size(3) == width) return x;
  namespace F = torch::nn::functional;
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{height, width})
                               .mode(torch::kBilinear)
                               .align_corners(false));
}

torch::Tensor cifar_images(const CifarSet& set, const std::vector<size_t>& indices, int64_t height,
                           int64_t width) {
  const int64_t n = static_cast<int64_t>(indices.size());
  torch::Tensor x = torch::empty({n, 3, 32, 32}, torch::kFloat32);
  float* dst = x.data_ptr<float>();
  for (int64_t k = 0; k < n; ++k) {
    const size_t i = indices[static_cast<size_t>(k)];
    if (i >= set.size()) {
      throw InputError(fmt::format("{}: image {} asked for; it holds {}", set.file, i, set.size()));
    }
    const uint8_t* src = set.image(i);
    for (size_t c = 0; c < 3; ++c) {
      const float mean = accuracy::kCifarMean[c], inv_std = 1.0f / accuracy::kCifarStd[c];
      for (size_t p = 0; p < 1024; ++p) {
        dst[c * 1024 + p] = (static_cast<float>(src[c * 1024 + p]) - mean) * inv_std;
      }
    }
    dst += kCifarImageBytes;
  }
  return resize_images(x, height, width);
}

torch::Tensor cifar_images(const CifarSet& set, int64_t height, int64_t width) {
  std::vector<size_t> all(set.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  return cifar_images(set, all, height, width);
}

torch::Tensor cifar_labels(const CifarSet& set, const std::vector<size_t>& indices) {
  torch::Tensor y = torch::empty({static_cast<int64_t>(indices.size())}, torch::kInt64);
  int64_t* dst = y.data_ptr<int64_t>();
  for (size_t k = 0; k < indices.size(); ++k) {
    if (indices[k] >= set.size()) {
      throw InputError(
          fmt::format("{}: image {} asked for; it holds {}", set.file, indices[k], set.size()));
    }
    dst[k] = set.labels[indices[k]];
  }
  return y;
}

torch::Tensor cifar_labels(const CifarSet& set) {
  std::vector<size_t> all(set.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  return cifar_labels(set, all);
}

}  // namespace nax::torchnet
