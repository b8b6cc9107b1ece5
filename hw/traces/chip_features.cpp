#include "hw/traces/chip_features.hpp"

#include "hw/timing/timing.hpp"
#include "models/estimate/fast_units.hpp"

namespace nax::hw {

est::ChipFeatures chip_features(const ChipParams& chip) {
  est::ChipFeatures c;
  c.name = chip.name;
  c.hash = chip.hash;
  c.clock_mhz = chip.clock_mhz;
  c.rows = chip.mac_array.rows;
  c.cols = chip.mac_array.cols;
  c.dataflow = chip.mac_array.dataflow == Dataflow::kWeightStationary   ? est::DataflowKind::kWs
               : chip.mac_array.dataflow == Dataflow::kOutputStationary ? est::DataflowKind::kOs
                                                                        : est::DataflowKind::kIs;
  c.mac_latency_cycles = chip.mac_array.mac_latency_cycles;
  c.overlap_preload = chip.mac_array.overlap_preload;
  c.pad_partial_folds = chip.mac_array.pad_partial_folds;
  c.fused_activations = chip.mac_array.fused_activations;
  c.depthwise_on_vector = chip.depthwise_on == DepthwiseMapping::kVectorUnit;
  c.lanes = chip.vector_unit.lanes;
  c.vector_latency_cycles = chip.vector_unit.pipeline_latency_cycles;
  c.sram_bytes = chip.sram_bytes();
  c.sram_split = chip.sram.organization == SramOrganization::kSplit;
  c.ifmap_bytes = chip.sram.ifmap_kib * 1024;
  c.weight_buf_bytes = chip.sram.weight_kib * 1024;
  c.ofmap_bytes = chip.sram.ofmap_kib * 1024;
  c.banks = chip.sram.banks;
  c.ports_per_bank = chip.sram.ports_per_bank;
  c.bank_bytes_per_cycle = chip.sram.bank_bytes_per_cycle;
  c.sram_ideal = chip.sram.ideal;
  c.double_buffering = chip.sram.double_buffering;
  c.dma_channels = chip.dma.channels;
  c.burst_bytes = chip.dma.burst_bytes;
  c.dma_setup_cycles = chip.dma.setup_cycles;
  c.max_outstanding = chip.dma.max_outstanding;
  // The machine's own conversion of bandwidth and latency to cycles (hw/timing).
  const DramConfig dram = DramConfig::from_chip(chip);
  c.dram_ideal = dram.ideal;
  c.dram_bytes_per_cycle = dram.bytes_per_cycle;
  c.dram_latency_cycles = static_cast<double>(dram.latency_cycles);
  c.act_bytes = chip.activation_bytes();
  c.weight_bytes = chip.weight_bytes();
  c.acc_bytes = chip.accumulator_bytes();
  return c;
}

void add_network_label(est::Dataset& ds, const NetworkLabel& label, const std::string& source,
                       const ir::Graph* g) {
  est::NetworkRec net;
  net.chip_hash = label.chip_hash;
  net.hash = label.model_hash;
  net.source = source;
  net.total_cycles = static_cast<double>(label.total_cycles);
  for (const UnitLabel& u : label.units) {
    est::UnitSample s;
    s.chip_hash = label.chip_hash;
    s.unit = u.unit;
    s.input_on_chip = u.input_on_chip;
    s.output_on_chip = u.output_on_chip;
    s.cycles = static_cast<double>(u.cycles);
    s.resize_taps = g ? est::resize_taps(*g, u.unit) : 0;
    net.samples.push_back(ds.add_sample(std::move(s)));
  }
  ds.networks.push_back(std::move(net));
}

est::EvalNetwork label_eval_network(const ir::Graph& g, const ChipParams& chip,
                                    const est::ChipFeatures& features, const std::string& name,
                                    const std::string& group) {
  const NetworkLabel label = label_network(g, chip);
  est::EvalNetwork e;
  e.name = name;
  e.group = group;
  e.hash = label.model_hash;
  e.total_cycles = static_cast<double>(label.total_cycles);
  for (const UnitLabel& u : label.units) {
    e.units.push_back(est::make_train_unit(u.unit, {u.input_on_chip, u.output_on_chip}, &features,
                                           static_cast<double>(u.cycles),
                                           est::resize_taps(g, u.unit)));
  }
  est::GraphScanner scanner;
  scanner.scan(g, features);
  if (scanner.units().size() == e.units.size()) {
    bool same = true;
    for (size_t i = 0; i < e.units.size(); ++i)
      same = same && scanner.units()[i].type == e.units[i].type;
    if (same) {
      for (const auto& su : scanner.units()) e.predicted.push_back(su.context);
    }
  }
  return e;
}

}  // namespace nax::hw
