// Benchmark data and the accuracy oracle (nas/accuracy/benchmarks.hpp) on the committed files in
// nas/data: completeness, the meaning of the columns (spot values checked with /usr/bin/python3
// against the files), NASLib's edge order, the oracle's "only the benchmark's own network" rule,
// seeded sampling, and the readers' error messages.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "models/estimate/metrics.hpp"
#include "models/ir/analysis.hpp"
#include "models/onnx/onnx_export.hpp"
#include "models/spec/blocks/nb201.hpp"
#include "nas/accuracy/benchmarks.hpp"

using namespace nax;
using namespace nax::accuracy;
namespace fs = std::filesystem;

namespace {

const std::string kDataDir = std::string(NAX_SOURCE_DIR) + "/nas/data";

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

std::string temp_dir(const std::string& name) {
  const fs::path d =
      fs::temp_directory_path() / ("nax_benchmarks_test_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

const char* const kHeader =
    "arch_idx,arch_str,cifar10_test_12ep,cifar10_val_12ep,cifar100_test_12ep,cifar100_val_12ep,"
    "imagenet_test_12ep,imagenet_val_12ep\n";
const char* const kCellA =
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~"
    "2|";
const char* const kCellB =
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~"
    "2|";

// Restores an environment variable when it goes out of scope.
struct EnvGuard {
  explicit EnvGuard(const char* name) : m_name(name) {
    if (const char* v = std::getenv(name)) m_old = v;
  }
  ~EnvGuard() {
    if (m_old.empty()) {
      unsetenv(m_name);
    } else {
      setenv(m_name, m_old.c_str(), 1);
    }
  }
  const char* m_name;
  std::string m_old;
};

}  // namespace

TEST_CASE("the data directory: argument, else $NAX_DATA_DIR, else the source tree's nas/data",
          "[accuracy][benchmarks]") {
  EnvGuard guard("NAX_DATA_DIR");
  CHECK(fs::equivalent(default_data_dir(), kDataDir));
  unsetenv("NAX_DATA_DIR");
  CHECK(resolve_data_dir() == default_data_dir());
  setenv("NAX_DATA_DIR", "", 1);
  CHECK(resolve_data_dir() == default_data_dir());
  setenv("NAX_DATA_DIR", "/from/env", 1);
  CHECK(resolve_data_dir() == "/from/env");
  CHECK(resolve_data_dir("/explicit") == "/explicit");
  CHECK(BenchmarkOracle().data_dir() == "/from/env");
  CHECK(error_of([] { Nb201Table::load("/from/env"); }) ==
        "/from/env/nb201_acc_12epoch_minibench.csv: no such file (the NAS-Bench-201 12-epoch "
        "table); the data directory is the explicit one, else $NAX_DATA_DIR, else " +
            default_data_dir());
}

TEST_CASE("NAS-Bench-201 12-epoch table: every cell once, columns as published",
          "[accuracy][benchmarks]") {
  const Nb201Table t = Nb201Table::load(kDataDir);
  REQUIRE(t.records().size() == 15625);
  for (size_t i = 0; i < t.records().size(); ++i)
    CHECK(t.records()[i].index == static_cast<int>(i));
  // Every one of the 5^6 cells is there.
  const auto& ops = spec::nb201_op_names();
  size_t found = 0;
  for (int code = 0; code < 15625; ++code) {
    std::string e[6];
    for (int k = 0, c = code; k < 6; ++k, c /= 5) e[k] = ops[static_cast<size_t>(c % 5)];
    const std::string arch = "|" + e[0] + "~0|+|" + e[1] + "~0|" + e[2] + "~1|+|" + e[3] + "~0|" +
                             e[4] + "~1|" + e[5] + "~2|";
    found += t.find(arch) != nullptr;
  }
  CHECK(found == 15625);
  // Row 1 of the CSV, all columns.
  const Nb201Record* r = t.find(kCellA);
  REQUIRE(r);
  CHECK(r->index == 1);
  CHECK(r->cifar10_test == 88.22);
  CHECK(r->cifar10_val == 82.834);
  CHECK(r->cifar100_test == 58.26);
  CHECK(r->cifar100_val == 57.8);
  CHECK(r->imagenet16_test == 33.8);
  CHECK(r->imagenet16_val == 35.4333);
  // Another spelling of the same cell (edges out of order) finds it too.
  CHECK(t.find("|nor_conv_3x3~0|+|avg_pool_3x3~1|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|"
               "skip_connect~2|") == r);
  CHECK(t.find("not a cell") == nullptr);
  // The best cell at 12 epochs (python: max of cifar10_test_12ep).
  const auto best = std::max_element(
      t.records().begin(), t.records().end(),
      [](const Nb201Record& a, const Nb201Record& b) { return a.cifar10_test < b.cifar10_test; });
  CHECK(best->index == 5374);
  CHECK(best->cifar10_test == 89.16);
}

TEST_CASE("NAS-Bench-Macro table: 6,561 networks whose params and FLOPs are the zoo's",
          "[accuracy][benchmarks]") {
  const MacroTable t = MacroTable::load(kDataDir);
  REQUIRE(t.records().size() == 6561);
  CHECK(std::is_sorted(t.records().begin(), t.records().end(),
                       [](const MacroRecord& a, const MacroRecord& b) { return a.arch < b.arch; }));
  const MacroRecord* r = t.find("01220210");
  REQUIRE(r);
  CHECK(r->test_acc[0] == Approx(90.93999481201172));
  CHECK(r->test_acc[2] == Approx(90.93000030517578));
  CHECK(r->mean_acc == Approx(90.91666412353516));
  CHECK(r->std == Approx(0.026246486302823134));
  CHECK(r->params == 1399018);
  CHECK(r->flops == 53408256);
  CHECK(t.find("3") == nullptr);
  // The oracle's premise: nas-bench-macro:arch=X is the benchmark's network X.
  for (size_t i : sample_indices(t.records().size(), 12, 3)) {
    const MacroRecord& m = t.records()[i];
    INFO(m.arch);
    const ir::GraphStats st = ir::analyze(load_model("nas-bench-macro:arch=" + m.arch).graph);
    CHECK(st.params == m.params);
    CHECK(st.macs == m.flops);
  }
}

TEST_CASE("NASLib's 6-edge codes convert to NB201 cell strings in the published edge order",
          "[accuracy][benchmarks]") {
  CHECK(naslib_to_nb201({4, 3, 3, 3, 2, 3}) ==
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_3x3~1|nor_conv_"
        "1x1~2|");
  // Edge k of the codes: 1<-0, 2<-0, 3<-0, 2<-1, 3<-1, 3<-2.
  CHECK(naslib_to_nb201({2, 0, 1, 4, 3, 0}) ==
        "|nor_conv_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|none~0|nor_conv_1x1~1|skip_connect~2|");
  CHECK(nb201_to_naslib(
            "|nor_conv_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|none~0|nor_conv_1x1~1|skip_connect~"
            "2|") == std::array<int, 6>{2, 0, 1, 4, 3, 0});
  CHECK(error_of([] {
          naslib_to_nb201({0, 0, 5, 0, 0, 0});
        }) ==
        "NASLib op code 5 on edge 2: expected 0 (skip_connect), 1 (none), 2 (nor_conv_3x3), 3 "
        "(nor_conv_1x1) or 4 (avg_pool_3x3)");

  const ZcTable zc = ZcTable::load(kDataDir);
  CHECK(zc.datasets() == std::vector<std::string>{"ImageNet16-120", "cifar10", "cifar100"});
  const Nb201Table nb = Nb201Table::load(kDataDir);
  const auto& c10 = zc.dataset("cifar10");
  REQUIRE(c10.size() == 491);
  const ZcRecord* first = nullptr;
  for (const auto& r : c10) {
    if (r.codes == std::array<int, 6>{4, 3, 3, 3, 2, 3}) first = &r;
  }
  REQUIRE(first);
  CHECK(first->val_accuracy == 88.24);
  CHECK(first->scores.size() == 11);
  CHECK(first->scores.at("synflow") == Approx(65.90939474779665));
  CHECK(first->scores.at("params") == Approx(0.428346));
  // The conversion is right when NASLib's accuracies (200 epochs) rank the cells like the 12-epoch
  // table does: Spearman 0.91 with the published order, 0.61 with the codes in string order (and
  // at most 0.88 for any other of the 720 orders; python over the same files).
  std::vector<double> naslib, published, naive;
  for (const auto& r : c10) {
    const Nb201Record* rec = nb.find(r.arch);
    REQUIRE(rec);
    CHECK(nb201_to_naslib(r.arch) == r.codes);
    naslib.push_back(r.val_accuracy);
    published.push_back(rec->cifar10_test);
    const auto& c = r.codes;
    const char* const ops[] = {"skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1",
                               "avg_pool_3x3"};
    naive.push_back(nb.find(std::string("|") + ops[c[0]] + "~0|+|" + ops[c[1]] + "~0|" + ops[c[2]] +
                            "~1|+|" + ops[c[3]] + "~0|" + ops[c[4]] + "~1|" + ops[c[5]] + "~2|")
                        ->cifar10_test);
  }
  CHECK(est::spearman_rho(naslib, published) == Approx(0.9118).margin(0.001));
  CHECK(est::spearman_rho(naslib, naive) == Approx(0.6098).margin(0.001));
  CHECK(error_of([&] { zc.dataset("cifar-10"); }) ==
        "dataset 'cifar-10': expected one of ImageNet16-120, cifar10, cifar100; did you mean "
        "cifar10?");
}

TEST_CASE("the oracle answers for the benchmark's own networks only", "[accuracy][benchmarks]") {
  const BenchmarkOracle o(kDataDir);
  // The zoo's default nb201 cell, row 9930 of the table.
  const auto def = o.lookup("nb201");
  REQUIRE(def);
  CHECK(def->arch.benchmark == Benchmark::kNb201);
  CHECK(def->arch.arch ==
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_"
        "3x3~2|");
  CHECK(def->accuracy == 88.66);
  CHECK(def->metric == "CIFAR-10 test accuracy after 12 epochs (mini-NAS-Bench-201)");
  const auto a = o.lookup(std::string("nb201:arch=") + kCellA + ",channels=16,resolution=32");
  REQUIRE(a);
  CHECK(a->accuracy == 88.22);
  CHECK(a->arch.model_arg() == std::string("nb201:arch=") + kCellA);

  const auto macro = o.lookup("nas-bench-macro:arch=01220210");
  REQUIRE(macro);
  CHECK(macro->arch.benchmark == Benchmark::kMacro);
  CHECK(macro->arch.arch == "01220210");
  CHECK(macro->accuracy == Approx(90.91666412353516));
  CHECK(macro->metric == "CIFAR-10 test accuracy, mean of 3 seeds (NAS-Bench-Macro)");
  CHECK(o.lookup("nas-bench-macro")->accuracy == Approx(93.12666320800781));

  // Anything else, or a changed benchmark network, has no published accuracy.
  for (const char* arg :
       {"mobilenet_v2:resolution=96", "nb201:channels=32", "nb201:cells=3", "nb201:resolution=16",
        "nb201:num_classes=100", "nb201:depth=2", "nb201:dtype=int16", "nb201:s2.repeats=4",
        "nas-bench-macro:arch=01220210,num_classes=100", "nas-bench-macro:channels=16",
        "nas-bench-macro:arch=01220210,s2.1.kernel=7", "nas-bench-macro:s1.0.expansion=4",
        "nas-bench-macro:resolution=64"}) {
    INFO(arg);
    CHECK_FALSE(o.lookup(arg));
  }
  CHECK_FALSE(identify_benchmark(load_model(std::string("nb201:s3.arch=") + kCellB)));

  // The same networks from a YAML description are recognised; from ONNX they are not.
  const std::string dir = temp_dir("oracle");
  for (const char* arg : {"nb201", "nas-bench-macro:arch=01220210"}) {
    INFO(arg);
    const Model m = load_model(arg);
    const std::string yaml = dir + "/m.yaml";
    write(yaml, spec::write_model_yaml(*m.spec));
    const auto from_yaml = o.lookup(yaml);
    REQUIRE(from_yaml);
    CHECK(from_yaml->accuracy == o.lookup(arg)->accuracy);
    const std::string onnx = dir + "/m.onnx";
    nax::onnx::ExportOptions eo;
    eo.shape_only = true;
    nax::onnx::export_onnx_file(m.graph, onnx, eo);
    CHECK_FALSE(o.lookup(onnx));
  }
  fs::remove_all(dir);
  CHECK_THROWS_AS(o.lookup("nb201:arch=bogus"), InputError);
  CHECK(error_of([&] {
          o.accuracy({Benchmark::kMacro, "3"});
        }) == "nas-bench-macro arch '3' is not in the NAS-Bench-Macro table");
}

TEST_CASE("seeded sampling is the same on every platform", "[accuracy][benchmarks]") {
  // Values computed independently (python: SplitMix64 and a partial Fisher-Yates shuffle).
  CHECK(sample_indices(15625, 6, 42) == std::vector<size_t>{9788, 2540, 11891, 813, 425, 7527});
  CHECK(sample_indices(6561, 6, 42) == std::vector<size_t>{2800, 1252, 5231, 3879, 1583, 2731});
  CHECK(sample_indices(10, 10, 1) == std::vector<size_t>{5, 8, 1, 3, 7, 2, 4, 6, 0, 9});
  CHECK(sample_indices(5, 0, 1).empty());
  CHECK(error_of([] { sample_indices(10, 11, 1); }) ==
        "cannot draw 11 distinct architectures from 10");

  const BenchmarkOracle o(kDataDir);
  const auto nb = sample_benchmark(o, Benchmark::kNb201, 3, 42);
  REQUIRE(nb.size() == 3);
  CHECK(nb[0].arch.arch ==
        "|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|nor_conv_1x1~0|nor_conv_3x3~1|skip_connect~2|");
  CHECK(nb[0].accuracy == 85.67);
  CHECK(nb[1].accuracy == 79.95);
  CHECK(nb[2].accuracy == 79.6);
  const auto mac = sample_benchmark(o, Benchmark::kMacro, 3, 42);
  REQUIRE(mac.size() == 3);
  CHECK(mac[0].arch.arch == "10211201");
  CHECK(mac[0].accuracy == Approx(91.7133305867513));
  CHECK(mac[1].arch.arch == "01201101");
  CHECK(mac[2].arch.arch == "21011202");
  // Sampled architectures are benchmark networks the oracle recognises.
  CHECK(o.lookup(mac[0].arch.model_arg())->accuracy == mac[0].accuracy);
  CHECK(o.lookup(nb[0].arch.model_arg())->accuracy == nb[0].accuracy);

  CHECK(parse_benchmark("nb201") == Benchmark::kNb201);
  CHECK(parse_benchmark("nas-bench-macro") == Benchmark::kMacro);
  CHECK(error_of([] { parse_benchmark("nas-bench-makro"); }) ==
        "benchmark 'nas-bench-makro': expected nb201 or nas-bench-macro; did you mean "
        "nas-bench-macro?");
}

TEST_CASE("the NAS-Bench-201 reader names the file, line, column and what was expected",
          "[accuracy][benchmarks]") {
  auto err = [](const std::string& text) {
    return error_of([&] { Nb201Table::parse(text, "t.csv"); });
  };
  CHECK(err("") ==
        "t.csv: empty file: expected the header 'arch_idx,arch_str,cifar10_test_12ep,"
        "cifar10_val_12ep,cifar100_test_12ep,cifar100_val_12ep,imagenet_test_12ep,"
        "imagenet_val_12ep' and one row per cell");
  CHECK(err("idx,arch\n") ==
        "t.csv:1: expected the header 'arch_idx,arch_str,cifar10_test_12ep,cifar10_val_12ep,"
        "cifar100_test_12ep,cifar100_val_12ep,imagenet_test_12ep,imagenet_val_12ep', got "
        "'idx,arch'");
  const std::string good = std::string("0,") + kCellA + ",1,2,3,4,5,6\n";
  CHECK(Nb201Table::parse(std::string(kHeader) + good + "\r\n", "t.csv").records().size() == 1);
  const std::string bad_cell_msg = error_of([] { spec::parse_nb201_cell("|x~0|"); });
  CHECK(err(std::string(kHeader) + good + "1,2,3\n" + "x," + kCellB + ",1,2,3,4,5,6\n" +  // line 4
            "2," + kCellB + ",1,2,abc,4,5,101\n" +                                        // line 5
            "3,|x~0|,1,2,3,4,5,6\n" +                                                     // line 6
            "4,|nor_conv_3x3~0|+|avg_pool_3x3~1|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|"
            "skip_connect~2|,1,2,3,4,5,6\n" +  // line 7
            "0," +
            kCellB + ",1,2,3,4,5,6\n" +           // line 8
            "9," + kCellA + ",1,2,3,4,5,6\n") ==  // line 9
        "t.csv:3: expected 8 comma-separated fields (arch_idx, arch_str and 6 accuracies), got 3\n"
        "t.csv:4:1: arch_idx = x: expected a non-negative integer\n"
        "t.csv:5:" +
            std::to_string(3 + std::string(kCellB).size() + 5) +
            ": cifar100_test_12ep = abc: expected a number in [0, 100] (percent)\n"
            "t.csv:5:" +
            std::to_string(3 + std::string(kCellB).size() + 13) +
            ": imagenet_val_12ep = 101: expected a number in [0, 100] (percent)\n"
            "t.csv:6:3: arch_str: " +
            bad_cell_msg +
            "\n"
            "t.csv:7:3: arch_str = "
            "|nor_conv_3x3~0|+|avg_pool_3x3~1|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|"
            "skip_connect~2|: expected the canonical cell string '" +
            kCellA +
            "'\n"
            "t.csv:8:1: arch_idx = 0: duplicate index (also on line 2)\n"
            "t.csv:9:3: arch_str: duplicate cell (also on line 2)");

  // More than 20 problems: the first 20, then a count.
  std::string many = kHeader;
  for (int i = 0; i < 25; ++i) many += "bad\n";
  const std::string e = err(many);
  CHECK(e.substr(e.rfind('\n') + 1) == "t.csv: ... and 5 more problem(s)");

  // The whole-benchmark check of load().
  const std::string dir = temp_dir("nb201");
  write(dir + "/nb201_acc_12epoch_minibench.csv", std::string(kHeader) + good);
  CHECK(error_of([&] { Nb201Table::load(dir); }) ==
        dir +
            "/nb201_acc_12epoch_minibench.csv: expected all 15625 cells of NAS-Bench-201 with "
            "arch_idx 0 to 15624, got 1 rows");
  fs::remove_all(dir);
}

TEST_CASE("the JSON readers name the file, key and what was expected", "[accuracy][benchmarks]") {
  auto macro = [](const std::string& text) {
    return error_of([&] { MacroTable::parse(text, "m.json"); });
  };
  CHECK(macro("{\n  \"01\": [1,\n}") ==
        "m.json:3:1: not valid JSON ([json.exception.parse_error.101] parse error at line 3, "
        "column 1: syntax error while parsing value - unexpected '}'; expected '[', '{', or a "
        "literal)");
  CHECK(macro("[1]") ==
        "m.json: expected a JSON object mapping 8-digit architectures to {test_acc, mean_acc, "
        "std, params, flops}");
  const std::string ok =
      "\"01220210\": {\"test_acc\": [90.9, 90.8, 91], \"mean_acc\": 90.9, \"std\": 0.03, "
      "\"params\": 1399018, \"flops\": 53408256}";
  CHECK(MacroTable::parse("{" + ok + "}", "m.json").records().size() == 1);
  const std::string bad =
      ", \"0122021\": {}, \"11111111\": 5, \"22222222\": {\"test_acc\": [1, 2], \"mean_acc\": "
      "101, \"std\": 0, \"params\": -1, \"flops\": 1.5}}";
  CHECK(macro("{" + ok + bad) ==
        "m.json: key '0122021': expected 8 digits 0-2, one per layer (0 identity, 1 IBN k3 e3, 2 "
        "IBN k5 e6)\n"
        "m.json: 11111111 = 5: expected an object {test_acc, mean_acc, std, params, flops}\n"
        "m.json: 22222222.test_acc = [1,2]: expected an array of 3 accuracies in [0, 100] (one "
        "per seed)\n"
        "m.json: 22222222.mean_acc = 101: expected a number in [0, 100]\n"
        "m.json: 22222222.params = -1: expected a non-negative integer\n"
        "m.json: 22222222.flops = 1.5: expected a non-negative integer");
  const std::string no_mean =
      "{\"22222222\": {\"test_acc\": [1, 2, 3], \"std\": 0, \"params\": 1, \"flops\": 1}}";
  CHECK(macro(no_mean) == "m.json: 22222222.mean_acc: missing");
  const std::string dir = temp_dir("macro");
  write(dir + "/nas-bench-macro_cifar10.json", "{" + ok + "}");
  CHECK(error_of([&] { MacroTable::load(dir); }) ==
        dir +
            "/nas-bench-macro_cifar10.json: expected all 6561 networks of NAS-Bench-Macro, got 1");
  fs::remove_all(dir);

  auto zc = [](const std::string& text) {
    return error_of([&] { ZcTable::parse(text, "z.json"); });
  };
  CHECK(zc("{\"nb201\": {}}") ==
        "z.json: expected {\"nasbench201\": {\"<dataset>\": {\"(a, b, c, d, e, f)\": {<proxy>: "
        "score, ..., \"val_accuracy\": accuracy}}}}");
  const std::string bad_zc =
      "{\"nasbench201\": {\"cifar10\": {\"(0, 1, 2, 3, 4)\": {}, \"(0, 1, 2, 3, 4, 4)\": "
      "{\"synflow\": \"x\"}, \"(4, 4, 4, 4, 4, 4)\": {\"synflow\": 1}}}}";
  CHECK(zc(bad_zc) ==
        "z.json: nasbench201.cifar10 = (0, 1, 2, 3, 4): expected a NASLib cell key '(a, b, c, d, "
        "e, f)' with op codes 0-4\n"
        "z.json: nasbench201.cifar10.(0, 1, 2, 3, 4, 4).synflow = \"x\": expected a number\n"
        "z.json: nasbench201.cifar10.(0, 1, 2, 3, 4, 4).val_accuracy: missing\n"
        "z.json: nasbench201.cifar10.(4, 4, 4, 4, 4, 4).val_accuracy: missing");
}
