// The plugin's single exported symbol: the function table of plugin_abi.hpp. Every entry runs
// behind guarded(): nax's InputError and Error pass through as they are (the caller catches them
// as its own types, see plugin_abi.hpp), libtorch's c10::Error becomes an Error carrying its
// message without the C++ backtrace.
#include <torch/torch.h>
#include <torch/version.h>

#include <chrono>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "models/common/error.hpp"
#include "nas/torch/api.hpp"
#include "nas/torch/graph_net.hpp"
#include "nas/torch/plugin_abi.hpp"
#include "nas/torch/proxies.hpp"
#include "nas/torch/train.hpp"

namespace nax::torchnet {
namespace {

template <typename F>
auto guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const InputError&) {
    throw;
  } catch (const Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Error(std::string("libtorch: ") + e.what_without_backtrace());
  }
}

NetworkSummary inspect_network_impl(const ir::Graph& g, uint64_t seed) {
  const auto t0 = std::chrono::steady_clock::now();
  // One thread, as every proxy and training run by default: deterministic, and no libtorch worker
  // pool (whose threads LeakSanitizer's tracer cannot walk in sanitizer builds).
  torch::set_num_threads(1);
  torch::NoGradGuard no_grad;
  NetOptions no;
  no.seed = seed;
  GraphNet net(g, no);
  const torch::Tensor y = net->check_shapes(2);
  NetworkSummary s;
  for (const auto& p : net->parameters()) s.parameters += p.numel();
  for (const auto& b : net->buffers()) {
    if (b.dim() > 0) s.buffers += b.numel();  // not BatchNorm's scalar num_batches_tracked
  }
  s.layers = static_cast<int64_t>(net->layer_weights().size());
  s.batch_norms = static_cast<int64_t>(net->batch_norms().size());
  s.output_shape = y.sizes().vec();
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

std::vector<std::string> api_proxy_names() {
  return guarded([] { return proxy_names_impl(); });
}
ProxyResult api_compute_proxies(const ir::Graph& g, const ProxyOptions& o) {
  return guarded([&] { return compute_proxies_impl(g, o); });
}
TrainResult api_short_train(const ir::Graph& g, const TrainOptions& o) {
  return guarded([&] { return short_train_impl(g, o); });
}
NetworkSummary api_inspect_network(const ir::Graph& g, uint64_t seed) {
  return guarded([&] { return inspect_network_impl(g, seed); });
}
std::string api_libtorch_version() {
  return TORCH_VERSION;
}
void api_check_exceptions(int kind) {
  if (kind == 0) throw InputError("plugin check: an InputError thrown in libnax_torch.so");
  throw Error("plugin check: an Error thrown in libnax_torch.so");
}

// libtorch allocates and frees activation tensors of a few MiB to tens of MiB on every pass.
// glibc's defaults hand blocks that large to mmap/munmap (its dynamic threshold settles too low
// for this pattern) and trim the heap eagerly, so the pages are faulted in and zeroed again on
// every batch: measured on a NAS-Bench-Macro network, 60% of the training time went to the
// kernel (sys 5.7 s, user 9.5 s for 1,000 images). Serving blocks up to 32 MiB (glibc's maximum
// for this setting) from the heap and keeping up to 1 GiB of freed heap makes that 1.0 s, and the
// wall time 1.5x shorter. Process-wide, from when the plugin is loaded: a process that runs
// networks keeps its peak memory instead of returning it between passes.
void tune_malloc() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

const PluginApi& table() {
  static const PluginApi api = [] {
    tune_malloc();
    PluginApi a = plugin_api_layout();
    a.proxy_names = api_proxy_names;
    a.compute_proxies = api_compute_proxies;
    a.short_train = api_short_train;
    a.inspect_network = api_inspect_network;
    a.libtorch_version = api_libtorch_version;
    a.check_exceptions = api_check_exceptions;
    return a;
  }();
  return api;
}

}  // namespace
}  // namespace nax::torchnet

extern "C" __attribute__((visibility("default"))) const nax::torchnet::PluginApi*
nax_torch_plugin_api() {
  return &nax::torchnet::table();
}
