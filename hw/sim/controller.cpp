// The controller (sequencer): the simulator's only process.
//
// Each unit has an in-order queue (its commands in program order). A queue's head can issue once
// every dependency has been issued: since each unit computes a command's done cycle in closed form
// when it issues, the head's issue cycle is then known exactly: max(its dependencies' done, the
// unit's accept cycle). The controller takes the head with the earliest issue cycle (ties: unit
// order, MAC array, vector unit, DMA channel 0, 1, ...), waits until that cycle, issues it, and
// repeats. Issue cycles never decrease (a command's issue cycle is at least the issue cycle of
// the command that made it issuable), so every shared resource sees its requests in global time
// order. The thread wakes once per distinct issue cycle, plus once at the start and once at the
// last done cycle: kernel activations are bounded by commands + 2, whatever the cycle counts.
//
// A program whose dependencies all point to earlier commands cannot deadlock: the lowest-numbered
// command not yet issued has all its dependencies issued and every earlier command of its unit
// issued, so it is a head that can issue.
#include <algorithm>
#include <limits>

#include "hw/sim/modules.hpp"

namespace nax::hw::sim {

Controller::Controller(sc_core::sc_module_name name, RunClock& clock)
    : sc_module(name), units("units"), start("start"), m_clock(clock) {
  SC_THREAD(main);
}

void Controller::begin_run(const Program& program) {
  m_program = &program;
  m_trace = RunTrace{};
  m_error = nullptr;
}

void Controller::main() {
  for (;;) {
    wait(start);
    ++m_trace.activations;
    try {
      execute();
    } catch (...) {
      m_error = std::current_exception();
    }
    sc_core::sc_pause();
  }
}

void Controller::execute() {
  const Program& p = *m_program;
  const size_t n = p.cmds.size();
  const int num_units = units.size();
  m_clock.start();
  m_trace.commands.assign(n, CommandTiming{});
  m_trace.layer_activations.assign(p.layers.size(), 0);

  // Per-unit queues and the dependents of each command, both as compressed lists.
  std::vector<uint32_t> queue_begin(static_cast<size_t>(num_units) + 1, 0);
  std::vector<uint32_t> dep_begin(n + 1, 0);
  for (size_t i = 0; i < n; ++i) {
    ++queue_begin[static_cast<size_t>(unit_index(p.cmds[i])) + 1];
    for (uint32_t d : p.cmds[i].deps) ++dep_begin[d + 1];
  }
  for (int u = 0; u < num_units; ++u) queue_begin[u + 1] += queue_begin[u];
  for (size_t i = 0; i < n; ++i) dep_begin[i + 1] += dep_begin[i];
  std::vector<uint32_t> queue(n), dependents(dep_begin[n]);
  std::vector<uint32_t> qfill(queue_begin.begin(), queue_begin.end() - 1);
  std::vector<uint32_t> dfill(dep_begin.begin(), dep_begin.end() - 1);
  std::vector<uint32_t> pending(n);
  for (size_t i = 0; i < n; ++i) {
    const Command& c = p.cmds[i];
    queue[qfill[static_cast<size_t>(unit_index(c))]++] = static_cast<uint32_t>(i);
    pending[i] = static_cast<uint32_t>(c.deps.size());
    for (uint32_t d : c.deps) dependents[dfill[d]++] = static_cast<uint32_t>(i);
  }
  std::vector<int> active;  // units with commands, in unit order
  for (int u = 0; u < num_units; ++u)
    if (queue_begin[u + 1] > queue_begin[u]) active.push_back(u);
  std::vector<uint32_t> head(queue_begin.begin(), queue_begin.end() - 1);
  std::vector<Cycle> ready(n, 0);  // all dependencies done (as far as issued)

  Cycle end = 0;
  bool woke = false;  // the thread just resumed: the next issue is this activation's work
  for (size_t issued = 0; issued < n; ++issued) {
    int best = -1;
    Cycle best_t = std::numeric_limits<Cycle>::max();
    for (int u : active) {
      if (head[u] == queue_begin[u + 1]) continue;
      const uint32_t c = queue[head[u]];
      if (pending[c] != 0) continue;
      const Cycle t = std::max(ready[c], units[u]->accepts_at(p.cmds[c]));
      if (t < best_t) {
        best_t = t;
        best = u;
      }
    }
    if (best < 0) throw std::logic_error("controller: no command can issue (malformed program)");
    const Cycle now = m_clock.now();
    if (best_t > now) {
      wait(RunClock::span(best_t - now));
      ++m_trace.activations;
      woke = true;
    } else if (best_t < now) {
      throw std::logic_error("controller: issue cycle went backwards");
    }
    const uint32_t c = queue[head[best]++];
    const Command& cmd = p.cmds[c];
    if (woke && cmd.layer >= 0) ++m_trace.layer_activations[static_cast<size_t>(cmd.layer)];
    woke = false;
    const Issued r = units[best]->issue(cmd, ready[c]);
    m_trace.commands[c] = {best_t, r.start, r.accept, r.done};
    end = std::max(end, r.done);
    for (uint32_t k = dep_begin[c]; k < dep_begin[c + 1]; ++k) {
      const uint32_t d = dependents[k];
      ready[d] = std::max(ready[d], r.done);
      --pending[d];
    }
  }
  // Sleep until the last command is done, so the run ends at its last cycle.
  const Cycle now = m_clock.now();
  if (end > now) {
    wait(RunClock::span(end - now));
    ++m_trace.activations;
  }
  m_trace.end = end;
}

}  // namespace nax::hw::sim
