// Detection, segmentation and NAS-benchmark zoo models through the YAML model format: write ->
// read gives the same graph, and the exported descriptions in configs/models/ are the zoo models.
#include <catch2/catch.hpp>

#include "models/ir/analysis.hpp"
#include "models/spec/model_spec.hpp"
#include "models/zoo/zoo.hpp"

using namespace nax;

namespace {

const char* const kModels[] = {
    "ssdlite_mobilenet_v2",
    "person_detector",
    "person_detector:s3.type=fused_ibn,s6.0.kernel=5,depth=1.5",
    "ssdlite_mobilenet_v2:width=0.75,resolution=300,num_classes=21",
    "lraspp_mobilenet_v3_large",
    "lraspp_mobilenet_v3_large:num_classes=2,resolution=256",
    "deeplabv3_mobilenet_v3_large",
    "nb201",
    "nb201:arch=|none~0|+|avg_pool_3x3~0|none~1|+|nor_conv_1x1~0|skip_connect~1|none~2|",
    "nas-bench-macro",
    "nas-bench-macro:arch=00000000",
};

// configs/models/<file>.yaml holds the zoo model <arg>.
const std::pair<const char*, const char*> kExports[] = {
    {"ssdlite_mobilenet_v2", "ssdlite_mobilenet_v2"},
    {"person_detector", "person_detector"},
    {"lraspp_mobilenet_v3_large", "lraspp_mobilenet_v3_large"},
    {"deeplabv3_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large"},
    {"nb201", "nb201"},
    {"nas-bench-macro", "nas-bench-macro"},
};

}  // namespace

TEST_CASE("zoo heads and NAS-benchmark models survive a YAML round trip", "[zoo][yaml]") {
  for (const char* arg : kModels) {
    INFO(arg);
    const spec::ModelSpec m = zoo::build(arg);
    const ir::Graph g = spec::build_graph(m);
    const std::string text = spec::write_model_yaml(m);
    const spec::ModelSpec back = spec::read_model_yaml(text, std::string(arg) + ".yaml");
    const ir::Graph h = spec::build_graph(back);
    CHECK(ir::graph_hash(h) == ir::graph_hash(g));
    CHECK(h.outputs().size() == g.outputs().size());
    CHECK(back.outputs == m.outputs);
    // Writing again gives the same text.
    CHECK(spec::write_model_yaml(back) == text);
  }
}

TEST_CASE("exported configs/models files are the zoo models", "[zoo][yaml]") {
  for (const auto& [arg, file] : kExports) {
    INFO(file);
    const spec::ModelSpec m =
        spec::load_model_yaml(std::string(NAX_SOURCE_DIR) + "/configs/models/" + file + ".yaml");
    CHECK(ir::graph_hash(spec::build_graph(m)) ==
          ir::graph_hash(spec::build_graph(zoo::build(arg))));
  }
}
