// The boundary between nax and its libtorch plugin (libnax_torch.so). Torch-free.
//
// The plugin exports one C symbol, kPluginEntry, a function returning a PluginApi: a versioned
// table of function pointers implementing api.hpp (nas/torch/plugin.cpp). The loader
// (nas/accuracy/torch_loader.cpp) dlopens the plugin once per process, checks the table's version
// and the sizes of the structs that cross, and calls through it.
//
// Both sides are built from the same sources by the same compiler, so C++ types (ir::Graph,
// std::string, std::vector) cross as they are. Exceptions cross too: the plugin's own (private)
// copy of nax::InputError and nax::Error is matched by the caller's catch clauses because
// libstdc++ compares type_info by mangled name, not by address. The loader checks this when it
// loads the plugin (check_exceptions), so a toolchain where it does not hold fails loudly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "models/ir/graph.hpp"
#include "nas/torch/api.hpp"

namespace nax::torchnet {

// Bump when PluginApi or the meaning of a function changes.
inline constexpr uint32_t kPluginAbiVersion = 1;
inline constexpr const char* kPluginEntry = "nax_torch_plugin_api";

struct PluginApi {
  uint32_t abi_version = 0;
  // sizeof() of what crosses, as the plugin was compiled: a header changed on one side only
  // (a field added to TrainOptions, say) is caught at load instead of corrupting memory.
  uint32_t sizeof_api = 0;
  uint32_t sizeof_graph = 0;
  uint32_t sizeof_proxy_options = 0;
  uint32_t sizeof_proxy_result = 0;
  uint32_t sizeof_train_options = 0;
  uint32_t sizeof_train_result = 0;
  uint32_t sizeof_network_summary = 0;

  std::vector<std::string> (*proxy_names)() = nullptr;
  ProxyResult (*compute_proxies)(const ir::Graph&, const ProxyOptions&) = nullptr;
  TrainResult (*short_train)(const ir::Graph&, const TrainOptions&) = nullptr;
  NetworkSummary (*inspect_network)(const ir::Graph&, uint64_t seed) = nullptr;
  std::string (*libtorch_version)() = nullptr;
  // Throws InputError ("plugin check") for kind 0 and Error for kind 1: the loader calls it once
  // to prove that exceptions thrown in the plugin arrive as the caller's types.
  void (*check_exceptions)(int kind) = nullptr;
};

// What the plugin was compiled against, for the loader's comparison.
inline PluginApi plugin_api_layout() {
  PluginApi a;
  a.abi_version = kPluginAbiVersion;
  a.sizeof_api = sizeof(PluginApi);
  a.sizeof_graph = sizeof(ir::Graph);
  a.sizeof_proxy_options = sizeof(ProxyOptions);
  a.sizeof_proxy_result = sizeof(ProxyResult);
  a.sizeof_train_options = sizeof(TrainOptions);
  a.sizeof_train_result = sizeof(TrainResult);
  a.sizeof_network_summary = sizeof(NetworkSummary);
  return a;
}

using PluginEntryFn = const PluginApi* (*)();

// ---- the loader (nas/accuracy/torch_loader.cpp) ----

// The plugin's table, loading the plugin on the first call (thread-safe). Throws Error naming
// every path tried and why each failed; a failed load is retried on the next call.
const PluginApi& plugin();

// Where plugin() looks, in order: $NAX_TORCH_PLUGIN alone when it is set; else the path the build
// wrote it to, then next to the running executable, then ../nas/ and ../lib/ from it.
std::vector<std::string> plugin_candidates();

// Opens the first of `paths` that loads and has a table of this version. Throws Error naming
// every path and its failure (not found, dlerror(), no entry symbol, version or layout mismatch,
// exceptions that do not cross). Does not touch plugin()'s state; a loaded library stays loaded.
const PluginApi& open_plugin(const std::vector<std::string>& paths, std::string* loaded = nullptr);

// The path plugin() loaded, empty before.
std::string plugin_path();

}  // namespace nax::torchnet
