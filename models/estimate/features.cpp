#include "models/estimate/features.hpp"

#include "models/estimate/unit.hpp"

#include <algorithm>
#include <cmath>

namespace nax::est {

namespace {

using ir::OpKind;

inline int64_t cdiv(int64_t a, int64_t b) {
  return b > 0 ? (a + b - 1) / b : 0;
}

inline int64_t dim(const ir::Shape& s, size_t i) {
  return i < s.size() ? s[i] : 1;
}

}  // namespace

LayerGeom layer_geom(const LayerRec& r, bool first, bool residual_unit) {
  LayerGeom g;
  g.kind = r.kind;
  g.depthwise = r.depthwise;
  g.kh = r.kernel_h, g.kw = r.kernel_w, g.sh = r.stride_h, g.sw = r.stride_w;
  g.groups = std::max(1, r.groups);
  g.n = std::max<int64_t>(1, dim(r.in, 0));
  if (r.kind == OpKind::kFullyConnected) {
    int64_t f = 1;
    for (size_t i = 1; i < r.in.size(); ++i) f *= r.in[i];
    g.cin = f;
    g.cout = dim(r.out, 1);
  } else {
    g.cin = dim(r.in, 1), g.ih = dim(r.in, 2), g.iw = dim(r.in, 3);
    g.cout = dim(r.out, 1), g.oh = dim(r.out, 2), g.ow = dim(r.out, 3);
  }
  g.macs = r.macs, g.params = r.params, g.vector_ops = r.vector_ops;
  g.se = r.role.rfind("se.", 0) == 0;
  g.reads_input = first || r.role == "downsample" || (residual_unit && r.kind == OpKind::kAdd);
  return g;
}

int resize_taps(const std::string& mode) {
  return mode == "cubic" ? 16 : mode == "linear" ? 4 : 1;
}

int resize_taps(const ir::Graph& g, const Unit& u) {
  for (int o : u.ops) {
    const ir::Op& op = g.op(o);
    if (op.kind == OpKind::kResize) return resize_taps(op.attr<ir::ResizeAttrs>().mode);
  }
  return 0;
}

UnitGeom unit_geom(const Unit& u, std::vector<LayerGeom>& layers, int taps) {
  layers.clear();
  for (size_t i = 0; i < u.layers.size(); ++i) {
    layers.push_back(layer_geom(u.layers[i], i == 0, u.residual));
    if (layers.back().kind == OpKind::kResize && taps > 0) layers.back().taps = taps;
  }
  UnitGeom g;
  g.type = u.type;
  g.layers = layers.data();
  g.num_layers = static_cast<int>(layers.size());
  auto numel = [](const ir::Shape& s) {
    int64_t n = s.empty() ? 0 : 1;
    for (auto d : s) n *= d;
    return n;
  };
  g.in_elems = numel(u.in_shape);
  g.out_elems = numel(u.out_shape);
  g.in_c = dim(u.in_shape, 1), g.in_h = dim(u.in_shape, 2), g.in_w = dim(u.in_shape, 3);
  g.out_c = dim(u.out_shape, 1), g.out_h = dim(u.out_shape, 2), g.out_w = dim(u.out_shape, 3);
  g.cin = u.cin, g.hidden = u.hidden, g.cout = u.cout, g.se_channels = u.se_channels;
  g.kernel = u.kernel, g.stride = u.stride, g.residual = u.residual;
  g.macs = u.macs, g.params = u.params, g.vector_ops = u.vector_ops;
  return g;
}

// ------------------------------------------------------------------ physics of one layer

namespace {

struct LayerCost {
  double array = 0;     // MAC array cycles, data ready
  double vector = 0;    // vector unit cycles
  double overhead = 0;  // preload + drain not hidden
  double folds = 0;
  double row_folds = 0, col_folds = 0;
  double stream = 0;     // vectors streamed over all folds
  double lane_util = 1;  // vector lanes used / lanes
  double sram_bytes = 0;
};

// Fold sequence on the array: `groups` x `col_folds` x `row_folds` folds (row folds inner), each
// streaming T vectors; rows used R (full) / r_last, columns C (full) / c_last. Mirrors
// hw/MACHINE.md "Timing of one array command" for one segment per fold on a fresh array.
struct FoldSeq {
  int64_t groups = 1, row_folds = 1, col_folds = 1;
  int64_t r_full = 1, r_last = 1, c_full = 1, c_last = 1;
  int64_t T = 1;
};

void fold_time(const FoldSeq& f, const ChipFeatures& chip, LayerCost& c) {
  const int64_t R = chip.rows, C = chip.cols, Lm = chip.mac_latency_cycles;
  const bool pad = chip.pad_partial_folds;
  const int64_t rf = pad ? R : f.r_full, rl = pad ? R : f.r_last;
  const int64_t cf = pad ? C : f.c_full, cl = pad ? C : f.c_last;
  const int64_t T = f.T;
  const int64_t per_col = f.row_folds;
  const int64_t folds = f.groups * f.col_folds * f.row_folds;
  const int64_t n_full_rows = f.groups * f.col_folds * (f.row_folds - 1);  // folds with r = rf
  const int64_t n_last_rows = f.groups * f.col_folds;                      // folds with r = rl
  const int64_t n_last_cols = f.groups * per_col;  // folds in the last column fold
  const int64_t n_full_cols = folds - n_last_cols;
  double total = 0, overhead = 0;
  if (chip.dataflow != DataflowKind::kOs) {
    const double drain_l = static_cast<double>(R * Lm + cl - 2);
    if (chip.overlap_preload) {
      // s_0 = P_0; s_i = s_{i-1} + max(P_i, T); done = s_last + T + drain.
      const double sum_max =
          static_cast<double>(n_full_rows * std::max(rf, T) + n_last_rows * std::max(rl, T));
      const double first_p = static_cast<double>(f.row_folds > 1 ? rf : rl);
      const double first_max = static_cast<double>(std::max(f.row_folds > 1 ? rf : rl, T));
      total = first_p + (sum_max - first_max) + static_cast<double>(T) + drain_l;
      overhead = total - static_cast<double>(folds * T);
    } else {
      const double p = static_cast<double>(n_full_rows * rf + n_last_rows * rl);
      const double drains =
          static_cast<double>(n_full_cols * (R * Lm + cf - 2) + n_last_cols * (R * Lm + cl - 2));
      total = p + static_cast<double>(folds * T) + drains;
      overhead = p + drains;
    }
  } else {
    auto drain = [&](int64_t r, int64_t cc) { return static_cast<double>(r + cc + Lm - 3); };
    if (chip.overlap_preload) {
      total = static_cast<double>(folds * T) + drain(rl, cl);
      overhead = drain(rl, cl);
    } else {
      // Approximation: every fold drains with the mean rows / columns.
      const double mean_r = static_cast<double>(n_full_rows * rf + n_last_rows * rl) / folds;
      const double mean_c = static_cast<double>(n_full_cols * cf + n_last_cols * cl) / folds;
      overhead = folds * (mean_r + mean_c + static_cast<double>(Lm) - 3);
      total = static_cast<double>(folds * T) + overhead;
    }
  }
  c.array += total;
  c.overhead += overhead;
  c.folds += static_cast<double>(folds);
  c.row_folds = std::max(c.row_folds, static_cast<double>(f.row_folds));
  c.col_folds = std::max(c.col_folds, static_cast<double>(f.col_folds));
  c.stream += static_cast<double>(folds * T);
}

FoldSeq dense_folds(int64_t rows_dim, int64_t cols_dim, int64_t T, int64_t groups,
                    const ChipFeatures& chip) {
  FoldSeq f;
  f.groups = groups;
  f.row_folds = cdiv(rows_dim, chip.rows);
  f.col_folds = cdiv(cols_dim, chip.cols);
  f.r_full = std::min<int64_t>(chip.rows, rows_dim);
  f.r_last = rows_dim - (f.row_folds - 1) * chip.rows;
  f.c_full = std::min<int64_t>(chip.cols, cols_dim);
  f.c_last = cols_dim - (f.col_folds - 1) * chip.cols;
  f.T = T;
  return f;
}

void array_layer(const LayerGeom& g, const ChipFeatures& chip, LayerCost& c) {
  const int64_t R = chip.rows, C = chip.cols;
  if (g.kind == OpKind::kFullyConnected) {
    const int64_t npix = g.n, K = g.cin, M = g.cout;
    switch (chip.dataflow) {
      case DataflowKind::kWs:
        return fold_time(dense_folds(K, M, npix, 1, chip), chip, c);
      case DataflowKind::kIs:
        return fold_time(dense_folds(K, npix, M, 1, chip), chip, c);
      case DataflowKind::kOs:
        return fold_time(dense_folds(npix, M, K, 1, chip), chip, c);
    }
  }
  const int64_t npix = g.n * g.oh * g.ow;
  const int64_t kk = int64_t{g.kh} * g.kw;
  if (g.depthwise) {
    const int64_t ch = g.cout;
    FoldSeq f;
    switch (chip.dataflow) {
      case DataflowKind::kWs: {
        // g channels per fold, each kh*kw rows and one column (hw/MACHINE.md); folds in
        // sequence, the last one partial.
        if (kk <= R) {
          const int64_t per = std::min<int64_t>(R / kk, C);
          f.row_folds = cdiv(ch, per);
          const int64_t last = ch - (f.row_folds - 1) * per;
          f.r_full = per * kk, f.r_last = last * kk;
          f.c_full = per, f.c_last = last;
        } else {
          f.groups = ch;
          f.row_folds = cdiv(kk, R);
          f.r_full = R, f.r_last = kk - (f.row_folds - 1) * R;
          f.c_full = f.c_last = 1;
        }
        f.T = npix;
        return fold_time(f, chip, c);
      }
      case DataflowKind::kIs: {
        if (kk <= R) {
          const int64_t per = std::max<int64_t>(1, R / kk);
          const int64_t rfold = cdiv(ch, per);
          const int64_t cfold = cdiv(npix, C);
          // T = channels in the fold (one weight vector per channel).
          FoldSeq full = dense_folds(1, npix, per, 1, chip);
          full.row_folds = rfold;
          full.r_full = per * kk;
          const int64_t last = ch - (rfold - 1) * per;
          full.r_last = last * kk;
          full.col_folds = cfold;
          full.T = (rfold == 1) ? last : per;  // mean-ish: the last row fold streams fewer
          return fold_time(full, chip, c);
        }
        FoldSeq s = dense_folds(kk, npix, 1, ch, chip);
        return fold_time(s, chip, c);
      }
      case DataflowKind::kOs: {
        FoldSeq s = dense_folds(npix, 1, kk, ch, chip);
        return fold_time(s, chip, c);
      }
    }
  }
  const int64_t G = std::max(1, g.groups);
  const int64_t K = kk * (g.cin / G), M = g.cout / G;
  switch (chip.dataflow) {
    case DataflowKind::kWs:
      return fold_time(dense_folds(K, M, npix, G, chip), chip, c);
    case DataflowKind::kIs:
      return fold_time(dense_folds(K, npix, M, G, chip), chip, c);
    case DataflowKind::kOs:
      return fold_time(dense_folds(npix, M, K, G, chip), chip, c);
  }
}

void vector_layer(const LayerGeom& g, const ChipFeatures& chip, LayerCost& c) {
  const int64_t L = chip.lanes;
  int64_t issues = 0;
  int64_t elems = 0;
  switch (g.kind) {
    case OpKind::kMaxPool:
    case OpKind::kAvgPool:
      issues = g.n * g.oh * g.ow * cdiv(g.cout, L) * g.kh * g.kw;
      elems = g.n * g.oh * g.ow * g.cout * g.kh * g.kw;
      break;
    case OpKind::kGlobalAvgPool:
    case OpKind::kGlobalMaxPool:
      issues = g.n * g.ih * g.iw * cdiv(g.cin, L);
      elems = g.n * g.ih * g.iw * g.cin;
      break;
    case OpKind::kConv2d:  // depthwise on the vector unit
      issues = g.n * g.oh * g.ow * cdiv(g.cout, L) * g.kh * g.kw;
      elems = g.n * g.oh * g.ow * g.cout * g.kh * g.kw;
      break;
    case OpKind::kResize:
      issues = cdiv(g.out_elems(), L) * std::max(1, g.taps);
      elems = g.out_elems() * std::max(1, g.taps);
      break;
    case OpKind::kSoftmax:
      issues = 3 * cdiv(g.out_elems(), L);
      elems = 3 * g.out_elems();
      break;
    default:
      if (is_view(g.kind)) return;
      issues = cdiv(g.out_elems(), L);
      elems = g.out_elems();
      break;
  }
  c.vector += static_cast<double>(issues) + (issues > 0 ? chip.vector_latency_cycles : 0);
  c.lane_util = issues > 0 ? static_cast<double>(elems) / static_cast<double>(issues * L) : 1.0;
}

}  // namespace

bool on_array(const LayerGeom& g, const ChipFeatures& chip) {
  if (g.kind == OpKind::kFullyConnected) return true;
  if (g.kind != OpKind::kConv2d) return false;
  return !(g.depthwise && chip.depthwise_on_vector);
}

// ------------------------------------------------------------------ unit features

const std::vector<std::string>& hw_feature_names() {
  static const std::vector<std::string> names = {"array_cycles",
                                                 "vector_cycles",
                                                 "fold_overhead",
                                                 "weight_dram",
                                                 "input_dram",
                                                 "output_dram",
                                                 "spill_dram",
                                                 "reread_dram",
                                                 "overflow_dram",
                                                 "roofline",
                                                 "serial",
                                                 "pipeline",
                                                 "first_load",
                                                 "transfer_latency",
                                                 "layer_latency",
                                                 "sram_cycles",
                                                 "layers",
                                                 "one",
                                                 "input_over_sram",
                                                 "output_over_sram",
                                                 "weight_over_sram",
                                                 "internal_over_sram",
                                                 "working_over_sram",
                                                 "input_on_chip",
                                                 "output_on_chip",
                                                 "utilization",
                                                 "log_macs",
                                                 "log_vector_ops",
                                                 "log_cycles",
                                                 "dram_share",
                                                 "col_folds",
                                                 "row_folds",
                                                 "stream_per_fold",
                                                 "lane_util"};
  return names;
}

void hw_features(const UnitGeom& u, const Context& ctx, const ChipFeatures& chip, double* f) {
  std::fill(f, f + kNumHwFeatures, 0.0);
  const double ab = chip.act_bytes, wb = chip.weight_bytes;
  const double sram = static_cast<double>(chip.sram_bytes);
  const double bw = chip.dma_bytes_per_cycle();
  const double sram_bw = chip.sram_ideal ? 1e9 : chip.sram_bytes_per_cycle();
  const double lat = chip.dram_ideal ? 0.0 : chip.dram_latency_cycles + chip.dma_setup_cycles;
  // Working-set reserve of a layer next to resident tensors: a double-buffered tile of weights
  // (one fold), input rows and accumulators (chip.hpp MinimalTile), times a few.
  const double reserve =
      4.0 * (static_cast<double>(chip.pes()) * wb + chip.rows * ab + chip.cols * chip.acc_bytes) *
      (chip.double_buffering ? 2 : 1);
  const double in_bytes = static_cast<double>(u.in_elems) * ab;
  const double out_bytes = static_cast<double>(u.out_elems) * ab;
  double weight_bytes = 0, internal_max = 0, working_max = 0;
  double array = 0, vector = 0, overhead = 0, roofline = 0, sram_cycles = 0, spill = 0, reread = 0,
         input_dram_total = 0, serial = 0, first_load = 0, pipeline = 0, overflow = 0,
         transfer_latency = 0;
  double prev_spill = 0;  // bytes of the previous layer's output that went to DRAM
  double folds = 0, stream = 0, row_folds = 0, col_folds = 0, lane_used = 0, lane_n = 0;
  int layers = 0;
  for (int i = 0; i < u.num_layers; ++i) {
    const LayerGeom& g = u.layers[i];
    if (is_view(g.kind)) continue;
    ++layers;
    LayerCost c;
    const bool arr = on_array(g, chip);
    if (arr)
      array_layer(g, chip, c);
    else
      vector_layer(g, chip, c);
    const bool last = i == u.num_layers - 1;
    const double lw = static_cast<double>(g.params) * wb;
    const double lin = static_cast<double>(g.in_elems()) * ab;
    const double lout = static_cast<double>(g.out_elems()) * ab;
    weight_bytes += lw;
    // DRAM bytes of this layer: weights; the unit input when it is in DRAM; the output when it
    // leaves the chip; internal tensors that cannot stay in SRAM (written here, read by the
    // next layer: both counted at the producer).
    double dram = lw;
    double d_in = prev_spill, d_out = 0;  // activation bytes this layer moves over DRAM
    if (g.reads_input && !ctx.input_on_chip) {
      const double b = g.kind == OpKind::kAdd ? in_bytes : lin;
      dram += b;
      d_in += b;
      input_dram_total += b;
    }
    prev_spill = 0;
    if (last) {
      if (!ctx.output_on_chip) dram += lout, d_out += lout;
    } else {
      internal_max = std::max(internal_max, lout);
      if (lout > sram - reserve) {
        dram += 2 * lout;
        spill += 2 * lout;
        d_out += lout;
        prev_spill = lout;
      } else if (lout + lin > sram - reserve) {
        // Resident output, but input and output together do not fit: part of the working set
        // goes through DRAM.
        overflow += lout + lin - (sram - reserve);
      }
    }
    // Input re-reads: ws streams the input once per column fold; when the input is in DRAM and
    // does not fit next to a column of weights, it comes again for every column fold.
    const bool input_in_dram = (g.reads_input && !ctx.input_on_chip) || lin > sram - reserve;
    if (arr && input_in_dram && c.col_folds > 1 && lin + lw > sram / 2) {
      const double rr = std::min(lin * (c.col_folds - 1), lw * std::ceil((lin + lw) / (sram / 2)));
      dram += rr;
      reread += rr;
    }
    working_max = std::max(working_max, lin + lout + lw);
    const double sb = lin * std::max(1.0, c.col_folds) + lw + lout;
    const double compute = c.array + c.vector;
    const double dram_t = dram / bw;
    const double sram_t = sb / sram_bw;
    roofline += std::max(compute, std::max(dram_t, sram_t)) + (dram > 0 ? lat : 0.0);
    serial += compute + dram_t + (dram > 0 ? lat : 0.0);
    // Double-buffered pipeline of the layer, two strategies (the lowering picks its best):
    // all weights in one transfer before computing, or a column of folds' weights per transfer
    // (each transfer pays the DMA latency; two slots keep two in flight).
    {
      const double io = (dram - lw) / bw;  // activations in and out, re-reads, spills
      const double in_lat = d_in > 0 ? lat : 0.0;
      const double body = std::max(compute, std::max(io, sram_t));
      double t = (lw > 0 ? lw / bw + lat : 0.0) + body + in_lat;
      double tl = lw > 0 ? lat : 0.0;
      if (arr && c.col_folds > 1 && lw > 0) {
        const double n = c.col_folds;
        const double l = lw / n / bw + lat;
        const double period =
            std::max(std::max(compute / n, sram_t / n), std::max(lw / n / bw + io / n, l / 2));
        const double per_fold = l + (n - 1) * period + compute / n + in_lat;
        if (per_fold < t) t = per_fold, tl = n * lat;
      }
      pipeline += t;
      transfer_latency += tl + in_lat;
    }
    if (arr) {
      const double k_rows = g.kind == OpKind::kFullyConnected
                                ? static_cast<double>(g.cin)
                                : static_cast<double>(g.kh) * g.kw *
                                      (g.depthwise ? 1.0 : static_cast<double>(g.cin / g.groups));
      const double m_cols = g.depthwise ? 1.0 : static_cast<double>(g.cout / g.groups);
      first_load += std::min(lw, k_rows * std::min<double>(m_cols, chip.cols) * wb) / bw;
    }
    array += c.array;
    vector += c.vector;
    overhead += c.overhead;
    sram_cycles += sram_t;
    folds += c.folds;
    stream += c.stream;
    row_folds = std::max(row_folds, c.row_folds);
    col_folds = std::max(col_folds, c.col_folds);
    if (!arr && c.vector > 0) lane_used += c.lane_util, lane_n += 1;
  }
  f[kFArrayCycles] = array;
  f[kFVectorCycles] = vector;
  f[kFFoldOverhead] = overhead;
  f[kFWeightDram] = weight_bytes / bw;
  f[kFInputDram] = input_dram_total / bw;
  f[kFOutputDram] = ctx.output_on_chip ? 0.0 : out_bytes / bw;
  f[kFSpillDram] = spill / bw;
  f[kFRereadDram] = reread / bw;
  f[kFRoofline] = roofline;
  f[kFSerial] = serial;
  f[kFFirstLoad] = first_load;
  f[kFPipeline] = pipeline;
  f[kFOverflowDram] = overflow / bw;
  f[kFTransferLatency] = transfer_latency;
  f[kFLayerLatency] = layers * lat;
  f[kFSramCycles] = sram_cycles;
  f[kFLayers] = layers;
  f[kFOne] = 1;
  f[kFInputOverSram] = in_bytes / sram;
  f[kFOutputOverSram] = out_bytes / sram;
  f[kFWeightOverSram] = weight_bytes / sram;
  f[kFInternalOverSram] = internal_max / sram;
  f[kFWorkingOverSram] = working_max / sram;
  f[kFInputOnChip] = ctx.input_on_chip;
  f[kFOutputOnChip] = ctx.output_on_chip;
  f[kFUtilization] =
      array > 0 ? static_cast<double>(u.macs) / (array * static_cast<double>(chip.pes())) : 0;
  f[kFLogMacs] = std::log2(1.0 + static_cast<double>(u.macs));
  f[kFLogVectorOps] = std::log2(1.0 + static_cast<double>(u.vector_ops));
  f[kFLogCycles] = std::log2(1.0 + roofline);
  const double dram_all =
      f[kFWeightDram] + f[kFInputDram] + f[kFOutputDram] + f[kFSpillDram] + f[kFRereadDram];
  f[kFDramShare] = roofline > 0 ? dram_all / roofline : 0;
  f[kFColFolds] = col_folds;
  f[kFRowFolds] = row_folds;
  f[kFStreamPerFold] = folds > 0 ? stream / folds : 0;
  f[kFLaneUtil] = lane_n > 0 ? lane_used / lane_n : 1;
}

double roofline_cycles(const UnitGeom& u, const Context& ctx, const ChipFeatures& chip) {
  double f[kNumHwFeatures];
  hw_features(u, ctx, chip, f);
  return f[kFRoofline];
}

const std::vector<std::string>& raw_feature_names() {
  static const std::vector<std::string> names = {
      "in_h",       "in_w",     "in_c",      "out_h",         "out_w",         "out_c", "hidden",
      "kernel",     "stride",   "se",        "residual",      "layers",        "macs",  "params",
      "vector_ops", "in_elems", "out_elems", "input_on_chip", "output_on_chip"};
  return names;
}

void raw_features(const UnitGeom& u, const Context& ctx, double* f) {
  int kernel = u.kernel, stride = u.stride;
  if (kernel == 0 && u.num_layers > 0) {
    kernel = u.layers[0].kh;
    stride = u.layers[0].sh;
  }
  f[kRInH] = static_cast<double>(u.in_h);
  f[kRInW] = static_cast<double>(u.in_w);
  f[kRInC] = static_cast<double>(u.in_c);
  f[kROutH] = static_cast<double>(u.out_h);
  f[kROutW] = static_cast<double>(u.out_w);
  f[kROutC] = static_cast<double>(u.out_c);
  f[kRHidden] = static_cast<double>(u.hidden);
  f[kRKernel] = kernel;
  f[kRStride] = stride;
  f[kRSe] = static_cast<double>(u.se_channels);
  f[kRResidual] = u.residual;
  f[kRLayers] = u.num_layers;
  f[kRMacs] = static_cast<double>(u.macs);
  f[kRParams] = static_cast<double>(u.params);
  f[kRVectorOps] = static_cast<double>(u.vector_ops);
  f[kRInElems] = static_cast<double>(u.in_elems);
  f[kROutElems] = static_cast<double>(u.out_elems);
  f[kRInputOnChip] = ctx.input_on_chip;
  f[kROutputOnChip] = ctx.output_on_chip;
}

}  // namespace nax::est
