#include "models/common/error.hpp"

#include <algorithm>

namespace nax {

std::string SourceLoc::str() const {
  std::string s = file;
  if (line > 0) {
    s += ":" + std::to_string(line);
    if (col > 0) s += ":" + std::to_string(col);
  }
  return s;
}

std::string Diagnostic::str() const {
  std::string s;
  const std::string where = loc.str();
  if (!where.empty()) s += where + ": ";
  if (!path.empty()) {
    s += path;
    if (!value.empty()) s += " = " + value;
    s += ": ";
  } else if (!value.empty()) {
    s += value + ": ";
  }
  return s + message;
}

namespace {
std::string join_diags(const std::vector<Diagnostic>& diags) {
  std::string s;
  for (const auto& d : diags) {
    if (!s.empty()) s += "\n";
    s += d.str();
  }
  return s;
}
}  // namespace

InputError::InputError(std::vector<Diagnostic> diags)
    : std::runtime_error(join_diags(diags)), m_diags(std::move(diags)) {}

namespace {
std::vector<Diagnostic> one(const SourceLoc& loc, const std::string& message) {
  Diagnostic d;
  d.loc = loc;
  d.message = message;
  return {d};
}
}  // namespace

InputError::InputError(const std::string& message) : InputError(one(SourceLoc(), message)) {}

InputError::InputError(const SourceLoc& loc, const std::string& message)
    : InputError(one(loc, message)) {}

void DiagnosticSink::throw_if_any() const {
  if (!m_diags.empty()) throw InputError(m_diags);
}

namespace {
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::string::npos;
  for (const auto& c : candidates) {
    const size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  // Suggest only plausible typos: at most a third of the word (and at least 1) edits away.
  const size_t limit = std::max<size_t>(2, word.size() / 3);
  if (best.empty() || best_d > limit) return "";
  return best;
}

std::string one_line(const InputError& e) {
  std::string s;
  for (const auto& d : e.diagnostics()) s += (s.empty() ? "" : "; ") + d.str();
  return s.empty() ? std::string(e.what()) : s;
}

}  // namespace nax
