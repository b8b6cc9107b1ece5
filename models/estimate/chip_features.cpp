#include "models/estimate/chip_features.hpp"

#include <algorithm>
#include <cmath>

#include "models/common/error.hpp"

namespace nax::est {

double ChipFeatures::dma_bytes_per_cycle() const {
  if (dram_ideal) return 1e9;
  // One channel keeps max_outstanding bursts in flight per (latency + 1) cycles; all channels
  // share one bus.
  const double window =
      static_cast<double>(max_outstanding) * burst_bytes / std::max(1.0, dram_latency_cycles + 1.0);
  return std::min(dram_bytes_per_cycle, window * std::max(1, dma_channels));
}

namespace {

const char* dataflow_str(DataflowKind d) {
  return d == DataflowKind::kWs ? "ws" : d == DataflowKind::kOs ? "os" : "is";
}

}  // namespace

nlohmann::json chip_features_to_json(const ChipFeatures& c) {
  return {{"name", c.name},
          {"hash", c.hash},
          {"clock_mhz", c.clock_mhz},
          {"rows", c.rows},
          {"cols", c.cols},
          {"dataflow", dataflow_str(c.dataflow)},
          {"mac_latency_cycles", c.mac_latency_cycles},
          {"overlap_preload", c.overlap_preload},
          {"pad_partial_folds", c.pad_partial_folds},
          {"fused_activations", c.fused_activations},
          {"depthwise_on_vector", c.depthwise_on_vector},
          {"lanes", c.lanes},
          {"vector_latency_cycles", c.vector_latency_cycles},
          {"sram_bytes", c.sram_bytes},
          {"sram_split", c.sram_split},
          {"ifmap_bytes", c.ifmap_bytes},
          {"weight_buf_bytes", c.weight_buf_bytes},
          {"ofmap_bytes", c.ofmap_bytes},
          {"banks", c.banks},
          {"ports_per_bank", c.ports_per_bank},
          {"bank_bytes_per_cycle", c.bank_bytes_per_cycle},
          {"sram_ideal", c.sram_ideal},
          {"double_buffering", c.double_buffering},
          {"dma_channels", c.dma_channels},
          {"burst_bytes", c.burst_bytes},
          {"dma_setup_cycles", c.dma_setup_cycles},
          {"max_outstanding", c.max_outstanding},
          {"dram_ideal", c.dram_ideal},
          {"dram_bytes_per_cycle", c.dram_bytes_per_cycle},
          {"dram_latency_cycles", c.dram_latency_cycles},
          {"act_bytes", c.act_bytes},
          {"weight_bytes", c.weight_bytes},
          {"acc_bytes", c.acc_bytes}};
}

ChipFeatures chip_features_from_json(const nlohmann::json& j) {
  ChipFeatures c;
  std::string key;
  try {
    auto get = [&](const char* k, auto& v) {
      key = k;
      v = j.at(k).get<std::decay_t<decltype(v)>>();
    };
    get("name", c.name);
    get("hash", c.hash);
    get("clock_mhz", c.clock_mhz);
    get("rows", c.rows);
    get("cols", c.cols);
    std::string df;
    get("dataflow", df);
    if (df == "ws")
      c.dataflow = DataflowKind::kWs;
    else if (df == "os")
      c.dataflow = DataflowKind::kOs;
    else if (df == "is")
      c.dataflow = DataflowKind::kIs;
    else
      throw InputError("chip features: dataflow = " + df + ": expected ws, os or is");
    get("mac_latency_cycles", c.mac_latency_cycles);
    get("overlap_preload", c.overlap_preload);
    get("pad_partial_folds", c.pad_partial_folds);
    get("fused_activations", c.fused_activations);
    get("depthwise_on_vector", c.depthwise_on_vector);
    get("lanes", c.lanes);
    get("vector_latency_cycles", c.vector_latency_cycles);
    get("sram_bytes", c.sram_bytes);
    get("sram_split", c.sram_split);
    get("ifmap_bytes", c.ifmap_bytes);
    get("weight_buf_bytes", c.weight_buf_bytes);
    get("ofmap_bytes", c.ofmap_bytes);
    get("banks", c.banks);
    get("ports_per_bank", c.ports_per_bank);
    get("bank_bytes_per_cycle", c.bank_bytes_per_cycle);
    get("sram_ideal", c.sram_ideal);
    get("double_buffering", c.double_buffering);
    get("dma_channels", c.dma_channels);
    get("burst_bytes", c.burst_bytes);
    get("dma_setup_cycles", c.dma_setup_cycles);
    get("max_outstanding", c.max_outstanding);
    get("dram_ideal", c.dram_ideal);
    get("dram_bytes_per_cycle", c.dram_bytes_per_cycle);
    get("dram_latency_cycles", c.dram_latency_cycles);
    get("act_bytes", c.act_bytes);
    get("weight_bytes", c.weight_bytes);
    get("acc_bytes", c.acc_bytes);
  } catch (const nlohmann::json::exception& e) {
    throw InputError("chip features: key '" + key + "': " + e.what());
  }
  if (c.rows < 1 || c.cols < 1 || c.lanes < 1 || c.clock_mhz <= 0 || c.sram_bytes < 1 ||
      c.banks < 1 || c.ports_per_bank < 1 || c.bank_bytes_per_cycle < 1 || c.burst_bytes < 1 ||
      c.dma_channels < 1 || c.max_outstanding < 1 || c.dram_bytes_per_cycle <= 0 ||
      c.act_bytes < 1 || c.weight_bytes < 1 || c.acc_bytes < 1) {
    throw InputError("chip features: a size, count or rate is not positive");
  }
  return c;
}

const std::vector<std::string>& chip_vector_names() {
  static const std::vector<std::string> names = {
      "chip.log2_rows",         "chip.log2_cols",        "chip.dataflow_os",
      "chip.dataflow_is",       "chip.mac_latency",      "chip.overlap_preload",
      "chip.pad_partial_folds", "chip.dw_on_vector",     "chip.log2_lanes",
      "chip.vector_latency",    "chip.log2_sram_bytes",  "chip.sram_split",
      "chip.log2_sram_bw",      "chip.log2_dram_bw",     "chip.log2_dram_latency",
      "chip.log2_dma_bw",       "chip.dma_setup",        "chip.double_buffering",
      "chip.act_bytes",         "chip.fused_activations"};
  return names;
}

void chip_vector(const ChipFeatures& c, double* o) {
  o[0] = std::log2(c.rows);
  o[1] = std::log2(c.cols);
  o[2] = c.dataflow == DataflowKind::kOs;
  o[3] = c.dataflow == DataflowKind::kIs;
  o[4] = c.mac_latency_cycles;
  o[5] = c.overlap_preload;
  o[6] = c.pad_partial_folds;
  o[7] = c.depthwise_on_vector;
  o[8] = std::log2(c.lanes);
  o[9] = c.vector_latency_cycles;
  o[10] = std::log2(static_cast<double>(c.sram_bytes));
  o[11] = c.sram_split;
  o[12] = c.sram_ideal ? 20 : std::log2(c.sram_bytes_per_cycle());
  o[13] = c.dram_ideal ? 20 : std::log2(c.dram_bytes_per_cycle);
  o[14] = c.dram_ideal ? 0 : std::log2(1 + c.dram_latency_cycles);
  o[15] = std::log2(c.dma_bytes_per_cycle());
  o[16] = c.dma_setup_cycles;
  o[17] = c.double_buffering;
  o[18] = c.act_bytes;
  o[19] = c.fused_activations;
}

}  // namespace nax::est
