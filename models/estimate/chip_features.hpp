// The chip as the latency estimator sees it: the numbers of hw::ChipParams that decide latency,
// in a plain struct (models/ never depends on hw/, DESIGN.md). hw/traces/chip_features.cpp fills
// it from a ChipParams; the estimator file stores it, so `nax estimate` needs no chip file, and
// the chip-aware estimator uses it as features.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nax::est {

enum class DataflowKind { kWs = 0, kOs = 1, kIs = 2 };

struct ChipFeatures {
  std::string name;
  std::string hash;  // hw::ChipParams::hash (hashed hardware parameters)
  double clock_mhz = 1000;
  // MAC array
  int rows = 32, cols = 32;
  DataflowKind dataflow = DataflowKind::kWs;
  int mac_latency_cycles = 1;
  bool overlap_preload = true;
  bool pad_partial_folds = false;
  bool fused_activations = true;
  bool depthwise_on_vector = false;  // depthwise convs run on the vector unit
  // Vector unit
  int lanes = 32;
  int vector_latency_cycles = 4;
  // SRAM
  int64_t sram_bytes = 2 << 20;  // total capacity
  bool sram_split = false;
  int64_t ifmap_bytes = 0, weight_buf_bytes = 0, ofmap_bytes = 0;  // split only
  int banks = 16, ports_per_bank = 1, bank_bytes_per_cycle = 16;
  bool sram_ideal = false;
  bool double_buffering = true;
  // DMA and DRAM
  int dma_channels = 4, burst_bytes = 64, dma_setup_cycles = 16, max_outstanding = 32;
  bool dram_ideal = false;
  double dram_bytes_per_cycle = 17;
  double dram_latency_cycles = 100;
  // Data widths (bytes per element)
  int act_bytes = 1, weight_bytes = 1, acc_bytes = 4;

  int64_t pes() const { return int64_t{rows} * cols; }
  // SRAM bytes per cycle over all banks and ports (with split: of one buffer).
  double sram_bytes_per_cycle() const {
    return static_cast<double>(banks) * ports_per_bank * bank_bytes_per_cycle;
  }
  // Bytes per cycle one DMA channel sustains (window-limited) and the bus allows.
  double dma_bytes_per_cycle() const;
};

nlohmann::json chip_features_to_json(const ChipFeatures& c);
// Throws nax::InputError naming the missing or malformed key.
ChipFeatures chip_features_from_json(const nlohmann::json& j);

// Numbers the chip-aware estimator appends to each unit's features (log-scaled sizes, flags).
constexpr int kNumChipVector = 20;
void chip_vector(const ChipFeatures& c, double* out);
const std::vector<std::string>& chip_vector_names();

}  // namespace nax::est
