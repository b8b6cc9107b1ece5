// The libtorch plugin through its torch-free API (nas/torch/api.hpp; this executable does not
// link libtorch): loading and its failures, exceptions thrown inside the plugin arriving as nax's
// own types, graphs built as networks (every op kind, parameter counts against ir::analyze, the
// refusal of graphs that move the batch axis) and short training on the fixture images
// (determinism, a loss that falls, the 10-class check).
#include <dlfcn.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <functional>

#include "models/common/error.hpp"
#include "models/ir/analysis.hpp"
#include "models/model_source.hpp"
#include "models/zoo/zoo.hpp"
#include "nas/torch/api.hpp"
#include "nas/torch/plugin_abi.hpp"

using namespace nax;
using namespace nax::torchnet;
using ir::OpKind;

namespace {

const std::string kFixture = std::string(NAX_FIXTURES) + "/cifar10";

template <typename E>
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "(not thrown)";
}

// conv(bn) 3x3 stride 2 -> ReLU -> global average pool -> flatten -> FC to `classes`.
ir::Graph tiny_net(int channels = 8, int classes = 10) {
  ir::Graph g;
  g.name = "tiny";
  ir::TensorId t = g.add_input("image", {1, 3, 32, 32}, ir::DType::kFloat32);
  ir::ConvAttrs c = ir::ConvAttrs::make(channels, 3, 2);
  c.bn = true;
  t = g.add_op(OpKind::kConv2d, "conv", {t}, c);
  t = g.add_op(OpKind::kRelu, "relu", {t});
  t = g.add_op(OpKind::kGlobalAvgPool, "gap", {t});
  t = g.add_op(OpKind::kFlatten, "flatten", {t}, ir::AxisAttrs{1});
  ir::FcAttrs f;
  f.out_features = classes;
  g.mark_output(g.add_op(OpKind::kFullyConnected, "fc", {t}, f));
  return g;
}

TrainOptions fixture_options() {
  TrainOptions o;
  o.cifar_dir = kFixture;
  o.train_images = 64;
  o.test_images = 32;
  o.epochs = 1;
  o.batch = 16;
  return o;
}

}  // namespace

TEST_CASE("torch plugin: loads, reports libtorch's version, exports only its table",
          "[accuracy][torch]") {
  const std::string v = libtorch_version();
  CHECK(plugin_loaded());
  CHECK(v.rfind("1.", 0) == 0);
  CHECK(std::count(v.begin(), v.end(), '.') == 2);
  const std::string path = plugin_path();
  CHECK(std::filesystem::path(path).filename() == "libnax_torch.so");
  const auto cands = plugin_candidates();
  CHECK(std::find(cands.begin(), cands.end(), path) != cands.end());
  CHECK(plugin().abi_version == kPluginAbiVersion);
  // Its copy of nax is private: nax::InputError's constructor is in the library, but local.
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
  REQUIRE(h != nullptr);
  CHECK(dlsym(h, "nax_torch_plugin_api") != nullptr);
  CHECK(dlsym(h, "_ZN3nax10InputErrorC1ERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE") ==
        nullptr);
  dlclose(h);  // drops the reference NOLOAD took; the loader's stays
}

TEST_CASE("torch plugin: a failed load names every path and why", "[accuracy][torch]") {
  const std::string missing = "/nonexistent/dir/libnax_torch.so";
  const std::string not_elf = kFixture + "/README.md";
  std::string msg;
  try {
    open_plugin({missing, not_elf});
  } catch (const Error& e) {
    msg = e.what();
  }
  CHECK(msg.find("cannot load the libtorch plugin (libnax_torch.so)") != std::string::npos);
  CHECK(msg.find(missing + ": not found") != std::string::npos);
  CHECK(msg.find(not_elf + ": ") != std::string::npos);
  CHECK(msg.find("NAX_TORCH_PLUGIN") != std::string::npos);
  // dlopen's own words for a file that is not a library.
  CHECK((msg.find("invalid ELF header") != std::string::npos ||
         msg.find("too short") != std::string::npos));
  // A library that exists on the system paths is opened but has no table.
  const std::string libm = "/lib/x86_64-linux-gnu/libm.so.6";
  if (std::filesystem::exists(libm)) {
    const std::string m = error_of<Error>([&] { open_plugin({libm}); });
    CHECK(m.find(libm + ": no symbol nax_torch_plugin_api") != std::string::npos);
  }
}

TEST_CASE("torch plugin: InputError and Error thrown inside arrive as nax's types",
          "[accuracy][torch]") {
  const PluginApi& api = plugin();
  CHECK(error_of<InputError>([&] { api.check_exceptions(0); }) ==
        "plugin check: an InputError thrown in libnax_torch.so");
  CHECK(error_of<Error>([&] { api.check_exceptions(1); }) ==
        "plugin check: an Error thrown in libnax_torch.so");
  // A real one: InputError from the plugin's training code, caught with its diagnostics.
  try {
    short_train(tiny_net(8, 100), fixture_options());
    FAIL("no exception");
  } catch (const InputError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(e.diagnostics()[0].message ==
          "model 'tiny': its output is 1x100; training on CIFAR-10 needs a classifier with 10 "
          "outputs [N, 10] (for a zoo model, add num_classes=10, e.g. "
          "mobilenet_v2:num_classes=10)");
  }
  // Bad options: all of them in one InputError.
  TrainOptions bad = fixture_options();
  bad.epochs = 0;
  bad.lr = -1;
  try {
    short_train(tiny_net(), bad);
    FAIL("no exception");
  } catch (const InputError& e) {
    REQUIRE(e.diagnostics().size() == 2);
    CHECK(e.diagnostics()[0].str() == "epochs = 0: expected at least 1");
    CHECK(e.diagnostics()[1].str() == "lr = -1: expected a positive learning rate");
  }
  // Missing data: the reader's InputError, from inside the plugin.
  TrainOptions nodata = fixture_options();
  nodata.cifar_dir = "/nonexistent/cifar";
  CHECK(error_of<InputError>([&] { short_train(tiny_net(), nodata); }) ==
        "/nonexistent/cifar: CIFAR-10 directory not found (pass the directory, or set "
        "NAX_CIFAR_DIR)");
}

TEST_CASE("GraphNet: a graph that moves the batch axis is refused, naming the op",
          "[accuracy][torch]") {
  ir::Graph g;
  g.name = "bad";
  ir::TensorId t = g.add_input("x", {1, 3, 8, 8}, ir::DType::kFloat32);
  t = g.add_op(OpKind::kConv2d, "conv", {t}, ir::ConvAttrs::make(4, 3));
  ir::TransposeAttrs tr;
  tr.perm = {1, 0, 2, 3};
  g.mark_output(g.add_op(OpKind::kTranspose, "swap", {t}, tr));
  CHECK(error_of<InputError>([&] { inspect_network(g); }) ==
        "Transpose 'swap': cannot be built as a trainable network: perm 1,0,2,3 moves the batch "
        "axis");

  ir::Graph r;
  r.name = "bad_reshape";
  t = r.add_input("x", {1, 3, 8, 8}, ir::DType::kFloat32);
  ir::ReshapeAttrs ra;
  ra.shape = {3, -1};
  r.mark_output(r.add_op(OpKind::kReshape, "fold", {t}, ra));
  CHECK(error_of<InputError>([&] { inspect_network(r); }) ==
        "Reshape 'fold': cannot be built as a trainable network: reshaping 1x3x8x8 to 3x64 does "
        "not keep the batch axis");
  ir::Graph b;
  b.name = "bad_broadcast";
  t = b.add_input("x", {1, 8, 8, 8}, ir::DType::kFloat32);
  const ir::TensorId pooled = b.add_op(OpKind::kGlobalAvgPool, "gap", {t});
  const ir::TensorId flat = b.add_op(OpKind::kFlatten, "flat", {pooled}, ir::AxisAttrs{1});
  // 1x8x8x8 * 1x8: the 8 features scale the columns of every image, not one image each
  b.mark_output(b.add_op(OpKind::kMul, "scale", {t, flat}));
  CHECK(error_of<InputError>([&] { inspect_network(b); }) ==
        "Mul 'scale': cannot be built as a trainable network: its inputs have ranks 4 and 2, and "
        "broadcasting them would not keep the batch axis");
}

TEST_CASE("GraphNet: every op kind builds, with the graph's shapes", "[accuracy][torch]") {
  ir::Graph g;
  g.name = "all_ops";
  const ir::TensorId x = g.add_input("x", {1, 3, 19, 19}, ir::DType::kInt8);
  ir::ConvAttrs asym = ir::ConvAttrs::make(8, 3, 2);
  asym.pad_top = 0;
  asym.pad_left = 1;
  asym.pad_bottom = 2;
  asym.pad_right = 1;
  asym.bn = true;
  ir::TensorId a = g.add_op(OpKind::kConv2d, "conv_asym", {x}, asym);  // 8x10x10
  a = g.add_op(OpKind::kRelu6, "relu6", {a});
  ir::TensorId dw = g.add_op(OpKind::kConv2d, "dw", {a}, ir::ConvAttrs::make(8, 5, 1, 8));
  ir::ClipAttrs clip;
  clip.min = -1;
  clip.max = 2;
  dw = g.add_op(OpKind::kClip, "clip", {dw}, clip);
  ir::ConvAttrs grouped = ir::ConvAttrs::make(16, 3, 1, 2, 2);
  grouped.bias = true;
  ir::TensorId gc = g.add_op(OpKind::kConv2d, "grouped", {dw}, grouped);  // 16x10x10
  gc = g.add_op(OpKind::kLeakyRelu, "leaky", {gc}, ir::LeakyReluAttrs{0.1f});
  ir::PoolAttrs mp;
  mp.kernel_h = mp.kernel_w = 3;
  mp.stride_h = mp.stride_w = 2;
  mp.ceil_mode = true;
  // 16x5x5 (4x4 without ceil_mode); torch's own pooling
  const ir::TensorId p1 = g.add_op(OpKind::kMaxPool, "maxpool_ceil", {gc}, mp);
  ir::PoolAttrs ap = mp;
  ap.pad_top = ap.pad_left = 1;
  ap.pad_bottom = ap.pad_right = 0;
  ap.count_include_pad = true;
  const ir::TensorId p2 = g.add_op(OpKind::kAvgPool, "avgpool_asym", {gc}, ap);  // 16x5x5
  ir::PoolAttrs ap2 = ap;
  ap2.count_include_pad = false;
  ap2.pad_left = 0;
  ap2.pad_right = 2;  // width: 6 windows by ceil_mode, the last starts in the right padding: 5
  const ir::TensorId p3 = g.add_op(OpKind::kAvgPool, "avgpool_wide", {gc}, ap2);
  ir::PoolAttrs mp2 = mp;
  mp2.ceil_mode = false;
  mp2.pad_top = 2;  // wider than half the kernel
  mp2.pad_left = mp2.pad_right = 1;
  const ir::TensorId p4 = g.add_op(OpKind::kMaxPool, "maxpool_asym", {gc}, mp2);  // 16x5x5
  ir::TensorId s = g.add_op(OpKind::kAdd, "add", {p1, p2});
  s = g.add_op(OpKind::kSub, "sub", {s, p3});
  s = g.add_op(OpKind::kMul, "mul", {s, p4});
  ir::TensorId cm = g.add_op(OpKind::kMul, "scale", {s}, ir::ConstOperandAttrs{{1, 16, 1, 1}});
  cm = g.add_op(OpKind::kDiv, "div", {cm}, ir::ConstOperandAttrs{{16, 1, 1}});
  cm = g.add_op(OpKind::kAdd, "bias", {cm}, ir::ConstOperandAttrs{{1}});
  cm = g.add_op(OpKind::kSub, "shift", {cm}, ir::ConstOperandAttrs{{1, 16, 5, 5}});
  ir::TensorId se = g.add_op(OpKind::kGlobalAvgPool, "se_pool", {cm});
  se = g.add_op(OpKind::kHardSigmoid, "hsig", {se}, ir::HardSigmoidAttrs{0.2f, 0.5f});
  ir::TensorId gate = g.add_op(OpKind::kMul, "gate", {cm, se});
  gate = g.add_op(OpKind::kHardSwish, "hswish", {gate});
  ir::TensorId bn = g.add_op(OpKind::kBatchNorm, "bn", {gate});
  ir::TensorId sig = g.add_op(OpKind::kSigmoid, "sig", {bn});
  ir::TensorId silu = g.add_op(OpKind::kSilu, "silu", {bn});
  ir::TensorId tanh = g.add_op(OpKind::kTanh, "tanh", {bn});
  ir::TensorId zero = g.add_op(OpKind::kZeros, "none", {bn});
  ir::TensorId cat =
      g.add_op(OpKind::kConcat, "cat", {sig, silu, tanh, zero}, ir::AxisAttrs{1});  // 64x5x5
  ir::ResizeAttrs up;
  up.out_h = 10;
  up.out_w = 7;
  up.mode = "linear";
  ir::TensorId r = g.add_op(OpKind::kResize, "up", {cat}, up);
  up.mode = "nearest";
  up.out_h = 5;
  up.out_w = 5;
  r = g.add_op(OpKind::kResize, "down", {r}, up);
  up.mode = "cubic";
  r = g.add_op(OpKind::kResize, "same", {r}, up);
  ir::PadAttrs pad;
  pad.pads = {0, 0, 1, 2, 0, 0, 0, 1};
  pad.mode = "reflect";
  r = g.add_op(OpKind::kPad, "reflect", {r}, pad);  // 64x6x8
  pad.pads = {0, 1, 0, 0, 0, 0, 0, 0};
  pad.mode = "constant";
  r = g.add_op(OpKind::kPad, "chpad", {r}, pad);  // 65x6x8
  ir::TransposeAttrs nhwc;
  nhwc.perm = {0, 2, 3, 1};
  ir::TensorId tr = g.add_op(OpKind::kTranspose, "nhwc", {r}, nhwc);  // 6x8x65
  ir::ReshapeAttrs rs;
  rs.shape = {0, -1, 13};
  tr = g.add_op(OpKind::kReshape, "rows", {tr}, rs);  // 1x240x13
  tr = g.add_op(OpKind::kSoftmax, "softmax", {tr}, ir::AxisAttrs{-1});
  ir::TensorId bn3 = g.add_op(OpKind::kBatchNorm, "bn_rank3", {tr});
  ir::TensorId mx = g.add_op(OpKind::kGlobalMaxPool, "gmp", {r});
  ir::TensorId flat = g.add_op(OpKind::kFlatten, "flatten", {mx}, ir::AxisAttrs{1});
  ir::FcAttrs f;
  f.out_features = 13;
  ir::TensorId fc = g.add_op(OpKind::kFullyConnected, "fc", {flat}, f);  // 1x13
  ir::ReshapeAttrs one_row;
  one_row.shape = {1, 1, 13};
  fc = g.add_op(OpKind::kReshape, "one_row", {fc}, one_row);
  ir::TensorId fc3 = g.add_op(OpKind::kFullyConnected, "fc_rank3", {bn3}, f);  // 1x240x13
  ir::TensorId out = g.add_op(OpKind::kAdd, "out", {fc3, fc});  // broadcast: 1x240x13
  g.mark_output(out);

  const NetworkSummary net = inspect_network(g, 1);
  CHECK(net.output_shape == std::vector<int64_t>{2, 240, 13});
  CHECK(net.parameters == ir::analyze(g).params);
  CHECK(net.layers == 5);       // 3 convs, 2 FCs
  CHECK(net.batch_norms == 3);  // conv_asym's, bn, bn_rank3
  // Buffers: running mean and variance of the BatchNorms (8 + 16 + 240 channels), and the
  // constant operands (16 + 16 + 1 + 400).
  CHECK(net.buffers == 2 * (8 + 16 + 240) + 16 + 16 + 1 + 16 * 5 * 5);
}

TEST_CASE("GraphNet: parameters of NAS-Bench-201 and NAS-Bench-Macro networks are the graph's",
          "[accuracy][torch]") {
  for (const char* name :
       {"nb201",
        "nb201:arch=|none~0|+|skip_connect~0|avg_pool_3x3~1|+|nor_conv_1x1~0|none~1|"
        "nor_conv_3x3~2|",
        "nas-bench-macro:arch=01220210", "nas-bench-macro:arch=22222222"}) {
    INFO(name);
    const Model m = load_model(name);
    const NetworkSummary s = inspect_network(m.graph, 0);
    CHECK(s.parameters == ir::analyze(m.graph).params);
    CHECK(s.output_shape == std::vector<int64_t>{2, 10});
  }
  // The benchmark's own count for its default network (zoo reference: 1,985,514).
  CHECK(inspect_network(load_model("nas-bench-macro").graph).parameters == 1985514);
}

TEST_CASE("GraphNet: every zoo network builds with the graph's shapes and parameters",
          "[accuracy][torch][slow]") {
  for (const auto& name : zoo::ZooRegistry::instance().names()) {
    INFO(name);
    const Model m = load_model(name);
    const NetworkSummary s = inspect_network(m.graph, 0);
    CHECK(s.parameters == ir::analyze(m.graph).params);
  }
}

TEST_CASE("short training: seeded, deterministic, sane accuracy", "[accuracy][torch]") {
  TrainOptions o = fixture_options();
  o.epochs = 2;
  o.seed = 3;
  const ir::Graph g = tiny_net();
  const TrainResult a = short_train(g, o);
  const TrainResult b = short_train(g, o);
  REQUIRE(a.epoch_loss.size() == 2);
  REQUIRE(a.epoch_accuracy.size() == 2);
  CHECK(a.epoch_loss == b.epoch_loss);  // bit for bit
  CHECK(a.epoch_accuracy == b.epoch_accuracy);
  CHECK(a.test_accuracy == b.test_accuracy);
  // Accuracy is a count of the 32 test images, in percent.
  CHECK(a.test_accuracy >= 0);
  CHECK(a.test_accuracy <= 100);
  const double correct = a.test_accuracy * 32 / 100;
  CHECK(correct == Approx(std::round(correct)).margin(1e-9));
  for (double l : a.epoch_loss) CHECK(std::isfinite(l));
  CHECK(a.parameters == ir::analyze(g).params);
  CHECK(a.seconds > 0);
  o.seed = 4;
  const TrainResult c = short_train(g, o);
  CHECK(c.epoch_loss != a.epoch_loss);
}

TEST_CASE("short training: the loss falls on a tiny network", "[accuracy][torch]") {
  TrainOptions o = fixture_options();
  o.epochs = 6;
  o.augment = false;
  o.lr = 0.1;
  std::vector<int> seen;
  o.on_epoch = [&](int epoch, double loss, double acc) {
    seen.push_back(epoch);
    CHECK(std::isfinite(loss));
    CHECK(acc >= 0);
  };
  const TrainResult r = short_train(tiny_net(16), o);
  CHECK(seen == std::vector<int>{1, 2, 3, 4, 5, 6});
  REQUIRE(r.epoch_loss.size() == 6);
  CHECK(r.epoch_loss[5] < r.epoch_loss[0]);
  CHECK(r.epoch_loss[2] < r.epoch_loss[0]);
  CHECK(r.epoch_accuracy[5] > r.epoch_accuracy[0]);
}
