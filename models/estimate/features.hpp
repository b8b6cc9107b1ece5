// Features of a unit for the latency estimator.
//
// Two sets:
// - raw shape features (nn-Meter style, no hardware knowledge): sizes, channels, kernel, stride,
//   MACs, parameters, element counts of the unit as the network describes it;
// - hardware-aware features: the unit's layers mapped onto the chip with our own closed forms
//   (hw/MACHINE.md; nothing here calls hw/): per array layer the GEMM's fold grid (row and column
//   folds = the ceil-divisions that make latency a staircase in channels), the preload and drain
//   each fold costs and the vectors it streams; per vector layer the instructions issued (lanes
//   over channels); bytes moved against the SRAM capacity and the DRAM time they take in the
//   unit's context (input / output resident or not); and the bounds (compute, DRAM, SRAM,
//   their max per layer) that latency sits on.
//
// Both are computed from a UnitGeom: plain arrays filled either from an est::Unit (training data)
// or straight from a graph (GraphScanner in fast_units.hpp, the lean path of `nax estimate`), so
// the two paths give identical features (a test checks it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/estimate/chip_features.hpp"
#include "models/estimate/unit.hpp"
#include "models/ir/graph.hpp"

namespace nax::est {

// Bumped whenever a feature's definition changes: an estimator file records it and a file of
// another version is rejected.
constexpr int kFeatureSchemaVersion = 1;

// One compute layer of a unit, dims as NCHW (FC: n x cin -> n x cout, h = w = 1).
struct LayerGeom {
  ir::OpKind kind = ir::OpKind::kConv2d;
  bool depthwise = false;
  bool reads_input = false;  // reads the unit's input (first layer, shortcut conv, residual add)
  bool se = false;           // part of a squeeze-excite branch
  int taps = 1;              // resize: input taps per output (nearest 1, linear 4, cubic 16)
  int kh = 1, kw = 1, sh = 1, sw = 1, groups = 1;
  int64_t n = 1, cin = 1, ih = 1, iw = 1, cout = 1, oh = 1, ow = 1;
  int64_t macs = 0, params = 0, vector_ops = 0;
  int64_t in_elems() const { return n * cin * ih * iw; }
  int64_t out_elems() const { return n * cout * oh * ow; }
};

struct UnitGeom {
  UnitType type = UnitType::kOther;
  const LayerGeom* layers = nullptr;
  int num_layers = 0;
  int64_t in_elems = 0, out_elems = 0;
  int64_t in_c = 0, in_h = 0, in_w = 0, out_c = 0, out_h = 0, out_w = 0;
  int64_t cin = 0, hidden = 0, cout = 0, se_channels = 0;
  int kernel = 0, stride = 1;
  bool residual = false;
  int64_t macs = 0, params = 0, vector_ops = 0;
};

// Fills `layers` (reused storage) and returns the unit's geometry pointing into it. A Unit
// record does not say how its resize layers interpolate: `taps` (resize_taps) does, when known
// (0: unknown, taken as nearest).
UnitGeom unit_geom(const Unit& u, std::vector<LayerGeom>& layers, int taps = 0);
// Input taps per output of a resize mode ("nearest" 1, "linear" 4, "cubic" 16), and of the
// resize layer of a unit of `g` (0 when it has none).
int resize_taps(const std::string& mode);
int resize_taps(const ir::Graph& g, const Unit& u);
LayerGeom layer_geom(const LayerRec& r, bool first, bool residual_unit);

// The unit's context in its network.
struct Context {
  bool input_on_chip = false;
  bool output_on_chip = false;
};

// Hardware-aware features. The first kNumAdditive are cycle-valued terms that add up to a
// latency (the linear models use them); the rest are ratios, counts and flags.
enum HwFeature : int {
  kFArrayCycles,      // MAC array busy time, data ready (folds x max(T, preload) + drain)
  kFVectorCycles,     // vector unit busy time (instructions + pipeline latency per layer)
  kFFoldOverhead,     // preload + drain cycles not hidden behind streams
  kFWeightDram,       // weight bytes / DMA bandwidth
  kFInputDram,        // unit input bytes / bandwidth when the input is in DRAM
  kFOutputDram,       // unit output bytes / bandwidth when the output goes to DRAM
  kFSpillDram,        // internal tensors that cannot stay in SRAM: write + read / bandwidth
  kFRereadDram,       // input re-reads of array layers whose input does not fit with weights
  kFOverflowDram,     // bytes by which a layer's resident input + output exceed the SRAM / BW
  kFRoofline,         // sum over layers of max(compute, DRAM, SRAM) time
  kFSerial,           // sum over layers of compute + DRAM time (no overlap at all)
  kFPipeline,         // sum over layers of the better of two double-buffered schedules
  kFFirstLoad,        // first fold of weights per array layer / bandwidth (never overlapped)
  kFTransferLatency,  // DMA latency paid by the schedules of kFPipeline
  kFLayerLatency,     // layers x (DRAM latency + DMA setup): pipeline fill per layer
  kFSramCycles,       // SRAM bytes / SRAM bandwidth
  kFLayers,           // layers (one cycle each: a per-layer constant)
  kFOne,              // 1 (intercept)
  kNumAdditive,
  kFInputOverSram = kNumAdditive,  // unit input bytes / SRAM bytes
  kFOutputOverSram,
  kFWeightOverSram,
  kFInternalOverSram,  // largest internal tensor / SRAM bytes
  kFWorkingOverSram,   // largest layer footprint (input + output + weights) / SRAM bytes
  kFInputOnChip,
  kFOutputOnChip,
  kFUtilization,  // MACs / (array cycles x PEs)
  kFLogMacs,
  kFLogVectorOps,
  kFLogCycles,  // log2 of the roofline bound
  kFDramShare,  // DRAM time / roofline
  kFColFolds,   // largest column-fold count of the unit's array layers
  kFRowFolds,
  kFStreamPerFold,  // mean T per fold
  kFLaneUtil,       // vector lanes used / lanes
  kNumHwFeatures
};
const std::vector<std::string>& hw_feature_names();

void hw_features(const UnitGeom& u, const Context& ctx, const ChipFeatures& chip, double* out);

// Whether a layer runs on the MAC array of `chip` (convolutions and fully connected layers;
// depthwise convolutions not when the chip maps them to the vector unit), else the vector unit.
bool on_array(const LayerGeom& g, const ChipFeatures& chip);

// Raw shape features (nn-Meter style).
enum RawFeature : int {
  kRInH,
  kRInW,
  kRInC,
  kROutH,
  kROutW,
  kROutC,
  kRHidden,
  kRKernel,
  kRStride,
  kRSe,
  kRResidual,
  kRLayers,
  kRMacs,
  kRParams,
  kRVectorOps,
  kRInElems,
  kROutElems,
  kRInputOnChip,
  kROutputOnChip,
  kNumRawFeatures
};
const std::vector<std::string>& raw_feature_names();

void raw_features(const UnitGeom& u, const Context& ctx, double* out);

// The roofline bound alone (cycles), what the learned corrections scale.
double roofline_cycles(const UnitGeom& u, const Context& ctx, const ChipFeatures& chip);

}  // namespace nax::est
