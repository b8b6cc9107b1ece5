// Block-level model descriptions: YAML reading with located errors, writing, round trips,
// overrides, and what each core block type builds.
#include <catch2/catch.hpp>

#include "models/ir/analysis.hpp"
#include "models/spec/model_spec.hpp"
#include "models/zoo/zoo.hpp"

using namespace nax;
using namespace nax::spec;

namespace {

const char* kSmall = R"(name: small
input: {channels: 3, height: 32, width: 32}
dtype: int8
stages:
  - name: stem
    fixed_depth: true
    blocks:
      - {type: conv, out: 16, kernel: 3, stride: 2, act: relu6}
  - name: s1
    blocks:
      - {type: ibn, out: 16, expansion: 1}
      - {type: ibn, out: 24, expansion: 6, stride: 2, repeats: 2}
  - name: s2
    blocks:
      - {type: fused_ibn, out: 24, expansion: 4, kernel: 3, se_channels: 8}
  - name: head
    fixed_depth: true
    blocks:
      - {type: global_pool}
      - {type: fc, out: 10}
)";

std::vector<std::string> read_errors(const std::string& yaml) {
  try {
    read_model_yaml(yaml, "m.yaml");
  } catch (const InputError& e) {
    std::vector<std::string> out;
    for (const auto& d : e.diagnostics()) out.push_back(d.str());
    return out;
  }
  return {};
}

std::vector<std::string> roles(const ir::Graph& g, const std::string& block) {
  std::vector<std::string> out;
  for (const auto& op : g.ops()) {
    if (op.meta.block == block) out.push_back(op.meta.role);
  }
  return out;
}

}  // namespace

TEST_CASE("a model description builds the blocks it describes", "[spec]") {
  const ModelSpec m = read_model_yaml(kSmall, "m.yaml");
  REQUIRE(m.num_blocks() == 7);
  CHECK(m.stages[1].blocks[2].name == "s1.2");
  const ir::Graph g = build_graph(m);
  // expansion 1: no expand conv; same widths and stride 1: a residual add.
  CHECK(roles(g, "s1.0") == std::vector<std::string>{"dw", "dw.act", "project", "add"});
  // stride 2: no residual; the repeated copy has stride 1 and a residual.
  CHECK(roles(g, "s1.1") ==
        std::vector<std::string>{"expand", "expand.act", "dw", "dw.act", "project"});
  CHECK(roles(g, "s1.2").back() == "add");
  // fused: KxK full conv, squeeze-excite as its parts, 1x1 project, residual.
  CHECK(roles(g, "s2.0") == std::vector<std::string>{"fused", "fused.act", "se.pool", "se.reduce",
                                                     "se.reduce.act", "se.expand", "se.expand.act",
                                                     "se.mul", "project", "add"});
  CHECK(g.shape(g.outputs().at(0)) == ir::Shape{1, 10});
  // The fused conv is a dense 3x3 conv 24 -> 96 at 8x8.
  for (const auto& op : g.ops()) {
    if (op.name == "s2.0.fused") {
      CHECK(ir::op_macs(g, op) == 8 * 8 * 96 * 24 * 9);
    }
  }
}

TEST_CASE("writing compacts repeats and reads back to the same graph", "[spec]") {
  const ModelSpec m = read_model_yaml(kSmall, "m.yaml");
  const std::string text = write_model_yaml(m);
  CHECK(text.find("repeats: 2") != std::string::npos);
  const ModelSpec again = read_model_yaml(text, "again.yaml");
  CHECK(ir::graph_hash(build_graph(again)) == ir::graph_hash(build_graph(m)));
  CHECK(write_model_yaml(again) == text);
}

TEST_CASE("every problem in a model file is reported together, located", "[spec]") {
  const auto e = read_errors(R"(name: bad
input: {channels: 3, height: -4, widht: 32}
stages:
  - name: s1
    blocks:
      - {type: ibm, out: 16}
      - {type: ibn, out: 16, kernal: 5}
      - {type: ibn, out: sixteen}
      - {type: ibn, out: 16, act: relu7}
      - {type: conv}
      - 7
)");
  REQUIRE(e.size() == 7);
  CHECK(e[0] == "m.yaml:2:30: input.height = -4: expected an integer >= 1");
  CHECK(e[1] == "m.yaml:2:34: input.widht: unknown key; did you mean width?");
  CHECK(e[2] == "m.yaml:6:16: s1.0.type = ibm: unknown block type; did you mean ibn?");
  CHECK(e[3] ==
        "m.yaml:7:30: s1.1.kernal = 5: not a parameter of block type ibn; did you mean kernel?");
  CHECK(e[4] == "m.yaml:8:26: s1.2.out = sixteen: expected an integer in [1, 1048576]");
  CHECK(e[5] ==
        "m.yaml:9:35: s1.3.act = relu7: expected one of relu, relu6, hswish, hsigmoid, "
        "sigmoid, silu, tanh, none; did you mean relu?");
  CHECK(
      e[6] ==
      "m.yaml:11:9: s1.5 = 7: expected a block mapping such as {type: ibn, out: 24}, got a scalar");
}

TEST_CASE("a missing required block parameter is named", "[spec]") {
  const auto e = read_errors("stages:\n  - name: s\n    blocks:\n      - {type: conv}\n");
  REQUIRE(e.size() == 1);
  CHECK(e[0] == "m.yaml:4:9: s.0.out: missing required key (integer, channels: output channels)");
}

TEST_CASE("not a model description", "[spec]") {
  CHECK(read_errors("") == std::vector<std::string>{
                               "m.yaml: expected a model description (a mapping with name, input, "
                               "stages), got an empty value"});
  CHECK(read_errors("name: x\n") ==
        std::vector<std::string>{"m.yaml:1:1: stages: missing required key"});
  CHECK(read_errors("stages: [{name: a, blocks: [{type: conv, out: 8}]}, {name: a, blocks: [{type: "
                    "conv, out: 8}]}]\n") ==
        std::vector<std::string>{"m.yaml:1:53: stages[1].name = a: stage name used twice"});
}

TEST_CASE("overrides address blocks, stages and depths", "[spec]") {
  ModelSpec m = read_model_yaml(kSmall, "m.yaml");
  const int64_t base = ir::analyze(build_graph(m)).macs;
  apply_override(m, "s1.1.type", "fused_ibn");
  CHECK(m.find_block("s1.1")->type == "fused_ibn");
  CHECK(ir::analyze(build_graph(m)).macs > base);
  apply_override(m, "s1.kernel", "5");
  CHECK(std::get<int64_t>(m.find_block("s1.2")->params.at("kernel")) == 5);
  apply_override(m, "s1.repeats", "5");
  CHECK(m.find_stage("s1")->blocks.size() == 5);
  CHECK(m.find_block("s1.4") != nullptr);
  apply_override(m, "resolution", "64");
  CHECK(build_graph(m).shape(0) == ir::Shape{1, 3, 64, 64});
  CHECK_THROWS_WITH(apply_override(m, "s1.1.kernal", "3"),
                    "s1.1.kernal: not a parameter of block type fused_ibn; did you mean kernel?");
  CHECK_THROWS_WITH(apply_override(m, "s9.type", "ibn"),
                    "s9.type: no such model key, block or stage; did you mean s1.type?");
  CHECK_THROWS_WITH(apply_override(m, "s1.0.type", "ibx"),
                    "s1.0.type = ibx: unknown block type; did you mean ibn?");
  CHECK_THROWS_WITH(apply_override(m, "s1.0.out", "-3"),
                    "s1.0.out = -3: expected an integer in [1, 1048576]");
}

TEST_CASE("depth multipliers leave fixed stages alone", "[spec]") {
  ModelSpec m = read_model_yaml(kSmall, "m.yaml");
  apply_depth_multiplier(m, 2.0);
  CHECK(m.find_stage("stem")->blocks.size() == 1);
  CHECK(m.find_stage("s1")->blocks.size() == 6);
  CHECK(m.find_stage("s2")->blocks.size() == 2);
  CHECK(m.find_stage("head")->blocks.size() == 2);
  apply_depth_multiplier(m, 0.1);
  CHECK(m.find_stage("s1")->blocks.size() == 1);
  build_graph(m);
}

TEST_CASE("block inputs refer to earlier blocks and taps", "[spec]") {
  const char* yaml = R"(stages:
  - name: s
    blocks:
      - {type: ibn, out: 8, expansion: 4, stride: 2}
      - {type: conv, out: 8, kernel: 1, stride: 2, input: s.0/expand}
      - {type: add, inputs: [s.0, s.1]}
      - {type: conv, out: 8, input: s.9}
)";
  const ModelSpec m = read_model_yaml(yaml, "m.yaml");
  CHECK_THROWS_WITH(build_graph(m),
                    "m.yaml:7:37: s.3.input = s.9: no earlier block or tap named 's.9'; did you "
                    "mean s.0? (block type conv)");
}

TEST_CASE("make_divisible matches the MobileNet reference", "[spec]") {
  CHECK(make_divisible(32 * 0.75) == 24);
  CHECK(make_divisible(16 * 0.35) == 8);
  CHECK(make_divisible(1280 * 1.3) == 1664);
  CHECK(make_divisible(96 * 0.5) == 48);
  CHECK(make_divisible(20) == 24);  // 16 would be more than 10% below 20
}

TEST_CASE("zoo names take parameters and model overrides", "[spec][zoo]") {
  const ModelSpec m = zoo::build("mobilenet_v2:width=0.5,resolution=160,s3.type=fused_ibn");
  CHECK(m.height == 160);
  CHECK(m.find_block("s3.0")->type == "fused_ibn");
  CHECK(std::get<int64_t>(m.find_block("stem.0")->params.at("out")) == 16);
  CHECK_THROWS_WITH(zoo::build("mobilenet_v3"), Catch::Contains("not a zoo model"));
  CHECK_THROWS_WITH(zoo::build("mobilenet_v2:widht=0.5"),
                    "--model mobilenet_v2: widht: no such model key, block or stage; did you mean "
                    "width?");
  CHECK_THROWS_WITH(zoo::build("mobilenet_v2:width=abc"),
                    "--model mobilenet_v2: width = abc: expected a number in [0.05, 4]");
}
