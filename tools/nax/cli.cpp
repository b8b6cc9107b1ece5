#include "tools/nax/cli.hpp"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "models/common/error.hpp"

#ifndef NAX_VERSION
#define NAX_VERSION "unknown"
#endif

namespace nax::cli {

const char* version() {
  return NAX_VERSION;
}

void write_text(const std::string& text, const std::string& path) {
  if (path == "-") {
    std::cout << text;
    std::cout.flush();
    return;
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot write " + path);
    out << text;
    if (!out.flush()) throw Error("error writing " + path);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw Error("cannot write " + path);
}

void write_json(const nlohmann::json& j, const std::string& path) {
  write_text(j.dump(2) + "\n", path);
}

Table::Table(std::vector<std::string> header, std::vector<bool> right_align)
    : m_header(std::move(header)), m_right(std::move(right_align)) {
  m_right.resize(m_header.size(), false);
}

void Table::row(std::vector<std::string> cells) {
  cells.resize(m_header.size());
  m_rows.push_back(std::move(cells));
}

std::string Table::str() const {
  std::vector<size_t> w(m_header.size());
  for (size_t c = 0; c < w.size(); ++c) {
    w[c] = m_header[c].size();
    for (const auto& r : m_rows) w[c] = std::max(w[c], r[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (size_t c = 0; c < w.size(); ++c) {
      if (c) s += "  ";
      const size_t pad = w[c] - cells[c].size();
      if (m_right[c])
        s += std::string(pad, ' ') + cells[c];
      else if (c + 1 < w.size())
        s += cells[c] + std::string(pad, ' ');
      else
        s += cells[c];
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s + "\n";
  };
  std::string out = line(m_header);
  size_t total = 0;
  for (size_t x : w) total += x;
  out += std::string(total + 2 * (w.size() - 1), '-') + "\n";
  for (const auto& r : m_rows) out += line(r);
  return out;
}

std::string human(double v) {
  const double a = std::abs(v);
  if (a >= 1e9) return fmt::format("{:.2f}G", v / 1e9);
  if (a >= 1e6) return fmt::format("{:.2f}M", v / 1e6);
  if (a >= 1e3) return fmt::format("{:.2f}k", v / 1e3);
  return fmt::format("{}", static_cast<int64_t>(v));
}

std::string human_bytes(double v) {
  const double a = std::abs(v);
  if (a >= 1024.0 * 1024 * 1024) return fmt::format("{:.2f} GiB", v / (1024.0 * 1024 * 1024));
  if (a >= 1024.0 * 1024) return fmt::format("{:.2f} MiB", v / (1024.0 * 1024));
  if (a >= 1024.0) return fmt::format("{:.1f} KiB", v / 1024.0);
  return fmt::format("{} B", static_cast<int64_t>(v));
}

std::string grouped(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

namespace {
int g_exit_code = 0;
}  // namespace

void set_exit_code(int code) {
  g_exit_code = code;
}
int exit_code() {
  return g_exit_code;
}

double run_self(const std::vector<std::string>& args, bool keep_stderr) {
  std::cout.flush();
  std::fflush(nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid < 0) throw Error("fork failed");
  if (pid == 0) {
    std::vector<char*> argv;
    static const char* self = "/proc/self/exe";
    argv.push_back(const_cast<char*>(self));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    if (!freopen("/dev/null", "w", stdout)) _exit(127);
    if (!keep_stderr && !freopen("/dev/null", "w", stderr)) _exit(127);
    execv(self, argv.data());
    _exit(127);
  }
  int status = 0;
  // A signal (Ctrl-C reaches the child too) interrupts the wait: wait on for the child's status.
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw Error("waitpid failed");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw Error("subprocess `nax " + (args.empty() ? std::string() : args.front()) +
                " ...` failed");
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void parse_shard(const std::string& s, int& index, int& count) {
  index = 0;
  count = 1;
  if (s.empty()) return;
  const size_t slash = s.find('/');
  bool ok = slash != std::string::npos && slash > 0 && slash + 1 < s.size();
  if (ok) {
    try {
      size_t p1 = 0, p2 = 0;
      const long i = std::stol(s.substr(0, slash), &p1);
      const long n = std::stol(s.substr(slash + 1), &p2);
      ok = p1 == slash && p2 == s.size() - slash - 1 && n >= 1 && n <= 1000000 && i >= 0 && i < n;
      index = static_cast<int>(i);
      count = static_cast<int>(n);
    } catch (const std::exception&) {
      ok = false;
    }
  }
  if (!ok) {
    throw InputError(std::vector<Diagnostic>{
        Diagnostic{{}, "--shard", s, "expected i/n with 0 <= i < n, e.g. 0/4"}});
  }
}

}  // namespace nax::cli
