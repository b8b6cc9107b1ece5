// Forked worker processes that send JSON messages back to the parent through pipes: the parallel
// engine of long jobs (`nax traces -j`, `nax proxy validate -j`). Processes, not threads, because
// the work (a SystemC simulator, a libtorch network with its global random generator) is not
// safe or not deterministic to share between threads.
//
// Each worker runs `body(w, send)`; `send(json)` writes one length-prefixed message (8 bytes of
// little-endian length, then the JSON text) and returns false when the parent is gone. A body
// that throws sends {"error": what} and the worker exits with status 1. Workers ignore SIGINT
// (Ctrl-C reaches the whole process group; the parent decides when to stop) and die with the
// parent (PR_SET_PDEATHSIG). The parent collects messages with poll(); the destructor kills and
// reaps every worker.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nax {

class ForkPool {
 public:
  using Send = std::function<bool(const nlohmann::json&)>;
  using Body = std::function<void(int worker, const Send& send)>;

  // Forks `jobs` workers running `body`. Throws Error if a pipe or fork fails.
  ForkPool(int jobs, const Body& body);
  ~ForkPool();
  ForkPool(const ForkPool&) = delete;
  ForkPool& operator=(const ForkPool&) = delete;

  bool any_open() const;
  bool is_open(size_t worker) const;
  // Waits up to timeout_ms for data; returns the complete messages read, with the worker each came
  // from. An empty result is a timeout or an interrupting signal (check your stop flag).
  std::vector<std::pair<int, nlohmann::json>> poll(int timeout_ms);

 private:
  struct Worker {
    pid_t pid = -1;
    int fd = -1;
    std::string buf;
    bool open = false;
  };
  std::vector<Worker> m_workers;
};

}  // namespace nax
