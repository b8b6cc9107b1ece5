// SCALE-Sim agreement: every dense or pointwise conv of real networks imported from ONNX, alone on
// the scalesim-ws-32x32 / scalesim-os-32x32 presets (SCALE-Sim v2's default machine: 32x32,
// three 64 KiB SRAMs, ideal stall-free memory, folds not overlapped and padded to the array),
// takes exactly the cycles SCALE-Sim v2 reports, plus one: SCALE-Sim's total_cycles is the index
// of the last output cycle (double_buffered_scratchpad_mem.py), nax counts cycles.
// Why the numbers are right: tests/reference/scalesim_model.hpp, written from SCALE-Sim's code.
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "hw/lower/lower.hpp"
#include "hw/sim/simulator.hpp"
#include "models/ir/subgraph.hpp"
#include "models/onnx/onnx_import.hpp"
#include "tests/reference/scalesim_model.hpp"

using namespace nax;

namespace {

void check_network(const std::string& file, const std::string& preset, int min_layers) {
  const ir::Graph g = onnx::import_onnx_file(std::string(NAX_FIXTURES) + "/onnx/" + file);
  const hw::ChipParams chip = hw::load_chip(preset);
  int checked = 0;
  for (size_t i = 0; i < g.ops().size(); ++i) {
    const ir::Op& op = g.op(static_cast<int>(i));
    if (op.kind != ir::OpKind::kConv2d || op.attr<ir::ConvAttrs>().groups != 1) continue;
    const auto& a = op.attr<ir::ConvAttrs>();
    const ir::Shape& in = g.shape(op.inputs[0]);
    const ir::Shape& out = g.shape(op.output);
    test::ScaleSimLayer l;
    l.npix = out[2] * out[3];
    l.k = static_cast<int64_t>(a.kernel_h) * a.kernel_w * in[1];
    l.m = out[1];
    const int64_t expected =
        test::scalesim_reported_cycles(l, chip.mac_array.rows, chip.mac_array.cols,
                                       hw::dataflow_name(chip.mac_array.dataflow)) +
        1;
    const ir::Graph layer = ir::extract_subgraph(g, {static_cast<int>(i)});
    const hw::RunResult r = hw::Simulator::instance().run(hw::lower(layer, chip), chip);
    INFO(fmt::format("{} {} on {}: Npix {} K {} M {}", file, op.name, preset, l.npix, l.k, l.m));
    CHECK(static_cast<int64_t>(r.total_cycles) == expected);
    ++checked;
  }
  CHECK(checked >= min_layers);
}

}  // namespace

TEST_CASE("mobilenet_v2 convs take SCALE-Sim's cycles on its weight-stationary machine",
          "[golden][scalesim]") {
  check_network("mobilenet_v2.onnx", "scalesim-ws-32x32", 35);
}
TEST_CASE("mobilenet_v2 convs take SCALE-Sim's cycles on its output-stationary machine",
          "[golden][scalesim]") {
  check_network("mobilenet_v2.onnx", "scalesim-os-32x32", 35);
}
TEST_CASE("resnet18 convs take SCALE-Sim's cycles on its weight-stationary machine",
          "[golden][scalesim]") {
  check_network("resnet18.onnx", "scalesim-ws-32x32", 20);
}
TEST_CASE("resnet18 convs take SCALE-Sim's cycles on its output-stationary machine",
          "[golden][scalesim]") {
  check_network("resnet18.onnx", "scalesim-os-32x32", 20);
}
