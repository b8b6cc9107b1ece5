// Stable content hashes (FNV-1a, 64 bit) printed as 16 hex digits. Used for chip configs,
// graphs and subgraphs: the same content gives the same hash on every machine and run.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace nax {

class Fnv1a64 {
 public:
  void update(std::string_view bytes) {
    for (unsigned char c : bytes) {
      m_h ^= c;
      m_h *= 0x100000001b3ull;
    }
  }
  uint64_t value() const { return m_h; }

 private:
  uint64_t m_h = 0xcbf29ce484222325ull;
};

inline std::string hex64(uint64_t v) {
  static const char* kDigits = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[static_cast<size_t>(i)] = kDigits[v & 0xf];
  return s;
}

inline std::string content_hash(std::string_view text) {
  Fnv1a64 h;
  h.update(text);
  return hex64(h.value());
}

}  // namespace nax
