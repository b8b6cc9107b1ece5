// Short training on CIFAR-10 (api.hpp's short_train): a cheap accuracy signal for a candidate
// network, on the CPU.
//
// Protocol: the first `train_images` images of the training batch, shuffled each epoch; batches of
// `batch` (a last batch of a single image is dropped: BatchNorm cannot train on it); random crop
// with 4 pixels of black padding and horizontal flip (torchvision's RandomCrop(32, padding=4) +
// RandomHorizontalFlip order), then the CIFAR normalisation, then a bilinear resize when the
// network's input is not 32x32; cross-entropy without label smoothing; SGD, momentum 0.9,
// Nesterov, weight decay on conv and FC weights only; learning rate annealed per step with a
// cosine from `lr` to 0 over all steps. Weights: Kaiming normal from the seed (GraphNet). Test
// accuracy: the first `test_images` test images, no augmentation, BatchNorm in eval mode.
//
// Determinism: the data order and the augmentation come from std::mt19937_64 streams of the seed
// (with bounded draws written out, not std::*_distribution), the weights from torch::manual_seed;
// on one thread the same seed gives bit-identical losses and accuracy.
#include "nas/torch/train.hpp"

#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

#include "models/common/error.hpp"
#include "nas/accuracy/cifar.hpp"
#include "nas/torch/cifar_tensor.hpp"
#include "nas/torch/graph_net.hpp"

namespace nax::torchnet {
namespace {

using accuracy::CifarSet;
using Clock = std::chrono::steady_clock;
constexpr double kPi = 3.14159265358979323846;

// Restores libtorch's intra-op thread count on scope exit.
class ThreadScope {
 public:
  explicit ThreadScope(int threads) : m_previous(torch::get_num_threads()) {
    torch::set_num_threads(threads);
  }
  ~ThreadScope() { torch::set_num_threads(m_previous); }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int m_previous;
};

// Uniform in [0, n) from a 64-bit generator (the bias of the modulo is below 1e-18 for these n).
uint64_t below(std::mt19937_64& rng, uint64_t n) {
  return rng() % n;
}

void check_options(const TrainOptions& o) {
  DiagnosticSink sink;
  auto bad = [&](const char* key, const std::string& value, const std::string& what) {
    sink.add(SourceLoc(), key, value, what);
  };
  if (o.epochs < 1) bad("epochs", std::to_string(o.epochs), "expected at least 1");
  if (o.batch < 2) bad("batch", std::to_string(o.batch), "expected at least 2 (BatchNorm)");
  if (!(o.lr > 0) || !std::isfinite(o.lr)) {
    bad("lr", fmt::format("{}", o.lr), "expected a positive learning rate");
  }
  if (!(o.weight_decay >= 0) || !std::isfinite(o.weight_decay)) {
    bad("weight_decay", fmt::format("{}", o.weight_decay), "expected 0 or more");
  }
  if (o.train_images < 2)
    bad("train_images", std::to_string(o.train_images), "expected at least 2");
  if (o.test_images < 1) bad("test_images", std::to_string(o.test_images), "expected at least 1");
  if (o.threads < 1) bad("threads", std::to_string(o.threads), "expected at least 1");
  sink.throw_if_any();
}

// The shape of the tensor the network returns (the graph's first output, or the last op's).
const ir::Shape& output_shape(const ir::Graph& g) {
  return g.shape(g.outputs().empty() ? g.ops().back().output : g.outputs()[0]);
}

// Fills `out` ([b, 3, 32, 32], normalised) with augmented copies of the images `idx` of `x`
// ([N, 3, 32, 32], normalised): a 32x32 crop of the image padded by 4 black pixels, flipped
// horizontally half of the time.
void augment_batch(const torch::Tensor& x, const std::vector<size_t>& idx, std::mt19937_64& rng,
                   torch::Tensor& out) {
  float black[3];
  for (int c = 0; c < 3; ++c) black[c] = -accuracy::kCifarMean[c] / accuracy::kCifarStd[c];
  const float* src = x.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  for (size_t k = 0; k < idx.size(); ++k) {
    const int dy = static_cast<int>(below(rng, 9)) - 4;
    const int dx = static_cast<int>(below(rng, 9)) - 4;
    const bool flip = (rng() & 1) != 0;
    const float* img = src + idx[k] * accuracy::kCifarImageBytes;
    float* o = dst + k * accuracy::kCifarImageBytes;
    for (int c = 0; c < 3; ++c) {
      for (int y = 0; y < 32; ++y) {
        const int sy = y + dy;
        for (int xo = 0; xo < 32; ++xo) {
          const int sx = (flip ? 31 - xo : xo) + dx;
          o[(c * 32 + y) * 32 + xo] =
              (sy < 0 || sy >= 32 || sx < 0 || sx >= 32) ? black[c] : img[(c * 32 + sy) * 32 + sx];
        }
      }
    }
  }
}

double evaluate(GraphNet& net, const torch::Tensor& x, const torch::Tensor& y) {
  torch::NoGradGuard no_grad;
  net->eval();
  int64_t correct = 0;
  const int64_t n = x.size(0), chunk = 200;
  for (int64_t s = 0; s < n; s += chunk) {
    const int64_t len = std::min(chunk, n - s);
    const torch::Tensor logits =
        net->forward(x.narrow(0, s, len).contiguous(torch::MemoryFormat::ChannelsLast));
    correct += logits.argmax(1).eq(y.narrow(0, s, len)).sum().item<int64_t>();
  }
  net->train();
  return 100.0 * static_cast<double>(correct) / static_cast<double>(n);
}

}  // namespace

TrainResult short_train_impl(const ir::Graph& g, const TrainOptions& o) {
  const auto t0 = Clock::now();
  check_options(o);
  if (g.ops().empty() || g.inputs().size() != 1) {
    throw InputError(
        fmt::format("model '{}': expected one image input and at least one op", g.name));
  }
  const ir::Shape& out = output_shape(g);
  if (out.size() != 2 || out[1] != accuracy::kCifarClasses) {
    throw InputError(fmt::format(
        "model '{}': its output is {}; training on CIFAR-10 needs a classifier with 10 outputs "
        "[N, 10] (for a zoo model, add num_classes=10, e.g. mobilenet_v2:num_classes=10)",
        g.name, ir::shape_str(out)));
  }
  const ir::Shape& in = g.shape(g.inputs()[0]);
  if (in.size() != 4 || in[1] != 3) {
    throw InputError(fmt::format("model '{}': its input is {}; CIFAR-10 images are [N, 3, H, W]",
                                 g.name, ir::shape_str(in)));
  }

  ThreadScope threads(o.threads);
  NetOptions no;
  no.seed = o.seed;
  no.init = Init::kKaimingNormal;
  no.strip_output_softmax = true;
  GraphNet net(g, no);
  net->check_shapes(2);
  // Channels-last (NHWC) weights and batches: libtorch's oneDNN convolutions run 1.3-1.6x faster
  // so on NAS-Bench-201 and NAS-Bench-Macro networks (5x5 depthwise ~3.5x). Results differ from
  // NCHW's only by float rounding; determinism is unaffected.
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net->parameters()) {
      if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
    }
  }

  const CifarSet train =
      accuracy::read_cifar_train(o.cifar_dir, static_cast<size_t>(o.train_images));
  const CifarSet test = accuracy::read_cifar_test(o.cifar_dir, static_cast<size_t>(o.test_images));
  const int64_t height = in[2], width = in[3];
  const torch::Tensor train_x = cifar_images(train);  // 32x32, augmented per batch then resized
  const torch::Tensor train_y = cifar_labels(train);
  const torch::Tensor test_x = cifar_images(test, height, width);
  const torch::Tensor test_y = cifar_labels(test);

  // Weight decay on conv and FC weights only: two parameter groups.
  std::vector<torch::Tensor> decayed = net->layer_weights(), plain;
  for (const auto& p : net->parameters()) {
    bool is_weight = false;
    for (const auto& w : decayed) is_weight = is_weight || p.is_same(w);
    if (!is_weight) plain.push_back(p);
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decayed,
                      std::make_unique<torch::optim::SGDOptions>(
                          torch::optim::SGDOptions(o.lr).momentum(0.9).nesterov(true).weight_decay(
                              o.weight_decay)));
  if (!plain.empty()) {
    groups.emplace_back(plain, std::make_unique<torch::optim::SGDOptions>(
                                   torch::optim::SGDOptions(o.lr).momentum(0.9).nesterov(true)));
  }
  torch::optim::SGD sgd(groups, torch::optim::SGDOptions(o.lr).momentum(0.9).nesterov(true));

  const size_t n = train.size(), bs = static_cast<size_t>(o.batch);
  size_t batches = (n + bs - 1) / bs;
  if (n % bs == 1) --batches;  // a last batch of one image: BatchNorm cannot train on it
  const double total_steps = static_cast<double>(batches) * o.epochs;

  std::mt19937_64 order_rng(o.seed), augment_rng(o.seed ^ 0x9e3779b97f4a7c15ull);
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  TrainResult r;
  for (const auto& p : net->parameters()) r.parameters += p.numel();
  net->train();
  int64_t step = 0;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[below(order_rng, i)]);
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    for (size_t b = 0; b < batches; ++b, ++step) {
      const size_t begin = b * bs, len = std::min(bs, n - begin);
      const std::vector<size_t> idx(order.begin() + static_cast<std::ptrdiff_t>(begin),
                                    order.begin() + static_cast<std::ptrdiff_t>(begin + len));
      torch::Tensor x;
      if (o.augment) {
        x = torch::empty({static_cast<int64_t>(len), 3, 32, 32}, torch::kFloat32);
        augment_batch(train_x, idx, augment_rng, x);
      } else {
        std::vector<int64_t> ii(idx.begin(), idx.end());
        x = train_x.index_select(0, torch::tensor(ii, torch::kInt64));
      }
      x = resize_images(x, height, width).contiguous(torch::MemoryFormat::ChannelsLast);
      std::vector<int64_t> ii(idx.begin(), idx.end());
      const torch::Tensor y = train_y.index_select(0, torch::tensor(ii, torch::kInt64));

      const double lr = 0.5 * o.lr * (1 + std::cos(kPi * static_cast<double>(step) / total_steps));
      for (auto& group : sgd.param_groups()) {
        static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
      }
      sgd.zero_grad();
      const torch::Tensor logits = net->forward(x);
      const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y);
      const double lv = loss.item<double>();
      if (!std::isfinite(lv)) {
        throw Error(fmt::format(
            "model '{}': training diverged: the loss is {} at epoch {}, batch {} (learning rate "
            "{:.4g}); try a smaller learning rate",
            g.name, lv, epoch, b + 1, lr));
      }
      loss.backward();
      sgd.step();
      loss_sum += lv * static_cast<double>(len);
      correct += logits.argmax(1).eq(y).sum().item<int64_t>();
      seen += static_cast<int64_t>(len);
    }
    r.epoch_loss.push_back(loss_sum / static_cast<double>(seen));
    r.epoch_accuracy.push_back(100.0 * static_cast<double>(correct) / static_cast<double>(seen));
    if (o.on_epoch) o.on_epoch(epoch, r.epoch_loss.back(), r.epoch_accuracy.back());
  }
  r.test_accuracy = evaluate(net, test_x, test_y);
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return r;
}

}  // namespace nax::torchnet
