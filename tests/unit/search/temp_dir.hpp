// A fresh directory under the temporary directory for one test process, removed with its files
// when the object goes (the search unit tests write space and model files into it).
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace nax::test {

struct TempDir {
  std::filesystem::path path;
  // <tmp>/nax_<prefix>_<pid>
  explicit TempDir(const std::string& prefix)
      : path(std::filesystem::temp_directory_path() /
             ("nax_" + prefix + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // Writes `text` to `file` in the directory and returns its path.
  std::string write(const std::string& file, const std::string& text) const {
    const std::string p = (path / file).string();
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
};

}  // namespace nax::test
