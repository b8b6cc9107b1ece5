// api.hpp's functions for the torch-free side: load libnax_torch.so once (dlopen), then call
// through its function table (plugin_abi.hpp).
#include <dlfcn.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <system_error>

#include "models/common/error.hpp"
#include "nas/torch/api.hpp"
#include "nas/torch/plugin_abi.hpp"

#ifndef NAX_TORCH_PLUGIN_BUILD_PATH
#error "NAX_TORCH_PLUGIN_BUILD_PATH is set by nas/CMakeLists.txt"
#endif

namespace nax::torchnet {
namespace fs = std::filesystem;

namespace {

std::mutex g_mutex;
const PluginApi* g_api = nullptr;  // written once under g_mutex, then read through g_loaded
std::atomic<bool> g_loaded{false};
std::string g_path;

std::string self_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

// Why `a` (the plugin's table) cannot be used by this build, or "" when it can.
std::string layout_mismatch(const PluginApi& a) {
  const PluginApi want = plugin_api_layout();
  if (a.abi_version != want.abi_version) {
    return fmt::format(
        "plugin interface version {}, this nax needs {} (rebuild the nax_torch "
        "target)",
        a.abi_version, want.abi_version);
  }
  struct Field {
    const char* name;
    uint32_t got, want;
  };
  const Field fields[] = {
      {"PluginApi", a.sizeof_api, want.sizeof_api},
      {"ir::Graph", a.sizeof_graph, want.sizeof_graph},
      {"ProxyOptions", a.sizeof_proxy_options, want.sizeof_proxy_options},
      {"ProxyResult", a.sizeof_proxy_result, want.sizeof_proxy_result},
      {"TrainOptions", a.sizeof_train_options, want.sizeof_train_options},
      {"TrainResult", a.sizeof_train_result, want.sizeof_train_result},
      {"NetworkSummary", a.sizeof_network_summary, want.sizeof_network_summary}};
  for (const auto& f : fields) {
    if (f.got != f.want) {
      return fmt::format(
          "built from other headers: sizeof({}) is {} in the plugin, {} here "
          "(rebuild the nax_torch target)",
          f.name, f.got, f.want);
    }
  }
  return "";
}

// Why exceptions thrown in the plugin would not reach our catch clauses, or "" when they do.
std::string exceptions_mismatch(const PluginApi& a) {
  try {
    a.check_exceptions(0);
    return "check_exceptions(0) did not throw";
  } catch (const InputError&) {
  } catch (const std::exception& e) {
    return fmt::format("an InputError thrown in the plugin arrives as another type ({})", e.what());
  }
  try {
    a.check_exceptions(1);
    return "check_exceptions(1) did not throw";
  } catch (const InputError&) {
    return "an Error thrown in the plugin arrives as an InputError";
  } catch (const Error&) {
  } catch (const std::exception& e) {
    return fmt::format("an Error thrown in the plugin arrives as another type ({})", e.what());
  }
  return "";
}

}  // namespace

std::vector<std::string> plugin_candidates() {
  const char* env = std::getenv("NAX_TORCH_PLUGIN");
  if (env != nullptr && *env != '\0') return {env};
  std::vector<std::string> c = {NAX_TORCH_PLUGIN_BUILD_PATH};
  const std::string dir = self_dir();
  if (!dir.empty()) {
    for (const char* rel : {"", "../nas/", "../lib/"}) {
      std::error_code ec;
      fs::path p = fs::path(dir) / rel / NAX_TORCH_PLUGIN_FILE;
      const fs::path canon = fs::weakly_canonical(p, ec);
      c.push_back((ec ? p : canon).string());
    }
  }
  std::vector<std::string> unique;
  for (const auto& p : c) {
    if (std::find(unique.begin(), unique.end(), p) == unique.end()) unique.push_back(p);
  }
  return unique;
}

const PluginApi& open_plugin(const std::vector<std::string>& paths, std::string* loaded) {
  std::string report;
  for (const auto& path : paths) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      report += fmt::format("\n  {}: not found", path);
      continue;
    }
    void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) {
      const char* why = dlerror();
      report += fmt::format("\n  {}: {}", path, why != nullptr ? why : "dlopen failed");
      continue;
    }
    // Never dlclose: libtorch does not support being unloaded, and a failed candidate costs
    // nothing but address space.
    dlerror();
    void* sym = dlsym(h, kPluginEntry);
    if (sym == nullptr) {
      const char* why = dlerror();
      report += fmt::format("\n  {}: no symbol {} ({})", path, kPluginEntry,
                            why != nullptr ? why : "null");
      continue;
    }
    const PluginApi* api = reinterpret_cast<PluginEntryFn>(sym)();
    std::string why = api == nullptr ? "its entry returned no table" : layout_mismatch(*api);
    if (why.empty()) why = exceptions_mismatch(*api);
    if (!why.empty()) {
      report += fmt::format("\n  {}: {}", path, why);
      continue;
    }
    if (loaded != nullptr) *loaded = path;
    return *api;
  }
  throw Error(fmt::format(
      "cannot load the libtorch plugin ({}), which runs networks for nax; tried:{}\nbuild the "
      "nax_torch target, or set NAX_TORCH_PLUGIN to the file's path",
      NAX_TORCH_PLUGIN_FILE, report));
}

const PluginApi& plugin() {
  if (g_loaded.load(std::memory_order_acquire)) return *g_api;
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_loaded.load(std::memory_order_relaxed)) {
    std::string path;
    g_api = &open_plugin(plugin_candidates(), &path);
    g_path = path;
    g_loaded.store(true, std::memory_order_release);
  }
  return *g_api;
}

std::string plugin_path() {
  if (!g_loaded.load(std::memory_order_acquire)) return "";
  return g_path;
}

// ---- api.hpp ----

std::vector<std::string> proxy_names() {
  return plugin().proxy_names();
}

ProxyResult compute_proxies(const ir::Graph& g, const ProxyOptions& o) {
  return plugin().compute_proxies(g, o);
}

TrainResult short_train(const ir::Graph& g, const TrainOptions& o) {
  return plugin().short_train(g, o);
}

NetworkSummary inspect_network(const ir::Graph& g, uint64_t seed) {
  return plugin().inspect_network(g, seed);
}

std::string libtorch_version() {
  return plugin().libtorch_version();
}

bool plugin_loaded() {
  return g_loaded.load(std::memory_order_acquire);
}

}  // namespace nax::torchnet
