// The zero-shot proxies through nas/torch/api.hpp (the libtorch plugin, loaded on first use), on
// networks small enough for their values to be worked out here from the data alone:
// - naswot of a ReLU on the input: K_H from the images' codes (pixel > channel mean);
// - jacob_cov of a linear network: every Jacobian is the same, the correlation matrix is all ones;
// - meco of a depthwise 1x1 conv: the correlation of the image's own colour planes;
// - synflow of one FC layer: log sum |W|, whose torch-default-initialised value concentrates;
// - zen with and without a residual link: the same number (the paper removes them);
// - a network whose output ignores its input: every proxy's documented degenerate value;
// plus determinism, seeds, data sources and errors. The CIFAR images are the test fixture's 64.
#include <Eigen/Dense>
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "models/common/error.hpp"
#include "models/estimate/metrics.hpp"
#include "models/model_source.hpp"
#include "nas/accuracy/cifar.hpp"
#include "nas/accuracy/proxy_math.hpp"
#include "nas/torch/api.hpp"

using namespace nax;
using torchnet::ProxyOptions;

namespace {

const std::string kCifar = std::string(NAX_FIXTURES) + "/cifar10";

ProxyOptions options(std::vector<std::string> proxies, int batch = 16, uint64_t seed = 5) {
  ProxyOptions o;
  o.proxies = std::move(proxies);
  o.cifar_dir = kCifar;
  o.batch = batch;
  o.seed = seed;
  return o;
}

std::map<std::string, double> scores(const ir::Graph& g, const ProxyOptions& o) {
  std::map<std::string, double> m;
  for (const auto& s : torchnet::compute_proxies(g, o).scores) m[s.name] = s.value;
  return m;
}

double score(const ir::Graph& g, const ProxyOptions& o) {
  const auto r = torchnet::compute_proxies(g, o);
  REQUIRE(r.scores.size() == 1);
  return r.scores[0].value;
}

ir::OpMeta meta(const std::string& block, const std::string& role) {
  ir::OpMeta m;
  m.block = block;
  m.block_type = "test";
  m.role = role;
  return m;
}

ir::ConvAttrs conv(int out, int kernel, int groups = 1, bool bn = true) {
  ir::ConvAttrs a = ir::ConvAttrs::make(out, kernel, 1, groups);
  a.bn = bn;
  return a;
}

// x [1, 3, 32, 32] -> `body` -> global average pool -> flatten -> FC(10).
template <typename Body>
ir::Graph classifier(Body body, int classes = 10) {
  ir::Graph g;
  g.name = "test";
  ir::TensorId x = g.add_input("x", {1, 3, 32, 32}, ir::DType::kFloat32);
  x = body(g, x);
  x = g.add_op(ir::OpKind::kGlobalAvgPool, "gap", {x});
  ir::AxisAttrs flat;
  flat.axis = 1;
  x = g.add_op(ir::OpKind::kFlatten, "flatten", {x}, flat);
  ir::FcAttrs fc;
  fc.out_features = classes;
  g.mark_output(g.add_op(ir::OpKind::kFullyConnected, "fc", {x}, fc));
  return g;
}

accuracy::CifarSet chosen_images(int n, uint64_t seed) {
  const accuracy::CifarSet all = accuracy::read_cifar_train(kCifar);
  return accuracy::select_images(all, accuracy::choose_images(all.size(), n, seed));
}

}  // namespace

TEST_CASE("the proxies' names", "[proxies]") {
  CHECK(torchnet::proxy_names() == std::vector<std::string>{"naswot", "synflow", "snip",
                                                            "grad_norm", "jacob_cov", "zen", "zico",
                                                            "meco"});
}

TEST_CASE("naswot of a ReLU on the input is log|K_H| of the images' codes", "[proxies]") {
  const ir::Graph g = classifier(
      [](ir::Graph& g, ir::TensorId x) { return g.add_op(ir::OpKind::kRelu, "relu", {x}); });
  const int n = 24;
  const uint64_t seed = 9;
  const double naswot = score(g, options({"naswot"}, n, seed));
  // The ReLU sees the normalised images: a unit is on when its pixel exceeds its channel's mean.
  const accuracy::CifarSet set = chosen_images(n, seed);
  std::vector<std::vector<bool>> code(n);
  for (int i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c) {
      for (int p = 0; p < 1024; ++p) {
        code[i].push_back(set.image(i)[c * 1024 + p] > accuracy::kCifarMean[c]);
      }
    }
  }
  Eigen::MatrixXd k(n, n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      int same = 0;
      for (int u = 0; u < 3072; ++u) same += code[i][u] == code[j][u];
      k(i, j) = same;
    }
  }
  const double expected = std::log(std::abs(k.determinant()));
  CHECK(naswot == Approx(expected).epsilon(1e-9));
}

TEST_CASE("jacob_cov of a linear network: identical Jacobians, eigenvalues n and 0", "[proxies]") {
  // x -> flatten -> FC(10): d(sum of outputs)/dx = W^T 1 for every sample.
  ir::Graph g;
  ir::TensorId x = g.add_input("x", {1, 3, 32, 32}, ir::DType::kFloat32);
  ir::AxisAttrs flat;
  flat.axis = 1;
  x = g.add_op(ir::OpKind::kFlatten, "flatten", {x}, flat);
  ir::FcAttrs fc;
  fc.out_features = 10;
  g.mark_output(g.add_op(ir::OpKind::kFullyConnected, "fc", {x}, fc));
  const double k = 1e-5;
  auto f = [k](double v) { return std::log(v + k) + 1 / (v + k); };
  for (int n : {8, 32}) {
    const double expected = -(f(n) + (n - 1) * f(0));
    ProxyOptions o = options({"jacob_cov"}, n);
    CHECK(score(g, o) == Approx(expected).epsilon(1e-6));
    o.data = "gaussian";
    CHECK(score(g, o) == Approx(expected).epsilon(1e-6));
  }
}

TEST_CASE(
    "meco of a depthwise 1x1 conv is the smallest eigenvalue of the image's colour "
    "correlations",
    "[proxies]") {
  // Channel c of the conv's output is w_c * plane c, then BatchNorm: the correlation matrix of
  // the output is D P D with D = diag(sign w_c), which has the eigenvalues of P. The FC's
  // [N, 10] output has no positions and does not count.
  const ir::Graph g = classifier([](ir::Graph& g, ir::TensorId x) {
    return g.add_op(ir::OpKind::kConv2d, "dw", {x}, conv(3, 1, 3));
  });
  const uint64_t seed = 21;
  const double meco = score(g, options({"meco"}, 0, seed));  // the paper's one image
  const accuracy::CifarSet set = chosen_images(1, seed);
  Eigen::MatrixXd planes(3, 1024);
  for (int c = 0; c < 3; ++c) {
    for (int p = 0; p < 1024; ++p) planes(c, p) = set.image(0)[c * 1024 + p];
  }
  planes.colwise() -= planes.rowwise().mean();
  Eigen::MatrixXd cov = planes * planes.transpose();
  const Eigen::VectorXd sd = cov.diagonal().cwiseSqrt();
  const Eigen::MatrixXd corr = cov.cwiseQuotient(sd * sd.transpose());
  const double expected =
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(corr).eigenvalues().minCoeff();
  CHECK(expected > 1e-4);  // not a degenerate image
  CHECK(meco == Approx(expected).epsilon(1e-3).margin(1e-6));
}

TEST_CASE("synflow of one FC layer is log sum|W| (all-ones input, no bias)", "[proxies]") {
  // W: 10 x 3072, torch's default init U(-1/sqrt(3072), 1/sqrt(3072)): sum|W| concentrates at
  // 30720 / (2 sqrt(3072)) = 277.13, relative standard deviation 0.33%.
  ir::Graph g;
  ir::TensorId x = g.add_input("x", {1, 3, 32, 32}, ir::DType::kFloat32);
  ir::AxisAttrs flat;
  flat.axis = 1;
  x = g.add_op(ir::OpKind::kFlatten, "flatten", {x}, flat);
  ir::FcAttrs fc;
  fc.out_features = 10;
  fc.bias = false;
  g.mark_output(g.add_op(ir::OpKind::kFullyConnected, "fc", {x}, fc));
  for (uint64_t seed : {1, 2, 3}) {
    CHECK(score(g, options({"synflow"}, 0, seed)) ==
          Approx(std::log(30720 / (2 * std::sqrt(3072.0)))).margin(0.015));
  }
}

TEST_CASE("zen removes residual links: a block with and without its shortcut scores the same",
          "[proxies]") {
  auto net = [](const std::string& add_role, bool with_add) {
    return classifier([&](ir::Graph& g, ir::TensorId x) {
      const ir::TensorId stem =
          g.add_op(ir::OpKind::kConv2d, "stem", {x}, conv(8, 3), meta("stem", "conv"));
      ir::TensorId y =
          g.add_op(ir::OpKind::kConv2d, "b.conv1", {stem}, conv(8, 3), meta("b", "conv1"));
      y = g.add_op(ir::OpKind::kRelu, "b.relu", {y}, {}, meta("b", "conv1.act"));
      y = g.add_op(ir::OpKind::kConv2d, "b.conv2", {y}, conv(8, 3), meta("b", "conv2"));
      if (with_add) y = g.add_op(ir::OpKind::kAdd, "b.add", {stem, y}, {}, meta("b", add_role));
      return y;
    });
  };
  const ProxyOptions o = options({"zen"}, 8);
  const double residual = score(net("add", true), o);
  const double plain = score(net("add", false), o);
  const double summed = score(net("sum", true), o);  // not a residual role: kept
  CHECK(residual == plain);
  CHECK(summed != plain);
  CHECK(std::isfinite(plain));
}

TEST_CASE("a network whose output ignores its input: the documented degenerate values",
          "[proxies]") {
  // x -> zeros -> conv -> BatchNorm -> ReLU -> ...: every activation after the input is 0.
  const ir::Graph g = classifier([](ir::Graph& g, ir::TensorId x) {
    x = g.add_op(ir::OpKind::kZeros, "zeros", {x});
    x = g.add_op(ir::OpKind::kConv2d, "conv", {x}, conv(4, 3));
    return g.add_op(ir::OpKind::kRelu, "relu", {x});
  });
  auto s = scores(g, options({}, 8));
  CHECK(s["naswot"] == accuracy::kProxyFloor);   // every code 0: K_H singular, log 0
  CHECK(s["synflow"] == accuracy::kProxyFloor);  // no weight gets a gradient: log 0
  CHECK(s["snip"] == 0);                         // zero features: zero weight gradients
  CHECK(s["grad_norm"] == 0);
  CHECK(s["jacob_cov"] == accuracy::kProxyFloor);  // zero Jacobians: NaN correlations
  CHECK(s["zen"] == accuracy::kProxyFloor);        // f(x) = f(x + a e) and zero variances
  CHECK(s["zico"] == 0);                           // every layer left out
  CHECK(s["meco"] == 0);                           // constant channels count as 0
}

TEST_CASE("scores are deterministic for a seed and change with it; data sources", "[proxies]") {
  const ir::Graph g = load_model("nb201:channels=4,cells=1").graph;
  ProxyOptions o = options({}, 8, 3);
  const auto a = torchnet::compute_proxies(g, o);
  const auto b = torchnet::compute_proxies(g, o);
  REQUIRE(a.scores.size() == 8);
  for (size_t i = 0; i < a.scores.size(); ++i) {
    INFO(a.scores[i].name);
    CHECK(a.scores[i].name == torchnet::proxy_names()[i]);
    CHECK(a.scores[i].value == b.scores[i].value);  // bit for bit
    CHECK(std::isfinite(a.scores[i].value));
    CHECK(a.scores[i].value > accuracy::kProxyFloor);
    CHECK(a.scores[i].seconds >= 0);
  }
  CHECK(a.seconds > 0);
  // Each proxy alone gives what it gives among the others (grad_norm reuses snip's gradients).
  for (const char* name : {"grad_norm", "zen", "meco"}) {
    ProxyOptions one = o;
    one.proxies = {name};
    INFO(name);
    CHECK(score(g, one) == scores(g, o).at(name));
  }

  o.seed = 4;
  const auto c = torchnet::compute_proxies(g, o);
  for (size_t i = 0; i < a.scores.size(); ++i) {
    INFO(a.scores[i].name);
    CHECK(a.scores[i].value != c.scores[i].value);
  }

  // Gaussian inputs change every proxy that takes data; synflow (all-ones input) and zen
  // (Gaussian by definition) do not take any.
  o.seed = 3;
  o.data = "gaussian";
  const auto d = torchnet::compute_proxies(g, o);
  for (size_t i = 0; i < a.scores.size(); ++i) {
    const std::string& name = a.scores[i].name;
    INFO(name);
    if (name == "synflow" || name == "zen") {
      CHECK(d.scores[i].value == a.scores[i].value);
    } else {
      CHECK(d.scores[i].value != a.scores[i].value);
    }
  }
}

TEST_CASE("proxy errors: unknown name, bad options, data the model cannot take", "[proxies]") {
  const ir::Graph g = load_model("nb201:channels=4,cells=1").graph;
  try {
    torchnet::compute_proxies(g, options({"synflow", "nasswot"}));
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("unknown proxy 'nasswot'") != std::string::npos);
    CHECK(std::string(e.what()).find("naswot") != std::string::npos);
  }
  ProxyOptions o = options({"snip"});
  o.data = "imagenet";
  CHECK_THROWS_AS(torchnet::compute_proxies(g, o), InputError);
  o = options({"snip"}, 100);  // the fixture holds 64 training images
  CHECK_THROWS_AS(torchnet::compute_proxies(g, o), InputError);
  o = options({"snip"});
  o.threads = 0;
  CHECK_THROWS_AS(torchnet::compute_proxies(g, o), InputError);
  o = options({"snip"});
  o.cifar_dir = "/nonexistent/cifar";
  CHECK_THROWS_AS(torchnet::compute_proxies(g, o), InputError);
  // A single-channel model cannot take CIFAR images, but Gaussian inputs.
  ir::Graph one;
  ir::TensorId x = one.add_input("x", {1, 1, 8, 8}, ir::DType::kFloat32);
  x = one.add_op(ir::OpKind::kConv2d, "conv", {x}, conv(4, 3));
  x = one.add_op(ir::OpKind::kRelu, "relu", {x});
  x = one.add_op(ir::OpKind::kGlobalAvgPool, "gap", {x});
  ir::AxisAttrs flat;
  flat.axis = 1;
  x = one.add_op(ir::OpKind::kFlatten, "flatten", {x}, flat);
  ir::FcAttrs fc;
  fc.out_features = 10;
  one.mark_output(one.add_op(ir::OpKind::kFullyConnected, "fc", {x}, fc));
  CHECK_THROWS_AS(torchnet::compute_proxies(one, options({"naswot"}, 4)), InputError);
  o = options({"naswot"}, 4);
  o.data = "gaussian";
  CHECK(std::isfinite(score(one, o)));
  // meco: a BatchNorm over a 1x1 map cannot normalise one image in train mode (a single value per
  // channel). By default meco then takes two images (measuring the first); --batch 1 is an error.
  ir::Graph tiny;
  ir::TensorId t = tiny.add_input("x", {1, 3, 1, 1}, ir::DType::kFloat32);
  t = tiny.add_op(ir::OpKind::kConv2d, "conv", {t}, conv(4, 1));
  tiny.mark_output(t);
  o = options({"meco"}, 1);
  o.data = "gaussian";
  CHECK_THROWS_AS(torchnet::compute_proxies(tiny, o), InputError);
  o.batch = 0;
  CHECK(score(tiny, o) == 0);  // one position: constant channels
}

TEST_CASE(
    "synflow, jacob_cov, snip and grad_norm rank NAS-Bench-201 cells as NASLib's published "
    "scores",
    "[proxies][slow]") {
  // 16 cells with NASLib's cifar10 scores (tests/fixtures/proxies/README.md). NASLib used another
  // batch of 32 training images and its own random weights; the ranking must agree.
  std::ifstream in(std::string(NAX_FIXTURES) + "/proxies/naslib_nb201_cifar10_zc.csv");
  REQUIRE(in.good());
  std::string line;
  std::getline(in, line);
  static const char* ops[] = {"skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1",
                              "avg_pool_3x3"};
  const std::vector<std::string> names = {"synflow", "jacob_cov", "snip", "grad_norm"};
  std::map<std::string, std::vector<double>> ours, theirs;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string enc, cell;
    std::getline(ss, enc, ',');
    auto op = [&](int i) { return ops[enc.at(static_cast<size_t>(i)) - '0']; };
    const std::string arch = fmt::format("|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|", op(0), op(1), op(3),
                                         op(2), op(4), op(5));
    for (const std::string& name : names) {
      std::getline(ss, cell, ',');
      theirs[name].push_back(std::stod(cell));
    }
    const auto s = scores(load_model("nb201:arch=" + arch).graph, options(names, 0, 0));
    for (const std::string& name : names) ours[name].push_back(s.at(name));
  }
  REQUIRE(ours["synflow"].size() == 16);
  const std::map<std::string, double> at_least = {
      {"synflow", 0.95}, {"snip", 0.9}, {"grad_norm", 0.9}, {"jacob_cov", 0.7}};
  for (const std::string& name : names) {
    const double rho = est::spearman_rho(ours[name], theirs[name]);
    INFO(name << ": Spearman " << rho);
    CHECK(rho >= at_least.at(name));
  }
}
