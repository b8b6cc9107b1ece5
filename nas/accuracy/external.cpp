// GCC 12 reports a false "maybe uninitialized" inside libstdc++'s <regex> automaton when this file
// is built with the sanitizers and -Werror (GCC bug 105562); nothing of nax's is involved.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "nas/accuracy/external.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <vector>

#include "models/spec/model_spec.hpp"

extern char** environ;

namespace nax::accuracy {
namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxCapture = size_t{1} << 20;  // bytes kept of each stream (the tail)
const char* const kPlaceholders[] = {"model", "onnx", "yaml", "dir", "name"};

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t next = s.find('\n', pos);
    if (next == std::string::npos) next = s.size();
    std::string line = s.substr(pos, next - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    pos = next + 1;
  }
  return lines;
}

bool blank(const std::string& s) {
  return s.find_first_not_of(" \t\r\f\v") == std::string::npos;
}

// The last `n` non-empty lines, indented, or "(nothing)".
std::string tail(const std::string& s, size_t n) {
  std::vector<std::string> lines;
  for (auto& l : split_lines(s)) {
    if (!blank(l)) lines.push_back(std::move(l));
  }
  if (lines.empty()) return "  (nothing)";
  std::string out;
  if (lines.size() > n) out += fmt::format("  ... ({} earlier lines)\n", lines.size() - n);
  for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i) {
    out += "  " + lines[i] + (i + 1 < lines.size() ? "\n" : "");
  }
  return out;
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string sanitize(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    out += ok ? c : '_';
  }
  if (out.empty() || out[0] == '.') out = "m" + out;
  return out.substr(0, 80);
}

bool is_placeholder_word(const std::string& w) {
  if (w.empty()) return false;
  for (char c : w) {
    if (!(c >= 'a' && c <= 'z') && c != '_') return false;
  }
  return true;
}

// Calls f(word, begin, end) for every `{word}` with a lowercase word in the template.
template <typename F>
void for_each_placeholder(const std::string& t, F f) {
  size_t pos = 0;
  while ((pos = t.find('{', pos)) != std::string::npos) {
    const size_t close = t.find('}', pos + 1);
    if (close == std::string::npos) return;
    const std::string word = t.substr(pos + 1, close - pos - 1);
    if (is_placeholder_word(word)) {
      f(word, pos, close + 1);
      pos = close + 1;
    } else {
      ++pos;
    }
  }
}

// A number and whether '%' follows it.
struct Number {
  double value = 0;
  bool percent = false;
};

double to_percent(const Number& n, const std::string& line, const std::string& out,
                  size_t tail_lines) {
  const double v = n.value;
  if (v >= 0 && v <= 100) return n.percent || v > 1 ? v : v * 100;
  throw Error(fmt::format(
      "accuracy {} (from the line '{}') is out of range: expected a fraction in [0, 1] or a "
      "percentage in (1, 100]; the last lines of stdout were:\n{}",
      v, line, tail(out, tail_lines)));
}

struct Captured {
  std::string data;
  bool open = true;
  void append(const char* p, size_t n) {
    data.append(p, n);
    if (data.size() > 2 * kMaxCapture) data.erase(0, data.size() - kMaxCapture);
  }
  void trim() {
    if (data.size() > kMaxCapture) data.erase(0, data.size() - kMaxCapture);
  }
};

struct RunOutcome {
  std::string out, err;
  int status = 0;  // exit status, or -signal
  bool timed_out = false;
  double seconds = 0;
};

// Runs /bin/sh -c `cmd` in a new process group with `extra_env` added to the environment.
RunOutcome run_shell(const std::string& cmd, const std::vector<std::string>& extra_env,
                     double timeout_s) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0)
    throw Error(fmt::format("cannot create a pipe: {}", strerror(errno)));
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    throw Error(fmt::format("cannot create a pipe: {}", strerror(errno)));
  }
  // Everything the child needs is prepared before fork (only async-signal-safe calls after it).
  // The pipes are close-on-exec, so no other child of this process inherits them (dup2 onto the
  // shell's stdout and stderr clears the flag there).
  std::vector<std::string> env_strings;
  for (char** e = environ; e && *e; ++e) {
    bool replaced = false;
    for (const auto& x : extra_env) {
      const std::string key = x.substr(0, x.find('=') + 1);
      if (std::strncmp(*e, key.c_str(), key.size()) == 0) replaced = true;
    }
    if (!replaced) env_strings.emplace_back(*e);
  }
  env_strings.insert(env_strings.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", command = cmd;
  char* argv[] = {sh.data(), dash_c.data(), command.data(), nullptr};

  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid < 0) {
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) close(fd);
    throw Error(fmt::format("cannot start /bin/sh: fork failed: {}", strerror(errno)));
  }
  if (pid == 0) {
    setpgid(0, 0);
    const int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    close(out_pipe[0]);
    close(err_pipe[0]);
    execve("/bin/sh", argv, envp.data());
    _exit(127);
  }
  setpgid(pid, pid);  // also here, so the group exists before any kill below
  close(out_pipe[1]);
  close(err_pipe[1]);
  for (int fd : {out_pipe[0], err_pipe[0]}) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

  RunOutcome r;
  Captured streams[2];
  const int fds[2] = {out_pipe[0], err_pipe[0]};
  auto drain = [&](int i) {
    char buf[65536];
    while (true) {
      const ssize_t n = read(fds[i], buf, sizeof buf);
      if (n > 0) {
        streams[i].append(buf, static_cast<size_t>(n));
      } else if (n == 0) {
        streams[i].open = false;
        return;
      } else {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) streams[i].open = false;
        return;
      }
    }
  };
  // The shell is only reaped (waitpid) after its process group has been killed: until then its
  // pid, which is the group's id, cannot be reused by an unrelated process.
  auto shell_exited = [&] {
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
      return errno == ECHILD;  // reaped elsewhere: gone
    }
    return info.si_pid == pid;
  };
  while (true) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (timeout_s > 0 && elapsed >= timeout_s && !shell_exited()) {
      r.timed_out = true;
      break;
    }
    if (shell_exited()) break;
    pollfd p[2];
    nfds_t np = 0;
    for (int i = 0; i < 2; ++i) {
      if (streams[i].open) p[np++] = pollfd{fds[i], POLLIN, 0};
    }
    const int wait_ms = 20;
    if (np > 0) {
      poll(p, np, wait_ms);
      for (int i = 0; i < 2; ++i) {
        if (streams[i].open) drain(i);
      }
    } else {
      usleep(wait_ms * 1000);
    }
  }
  // Whatever the command left running (its background children, or all of it on a timeout)
  // belongs to the evaluation and ends with it; then take what is left in the pipes.
  kill(-pid, SIGKILL);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  for (int i = 0; i < 2; ++i) drain(i);
  close(out_pipe[0]);
  close(err_pipe[0]);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  streams[0].trim();
  streams[1].trim();
  r.out = std::move(streams[0].data);
  r.err = std::move(streams[1].data);
  if (WIFEXITED(wstatus)) {
    r.status = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    r.status = -WTERMSIG(wstatus);
  }
  return r;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) throw Error(fmt::format("{}: cannot write the file", path));
}

}  // namespace

double parse_accuracy_output(const std::string& out, std::string* matched, size_t tail_lines) {
  static const std::regex kAccuracy(
      R"(accuracy[ :=]+([-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)(%?))",
      std::regex::icase);
  static const std::regex kNumber(R"(((?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)(%?))");
  const std::vector<std::string> lines = split_lines(out);
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    std::smatch m;
    if (std::regex_search(*it, m, kAccuracy)) {
      if (matched) *matched = *it;
      return to_percent({std::stod(m[1].str()), m[2].length() > 0}, *it, out, tail_lines);
    }
  }
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    if (blank(*it)) continue;
    std::smatch last;
    bool found = false;
    for (std::sregex_iterator m(it->begin(), it->end(), kNumber), end; m != end; ++m) {
      last = *m;
      found = true;
    }
    if (!found) break;
    if (matched) *matched = *it;
    return to_percent({std::stod(last[1].str()), last[2].length() > 0}, *it, out, tail_lines);
  }
  throw Error(fmt::format(
      "no accuracy in the command's output: expected a line 'accuracy: <number>' (or '=', "
      "case-insensitive) or a number on the last non-empty line of stdout; the last lines of "
      "stdout were:\n{}",
      tail(out, tail_lines)));
}

ExternalEvaluator::ExternalEvaluator(ExternalOptions opts) : m_opts(std::move(opts)) {
  if (blank(m_opts.command)) throw InputError("--accuracy-cmd: the command is empty");
  if (m_opts.work_dir.empty()) {
    throw InputError("--accuracy-cmd: no work directory for the candidates' files");
  }
  if (m_opts.timeout_s < 0) throw InputError("--accuracy-cmd: the timeout must not be negative");
  const std::vector<std::string> known(std::begin(kPlaceholders), std::end(kPlaceholders));
  std::vector<Diagnostic> problems;
  for_each_placeholder(m_opts.command, [&](const std::string& w, size_t, size_t) {
    if (std::find(known.begin(), known.end(), w) == known.end()) {
      std::string msg =
          "unknown placeholder {" + w + "}: expected {model}, {onnx}, {yaml}, " + "{dir} or {name}";
      const std::string hint = did_you_mean(w, known);
      if (!hint.empty()) msg += "; did you mean {" + hint + "}?";
      problems.emplace_back(SourceLoc{}, "--accuracy-cmd", m_opts.command, msg);
    }
    if (w == "yaml") m_uses_yaml = true;
  });
  if (!problems.empty()) throw InputError(problems);
}

ExternalResult ExternalEvaluator::evaluate(const Model& m, const std::string& tag) const {
  if (m_uses_yaml && !m.spec) {
    throw InputError(fmt::format(
        "--accuracy-cmd uses {{yaml}}, but model '{}' has no block-level description (it came "
        "from {}); use {{onnx}}",
        m.source, m.kind == "onnx" ? "an ONNX file" : m.kind));
  }
  ExternalResult r;
  const std::string dir_name =
      (tag.empty() ? "" : sanitize(tag) + "-") + sanitize(m.name) + "-" + m.hash;
  const fs::path dir = fs::path(m_opts.work_dir) / dir_name;
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec)
    throw Error(fmt::format("{}: cannot empty the directory: {}", dir.string(), ec.message()));
  fs::create_directories(dir, ec);
  if (ec)
    throw Error(fmt::format("{}: cannot create the directory: {}", dir.string(), ec.message()));
  r.dir = fs::absolute(dir).lexically_normal().string();
  r.onnx_path = (fs::path(r.dir) / "model.onnx").string();
  onnx::export_onnx_file(m.graph, r.onnx_path, m_opts.onnx);
  if (m.spec) {
    r.yaml_path = (fs::path(r.dir) / "model.yaml").string();
    write_file(r.yaml_path, spec::write_model_yaml(*m.spec));
  }

  const std::map<std::string, std::string> values = {{"model", r.onnx_path},
                                                     {"onnx", r.onnx_path},
                                                     {"yaml", r.yaml_path},
                                                     {"dir", r.dir},
                                                     {"name", m.name}};
  std::string cmd;
  size_t copied = 0;
  for_each_placeholder(m_opts.command, [&](const std::string& w, size_t begin, size_t end) {
    cmd += m_opts.command.substr(copied, begin - copied) + shell_quote(values.at(w));
    copied = end;
  });
  cmd += m_opts.command.substr(copied);
  r.command = cmd;
  write_file((fs::path(r.dir) / "command.txt").string(), cmd + "\n");

  const RunOutcome run = run_shell(cmd,
                                   {"NAX_ONNX=" + r.onnx_path, "NAX_YAML=" + r.yaml_path,
                                    "NAX_DIR=" + r.dir, "NAX_NAME=" + m.name},
                                   m_opts.timeout_s);
  r.out = run.out;
  r.err = run.err;
  r.exit_status = run.status;
  r.seconds = run.seconds;
  write_file((fs::path(r.dir) / "stdout.txt").string(), r.out);
  write_file((fs::path(r.dir) / "stderr.txt").string(), r.err);

  const size_t n = m_opts.tail_lines;
  if (run.timed_out) {
    throw Error(fmt::format(
        "accuracy command timed out after {} s (killed): {}\nlast lines of stderr:\n{}\nlast "
        "lines of stdout:\n{}",
        m_opts.timeout_s, cmd, tail(r.err, n), tail(r.out, n)));
  }
  if (run.status < 0) {
    throw Error(
        fmt::format("accuracy command was killed by signal {} ({}): {}\nlast lines of stderr:\n{}",
                    -run.status, strsignal(-run.status), cmd, tail(r.err, n)));
  }
  if (run.status != 0) {
    throw Error(fmt::format("accuracy command exited with status {}: {}\nlast lines of stderr:\n{}",
                            run.status, cmd, tail(r.err, n)));
  }
  try {
    r.accuracy = parse_accuracy_output(r.out, &r.matched, n);
  } catch (const Error& e) {
    throw Error(fmt::format("accuracy command {}: {}", cmd, e.what()));
  }
  return r;
}

}  // namespace nax::accuracy
