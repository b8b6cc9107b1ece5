// The accuracy side's entry points for the rest of nax (torch-free: include this, never torch).
//
// Everything that runs a network (the zero-shot proxies, short training) lives in the plugin
// libnax_torch.so (nas/torch/*.cpp, the only files that include libtorch). The `nax` binary and
// the tests do not link libtorch: the first call of a function below loads the plugin (dlopen,
// nas/accuracy/torch_loader.cpp), so commands that never run a network start in milliseconds
// instead of paying libtorch's ~0.3 s of loading. The plugin is found at the path in
// $NAX_TORCH_PLUGIN (that path only, when set), else where the build put it, else next to the
// running binary or in ../nas/ or ../lib/ from it; not found is an Error naming the paths tried
// (nas/torch/plugin_abi.hpp). InputError and Error thrown inside the plugin arrive as themselves.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/ir/graph.hpp"

namespace nax::torchnet {

// ---- zero-shot proxies (nas/torch/proxies.cpp) ----
struct ProxyOptions {
  std::vector<std::string> proxies;  // names (proxy_names()); empty: all
  std::string data = "cifar10";      // "cifar10" (real images) or "gaussian" (data-free)
  std::string cifar_dir;             // directory holding the CIFAR-10 binary batches
  int batch = 0;                     // 0: each proxy's paper batch size
  uint64_t seed = 0;                 // initialisation and batch choice
  int threads = 1;                   // libtorch intra-op threads
};

struct ProxyScore {
  std::string name;
  double value = 0;    // higher predicts higher accuracy (as each paper defines it)
  double seconds = 0;  // wall time of this proxy (network build, data and passes included)
};

struct ProxyResult {
  std::vector<ProxyScore> scores;  // in the order asked for
  double seconds = 0;
};

// Names of the implemented proxies: naswot, synflow, snip, grad_norm, jacob_cov, zen, zico, meco.
std::vector<std::string> proxy_names();

// Builds `g` as a trainable network (seeded) and computes the proxies. Throws InputError for a
// graph nax cannot train (naming the op and the reason) or an unknown proxy name, and for
// unreadable CIFAR data (naming the file).
ProxyResult compute_proxies(const ir::Graph& g, const ProxyOptions& o);

// ---- short training (nas/torch/train.cpp) ----
struct TrainOptions {
  std::string cifar_dir;
  int epochs = 5;
  int batch = 64;
  double lr = 0.05;  // SGD with momentum 0.9, cosine schedule, weight decay 5e-4
  double weight_decay = 5e-4;
  int train_images = 4000;  // from data_batch_1_first4000.bin
  int test_images = 1000;   // test_batch_first1000.bin, held out
  bool augment = true;      // random crop (pad 4) and horizontal flip
  uint64_t seed = 0;
  int threads = 1;
  // Called after each epoch (1-based) with its mean loss and training accuracy (percent), for
  // progress output; may be empty.
  std::function<void(int epoch, double loss, double train_accuracy)> on_epoch;
};

struct TrainResult {
  double test_accuracy = 0;            // percent, on the held-out test images
  std::vector<double> epoch_loss;      // mean training loss per epoch
  std::vector<double> epoch_accuracy;  // training accuracy per epoch, percent
  double seconds = 0;
  int64_t parameters = 0;  // trainable parameters of the network built
};

// Trains `g` (10 outputs, 3-channel input) on the CIFAR-10 training images and tests it on the
// held-out ones (nas/accuracy/cifar.hpp): SGD with Nesterov momentum 0.9, cosine learning rate
// per step, weight decay on conv and FC weights only; seeded and, single-threaded, bit-for-bit
// deterministic. Throws InputError for a graph it cannot train (naming the op, or the number of
// outputs), bad options or unreadable data; Error when training diverges (non-finite loss).
TrainResult short_train(const ir::Graph& g, const TrainOptions& o);

// ---- the network a graph becomes (nas/torch/graph_net.cpp) ----
struct NetworkSummary {
  int64_t parameters = 0;   // trainable parameters (BatchNorm: weight and bias per channel)
  int64_t buffers = 0;      // BatchNorm running statistics and fixed constant operands
  int64_t layers = 0;       // conv and FC layers
  int64_t batch_norms = 0;  // BatchNorm modules
  std::vector<int64_t> output_shape;  // of a forward pass on a batch of 2
  double seconds = 0;                 // build + forward
};

// Builds `g` as a trainable network (seed), runs a forward pass on a batch of 2 and checks every
// tensor's shape against the graph's (an Error naming the op when one differs). Throws InputError
// naming the op for a graph nax cannot build as a network.
NetworkSummary inspect_network(const ir::Graph& g, uint64_t seed = 0);

// ---- about the plugin ----
std::string libtorch_version();  // e.g. "1.13.0"
bool plugin_loaded();            // whether this process has loaded it yet

}  // namespace nax::torchnet
