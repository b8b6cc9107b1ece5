// The chip schema: every chip parameter, declared once (STYLE.md section 2). The defaults are the
// `default` preset's values (configs/chips/default.yaml sets every key explicitly, with where its
// numbers come from; a unit test keeps the two equal).
#include <limits>

#include "hw/chip/chip.hpp"

namespace nax::hw {

const std::vector<std::string>& vector_op_names() {
  static const std::vector<std::string> kOps = {"dwconv",  "pool",   "eltwise", "activation",
                                                "requant", "resize", "softmax"};
  return kOps;
}

namespace {

constexpr int64_t kMaxKib = int64_t{1} << 20;  // 1 GiB of SRAM
using D = ParamDecl;

std::vector<ParamDecl> declarations() {
  return {
      D::string("name", std::nullopt, "short name of the chip, shown in results").unhashed(),
      D::string("description", std::string(),
                "one line on what the chip is and where its "
                "numbers come from")
          .unhashed(),
      D::number("clock_mhz", "MHz", std::nullopt, 1, 100000, "core clock frequency"),

      // MAC array
      D::integer("mac_array.rows", "PEs", std::nullopt, 1, 4096,
                 "rows of the systolic MAC array (input channels / reduction dimension)"),
      D::integer("mac_array.cols", "PEs", std::nullopt, 1, 4096,
                 "columns of the systolic MAC array (output channels); the parallelism factor"),
      D::enumeration("mac_array.dataflow", {"ws", "os", "is"}, std::string("ws"),
                     "what stays in the PEs: weights (ws), outputs (os) or inputs (is)"),
      D::integer("mac_array.mac_latency_cycles", "cycles", 1, 1, 64,
                 "pipeline latency of one PE's multiply-accumulate"),
      D::boolean("mac_array.overlap_preload", true,
                 "load the next fold's stationary operands while the current fold computes "
                 "(false: folds run back to back, as in SCALE-Sim)"),
      D::boolean("mac_array.pad_partial_folds", false,
                 "a partial fold costs as much as a full one, as SCALE-Sim pads operand matrices "
                 "to the array size"),
      D::boolean("mac_array.fused_activations", true,
                 "the array's output pipeline applies activation and requantisation on the way "
                 "out, so they need no vector unit pass"),

      // Vector unit
      D::integer("vector_unit.lanes", "lanes", 32, 1, 4096,
                 "elements the vector unit processes per cycle"),
      D::integer("vector_unit.pipeline_latency_cycles", "cycles", 4, 0, 1024,
                 "cycles from an operation's first input to its first output"),
      D::string_list("vector_unit.ops", vector_op_names(), vector_op_names(),
                     "op classes the vector unit runs"),

      // On-chip SRAM
      D::enumeration("sram.organization", {"unified", "split"}, std::string("unified"),
                     "one shared SRAM (unified) or separate ifmap / weight / ofmap buffers "
                     "(split, as in SCALE-Sim)"),
      D::integer("sram.capacity_kib", "KiB", std::nullopt, 1, kMaxKib,
                 "total on-chip SRAM; with split, must equal ifmap_kib + weight_kib + "
                 "ofmap_kib"),
      D::integer("sram.ifmap_kib", "KiB", 0, 0, kMaxKib,
                 "input feature map buffer (split only; 0 with unified)"),
      D::integer("sram.weight_kib", "KiB", 0, 0, kMaxKib,
                 "weight buffer (split only; 0 with unified)"),
      D::integer("sram.ofmap_kib", "KiB", 0, 0, kMaxKib,
                 "output feature map buffer (split only; 0 with unified)"),
      D::integer("sram.banks", "banks", 16, 1, 1024,
                 "banks of the SRAM (with split: of each buffer)")
          .pow2(),
      D::integer("sram.ports_per_bank", "ports", 1, 1, 4,
                 "independent read/write ports of each bank"),
      D::integer("sram.bank_bytes_per_cycle", "B/cycle", 16, 1, 4096,
                 "bytes one bank port delivers per cycle (its row width)")
          .pow2(),
      D::boolean("sram.ideal", false,
                 "SRAM bandwidth never limits: every request is served the cycle it arrives "
                 "(SCALE-Sim's default run does not model SRAM bandwidth)"),
      D::boolean("sram.double_buffering", true,
                 "tiles are double-buffered: the next tile loads while the current one computes, "
                 "each taking half the space"),

      // DMA
      D::integer("dma.channels", "channels", 4, 1, 64, "independent DMA channels"),
      D::integer("dma.burst_bytes", "B", 64, 1, 65536, "bytes of one DRAM burst").pow2(),
      D::integer("dma.setup_cycles", "cycles", 16, 0, 1000000,
                 "cycles to program and start one transfer"),
      D::integer("dma.max_outstanding", "bursts", 32, 1, 1024,
                 "burst requests in flight per channel"),

      // DRAM
      D::boolean("dram.ideal", false,
                 "ideal memory: infinite bandwidth and zero latency, never stalls (SCALE-Sim's "
                 "stall-free mode); bandwidth and latency are then unused"),
      D::number("dram.bandwidth_gb_per_s", "GB/s", 17.0, 0.001, 100000,
                "sustained DRAM bandwidth (1 GB = 1e9 bytes)"),
      D::number("dram.latency_ns", "ns", 100.0, 0, 1000000,
                "latency from a read request to its first data"),

      // Data widths
      D::integer("data.activation_bits", "bits", 8, 1, 32, "width of an activation element"),
      D::integer("data.weight_bits", "bits", 8, 1, 32, "width of a weight element"),
      D::integer("data.accumulator_bits", "bits", 32, 1, 64,
                 "width of a partial sum in the array and in SRAM"),

      D::enumeration("depthwise_on", {"mac_array", "vector_unit"}, std::string("mac_array"),
                     "where depthwise convolutions run (vector_unit needs dwconv in "
                     "vector_unit.ops)"),

      // Energy per action
      D::number("energy.mac_pj", "pJ", 0.15, 0, 1e6, "one multiply-accumulate"),
      D::number("energy.sram_read_pj_per_byte", "pJ/B", 1.5, 0, 1e6, "reading one SRAM byte"),
      D::number("energy.sram_write_pj_per_byte", "pJ/B", 1.8, 0, 1e6, "writing one SRAM byte"),
      D::number("energy.dram_pj_per_byte", "pJ/B", 40.0, 0, 1e6,
                "moving one byte between DRAM and the chip"),
      D::number("energy.vector_op_pj", "pJ", 0.5, 0, 1e6, "one element operation of one lane"),
      D::number("energy.static_mw", "mW", 20.0, 0, 1e9, "leakage and always-on power"),

      // Area per unit
      D::number("area.pe_um2", "um2", 400.0, 0, 1e9, "one PE (MAC, registers, control)"),
      D::number("area.sram_mm2_per_mib", "mm2/MiB", 1.0, 0, 1e6,
                "on-chip SRAM per MiB, banking overhead included"),
      D::number("area.vector_lane_um2", "um2", 3000.0, 0, 1e9, "one vector unit lane"),
      D::number("area.dma_channel_mm2", "mm2", 0.02, 0, 1e6, "one DMA channel"),
      D::number("area.other_mm2", "mm2", 0.5, 0, 1e6,
                "control, interconnect and I/O not counted above"),
  };
}

}  // namespace

const Schema& chip_schema() {
  static const Schema kSchema(declarations());
  return kSchema;
}

}  // namespace nax::hw
