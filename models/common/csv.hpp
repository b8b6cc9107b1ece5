// CSV output (RFC 4180): a field is quoted when it holds a comma, a quote or a line break, and its
// quotes are doubled.
#pragma once

#include <string>

namespace nax {

inline std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace nax
