// A nax graph as a trainable libtorch network (inside the plugin only: includes torch).
//
// Same topology as the graph: every op becomes its torch counterpart (conv with its groups,
// stride, padding, dilation and bias; FC; pooling; element-wise ops with broadcasting; the
// activations; concat; resize; softmax; views; NAS-Bench-201's zeros). A conv or FC whose
// ConvAttrs::bn is set (BatchNorm folded into it by nax's analysis) gets a real BatchNorm2d after
// it, and standalone kBatchNorm ops are BatchNorm2d too, unless NetOptions::batch_norm is off.
// Weights are initialised from NetOptions::seed alone (torch::manual_seed, then the scheme), so a
// seed gives the same network on any run. nax graphs carry no weight values, so a binary op's
// constant operand (ConstOperandAttrs) becomes a fixed buffer holding the neutral element (0 for
// Add and Sub, 1 for Mul and Div), not a parameter (the graph counts none for it). Parameter counts
// equal ir::analyze's exactly (BatchNorm: weight and bias, 2 per channel; running statistics are
// buffers). Axis 0 is the batch axis: ops that would move or mix it are refused (InputError).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "models/ir/graph.hpp"

namespace nax::torchnet {

enum class Init {
  kKaimingNormal,  // conv / FC weights N(0, 2 / fan_in) (He), biases 0, BN weight 1 bias 0
  kTorchDefault,   // libtorch's own defaults (kaiming_uniform with a = sqrt(5))
  kXavierNormal,
};

struct NetOptions {
  uint64_t seed = 0;
  Init init = Init::kKaimingNormal;
  bool batch_norm = true;  // build the graph's BatchNorms (off: identity)
  bool bn_affine = true;
  bool bn_track_running_stats = true;
  // Leave out a Softmax that produces the output, so forward() returns logits (training).
  bool strip_output_softmax = false;
};

class GraphNetImpl : public torch::nn::Module {
 public:
  // Throws InputError naming the op (name and kind) and why it cannot be built as a trainable
  // network (e.g. a Transpose that moves the batch axis, a Reshape across the batch).
  GraphNetImpl(const ir::Graph& g, const NetOptions& o);

  // x: [N, C, H, W] at the graph's input shape (N free). Returns the graph's (first) output.
  torch::Tensor forward(const torch::Tensor& x);

  // Runs a forward pass (no gradient, eval mode, then the previous mode back) on zeros
  // [batch, C, H, W] through every op (also those the output does not depend on) and checks each
  // tensor against the graph's shape (batch axis excepted): throws Error naming the first op that
  // differs. Returns the output.
  torch::Tensor check_shapes(int64_t batch = 2);

  // What forward() records while recording is on (cleared at the start of each forward):
  void set_recording(bool on) { m_recording = on; }
  // the input of every ReLU-family op (Relu, Relu6, Clip, LeakyRelu), in execution order: the
  // pre-activations whose signs are NASWOT's binary codes;
  const std::vector<torch::Tensor>& relu_inputs() const { return m_relu_inputs; }
  // the output of every conv and FC after its BatchNorm (before the activation), in order:
  // per-layer feature maps (MeCo, ZiCo's layers);
  const std::vector<torch::Tensor>& layer_outputs() const { return m_layer_outputs; }
  // the input of the last global pooling (or of the first FC when there is none): the feature
  // map Zen-score measures; undefined when the graph has neither.
  const torch::Tensor& pre_head() const { return m_pre_head; }

  // Conv and FC weight tensors, graph order (the "layers" synflow, snip, grad_norm, ZiCo sum
  // over), and the BatchNorm modules.
  std::vector<torch::Tensor> layer_weights() const;
  std::vector<torch::nn::BatchNorm2d> batch_norms() const;

  // Re-initialises every parameter and BN buffer with `seed` and `init`.
  void reinitialise(uint64_t seed, Init init);

  int64_t input_channels() const;
  int64_t input_height() const;
  int64_t input_width() const;
  int64_t num_outputs() const;  // features of the output (classes), last dimension

 private:
  struct Impl;
  std::shared_ptr<Impl> m_impl;
  bool m_recording = false;
  std::vector<torch::Tensor> m_relu_inputs, m_layer_outputs;
  torch::Tensor m_pre_head;
};
TORCH_MODULE(GraphNet);

// Seeds libtorch's generators (CPU) for a deterministic run.
void seed_everything(uint64_t seed);

}  // namespace nax::torchnet
