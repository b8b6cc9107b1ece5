// Runs the built `nax` binary and captures its exit code, stdout and stderr.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace nax::test {

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};

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

// Starts `nax args...` (stdout, stderr to files) and returns its pid.
inline pid_t spawn(const std::vector<std::string>& args, const std::string& tag) {
  const pid_t pid = fork();
  if (pid == 0) {
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

}  // namespace nax::test
