// The zero-shot trainability proxies (nas/torch/PROXIES.md has the table: paper, definition,
// inputs, batch, BatchNorm mode, initialisation, cost). Each proxy builds its own network from the
// graph (GraphNet, seeded with ProxyOptions::seed), so a score never depends on which other
// proxies ran before it. The arithmetic on the numbers taken out of the networks is torch-free
// (nas/accuracy/proxy_math.hpp) and unit-tested there.
//
// Data. `data = "cifar10"`: the first `batch` images of a seeded choice (accuracy::choose_images
// with ProxyOptions::seed) from the CIFAR-10 training batch, normalised per channel, resized
// bilinearly to the model's input when it is not 32x32; labels for the loss-based proxies.
// `data = "gaussian"`: N(0, 1) inputs of the model's input shape and uniform labels, from a
// generator seeded with seed ^ kDataSalt (not the initialisation's stream). synflow (an all-ones
// input) and zen (Gaussian by definition) take no data.
//
// Initialisation. synflow, snip, grad_norm and jacob_cov as NASLib computed its published
// NAS-Bench-201 scores (libtorch's default init, the layers' reset_parameters()); naswot, zico and
// meco as their reference code (also the default init); zen as its paper (N(0, 1) weights, zero
// biases, BatchNorm weight 1 and bias 0).
//
// Numerics: every value passes through accuracy::finite_score (NaN and -inf become -1e8, +inf
// 1e8; see proxy_math.hpp).
#include "nas/torch/proxies.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <tuple>

#include "models/common/error.hpp"
#include "nas/accuracy/cifar.hpp"
#include "nas/accuracy/proxy_math.hpp"
#include "nas/accuracy/residual_links.hpp"
#include "nas/torch/cifar_tensor.hpp"
#include "nas/torch/graph_net.hpp"

namespace nax::torchnet {
namespace {

using accuracy::finite_score;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kDataSalt = 0x9E3779B97F4A7C15ull;  // Gaussian data: seed ^ salt
constexpr uint64_t kZenSalt = 0xD1B54A32D192ED03ull;   // Zen's Gaussian weights: seed ^ salt
constexpr double kZenAlpha = 0.01;                     // Zen-score's perturbation
constexpr double kJacobK = 1e-5;                       // jacob_cov's eigenvalue offset

// Everything the proxies of one compute_proxies call share: the options, the CIFAR images (read
// once, when a proxy needs them) and the loss gradients snip and grad_norm both sum (computed by
// the first of them that runs).
struct Context {
  const ir::Graph& graph;
  const ProxyOptions& o;
  std::optional<accuracy::CifarSet> cifar;
  std::optional<GraphNet> loss_net;

  int64_t batch_or(int64_t paper_default) const { return o.batch > 0 ? o.batch : paper_default; }
};

struct Batch {
  torch::Tensor x;  // [N, C, H, W] float32
  torch::Tensor y;  // [N] int64 labels
};

GraphNet build(const ir::Graph& g, uint64_t seed, Init init, bool batch_norm) {
  NetOptions no;
  no.seed = seed;
  no.init = init;
  no.batch_norm = batch_norm;
  no.strip_output_softmax = true;  // logits, as the losses and the references take them
  return GraphNet(g, no);
}

// Conv weights and activations in channels-last (NHWC) memory: libtorch's oneDNN convolutions,
// depthwise ones above all, run about twice as fast on one core (the values are the same up to
// rounding). Not for synflow: oneDNN has no float64 kernels.
void to_channels_last(GraphNet& net) {
  torch::NoGradGuard no_grad;
  for (torch::Tensor& p : net->parameters()) {
    if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
  }
}

torch::Tensor channels_last(const torch::Tensor& x) {
  return x.dim() == 4 ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x;
}

at::Generator generator(uint64_t seed) {
  return at::detail::createCPUGenerator(seed);
}

// `n` inputs (and labels) for `net`, as ProxyOptions::data says.
Batch data(Context& c, const char* proxy, int64_t n, const GraphNet& net) {
  const int64_t ch = net->input_channels(), h = net->input_height(), w = net->input_width();
  const int64_t classes = net->num_outputs();
  Batch b;
  if (c.o.data == "gaussian") {
    at::Generator gen = generator(c.o.seed ^ kDataSalt);
    b.x = channels_last(torch::randn({n, ch, h, w}, gen, torch::kFloat32));
    b.y = torch::randint(0, std::max<int64_t>(classes, 1), {n}, gen, torch::kInt64);
    return b;
  }
  if (ch != 3) {
    throw InputError(fmt::format(
        "{}: --data cifar10: the model's input has {} channels, CIFAR-10 images have 3 (use "
        "--data gaussian)",
        proxy, ch));
  }
  if (!c.cifar) c.cifar = accuracy::read_cifar_train(c.o.cifar_dir);
  if (static_cast<size_t>(n) > c.cifar->size()) {
    throw InputError(fmt::format("{}: a batch of {} images asked for; {} holds {}", proxy, n,
                                 c.cifar->file, c.cifar->size()));
  }
  const std::vector<size_t> idx =
      accuracy::choose_images(c.cifar->size(), static_cast<size_t>(n), c.o.seed);
  b.x = channels_last(cifar_images(*c.cifar, idx, h, w));
  b.y = cifar_labels(*c.cifar, idx);
  return b;
}

// Cross-entropy of a classifier's logits; the loss-based proxies need an [N, classes] output
// with room for the labels.
torch::Tensor classification_loss(const char* proxy, const Context& c, const torch::Tensor& out,
                                  const torch::Tensor& y) {
  if (out.dim() != 2) {
    throw InputError(
        fmt::format("{}: needs a classifier whose output is [N, classes]; '{}' outputs [N, {}]",
                    proxy, c.graph.name, fmt::join(out.sizes().slice(1), ", ")));
  }
  if (c.o.data == "cifar10" && out.size(1) < accuracy::kCifarClasses) {
    throw InputError(fmt::format(
        "{}: '{}' has {} outputs; CIFAR-10 labels need at least {} (use --data gaussian)", proxy,
        c.graph.name, out.size(1), accuracy::kCifarClasses));
  }
  return torch::nn::functional::cross_entropy(out, y);
}

// ---- the proxies ----

// NASWOT: log|K_H|, K_H from the binary ReLU codes of a batch (paper: 128 images), default init,
// BatchNorm in train mode (batch statistics), one forward pass.
double naswot(Context& c) {
  const int64_t n = c.batch_or(128);
  GraphNet net = build(c.graph, c.o.seed, Init::kTorchDefault, true);
  to_channels_last(net);
  net->train();
  const Batch b = data(c, "naswot", n, net);
  torch::NoGradGuard no_grad;
  net->set_recording(true);
  net->forward(b.x);
  // Several ReLUs of one tensor (NAS-Bench-201 edges leaving one node) count once each, as in the
  // reference's hooks; their codes are computed once.
  std::map<std::tuple<const void*, int64_t>, std::pair<torch::Tensor, int64_t>> layers;
  std::vector<std::tuple<const void*, int64_t>> order;
  for (const torch::Tensor& t : net->relu_inputs()) {
    const auto key = std::make_tuple(t.data_ptr(), t.numel());
    auto it = layers.find(key);
    if (it == layers.end()) {
      layers.emplace(key, std::make_pair(t, int64_t{1}));
      order.push_back(key);
    } else {
      ++it->second.second;
    }
  }
  accuracy::HammingKernel k(n);
  for (const auto& key : order) {
    const auto& [t, times] = layers.at(key);
    // Any layout whose samples are contiguous blocks (NCHW or NHWC): the order of the units
    // within a sample is the same for every sample, which is all a Hamming distance needs.
    const bool sample_major =
        t.is_contiguous() || (t.dim() == 4 && t.is_contiguous(torch::MemoryFormat::ChannelsLast));
    const torch::Tensor v = (sample_major ? t : t.contiguous()).to(torch::kFloat32);
    k.add(v.data_ptr<float>(), v.numel() / n, times);
  }
  if (k.units() == 0) {
    throw InputError(fmt::format("naswot: '{}' has no ReLU-family activation", c.graph.name));
  }
  return k.log_det();
}

// synflow: log of sum over conv/FC weights of |theta * dR/dtheta|, R the sum of the outputs of
// the network with every parameter replaced by its absolute value, BatchNorm left out (identity),
// float64, on one all-ones input.
double synflow(Context& c) {
  GraphNet net = build(c.graph, c.o.seed, Init::kTorchDefault, false);
  net->to(torch::kFloat64);
  net->eval();
  {
    torch::NoGradGuard no_grad;
    for (torch::Tensor& p : net->parameters()) p.abs_();
  }
  const torch::Tensor x = torch::ones(
      {1, net->input_channels(), net->input_height(), net->input_width()}, torch::kFloat64);
  const torch::Tensor y = net->forward(x).sum();
  if (y.requires_grad()) y.backward();
  double s = 0;
  for (const torch::Tensor& w : net->layer_weights()) {
    if (w.grad().defined()) s += (w * w.grad()).abs().sum().item<double>();
  }
  return std::log(s);  // log(0) = -inf: nothing reaches the output
}

// The gradients of the cross-entropy on one batch (NASLib: 32 images), default init, BatchNorm
// in train mode: what snip and grad_norm sum. Both take the same batch, so the second reuses the
// first's network and gradients.
GraphNet loss_gradients(Context& c, const char* proxy) {
  if (c.loss_net) return *c.loss_net;
  GraphNet net = build(c.graph, c.o.seed, Init::kTorchDefault, true);
  to_channels_last(net);
  net->train();
  const Batch b = data(c, proxy, c.batch_or(32), net);
  net->zero_grad();
  classification_loss(proxy, c, net->forward(b.x), b.y).backward();
  c.loss_net = net;
  return net;
}

// snip: sum over conv/FC weights of |g * theta| (the gradient of the loss w.r.t. a unit mask).
double snip(Context& c) {
  GraphNet net = loss_gradients(c, "snip");
  double s = 0;
  for (const torch::Tensor& w : net->layer_weights()) {
    if (w.grad().defined()) s += (w.grad() * w).abs().sum().item<double>();
  }
  return s;
}

// grad_norm: sum over conv/FC layers of the L2 norm of the weight gradient.
double grad_norm(Context& c) {
  GraphNet net = loss_gradients(c, "grad_norm");
  double s = 0;
  for (const torch::Tensor& w : net->layer_weights()) {
    if (w.grad().defined()) s += w.grad().norm().item<double>();
  }
  return s;
}

// jacob_cov: the per-sample gradients of the sum of the outputs w.r.t. the input (NASLib: a batch
// of 32), BatchNorm in train mode, default init; score from their correlation matrix.
double jacob_cov(Context& c) {
  const int64_t n = c.batch_or(32);
  GraphNet net = build(c.graph, c.o.seed, Init::kTorchDefault, true);
  to_channels_last(net);
  net->train();
  for (torch::Tensor& p : net->parameters()) p.requires_grad_(false);  // the input's only
  const Batch b = data(c, "jacob_cov", n, net);
  const torch::Tensor x = b.x.clone().requires_grad_(true);
  const torch::Tensor y = net->forward(x);
  if (y.requires_grad()) y.backward(torch::ones_like(y));
  // No gradient at all: the output does not depend on the input (zero Jacobians).
  const torch::Tensor j =
      (x.grad().defined() ? x.grad() : torch::zeros_like(x)).reshape({n, -1}).contiguous();
  return accuracy::jacob_cov_score(j.data_ptr<float>(), n, j.size(1), kJacobK);
}

// zen: log E||f(x) - f(x + alpha eps)||_F + sum over BatchNorms of log sqrt(mean channel
// variance), f the pre-GAP feature map of the network without residual links, N(0, 1) weights,
// BatchNorm in train mode, x and eps N(0, 1) (paper's search: a batch of 64, one repeat).
double zen(Context& c) {
  const int64_t n = c.batch_or(64);
  const ir::Graph plain = accuracy::without_residual_links(c.graph);
  GraphNet net = build(plain, c.o.seed, Init::kTorchDefault, true);
  net->train();
  torch::NoGradGuard no_grad;
  {
    at::Generator gen = generator(c.o.seed ^ kZenSalt);
    const std::vector<torch::Tensor> weights = net->layer_weights();
    std::vector<const void*> fixed;
    for (const torch::Tensor& w : weights) fixed.push_back(w.unsafeGetTensorImpl());
    for (auto& bn : net->batch_norms()) {
      bn->reset_parameters();  // weight 1, bias 0, running mean 0 and variance 1
      // Momentum 1: after a forward pass, running_var holds that batch's (unbiased) variance.
      bn->options.momentum(1.0);
      if (bn->weight.defined()) fixed.push_back(bn->weight.unsafeGetTensorImpl());
      if (bn->bias.defined()) fixed.push_back(bn->bias.unsafeGetTensorImpl());
    }
    for (const torch::Tensor& w : weights) w.normal_(0, 1, gen);
    for (torch::Tensor& p : net->parameters()) {  // the conv and FC biases
      if (std::find(fixed.begin(), fixed.end(), p.unsafeGetTensorImpl()) == fixed.end()) p.zero_();
    }
  }
  to_channels_last(net);
  const int64_t ch = net->input_channels(), h = net->input_height(), w = net->input_width();
  at::Generator gen = generator(c.o.seed ^ kDataSalt);
  const torch::Tensor x = channels_last(torch::randn({n, ch, h, w}, gen, torch::kFloat32));
  const torch::Tensor eps = channels_last(torch::randn({n, ch, h, w}, gen, torch::kFloat32));
  net->set_recording(true);
  net->forward(x);
  const torch::Tensor f0 = net->pre_head();
  if (!f0.defined()) {
    throw InputError(fmt::format(
        "zen: '{}' has neither a global pooling nor a fully connected head to measure before",
        c.graph.name));
  }
  double log_bn = 0;  // of the unperturbed batch
  for (const auto& bn : net->batch_norms()) {
    if (bn->running_var.defined()) log_bn += 0.5 * std::log(bn->running_var.mean().item<double>());
  }
  net->forward(x + kZenAlpha * eps);
  const torch::Tensor f1 = net->pre_head();
  const double delta = (f0 - f1).reshape({n, -1}).norm(2, 1).mean().item<double>();
  return std::log(delta) + log_bn;
}

// zico: sum over conv/FC layers of log(sum over weights of mean|g| / std(g)), the statistics
// across 2 batches (the batch split in halves; default 2 x 32, for the 1 s budget), each its own
// gradient, default init, BatchNorm in train mode.
double zico(Context& c) {
  const int64_t n = c.batch_or(64);
  if (n < 2) throw InputError("zico: needs a batch of at least 2 (two halves)");
  GraphNet net = build(c.graph, c.o.seed, Init::kTorchDefault, true);
  to_channels_last(net);
  net->train();
  const Batch b = data(c, "zico", n, net);
  const std::vector<torch::Tensor> weights = net->layer_weights();
  std::vector<std::vector<torch::Tensor>> grads(weights.size());
  for (int64_t half = 0; half < 2; ++half) {
    const int64_t st = half * n / 2, en = (half + 1) * n / 2;
    net->zero_grad();
    classification_loss("zico", c, net->forward(b.x.slice(0, st, en)), b.y.slice(0, st, en))
        .backward();
    for (size_t l = 0; l < weights.size(); ++l) {
      const torch::Tensor& g = weights[l].grad();
      grads[l].push_back(g.defined() ? g.detach().to(torch::kFloat32).contiguous().clone()
                                     : torch::zeros_like(weights[l]));
    }
  }
  double s = 0;
  for (size_t l = 0; l < weights.size(); ++l) {
    s += accuracy::zico_layer({grads[l][0].data_ptr<float>(), grads[l][1].data_ptr<float>()},
                              weights[l].numel());
  }
  return s;
}

// Whether a BatchNorm of `g` normalises a 1x1 map: in train mode on a batch of one image it would
// see a single value per channel.
bool batch_norm_on_one_position(const ir::Graph& g) {
  for (const ir::Op& op : g.ops()) {
    const bool bn = op.kind == ir::OpKind::kBatchNorm ||
                    (op.kind == ir::OpKind::kConv2d && op.attr<ir::ConvAttrs>().bn);
    const ir::Shape& s = g.shape(op.output);
    if (bn && s.size() >= 2 && ir::numel(s) / (s[0] * s[1]) == 1) return true;
  }
  return false;
}

// meco: sum over conv layers of the minimum eigenvalue of the channel correlation matrix of one
// sample's feature map (after the layer's BatchNorm, which leaves the correlations unchanged),
// one forward pass, default init, BatchNorm in train mode. One image, the paper's "one data" and
// its script's batch size; two when a BatchNorm normalises a 1x1 map (train mode needs two values
// per channel), image 0 still the one measured.
double meco(Context& c) {
  const int64_t n = c.batch_or(batch_norm_on_one_position(c.graph) ? 2 : 1);
  GraphNet net = build(c.graph, c.o.seed, Init::kTorchDefault, true);
  to_channels_last(net);
  net->train();
  const Batch b = data(c, "meco", n, net);
  torch::NoGradGuard no_grad;
  net->set_recording(true);
  try {
    net->forward(b.x);
  } catch (const c10::Error& e) {
    throw InputError(fmt::format(
        "meco: '{}' on a batch of {}: {} (a BatchNorm sees a single value per channel; use "
        "--batch 2 or more)",
        c.graph.name, n, e.what_without_backtrace()));
  }
  double s = 0;
  for (const torch::Tensor& t : net->layer_outputs()) {
    if (t.dim() != 4) continue;  // an FC's [N, features]: no spatial positions to correlate
    const torch::Tensor f = t[0].reshape({t.size(1), -1}).to(torch::kFloat32).contiguous();
    s += accuracy::min_correlation_eigenvalue(f.data_ptr<float>(), f.size(0), f.size(1));
  }
  return s;
}

struct ProxyDef {
  const char* name;
  double (*fn)(Context&);
};

const std::vector<ProxyDef>& registry() {
  static const std::vector<ProxyDef> k = {
      {"naswot", naswot},       {"synflow", synflow}, {"snip", snip}, {"grad_norm", grad_norm},
      {"jacob_cov", jacob_cov}, {"zen", zen},         {"zico", zico}, {"meco", meco},
  };
  return k;
}

}  // namespace

std::vector<std::string> proxy_names_impl() {
  std::vector<std::string> names;
  for (const ProxyDef& d : registry()) names.push_back(d.name);
  return names;
}

ProxyResult compute_proxies_impl(const ir::Graph& g, const ProxyOptions& o) {
  const auto t0 = Clock::now();
  const std::vector<std::string> known = proxy_names_impl();
  std::vector<const ProxyDef*> todo;
  for (const std::string& name : o.proxies.empty() ? known : o.proxies) {
    const auto it = std::find_if(registry().begin(), registry().end(),
                                 [&](const ProxyDef& d) { return name == d.name; });
    if (it == registry().end()) {
      const std::string hint = did_you_mean(name, known);
      throw InputError(fmt::format("unknown proxy '{}'{}; known: {}", name,
                                   hint.empty() ? "" : " (did you mean '" + hint + "'?)",
                                   fmt::join(known, ", ")));
    }
    todo.push_back(&*it);
  }
  if (o.data != "cifar10" && o.data != "gaussian") {
    throw InputError(fmt::format("data '{}': expected cifar10 or gaussian", o.data));
  }
  if (o.batch < 0) throw InputError(fmt::format("batch {}: expected 0 (paper) or more", o.batch));
  if (o.threads < 1) throw InputError(fmt::format("threads {}: expected 1 or more", o.threads));
  torch::set_num_threads(o.threads);

  Context c{g, o, std::nullopt, std::nullopt};
  ProxyResult r;
  for (const ProxyDef* d : todo) {
    const auto t = Clock::now();
    ProxyScore s;
    s.name = d->name;
    s.value = finite_score(d->fn(c));
    s.seconds = std::chrono::duration<double>(Clock::now() - t).count();
    r.scores.push_back(s);
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return r;
}

}  // namespace nax::torchnet
