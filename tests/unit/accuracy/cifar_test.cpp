// The CIFAR-10 reader (nas/accuracy/cifar.hpp) on the committed fixture (tests/fixtures/cifar10,
// the first 64 training and 32 test images): labels and pixels of images every CIFAR-10 loader
// shows the same way, the directory resolution, the seeded choice of images, and the exact error
// messages for missing and malformed files.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>

#include "models/common/error.hpp"
#include "nas/accuracy/cifar.hpp"

using namespace nax;
using namespace nax::accuracy;
namespace fs = std::filesystem;

namespace {

const std::string kFixture = std::string(NAX_FIXTURES) + "/cifar10";

std::string input_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

std::string temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("nax_cifar_test_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// Sets an environment variable for a scope, restoring it after.
class EnvScope {
 public:
  EnvScope(const char* name, const char* value) : m_name(name) {
    const char* old = std::getenv(name);
    m_had = old != nullptr;
    if (m_had) m_old = old;
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~EnvScope() {
    if (m_had) {
      setenv(m_name, m_old.c_str(), 1);
    } else {
      unsetenv(m_name);
    }
  }

 private:
  const char* m_name;
  bool m_had = false;
  std::string m_old;
};

}  // namespace

TEST_CASE("CIFAR-10 fixture: the well-known first labels and pixels", "[accuracy][cifar]") {
  const CifarSet train = read_cifar_train(kFixture);
  REQUIRE(train.size() == 64);
  CHECK(train.file == kFixture + "/data_batch_1_first64.bin");
  CHECK(train.pixels.size() == 64 * 3072);
  const std::vector<uint8_t> first_train = {6, 9, 9, 4, 1, 1, 2, 7, 8, 3};
  CHECK(std::vector<uint8_t>(train.labels.begin(), train.labels.begin() + 10) == first_train);
  // Image 0 (a frog) at row 0: (59, 62, 63) then (43, 46, 45); image 1 (a truck): (154, 177, 187).
  CHECK(int(train.pixel(0, 0, 0, 0)) == 59);
  CHECK(int(train.pixel(0, 1, 0, 0)) == 62);
  CHECK(int(train.pixel(0, 2, 0, 0)) == 63);
  CHECK(int(train.pixel(0, 0, 0, 1)) == 43);
  CHECK(int(train.pixel(1, 0, 0, 0)) == 154);
  CHECK(int(train.pixel(1, 2, 0, 0)) == 187);
  // Farther pixels and the last image (values read from the file with numpy).
  CHECK(int(train.pixel(0, 1, 5, 7)) == 77);
  CHECK(int(train.pixel(0, 2, 31, 31)) == 72);
  CHECK(int(train.pixel(63, 0, 16, 16)) == 53);
  CHECK(train.labels[63] == 2);

  const CifarSet test = read_cifar_test(kFixture);
  REQUIRE(test.size() == 32);
  const std::vector<uint8_t> first_test = {3, 8, 8, 0, 6, 6, 1, 6, 3, 1};
  CHECK(std::vector<uint8_t>(test.labels.begin(), test.labels.begin() + 10) == first_test);
  CHECK(int(test.pixel(0, 0, 0, 0)) == 158);  // a cat: (158, 112, 49)
  CHECK(int(test.pixel(0, 1, 0, 0)) == 112);
  CHECK(int(test.pixel(0, 2, 0, 0)) == 49);
  CHECK(int(test.pixel(31, 0, 16, 16)) == 131);
  int64_t sum = 0;
  for (uint8_t p : test.pixels) sum += p;
  CHECK(sum == 11639229);
}

TEST_CASE("CIFAR-10 reader: the first N images, the same whichever file holds them",
          "[accuracy][cifar]") {
  const CifarSet first8 = read_cifar_file(kFixture + "/data_batch_1_first64.bin", 8);
  REQUIRE(first8.size() == 8);
  const CifarSet all = read_cifar_train(kFixture);
  CHECK(std::equal(first8.pixels.begin(), first8.pixels.end(), all.pixels.begin()));
  const char* shared = "/work/shared/data/cifar10/data_batch_1_first4000.bin";
  if (fs::exists(shared)) {  // the shared copy's first 64 are the fixture
    const CifarSet big = read_cifar_file(shared, 64);
    CHECK(big.labels == all.labels);
    CHECK(big.pixels == all.pixels);
  }
}

TEST_CASE("CIFAR-10 directory: argument, then $NAX_CIFAR_DIR, then the shared copy",
          "[accuracy][cifar]") {
  {
    EnvScope env("NAX_CIFAR_DIR", nullptr);
    CHECK(cifar_dir("/given") == "/given");
    CHECK(fs::path(cifar_dir()).filename() == "cifar10");
    CHECK(fs::path(cifar_dir()).parent_path().filename() == "data");
    CHECK(cifar_dir().find("..") == std::string::npos);
  }
  {
    EnvScope env("NAX_CIFAR_DIR", "");
    CHECK(fs::path(cifar_dir()).filename() == "cifar10");
  }
  {
    EnvScope env("NAX_CIFAR_DIR", kFixture.c_str());
    CHECK(cifar_dir() == kFixture);
    CHECK(cifar_dir("/given") == "/given");
    CHECK(read_cifar_test().size() == 32);
  }
}

TEST_CASE("CIFAR-10 reader: errors name the file and what is wrong", "[accuracy][cifar]") {
  const std::string dir = temp_dir("errors");
  CHECK(input_error_of([&] { read_cifar_file(dir + "/nope.bin"); }) ==
        dir + "/nope.bin: file not found");
  write_bytes(dir + "/short.bin", std::string(3074, '\0'));
  CHECK(input_error_of([&] { read_cifar_file(dir + "/short.bin"); }) ==
        dir +
            "/short.bin: size 3074 bytes is not a multiple of 3073 (CIFAR-10 records: 1 label byte "
            "+ 3072 pixel bytes)");
  write_bytes(dir + "/empty.bin", "");
  CHECK(input_error_of([&] { read_cifar_file(dir + "/empty.bin"); }) ==
        dir +
            "/empty.bin: empty file; expected CIFAR-10 records of 3073 bytes (1 label byte + 3072 "
            "pixel bytes)");
  std::string two(2 * 3073, '\0');
  two[3073] = 10;  // image 1's label
  write_bytes(dir + "/label.bin", two);
  CHECK(input_error_of([&] { read_cifar_file(dir + "/label.bin"); }) ==
        dir + "/label.bin: image 1 (byte 3073) has label 10; CIFAR-10 labels are 0-9");
  CHECK(read_cifar_file(dir + "/label.bin", 1).size() == 1);  // only what is read is checked
  CHECK(input_error_of([&] { read_cifar_file(kFixture + "/test_batch_first32.bin", 33); }) ==
        kFixture + "/test_batch_first32.bin: holds 32 images; 33 asked for");

  CHECK(input_error_of([&] { read_cifar_train(dir + "/missing"); }) ==
        dir + "/missing: CIFAR-10 directory not found (pass the directory, or set NAX_CIFAR_DIR)");
  CHECK(input_error_of([&] { read_cifar_test(dir); }) ==
        dir + ": no CIFAR-10 test batch (test_batch*.bin) in this directory");
  // The first batch in name order: the official data_batch_1.bin before a cut copy.
  write_bytes(dir + "/data_batch_1.bin", std::string(3073, '\x02'));
  write_bytes(dir + "/data_batch_1_first4000.bin", std::string(3073, '\x03'));
  CHECK(cifar_train_file(dir) == dir + "/data_batch_1.bin");
  CHECK(read_cifar_train(dir).labels == std::vector<uint8_t>{2});
  fs::remove_all(dir);
}

TEST_CASE("CIFAR-10 images: a seeded choice", "[accuracy][cifar]") {
  const auto a = choose_images(4000, 64, 7);
  REQUIRE(a.size() == 64);
  CHECK(std::set<size_t>(a.begin(), a.end()).size() == 64);
  for (size_t i : a) CHECK(i < 4000);
  CHECK(choose_images(4000, 64, 7) == a);
  CHECK(choose_images(4000, 64, 8) != a);
  // All of them: a permutation.
  const auto p = choose_images(10, 10, 1);
  CHECK(std::set<size_t>(p.begin(), p.end()).size() == 10);
  CHECK(input_error_of([] { choose_images(5, 6, 0); }) == "cannot choose 6 images out of 5");

  const CifarSet train = read_cifar_train(kFixture);
  const CifarSet some = select_images(train, {3, 0});
  REQUIRE(some.size() == 2);
  CHECK(some.labels == std::vector<uint8_t>{4, 6});
  CHECK(int(some.pixel(1, 0, 0, 0)) == 59);
  CHECK(std::equal(some.image(0), some.image(0) + kCifarImageBytes, train.image(3)));
}
