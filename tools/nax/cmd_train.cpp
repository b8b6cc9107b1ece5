// `nax train`: a short CIFAR-10 training of a network on the CPU (nas/torch/train.cpp through the
// libtorch plugin): a cheap, real accuracy signal for a candidate, and the reference the
// zero-shot proxies are checked against.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "models/common/error.hpp"
#include "models/ir/analysis.hpp"
#include "models/model_source.hpp"
#include "nas/accuracy/cifar.hpp"
#include "nas/torch/api.hpp"
#include "tools/nax/cli.hpp"

namespace nax::cli {
namespace {

struct TrainCliOptions {
  std::string model;
  torchnet::TrainOptions train;
  std::string json;
  bool quiet = false;
};

void run_train(TrainCliOptions& o) {
  const Model m = load_model(o.model);
  const ir::GraphStats stats = ir::analyze(m.graph);
  o.train.cifar_dir = accuracy::cifar_dir(o.train.cifar_dir);
  const bool print = !o.quiet && o.json != "-";
  if (print) {
    std::cout << fmt::format(
        "model {} (hash {}): {} parameters, {} MACs; nax {}\n"
        "training {} epochs on {} CIFAR-10 images of {}, batch {}, lr {}, seed {}, {} thread(s)\n",
        m.name, m.hash, grouped(stats.params), human(static_cast<double>(stats.macs)), version(),
        o.train.epochs, o.train.train_images, o.train.cifar_dir, o.train.batch, o.train.lr,
        o.train.seed, o.train.threads);
    o.train.on_epoch = [](int epoch, double loss, double acc) {
      std::cout << fmt::format("epoch {:>3}  loss {:.4f}  train accuracy {:6.2f}%\n", epoch, loss,
                               acc)
                << std::flush;
    };
  }
  const torchnet::TrainResult r = torchnet::short_train(m.graph, o.train);

  nlohmann::json j;
  j["tool_version"] = version();
  j["libtorch_version"] = torchnet::libtorch_version();
  j["model"] = {{"name", m.name}, {"source", m.source}, {"kind", m.kind}, {"hash", m.hash}};
  j["seed"] = o.train.seed;
  j["test_accuracy"] = r.test_accuracy;
  nlohmann::json epochs = nlohmann::json::array();
  for (size_t i = 0; i < r.epoch_loss.size(); ++i) {
    epochs.push_back(
        {{"epoch", i + 1}, {"loss", r.epoch_loss[i]}, {"train_accuracy", r.epoch_accuracy[i]}});
  }
  j["epochs"] = epochs;
  j["seconds"] = r.seconds;
  j["parameters"] = r.parameters;
  j["options"] = {{"epochs", o.train.epochs},
                  {"batch", o.train.batch},
                  {"lr", o.train.lr},
                  {"weight_decay", o.train.weight_decay},
                  {"train_images", o.train.train_images},
                  {"test_images", o.train.test_images},
                  {"augment", o.train.augment},
                  {"threads", o.train.threads},
                  {"cifar_dir", o.train.cifar_dir}};
  if (!o.json.empty()) write_json(j, o.json);
  if (print) {
    std::cout << fmt::format(
        "test accuracy {:.2f}% on {} held-out images ({:.1f} s, libtorch {})\n", r.test_accuracy,
        o.train.test_images, r.seconds, torchnet::libtorch_version());
  }
}

}  // namespace

void add_train_commands(CLI::App& app) {
  auto o = std::make_shared<TrainCliOptions>();
  CLI::App* tr = app.add_subcommand(
      "train", "Train a network briefly on CIFAR-10 (CPU, libtorch) and report its test accuracy");
  tr->add_option("--model,-m", o->model,
                 "zoo name with parameters, a model .yaml or an .onnx file; 10 outputs")
      ->required();
  tr->add_option("--epochs", o->train.epochs, "epochs")->capture_default_str();
  tr->add_option("--batch", o->train.batch, "batch size")->capture_default_str();
  tr->add_option("--lr", o->train.lr, "peak learning rate (SGD, Nesterov momentum 0.9, cosine)")
      ->capture_default_str();
  tr->add_option("--weight-decay", o->train.weight_decay, "on conv and FC weights")
      ->capture_default_str();
  tr->add_option("--seed", o->train.seed, "initialisation, data order and augmentation")
      ->capture_default_str();
  tr->add_option("--threads", o->train.threads, "libtorch threads (1: deterministic)")
      ->capture_default_str();
  tr->add_option("--cifar", o->train.cifar_dir,
                 "directory with data_batch_1*.bin and test_batch*.bin (default: $NAX_CIFAR_DIR, "
                 "else the shared copy)");
  tr->add_option("--train-images", o->train.train_images, "training images (the first N)")
      ->capture_default_str();
  tr->add_option("--test-images", o->train.test_images, "held-out test images (the first N)")
      ->capture_default_str();
  tr->add_flag("!--no-augment", o->train.augment, "no random crop and flip");
  tr->add_option("--json", o->json, "write the result as JSON to PATH ('-' for stdout)");
  tr->add_flag("--quiet,-q", o->quiet, "no progress on the terminal");
  tr->footer(
      "Examples:\n"
      "  nax train --model nas-bench-macro:arch=22222222\n"
      "  nax train -m nb201 --epochs 10 --seed 1 --json train.json\n"
      "  nax train -m mobilenet_v2:num_classes=10,resolution=32,width=0.5 --epochs 2");
  tr->callback([o] { run_train(*o); });
}

}  // namespace nax::cli
