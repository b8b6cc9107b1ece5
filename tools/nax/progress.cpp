#include "tools/nax/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "tools/nax/cli.hpp"

namespace nax::cli {
namespace {

volatile sig_atomic_t g_signal = 0;

void on_signal(int sig) {
  g_signal = sig;
}

}  // namespace

StopSignals::StopSignals() {
  g_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, &m_old_int);
  sigaction(SIGTERM, &sa, &m_old_term);
}

StopSignals::~StopSignals() {
  sigaction(SIGINT, &m_old_int, nullptr);
  sigaction(SIGTERM, &m_old_term, nullptr);
}

bool StopSignals::stop_requested() {
  return g_signal != 0;
}
int StopSignals::stop_signal() {
  return g_signal;
}

std::string duration_str(double s) {
  if (s < 0 || s > 1e8) return "?";
  const int64_t t = static_cast<int64_t>(s + 0.5);
  if (t < 60) return fmt::format("{}s", t);
  if (t < 3600) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}h{:02}m", t / 3600, (t / 60) % 60);
}

bool stderr_is_tty() {
  return ::isatty(STDERR_FILENO) == 1;
}

ProgressLine::ProgressLine(std::string prefix, const std::string& mode, bool quiet)
    : m_prefix(std::move(prefix)),
      m_tty(mode == "bar" || (mode == "auto" && stderr_is_tty())),
      m_quiet(quiet || mode == "none") {}

void ProgressLine::update(double frac, const std::string& text, double seconds, bool done) {
  if (m_quiet) return;
  frac = std::min(1.0, std::max(0.0, frac));
  if (m_tty) {
    constexpr int kWidth = 24;
    const int fill = static_cast<int>(frac * kWidth);
    std::cerr << "\r[" << std::string(static_cast<size_t>(fill), '#')
              << std::string(static_cast<size_t>(kWidth - fill), '.') << "] " << text << "\x1b[K"
              << std::flush;
    m_drawn = true;
  } else if ((!m_started || done || seconds - m_last >= 5.0) && text != m_last_line) {
    m_started = true;
    m_last = seconds;
    m_last_line = text;
    std::cerr << m_prefix << ": " << text << "\n" << std::flush;
  }
}

void ProgressLine::finish() {
  if (m_drawn) std::cerr << "\n" << std::flush;
  m_drawn = false;
}

std::string eta_text(int64_t done, int64_t total, int64_t done_session, double seconds,
                     const std::string& what) {
  const double rate = seconds > 0 ? static_cast<double>(done_session) / seconds : 0;
  std::string eta = "?";
  if (done >= total) {
    eta = "0s";
  } else if (rate > 0) {
    eta = duration_str(static_cast<double>(total - done) / rate);
  }
  const std::string r = rate >= 10 ? fmt::format("{:.0f}", rate) : fmt::format("{:.2f}", rate);
  return fmt::format("{}/{} {}, {} {}/s, ETA {}", grouped(done), grouped(total), what, r, what,
                     eta);
}

}  // namespace nax::cli
