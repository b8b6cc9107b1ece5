#include "tools/nax/plots.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <sstream>

namespace nax::cli {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPython = "/usr/bin/python3";

// One shell word: 'text' with every ' written as '\''.
std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

fs::path source_dir() {
  // This file is tools/nax/plots.cpp.
  return fs::path(__FILE__).parent_path().parent_path().parent_path();
}

PlotResult run_plot_script(const std::string& script, const std::vector<std::string>& args) {
  PlotResult r;
  const std::string name = "tools/" + script;
  const fs::path path = source_dir() / "tools" / script;
  std::error_code ec;
  if (!fs::exists(kPython, ec)) {
    r.skipped = std::string(kPython) + " not found; " + name +
                " needs Debian's python3 and python3-matplotlib";
    return r;
  }
  if (!fs::is_regular_file(path, ec)) {
    r.skipped =
        path.string() + " not found (plots are drawn from the source tree nax was built in)";
    return r;
  }
  std::string cmd = std::string(kPython) + " " + shell_quote(path.string());
  for (const auto& a : args) cmd += " " + shell_quote(a);
  cmd += " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    r.skipped = "cannot start " + std::string(kPython);
    return r;
  }
  std::string text;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) text += buf;
  const int status = pclose(p);
  std::vector<std::string> lines;
  {
    std::stringstream ss(text);
    std::string line;
    while (std::getline(ss, line))
      if (!line.empty()) lines.push_back(line);
  }
  if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    for (const auto& line : lines)
      if (ends_with(line, ".png")) r.pngs.push_back(fs::path(line).filename().string());
    return r;
  }
  const std::string last = lines.empty() ? "no output" : lines.back();
  if (text.find("No module named 'matplotlib'") != std::string::npos ||
      text.find("No module named 'numpy'") != std::string::npos) {
    r.skipped = name + " needs Debian's python3-matplotlib: " + last;
  } else {
    r.skipped = name + " failed: " + last;
  }
  return r;
}

}  // namespace nax::cli
