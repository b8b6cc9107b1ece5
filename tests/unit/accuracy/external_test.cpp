// The external accuracy evaluator (nas/accuracy/external.hpp): placeholders, the files it writes,
// the output contract and every failure, with the stand-in evaluator
// tests/fixtures/accuracy_cmd/eval.sh.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "models/ir/analysis.hpp"
#include "models/onnx/onnx_import.hpp"
#include "nas/accuracy/external.hpp"

using namespace nax;
using namespace nax::accuracy;
namespace fs = std::filesystem;

namespace {

const std::string kScript = std::string(NAX_FIXTURES) + "/accuracy_cmd/eval.sh";

// A fresh work directory per test case.
std::string work_dir(const std::string& name) {
  const fs::path d =
      fs::temp_directory_path() / ("nax_external_test_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  return d.string();
}

ExternalEvaluator evaluator(const std::string& mode, const std::string& dir,
                            double timeout_s = 30) {
  ExternalOptions o;
  o.command = "sh " + kScript + " " + mode + " {model} {yaml} {name}";
  o.work_dir = dir;
  o.timeout_s = timeout_s;
  return ExternalEvaluator(o);
}

std::string read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

std::string error_of(const ExternalEvaluator& e, const Model& m) {
  try {
    e.evaluate(m);
  } catch (const std::exception& ex) {
    return ex.what();
  }
  return {};
}

}  // namespace

TEST_CASE("the output contract: accuracy lines, bare numbers, fractions and percentages",
          "[accuracy][external]") {
  std::string line;
  CHECK(parse_accuracy_output("epoch 1\naccuracy: 0.5\nepoch 2\nAccuracy = 0.75\ndone 3\n",
                              &line) == 75.0);
  CHECK(line == "Accuracy = 0.75");
  CHECK(parse_accuracy_output("val_accuracy:93.1\n") == Approx(93.1));
  CHECK(parse_accuracy_output("top-1 ACCURACY 71.2% top-5 accuracy 90.1%\n") == Approx(71.2));
  CHECK(parse_accuracy_output("accuracy=1e-1") == Approx(10.0));
  CHECK(parse_accuracy_output("loss 0.3 acc 0.81\n\n  \n", &line) == Approx(81.0));
  CHECK(line == "loss 0.3 acc 0.81");
  CHECK(parse_accuracy_output("0.5%\r\n") == Approx(0.5));  // '%': a percentage, however small
  CHECK(parse_accuracy_output("1") == 100.0);               // 1 is a fraction
  CHECK(parse_accuracy_output("1.5") == 1.5);               // above 1: a percentage
  CHECK(parse_accuracy_output(".25") == 25.0);

  CHECK_THROWS_WITH(parse_accuracy_output("line one\n\nno number here\n"),
                    "no accuracy in the command's output: expected a line 'accuracy: <number>' (or "
                    "'=', case-insensitive) or a number on the last non-empty line of stdout; the "
                    "last lines of stdout were:\n  line one\n  no number here");
  CHECK_THROWS_WITH(parse_accuracy_output(""),
                    "no accuracy in the command's output: expected a line 'accuracy: <number>' (or "
                    "'=', case-insensitive) or a number on the last non-empty line of stdout; the "
                    "last lines of stdout were:\n  (nothing)");
  CHECK_THROWS_WITH(parse_accuracy_output("x\nAccuracy: -0.5\n"),
                    "accuracy -0.5 (from the line 'Accuracy: -0.5') is out of range: expected a "
                    "fraction in [0, 1] or a percentage in (1, 100]; the last lines of stdout "
                    "were:\n  x\n  Accuracy: -0.5");
  CHECK_THROWS_WITH(parse_accuracy_output("a\nb\nc\n101", nullptr, 2),
                    "accuracy 101 (from the line '101') is out of range: expected a fraction in "
                    "[0, 1] or a percentage in (1, 100]; the last lines of stdout were:\n  ... (2 "
                    "earlier lines)\n  c\n  101");
}

TEST_CASE("the command template is checked when the evaluator is made", "[accuracy][external]") {
  ExternalOptions o;
  o.work_dir = "w";
  o.command = "python3 eval.py {modle} --out {dir}/x -c 'print({\"a\": 1})' {}";
  CHECK_THROWS_WITH(ExternalEvaluator(o),
                    "--accuracy-cmd = python3 eval.py {modle} --out {dir}/x -c 'print({\"a\": 1})' "
                    "{}: unknown placeholder {modle}: expected {model}, {onnx}, {yaml}, {dir} or "
                    "{name}; did you mean {model}?");
  o.command = "  ";
  CHECK_THROWS_WITH(ExternalEvaluator(o), "--accuracy-cmd: the command is empty");
  o.command = "true {model}";
  o.work_dir = "";
  CHECK_THROWS_WITH(ExternalEvaluator(o),
                    "--accuracy-cmd: no work directory for the candidates' files");
  o.work_dir = "w";
  o.timeout_s = -1;
  CHECK_THROWS_WITH(ExternalEvaluator(o), "--accuracy-cmd: the timeout must not be negative");
}

TEST_CASE("an evaluation writes ONNX and YAML, runs the command and reads its accuracy",
          "[accuracy][external]") {
  const std::string dir = work_dir("ok");
  const Model m = load_model("nas-bench-macro:arch=01220210");
  const ExternalEvaluator e = evaluator("ok", dir);
  const ExternalResult r = e.evaluate(m, "c7");

  // Deterministic, fresh directory with the files, absolute paths, quoted substitution.
  CHECK(r.dir ==
        (fs::absolute(dir) / ("c7-nas-bench-macro-" + m.hash)).lexically_normal().string());
  CHECK(r.onnx_path == r.dir + "/model.onnx");
  CHECK(r.yaml_path == r.dir + "/model.yaml");
  CHECK(r.command ==
        "sh " + kScript + " ok '" + r.onnx_path + "' '" + r.yaml_path + "' 'nas-bench-macro'");
  CHECK(read(r.dir + "/command.txt") == r.command + "\n");
  CHECK(read(r.dir + "/stdout.txt") == r.out);
  CHECK(r.exit_status == 0);
  CHECK(r.err.empty());

  // The ONNX file is the model; the YAML is its block-level description.
  const ir::Graph back = nax::onnx::import_onnx_file(r.onnx_path);
  CHECK(ir::analyze(back).macs == ir::analyze(m.graph).macs);
  const std::string yaml = read(r.yaml_path);
  CHECK(spec::build_graph(spec::read_model_yaml(yaml, r.yaml_path)).ops().size() ==
        m.graph.ops().size());

  // The accuracy the script derived from the files, from the last matching line.
  size_t block_lines = 0;
  for (size_t p = yaml.find("{type:"); p != std::string::npos; p = yaml.find("{type:", p + 1)) {
    ++block_lines;
  }
  const auto bytes = static_cast<int64_t>(fs::file_size(r.onnx_path));
  const double want = 10 + static_cast<double>(bytes % 800) / 10 + static_cast<double>(block_lines);
  CHECK(r.accuracy == Approx(want).margin(0.051));
  CHECK(r.matched.rfind("val Accuracy: ", 0) == 0);
  CHECK(r.out.find("model nas-bench-macro: " + std::to_string(bytes) + " bytes, " +
                   std::to_string(block_lines) + " blocks") != std::string::npos);

  // A second evaluation of the same model empties and reuses the directory.
  std::ofstream(r.dir + "/stale.txt") << "old";
  const ExternalResult again = e.evaluate(m, "c7");
  CHECK(again.dir == r.dir);
  CHECK_FALSE(fs::exists(r.dir + "/stale.txt"));
  CHECK(again.accuracy == r.accuracy);
  fs::remove_all(dir);
}

TEST_CASE("bare fractions and percentages from the last line", "[accuracy][external]") {
  const std::string dir = work_dir("bare");
  const Model m = load_model("nb201:cells=1");
  const ExternalResult f = evaluator("fraction", dir).evaluate(m);
  const auto bytes = static_cast<int64_t>(fs::file_size(f.onnx_path));
  CHECK(f.accuracy == Approx(static_cast<double>(bytes % 1000) / 10));
  CHECK(f.dir == (fs::absolute(dir) / ("nb201-" + m.hash)).lexically_normal().string());
  CHECK(evaluator("percent", dir).evaluate(m).accuracy == 72.5);
  fs::remove_all(dir);
}

TEST_CASE("failures name the command, the reason and the output's last lines",
          "[accuracy][external]") {
  const std::string dir = work_dir("fail");
  const Model m = load_model("nb201:cells=1");
  const std::string base = fs::absolute(dir).lexically_normal().string() + "/nb201-" + m.hash;
  const std::string cmd = [&](const std::string& mode) {
    return "sh " + kScript + " " + mode + " '" + base + "/model.onnx' '" + base +
           "/model.yaml' 'nb201'";
  }("fail");
  CHECK(error_of(evaluator("fail", dir), m) ==
        "accuracy command exited with status 3: " + cmd +
            "\nlast lines of stderr:\n  Traceback: something broke\n  RuntimeError: out of "
            "memory");

  const std::string timeout_err = error_of(evaluator("sleep", dir, 0.3), m);
  CHECK(timeout_err.rfind(
            "accuracy command timed out after 0.3 s (killed): sh " + kScript + " sleep '", 0) == 0);
  CHECK(timeout_err.find("\nlast lines of stderr:\n  (nothing)\nlast lines of stdout:\n  "
                         "(nothing)") != std::string::npos);

  const std::string none_err = error_of(evaluator("none", dir), m);
  CHECK(none_err.find("no accuracy in the command's output") != std::string::npos);
  CHECK(none_err.find("the last lines of stdout were:\n  accuracy unknown") != std::string::npos);

  const std::string range_err = error_of(evaluator("range", dir), m);
  CHECK(range_err.find("accuracy 250 (from the line 'Accuracy = 250') is out of range") !=
        std::string::npos);

  ExternalOptions o;
  o.command = "echo {name} >&2; kill -9 $$";
  o.work_dir = dir;
  CHECK(error_of(ExternalEvaluator(o), m) ==
        "accuracy command was killed by signal 9 (Killed): echo 'nb201' >&2; kill -9 $$\nlast "
        "lines of stderr:\n  nb201");

  o.command = "cat {yaml}";
  const std::string onnx = (fs::path(dir) / "in.onnx").string();
  fs::create_directories(dir);
  std::ofstream(onnx, std::ios::binary)
      << nax::onnx::export_onnx_bytes(m.graph, nax::onnx::ExportOptions{true, true, 0});
  CHECK(error_of(ExternalEvaluator(o), load_model(onnx)) ==
        "--accuracy-cmd uses {yaml}, but model '" + onnx +
            "' has no block-level description (it came from an ONNX file); use {onnx}");
  fs::remove_all(dir);
}

TEST_CASE("a timeout kills the whole process group", "[accuracy][external]") {
  const std::string dir = work_dir("group");
  const std::string marker = (fs::path(dir) / "marker").string();
  ExternalOptions o;
  // A background child that would write the marker after 0.5 s, and a foreground sleep.
  o.command = "(sleep 0.5; touch " + marker + ") & sleep 5; echo {name}";
  o.work_dir = dir;
  o.timeout_s = 0.2;
  const Model m = load_model("nb201:cells=1");
  CHECK_THROWS_AS(ExternalEvaluator(o).evaluate(m), Error);
  std::this_thread::sleep_for(std::chrono::milliseconds(900));
  CHECK_FALSE(fs::exists(marker));
  fs::remove_all(dir);
}
