#include "models/common/workers.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "models/common/error.hpp"

namespace nax {
namespace {

// Writes all of `n` bytes; false when the reader is gone.
bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool send_message(int fd, const std::string& text) {
  unsigned char len[8];
  const uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>((n >> (8 * i)) & 0xff);
  return write_all(fd, reinterpret_cast<const char*>(len), 8) &&
         write_all(fd, text.data(), text.size());
}

[[noreturn]] void worker_main(int fd, int w, const ForkPool::Body& body, pid_t parent) {
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGTERM, SIG_DFL);
  ::signal(SIGPIPE, SIG_DFL);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(0);
  int rc = 0;
  try {
    body(w, [fd](const nlohmann::json& j) { return send_message(fd, j.dump()); });
  } catch (const std::exception& e) {
    send_message(fd, nlohmann::json{{"error", e.what()}}.dump());
    rc = 1;
  }
  ::close(fd);
  std::fflush(nullptr);
  ::_exit(rc);
}

}  // namespace

ForkPool::ForkPool(int jobs, const Body& body) {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  const pid_t parent = ::getpid();
  for (int w = 0; w < jobs; ++w) {
    int fds[2];
    if (::pipe(fds) != 0) throw Error(std::string("pipe failed: ") + std::strerror(errno));
    const pid_t pid = ::fork();
    if (pid < 0) {
      ::close(fds[0]);
      ::close(fds[1]);
      throw Error(std::string("fork failed: ") + std::strerror(errno));
    }
    if (pid == 0) {
      ::close(fds[0]);
      for (const auto& other : m_workers) ::close(other.fd);
      worker_main(fds[1], w, body, parent);
    }
    ::close(fds[1]);
    ::fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    Worker wk;
    wk.pid = pid;
    wk.fd = fds[0];
    wk.open = true;
    m_workers.push_back(std::move(wk));
  }
}

ForkPool::~ForkPool() {
  for (auto& w : m_workers) {
    if (w.fd >= 0) ::close(w.fd);
    if (w.pid > 0) ::kill(w.pid, SIGKILL);
  }
  for (auto& w : m_workers) {
    if (w.pid > 0) {
      int status = 0;
      while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }
}

bool ForkPool::any_open() const {
  for (const auto& w : m_workers) {
    if (w.open) return true;
  }
  return false;
}

bool ForkPool::is_open(size_t worker) const {
  return m_workers[worker].open;
}

std::vector<std::pair<int, nlohmann::json>> ForkPool::poll(int timeout_ms) {
  std::vector<pollfd> fds;
  std::vector<size_t> which;
  for (size_t i = 0; i < m_workers.size(); ++i) {
    if (!m_workers[i].open) continue;
    fds.push_back({m_workers[i].fd, POLLIN, 0});
    which.push_back(i);
  }
  std::vector<std::pair<int, nlohmann::json>> out;
  if (fds.empty()) return out;
  const int n = ::poll(fds.data(), fds.size(), timeout_ms);
  if (n <= 0) return out;
  for (size_t k = 0; k < fds.size(); ++k) {
    if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    Worker& w = m_workers[which[k]];
    char chunk[1 << 16];
    const ssize_t r = ::read(w.fd, chunk, sizeof chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      w.open = false;
      continue;
    }
    w.buf.append(chunk, static_cast<size_t>(r));
    for (;;) {
      if (w.buf.size() < 8) break;
      uint64_t len = 0;
      for (int i = 0; i < 8; ++i) {
        len |= static_cast<uint64_t>(static_cast<unsigned char>(w.buf[static_cast<size_t>(i)]))
               << (8 * i);
      }
      if (w.buf.size() < 8 + len) break;
      out.emplace_back(static_cast<int>(which[k]),
                       nlohmann::json::parse(w.buf.begin() + 8,
                                             w.buf.begin() + 8 + static_cast<std::ptrdiff_t>(len)));
      w.buf.erase(0, 8 + len);
    }
  }
  return out;
}

}  // namespace nax
