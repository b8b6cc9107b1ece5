// CIFAR-10 images in the original binary layout (Krizhevsky 2009, `cifar-10-batches-bin`): a file
// holds N records of 3,073 bytes, no header: one label byte (0-9), then the 32x32 RGB image as
// uint8 CHW (1,024 red, 1,024 green, 1,024 blue values, rows top to bottom). Torch-free; the
// plugin turns images into tensors (nas/torch/cifar_tensor.hpp).
//
// A CIFAR directory holds a training batch `data_batch_1*.bin` and a test batch `test_batch*.bin`
// (the first in name order of each). That covers the official files (data_batch_1.bin,
// test_batch.bin: 10,000 images each), nax's shared copy (data_batch_1_first4000.bin,
// test_batch_first1000.bin: their first 4,000 and 1,000 images, in order) and the test fixture
// (tests/fixtures/cifar10: the first 64 and 32); reading the first N images of any of them gives
// the same images.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace nax::accuracy {

inline constexpr int kCifarSide = 32;
inline constexpr size_t kCifarImageBytes = 3 * 32 * 32;            // 3,072
inline constexpr size_t kCifarRecordBytes = kCifarImageBytes + 1;  // 3,073
inline constexpr int kCifarClasses = 10;
// Per-channel mean and standard deviation of the training set on the 0-255 scale (RGB).
inline constexpr std::array<float, 3> kCifarMean = {125.3f, 123.0f, 113.9f};
inline constexpr std::array<float, 3> kCifarStd = {63.0f, 62.1f, 66.7f};

struct CifarSet {
  std::string file;             // where the images were read from
  std::vector<uint8_t> labels;  // one per image, 0-9
  std::vector<uint8_t> pixels;  // size() x 3,072 bytes, CHW per image

  size_t size() const { return labels.size(); }
  const uint8_t* image(size_t i) const { return pixels.data() + i * kCifarImageBytes; }
  // Pixel (c, y, x) of image i, 0-255.
  uint8_t pixel(size_t i, int c, int y, int x) const {
    return image(
        i)[static_cast<size_t>(c) * 1024 + static_cast<size_t>(y) * 32 + static_cast<size_t>(x)];
  }
};

// The CIFAR directory to use: `dir` when given, else $NAX_CIFAR_DIR when set and not empty, else
// the shared copy next to the source tree (<source>/../shared/data/cifar10, fixed at build time).
std::string cifar_dir(const std::string& dir = "");

// Reads the first `max_images` images of a CIFAR-10 binary file (0: all). Throws InputError naming
// the file when it is missing, empty, not a multiple of 3,073 bytes long, holds a label above 9,
// or holds fewer than `max_images` images.
CifarSet read_cifar_file(const std::string& path, size_t max_images = 0);

// The training (data_batch_1*.bin) or test (test_batch*.bin) batch of a CIFAR directory
// (resolved with cifar_dir()). Throws InputError naming the directory when it or the batch is
// missing, and as read_cifar_file.
std::string cifar_train_file(const std::string& dir = "");
std::string cifar_test_file(const std::string& dir = "");
CifarSet read_cifar_train(const std::string& dir = "", size_t max_images = 0);
CifarSet read_cifar_test(const std::string& dir = "", size_t max_images = 0);

// `count` distinct image indices out of `n`, chosen by `seed` alone (a partial Fisher-Yates
// shuffle driven by std::mt19937_64, so the same on every platform). Throws InputError when count
// exceeds n.
std::vector<size_t> choose_images(size_t n, size_t count, uint64_t seed);

// The images `indices` of `set`, in that order.
CifarSet select_images(const CifarSet& set, const std::vector<size_t>& indices);

}  // namespace nax::accuracy
