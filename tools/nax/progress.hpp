// What long jobs (`nax traces`, `nax proxy validate`, searches, sweeps) share on the command line:
// stopping cleanly on Ctrl-C / SIGTERM, and a progress line.
//
// Progress: on a terminal (stderr) a one-line bar with done/total, rate and ETA, redrawn in place;
// otherwise a plain line every five seconds (and the last one), prefixed with the command's name.
#pragma once

#include <signal.h>

#include <cstdint>
#include <string>

namespace nax::cli {

// Installs SIGINT / SIGTERM handlers for its lifetime (no SA_RESTART: a blocking poll returns).
// The job checks stop_requested() between work items, keeps what is complete and exits with
// 128 + stop_signal().
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  static bool stop_requested();
  static int stop_signal();  // 0 when none arrived

 private:
  struct sigaction m_old_int {};
  struct sigaction m_old_term {};
};

std::string duration_str(double seconds);  // "42s", "3m07s", "2h05m", "?"
bool stderr_is_tty();

class ProgressLine {
 public:
  // mode: "auto" (a bar on a terminal, lines otherwise), "bar", "lines" or "none".
  ProgressLine(std::string prefix, const std::string& mode, bool quiet);
  ~ProgressLine() { finish(); }
  // `frac` in [0, 1]; `text` says done/total, rate and ETA (see eta_text); `done` forces a line.
  void update(double frac, const std::string& text, double seconds, bool done);
  void finish();

 private:
  std::string m_prefix;
  bool m_tty = false, m_quiet = false;
  bool m_drawn = false, m_started = false;
  double m_last = 0;
  std::string m_last_line;
};

// "<done>/<total> <what>, <rate> <what>/s, ETA <t>" from a session's progress (done_session over
// seconds gives the rate; the remaining total - done at that rate the ETA).
std::string eta_text(int64_t done, int64_t total, int64_t done_session, double seconds,
                     const std::string& what);

}  // namespace nax::cli
