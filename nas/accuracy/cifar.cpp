#include "nas/accuracy/cifar.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <system_error>

#include "models/common/error.hpp"

#ifndef NAX_DEFAULT_CIFAR_DIR
#error "NAX_DEFAULT_CIFAR_DIR is set by nas/CMakeLists.txt"
#endif

namespace nax::accuracy {
namespace fs = std::filesystem;

std::string cifar_dir(const std::string& dir) {
  if (!dir.empty()) return dir;
  const char* env = std::getenv("NAX_CIFAR_DIR");
  if (env != nullptr && *env != '\0') return env;
  return NAX_DEFAULT_CIFAR_DIR;
}

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw InputError(SourceLoc{path, 0, 0}, what);
}

// The first regular file of `dir` whose name starts with `prefix` and ends with ".bin".
std::string find_batch(const std::string& dir_arg, const char* prefix, const char* what) {
  const std::string dir = cifar_dir(dir_arg);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    fail(dir, "CIFAR-10 directory not found (pass the directory, or set NAX_CIFAR_DIR)");
  }
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.rfind(prefix, 0) == 0 && n.size() > 4 && n.compare(n.size() - 4, 4, ".bin") == 0 &&
        e.is_regular_file(ec)) {
      names.push_back(n);
    }
  }
  if (names.empty()) {
    fail(dir, fmt::format("no CIFAR-10 {} batch ({}*.bin) in this directory", what, prefix));
  }
  std::sort(names.begin(), names.end());
  return (fs::path(dir) / names.front()).string();
}

}  // namespace

CifarSet read_cifar_file(const std::string& path, size_t max_images) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(path, "file not found");
  if (!fs::is_regular_file(path, ec)) fail(path, "not a regular file");
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) fail(path, "cannot read its size: " + ec.message());
  if (size == 0) {
    fail(path,
         fmt::format("empty file; expected CIFAR-10 records of {} bytes (1 label byte + {} pixel "
                     "bytes)",
                     kCifarRecordBytes, kCifarImageBytes));
  }
  if (size % kCifarRecordBytes != 0) {
    fail(path, fmt::format("size {} bytes is not a multiple of {} (CIFAR-10 records: 1 label byte "
                           "+ {} pixel bytes)",
                           size, kCifarRecordBytes, kCifarImageBytes));
  }
  const size_t available = static_cast<size_t>(size / kCifarRecordBytes);
  if (max_images > available) {
    fail(path, fmt::format("holds {} images; {} asked for", available, max_images));
  }
  const size_t n = max_images == 0 ? available : max_images;
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, fmt::format("cannot be opened: {}", std::strerror(errno)));
  std::vector<char> buf(n * kCifarRecordBytes);
  in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
  if (static_cast<size_t>(in.gcount()) != buf.size()) {
    throw Error(fmt::format("{}: read {} of {} bytes", path, in.gcount(), buf.size()));
  }
  CifarSet s;
  s.file = path;
  s.labels.resize(n);
  s.pixels.resize(n * kCifarImageBytes);
  for (size_t i = 0; i < n; ++i) {
    const auto* rec = reinterpret_cast<const uint8_t*>(buf.data() + i * kCifarRecordBytes);
    if (rec[0] >= kCifarClasses) {
      fail(path, fmt::format("image {} (byte {}) has label {}; CIFAR-10 labels are 0-9", i,
                             i * kCifarRecordBytes, rec[0]));
    }
    s.labels[i] = rec[0];
    std::memcpy(s.pixels.data() + i * kCifarImageBytes, rec + 1, kCifarImageBytes);
  }
  return s;
}

std::string cifar_train_file(const std::string& dir) {
  return find_batch(dir, "data_batch_1", "training");
}

std::string cifar_test_file(const std::string& dir) {
  return find_batch(dir, "test_batch", "test");
}

CifarSet read_cifar_train(const std::string& dir, size_t max_images) {
  return read_cifar_file(cifar_train_file(dir), max_images);
}

CifarSet read_cifar_test(const std::string& dir, size_t max_images) {
  return read_cifar_file(cifar_test_file(dir), max_images);
}

std::vector<size_t> choose_images(size_t n, size_t count, uint64_t seed) {
  if (count > n) {
    throw InputError(fmt::format("cannot choose {} images out of {}", count, n));
  }
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), size_t{0});
  std::mt19937_64 rng(seed);
  // Partial Fisher-Yates. The bounded draw is written out (not std::uniform_int_distribution,
  // whose algorithm is left to the library) so that a seed picks the same images everywhere.
  for (size_t i = 0; i < count; ++i) {
    const uint64_t range = static_cast<uint64_t>(n - i);
    const uint64_t limit = UINT64_MAX - UINT64_MAX % range;  // rejection: no modulo bias
    uint64_t r = rng();
    while (r >= limit) r = rng();
    std::swap(idx[i], idx[i + static_cast<size_t>(r % range)]);
  }
  idx.resize(count);
  return idx;
}

CifarSet select_images(const CifarSet& set, const std::vector<size_t>& indices) {
  CifarSet s;
  s.file = set.file;
  s.labels.reserve(indices.size());
  s.pixels.resize(indices.size() * kCifarImageBytes);
  for (size_t k = 0; k < indices.size(); ++k) {
    const size_t i = indices[k];
    if (i >= set.size()) {
      throw InputError(fmt::format("{}: image {} asked for; it holds {}", set.file, i, set.size()));
    }
    s.labels.push_back(set.labels[i]);
    std::memcpy(s.pixels.data() + k * kCifarImageBytes, set.image(i), kCifarImageBytes);
  }
  return s;
}

}  // namespace nax::accuracy
