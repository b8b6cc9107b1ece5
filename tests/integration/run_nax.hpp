// Runs the built `nax` binary and captures its exit code, stdout and stderr.
#pragma once

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace nax::test {

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};

// A path in the temporary directory unique to this test process: nax_it_<prefix>_<pid>_<name>.
inline std::string tmp_path(const std::string& prefix, const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("nax_it_" + prefix + "_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `args` is appended to the binary path as shell words (quote them yourself).
inline RunResult run_nax(const std::string& args, const std::string& tag = "run") {
  const std::string base = std::string("nax_it_") + tag;
  const std::string out = base + ".out", err = base + ".err";
  const std::string cmd = std::string(NAX_BINARY) + " " + args + " >" + out + " 2>" + err;
  const int status = std::system(cmd.c_str());
  RunResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out);
  r.err = slurp(err);
  std::remove(out.c_str());
  std::remove(err.c_str());
  return r;
}

// Starts `nax args...` (stdout, stderr to files) and returns its pid. With `own_group` the process
// leads a new process group, so kill(-pid, SIGINT) reaches it and its children as a terminal's
// Ctrl-C does.
inline pid_t spawn(const std::vector<std::string>& args, const std::string& tag,
                   bool own_group = false) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (own_group) setpgid(0, 0);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(NAX_BINARY));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    if (!freopen(("nax_it_" + tag + ".out").c_str(), "w", stdout) ||
        !freopen(("nax_it_" + tag + ".err").c_str(), "w", stderr)) {
      _exit(127);
    }
    execv(NAX_BINARY, argv.data());
    _exit(127);
  }
  return pid;
}

// Waits for a spawned process; its exit code (128 + signal when killed).
inline int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Rows of `table` in the SQLite file `db` (0 while it does not exist or has no such table yet).
inline int64_t count_rows(const std::string& db, const std::string& table) {
  sqlite3* h = nullptr;
  int64_t n = 0;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    const std::string sql = "SELECT count(*) FROM " + table;
    if (sqlite3_prepare_v2(h, sql.c_str(), -1, &s, nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
      n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
  }
  sqlite3_close_v2(h);
  return n;
}

// Polls every 10 ms (at most 30 s) until `ready()` or the spawned process ends; true when the
// process is still running (it can then be interrupted mid-run).
inline bool wait_until(pid_t pid, const std::function<bool()>& ready) {
  for (int i = 0; i < 3000; ++i) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return false;
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace nax::test
