// The chip presets compiled into the binary: the bytes of configs/chips/*.yaml, embedded at build
// time by hw/chip/embed_presets.cmake (the files are the single source; editing one rebuilds).
#pragma once

#include <cstddef>

namespace nax::hw::detail {

struct EmbeddedPreset {
  const char* name;  // file name without .yaml
  const unsigned char* data;
  size_t size;
};

extern const EmbeddedPreset kEmbeddedPresets[];
extern const size_t kNumEmbeddedPresets;

}  // namespace nax::hw::detail
