// `nax train` end to end on the committed CIFAR-10 fixture (64 training, 32 test images): the
// per-epoch lines, the JSON, and the errors a user meets (a model without 10 classes, missing
// data). Also that the nax binary does not link libtorch (the plugin is loaded on demand).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdio>
#include <string>

#include "tests/integration/run_nax.hpp"

using nax::test::run_nax;
using nax::test::slurp;

namespace {

const std::string kFixture = std::string(NAX_FIXTURES) + "/cifar10";
const std::string kData = " --cifar " + kFixture + " --train-images 64 --test-images 32";

}  // namespace

TEST_CASE("nax train: epochs, test accuracy and JSON on the fixture", "[cli][train]") {
  const std::string json = "cli_train_" + std::to_string(getpid()) + ".json";
  const auto r = run_nax("train --model nb201:channels=4,cells=1 --epochs 2 --batch 32 --seed 5" +
                             kData + " --json " + json,
                         "train");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("model nb201 (hash ") != std::string::npos);
  CHECK(r.out.find("epoch   1  loss ") != std::string::npos);
  CHECK(r.out.find("epoch   2  loss ") != std::string::npos);
  CHECK(r.out.find("test accuracy ") != std::string::npos);
  const auto j = nlohmann::json::parse(slurp(json));
  std::remove(json.c_str());
  CHECK(j["seed"] == 5);
  CHECK(j["model"]["name"] == "nb201");
  CHECK(j["model"]["hash"].get<std::string>().size() == 16);
  CHECK(!j["tool_version"].get<std::string>().empty());
  CHECK(j["libtorch_version"].get<std::string>().rfind("1.", 0) == 0);
  REQUIRE(j["epochs"].size() == 2);
  CHECK(j["epochs"][1]["epoch"] == 2);
  CHECK(j["epochs"][0]["loss"].get<double>() > 0);
  const double acc = j["test_accuracy"].get<double>();
  CHECK(acc >= 0);
  CHECK(acc <= 100);
  CHECK(j["seconds"].get<double>() > 0);
  CHECK(j["parameters"].get<int64_t>() > 0);
  CHECK(j["options"]["train_images"] == 64);

  // The same seed gives the same numbers (single thread), printed as JSON on stdout.
  const auto again = run_nax(
      "train --model nb201:channels=4,cells=1 --epochs 2 --batch 32 "
      "--seed 5" +
          kData + " --json -",
      "train_again");
  REQUIRE(again.code == 0);
  const auto j2 = nlohmann::json::parse(again.out);
  CHECK(j2["test_accuracy"] == j["test_accuracy"]);
  CHECK(j2["epochs"] == j["epochs"]);
}

TEST_CASE("nax train: a model without 10 classes, missing data, bad options", "[cli][train]") {
  const auto classes =
      run_nax("train --model nb201:channels=4,cells=1,num_classes=100" + kData, "train_classes");
  CHECK(classes.code == 2);
  CHECK(classes.err.find("needs a classifier with 10 outputs") != std::string::npos);
  CHECK(classes.err.find("num_classes=10") != std::string::npos);

  const auto nodata =
      run_nax("train --model nb201:channels=4,cells=1 --cifar /nonexistent/cifar", "train_nodata");
  CHECK(nodata.code == 2);
  CHECK(nodata.err ==
        "nax: error: /nonexistent/cifar: CIFAR-10 directory not found (pass the directory, or "
        "set NAX_CIFAR_DIR)\n");

  const auto too_many =
      run_nax("train --model nb201:channels=4,cells=1 --cifar " + kFixture, "train_many");
  CHECK(too_many.code == 2);
  CHECK(too_many.err.find("data_batch_1_first64.bin: holds 64 images; 4000 asked for") !=
        std::string::npos);

  const auto epochs = run_nax("train --model nb201 --epochs 0" + kData, "train_epochs");
  CHECK(epochs.code == 2);
  CHECK(epochs.err == "nax: error: epochs = 0: expected at least 1\n");
}

TEST_CASE("nax does not link libtorch, and train --help needs no plugin", "[cli][train]") {
  const std::string cmd = std::string("ldd ") + NAX_BINARY + " > nax_ldd.txt";
  REQUIRE(std::system(cmd.c_str()) == 0);
  const std::string libs = slurp("nax_ldd.txt");
  std::remove("nax_ldd.txt");
  CHECK(libs.find("libc.so") != std::string::npos);  // ldd did list the libraries
  CHECK(libs.find("libtorch") == std::string::npos);
  CHECK(libs.find("libc10") == std::string::npos);
  CHECK(libs.find("nax_torch") == std::string::npos);

  const auto help = run_nax("train --help", "train_help");
  CHECK(help.code == 0);
  CHECK(help.out.find("--epochs") != std::string::npos);
  CHECK(help.out.find("--cifar") != std::string::npos);
}
