// Error types shared by every nax library. Library code never exits or aborts on bad input: it
// throws InputError (the CLI maps it to exit code 2) carrying every problem found, each located
// as file:line:col and naming the key path, the offending value and what was expected.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace nax {

// A place in a user's input. line/col are 1-based; 0 means unknown.
struct SourceLoc {
  std::string file;
  int line = 0;
  int col = 0;

  std::string str() const;  // "file:line:col", "file:line", "file" or ""
};

// One problem with a user's input.
struct Diagnostic {
  Diagnostic() = default;
  Diagnostic(SourceLoc l, std::string p, std::string v, std::string m)
      : loc(std::move(l)), path(std::move(p)), value(std::move(v)), message(std::move(m)) {}

  SourceLoc loc;
  std::string path;   // dotted key path, e.g. "mac_array.rows"; may be empty
  std::string value;  // the offending value as written; may be empty
  std::string message;

  // "file:line:col: path = value: message" (parts that are empty are left out).
  std::string str() const;
};

// Bad input (config, model, command line). Exit code 2.
class InputError : public std::runtime_error {
 public:
  explicit InputError(std::vector<Diagnostic> diags);
  explicit InputError(const std::string& message);
  InputError(const SourceLoc& loc, const std::string& message);
  const std::vector<Diagnostic>& diagnostics() const { return m_diags; }

 private:
  std::vector<Diagnostic> m_diags;
};

// Every diagnostic of `e` on one line, joined by "; " (what() when it has none): the reason a
// sweep, search or advisor records for a refused chip, model or rule.
std::string one_line(const InputError& e);

// A failure that is not the user's input (I/O, internal). Exit code 1.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Collects diagnostics; throws them together.
class DiagnosticSink {
 public:
  void add(Diagnostic d) { m_diags.push_back(std::move(d)); }
  void add(const SourceLoc& loc, const std::string& path, const std::string& value,
           const std::string& message) {
    m_diags.push_back(Diagnostic{loc, path, value, message});
  }
  bool empty() const { return m_diags.empty(); }
  size_t size() const { return m_diags.size(); }
  const std::vector<Diagnostic>& diagnostics() const { return m_diags; }
  // Throws InputError with everything collected, if anything was.
  void throw_if_any() const;

 private:
  std::vector<Diagnostic> m_diags;
};

// Closest candidate by edit distance, or "" when nothing is close enough to suggest.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace nax
