#include "models/estimate/fast_units.hpp"

#include <algorithm>
#include <cstring>

#include "models/estimate/unit.hpp"
#include "models/ir/analysis.hpp"

namespace nax::est {

namespace {

using ir::OpKind;

// String equality against a literal, length first (no strlen per call).
template <size_t N>
inline bool eq(const std::string& s, const char (&lit)[N]) {
  return s.size() == N - 1 && std::memcmp(s.data(), lit, N - 1) == 0;
}

bool block_unit_type(const std::string& block_type, UnitType& t) {
  if (eq(block_type, "ibn"))
    t = UnitType::kIbn;
  else if (eq(block_type, "fused_ibn"))
    t = UnitType::kFusedIbn;
  else if (eq(block_type, "basic"))
    t = UnitType::kBasic;
  else if (eq(block_type, "bottleneck"))
    t = UnitType::kBottleneck;
  else
    return false;
  return true;
}

bool is_block_type(UnitType t) {
  return t == UnitType::kIbn || t == UnitType::kFusedIbn || t == UnitType::kBasic ||
         t == UnitType::kBottleneck;
}

// hw/lower/grouping.cpp's rule: a concatenation moves no data when each input is written only
// for it by a computing op (through views at most).
bool concat_in_place(const ir::Graph& g, const ir::Op& op) {
  for (size_t i = 0; i < op.inputs.size(); ++i) {
    for (size_t j = 0; j < i; ++j)
      if (op.inputs[j] == op.inputs[i]) return false;
    ir::TensorId cur = op.inputs[i];
    for (;;) {
      const ir::Tensor& ten = g.tensor(cur);
      if (ten.producer < 0 || ten.consumers.size() != 1 || is_output(g, cur)) return false;
      const ir::Op& p = g.op(ten.producer);
      if (p.kind == OpKind::kReshape || p.kind == OpKind::kFlatten) {
        cur = p.inputs[0];
        continue;
      }
      if (is_view(p.kind) || p.kind == OpKind::kConcat) return false;
      break;
    }
  }
  return true;
}

int64_t dim(const ir::Shape& s, size_t i) {
  return i < s.size() ? s[i] : 1;
}

int64_t numel(const ir::Shape& s) {
  int64_t n = s.empty() ? 0 : 1;
  for (auto d : s) n *= d;
  return n;
}

}  // namespace

// The same LayerGeom as layer_geom(layer_rec(...)) of the Unit path.
static LayerGeom op_geom(const ir::Graph& g, const ir::Op& op, bool first, bool residual_unit) {
  LayerGeom l;
  l.kind = op.kind;
  const ir::Shape empty;
  const ir::Shape& in = op.inputs.empty() ? empty : g.shape(op.inputs[0]);
  const ir::Shape& out = g.shape(op.output);
  if (op.kind == OpKind::kConv2d) {
    const auto& a = op.attr<ir::ConvAttrs>();
    l.depthwise = is_depthwise(g, op);
    l.kh = a.kernel_h, l.kw = a.kernel_w, l.sh = a.stride_h, l.sw = a.stride_w;
    l.groups = std::max(1, a.groups);
  } else if (op.kind == OpKind::kMaxPool || op.kind == OpKind::kAvgPool) {
    const auto& a = op.attr<ir::PoolAttrs>();
    l.kh = a.kernel_h, l.kw = a.kernel_w, l.sh = a.stride_h, l.sw = a.stride_w;
  } else if (op.kind == OpKind::kResize) {
    l.taps = resize_taps(op.attr<ir::ResizeAttrs>().mode);
  }
  l.n = std::max<int64_t>(1, dim(in, 0));
  if (op.kind == OpKind::kFullyConnected) {
    int64_t f = 1;
    for (size_t i = 1; i < in.size(); ++i) f *= in[i];
    l.cin = f;
    l.cout = dim(out, 1);
  } else {
    l.cin = dim(in, 1), l.ih = dim(in, 2), l.iw = dim(in, 3);
    l.cout = dim(out, 1), l.oh = dim(out, 2), l.ow = dim(out, 3);
  }
  // ir::op_macs / op_params / op_vector_ops, from the shapes already at hand (a test checks
  // the features equal the Unit path's, which uses those functions).
  int64_t out_n = 1;
  for (int64_t d : out) out_n *= d;
  switch (op.kind) {
    case OpKind::kConv2d: {
      const auto& a = op.attr<ir::ConvAttrs>();
      const int64_t cin = in[1];
      l.macs = out_n * (cin / a.groups) * a.kernel_h * a.kernel_w;
      l.params = static_cast<int64_t>(a.out_channels) * (cin / a.groups) * a.kernel_h * a.kernel_w +
                 (a.bias ? a.out_channels : 0) + (a.bn ? 2 * a.out_channels : 0);
      break;
    }
    case OpKind::kFullyConnected: {
      const auto& a = op.attr<ir::FcAttrs>();
      l.macs = out_n * in.back();
      l.params = in.back() * a.out_features + (a.bias ? a.out_features : 0);
      break;
    }
    case OpKind::kMaxPool:
    case OpKind::kAvgPool:
      l.vector_ops = out_n * l.kh * l.kw;
      break;
    case OpKind::kGlobalAvgPool:
    case OpKind::kGlobalMaxPool: {
      int64_t in_n = 1;
      for (int64_t d : in) in_n *= d;
      l.vector_ops = in_n;
      break;
    }
    case OpKind::kReshape:
    case OpKind::kFlatten:
    case OpKind::kZeros:
      break;
    case OpKind::kBatchNorm:
      l.params = 2 * in[1];
      l.vector_ops = out_n;
      break;
    default:
      l.vector_ops = out_n;
      break;
  }
  const std::string& role = op.meta.role;
  l.se = role.size() >= 3 && role[0] == 's' && role[1] == 'e' && role[2] == '.';
  l.reads_input = first || eq(role, "downsample") || (residual_unit && op.kind == OpKind::kAdd);
  return l;
}

void GraphScanner::make_layers(const ir::Graph& g, bool fuse) {
  const auto& ops = g.ops();
  const size_t n = ops.size();
  m_layer_of.assign(n, -1);
  m_layers.clear();
  for (size_t i = 0; i < n; ++i) {
    if (m_layer_of[i] >= 0) continue;
    const ir::Op& op = ops[i];
    if (is_view(op.kind) && !op.inputs.empty()) {
      const int p = g.tensor(op.inputs[0]).producer;
      if (p >= 0 && m_layer_of[static_cast<size_t>(p)] >= 0) {
        const int li = m_layer_of[static_cast<size_t>(p)];
        Layer& L = m_layers[static_cast<size_t>(li)];
        L.out = op.output;
        L.last = std::max(L.last, static_cast<int>(i));
        m_layer_of[i] = li;
        continue;
      }
    }
    Layer L;
    L.compute = static_cast<int>(i);
    L.first = L.last = static_cast<int>(i);
    L.in = op.inputs.empty() ? ir::kNoTensor : op.inputs[0];
    L.out = op.output;
    const int li = static_cast<int>(m_layers.size());
    m_layer_of[i] = li;
    if ((op.kind == OpKind::kConv2d || op.kind == OpKind::kFullyConnected) && fuse) {
      for (;;) {
        const ir::Tensor& t = g.tensor(L.out);
        if (t.consumers.size() != 1 || is_output(g, L.out)) break;
        const int c = t.consumers[0];
        const ir::Op& cop = ops[static_cast<size_t>(c)];
        if (!ir::is_unary_elementwise(cop.kind) || m_layer_of[static_cast<size_t>(c)] >= 0 ||
            cop.inputs.size() != 1) {
          break;
        }
        m_layer_of[static_cast<size_t>(c)] = li;
        L.last = std::max(L.last, c);
        L.out = cop.output;
      }
    }
    m_layers.push_back(L);
  }
}

bool GraphScanner::group_fast(const ir::Graph& g) {
  const auto& ops = g.ops();
  const size_t n = ops.size();
  // Units: blocks of the block types, else one per layer. A depthwise layer outside any block
  // means decompose's ONNX pattern search applies: not handled here.
  m_build.clear();
  int last_block_unit = -1;
  for (size_t li = 0; li < m_layers.size(); ++li) {
    Layer& L = m_layers[li];
    const ir::Op& op = ops[static_cast<size_t>(L.compute)];
    UnitType bt;
    if (!op.meta.block.empty() && block_unit_type(op.meta.block_type, bt)) {
      int u = -1;
      if (last_block_unit >= 0 &&
          *m_build[static_cast<size_t>(last_block_unit)].block == op.meta.block)
        u = last_block_unit;
      for (size_t k = 0; u < 0 && k < m_build.size(); ++k) {
        if (m_build[k].block && *m_build[k].block == op.meta.block) u = static_cast<int>(k);
      }
      if (u < 0) {
        u = static_cast<int>(m_build.size());
        UnitBuild b;
        b.type = bt;
        b.block = &op.meta.block;
        b.first_op = L.first;
        b.last_op = L.last;
        m_build.push_back(b);
      }
      last_block_unit = u;
      L.unit = u;
      UnitBuild& b = m_build[static_cast<size_t>(u)];
      b.num_layers++;
      b.first_op = std::min(b.first_op, L.first);
      b.last_op = std::max(b.last_op, L.last);
    } else if (op.meta.block.empty() && is_depthwise(g, op)) {
      return false;
    }
  }
  for (size_t li = 0; li < m_layers.size(); ++li) {
    Layer& L = m_layers[li];
    if (L.unit >= 0) continue;
    L.unit = static_cast<int>(m_build.size());
    UnitBuild b;
    b.type = layer_type(g, ops[static_cast<size_t>(L.compute)]);
    b.num_layers = 1;
    b.first_op = L.first;
    b.last_op = L.last;
    m_build.push_back(b);
  }
  m_unit_of_op.assign(n, -1);
  for (size_t i = 0; i < n; ++i)
    m_unit_of_op[i] = m_layers[static_cast<size_t>(m_layer_of[i])].unit;
  list_unit_layers();
  return true;
}

// Layers of each unit, unit-major, in layer (= compute op) order (a counting sort by unit), and
// each unit's first position in that list.
void GraphScanner::list_unit_layers() {
  m_order.assign(m_build.size() + 1, 0);
  for (const Layer& L : m_layers) m_order[static_cast<size_t>(L.unit) + 1]++;
  for (size_t u = 0; u < m_build.size(); ++u) {
    m_order[u + 1] += m_order[u];
    m_build[u].first_layer = m_order[u];
  }
  m_layer_list.assign(m_layers.size(), -1);
  for (size_t li = 0; li < m_layers.size(); ++li) {
    const size_t u = static_cast<size_t>(m_layers[li].unit);
    m_layer_list[static_cast<size_t>(m_order[u]++)] = static_cast<int>(li);
  }
}

void GraphScanner::group_decompose(const ir::Graph& g, bool fuse) {
  DecomposeOptions o;
  o.fuse_activations = fuse;
  const std::vector<Unit> units = decompose(g, o);
  const auto& ops = g.ops();
  m_build.clear();
  m_unit_of_op.assign(ops.size(), -1);
  for (auto& L : m_layers) L.unit = -1;
  for (size_t ui = 0; ui < units.size(); ++ui) {
    const Unit& u = units[ui];
    for (int op : u.ops) {
      m_unit_of_op[static_cast<size_t>(op)] = static_cast<int>(ui);
      m_layers[static_cast<size_t>(m_layer_of[static_cast<size_t>(op)])].unit =
          static_cast<int>(ui);
    }
    UnitBuild b;
    b.type = u.type;
    b.num_layers = static_cast<int>(u.layers.size());
    b.block = &ops[static_cast<size_t>(u.ops.front())].meta.block;
    b.first_op = u.ops.front();
    b.last_op = u.ops.back();
    m_build.push_back(b);
  }
  list_unit_layers();
}

void GraphScanner::fill_geometry(const ir::Graph& g) {
  const auto& ops = g.ops();
  // Units in order of their first op.
  m_order.resize(m_build.size());
  for (size_t i = 0; i < m_build.size(); ++i) m_order[i] = static_cast<int>(i);
  std::sort(m_order.begin(), m_order.end(), [&](int a, int b) {
    return m_build[static_cast<size_t>(a)].first_op < m_build[static_cast<size_t>(b)].first_op;
  });
  m_geoms.resize(m_layers.size());
  m_units.resize(m_build.size());
  size_t gi = 0;
  for (size_t k = 0; k < m_order.size(); ++k) {
    const UnitBuild& b = m_build[static_cast<size_t>(m_order[k])];
    ScannedUnit& su = m_units[k];
    su.type = b.type;
    su.first_op = b.first_op;
    su.last_op = b.last_op;
    const ir::Op& first = ops[static_cast<size_t>(b.first_op)];
    const ir::Op& last = ops[static_cast<size_t>(b.last_op)];
    su.name = b.block && !b.block->empty() && is_block_type(b.type)
                  ? b.block
                  : &ops[static_cast<size_t>(
                             m_layers[static_cast<size_t>(
                                          m_layer_list[static_cast<size_t>(b.first_layer)])]
                                 .compute)]
                         .name;
    su.in_tensor = first.inputs.empty() ? ir::kNoTensor : first.inputs[0];
    su.out_tensor = last.output;
    const bool block = is_block_type(b.type);
    bool residual = false;
    if (block) {
      for (int j = 0; j < b.num_layers; ++j) {
        const Layer& L =
            m_layers[static_cast<size_t>(m_layer_list[static_cast<size_t>(b.first_layer + j)])];
        residual |= ops[static_cast<size_t>(L.compute)].kind == OpKind::kAdd;
      }
    }
    UnitGeom& u = su.geom;
    u = UnitGeom{};
    u.type = b.type;
    u.layers = m_geoms.data() + gi;
    u.num_layers = b.num_layers;
    const ir::Shape empty;
    const ir::Shape& ins = first.inputs.empty() ? empty : g.shape(first.inputs[0]);
    const ir::Shape& outs = g.shape(last.output);
    u.in_elems = numel(ins);
    u.out_elems = numel(outs);
    u.in_c = dim(ins, 1), u.in_h = dim(ins, 2), u.in_w = dim(ins, 3);
    u.out_c = dim(outs, 1), u.out_h = dim(outs, 2), u.out_w = dim(outs, 3);
    for (int j = 0; j < b.num_layers; ++j) {
      const Layer& L =
          m_layers[static_cast<size_t>(m_layer_list[static_cast<size_t>(b.first_layer + j)])];
      const ir::Op& op = ops[static_cast<size_t>(L.compute)];
      LayerGeom& lg = m_geoms[gi++];
      lg = op_geom(g, op, j == 0, block && residual);
      u.macs += lg.macs;
      u.params += lg.params;
      u.vector_ops += lg.vector_ops;
    }
    if (block) {
      u.cin = ins.size() > 1 ? ins[1] : 0;
      u.cout = outs.size() > 1 ? outs[1] : 0;
      u.hidden = u.cin;
      u.residual = residual;
      for (int j = 0; j < b.num_layers; ++j) {
        const LayerGeom& lg = u.layers[j];
        const ir::Op& op = ops[static_cast<size_t>(
            m_layers[static_cast<size_t>(m_layer_list[static_cast<size_t>(b.first_layer + j)])]
                .compute)];
        const bool spatial = lg.kind == OpKind::kConv2d && (lg.kh > 1 || lg.sh > 1);
        if (spatial && u.kernel == 0) {
          u.kernel = lg.kh;
          u.stride = lg.sh;
          u.hidden = lg.cout;
        }
        if (eq(op.meta.role, "se.reduce")) u.se_channels = lg.cout;
      }
      if (u.kernel == 0) u.kernel = 1;
    }
  }
}

void GraphScanner::predict_context(const ir::Graph& g, const ChipFeatures& chip) {
  const auto& ops = g.ops();
  const double ab = chip.act_bytes;
  // Working-set reserve of every layer (the lowering reserves each layer's lean working set):
  // a few double-buffered minimal tiles (chip.hpp MinimalTile).
  const int64_t reserve =
      static_cast<int64_t>(4.0 *
                           (static_cast<double>(chip.pes()) * chip.weight_bytes + chip.rows * ab +
                            chip.cols * chip.acc_bytes) *
                           (chip.double_buffering ? 2 : 1));
  // Buffers, as the lowering forms them: a view's output shares its input's storage (views
  // join their producer's layer, so a layer's outputs are one buffer), and an in-place
  // concatenation's inputs are slices of its output (hw/lower/grouping.cpp). Indexed by layer.
  const size_t nl = m_layers.size();
  m_parent.resize(nl);
  for (size_t l = 0; l < nl; ++l) m_parent[l] = static_cast<int>(l);
  auto find = [&](int x) {
    while (m_parent[static_cast<size_t>(x)] != x) {
      m_parent[static_cast<size_t>(x)] =
          m_parent[static_cast<size_t>(m_parent[static_cast<size_t>(x)])];
      x = m_parent[static_cast<size_t>(x)];
    }
    return x;
  };
  for (size_t l = 0; l < nl; ++l) {
    const ir::Op& op = ops[static_cast<size_t>(m_layers[l].compute)];
    if (op.kind != OpKind::kConcat || !concat_in_place(g, op)) continue;
    for (ir::TensorId t : op.inputs) {
      const int p = g.tensor(t).producer;
      if (p >= 0)
        m_parent[static_cast<size_t>(find(m_layer_of[static_cast<size_t>(p)]))] =
            find(static_cast<int>(l));
    }
  }
  m_buf.assign(nl, BufInfo{});
  for (size_t l = 0; l < nl; ++l) {
    BufInfo& b = m_buf[static_cast<size_t>(find(static_cast<int>(l)))];
    b.bytes = std::max(
        b.bytes, static_cast<int64_t>(static_cast<double>(numel(g.shape(m_layers[l].out))) * ab));
    b.first = b.first < 0 ? static_cast<int>(l) : std::min(b.first, static_cast<int>(l));
  }
  for (size_t i = 0; i < ops.size(); ++i) {
    BufInfo& b = m_buf[static_cast<size_t>(find(m_layer_of[i]))];
    for (int c : g.tensor(ops[i].output).consumers)
      b.last = std::max(b.last, m_layer_of[static_cast<size_t>(c)]);
  }
  for (ir::TensorId t : g.outputs()) {
    const int p = g.tensor(t).producer;
    if (p >= 0)
      m_buf[static_cast<size_t>(find(m_layer_of[static_cast<size_t>(p)]))].graph_io = true;
  }
  m_resident.assign(nl, 0);
  m_cands.clear();
  for (size_t l = 0; l < nl; ++l) {
    const BufInfo& b = m_buf[l];
    if (find(static_cast<int>(l)) != static_cast<int>(l) || b.graph_io || b.first < 0 ||
        b.last <= b.first || b.bytes <= 0)
      continue;
    m_cands.push_back({static_cast<int>(l), b.first, b.last, b.bytes});
  }
  // Shortest lifetime first, then earlier (the lowering's order). Candidates were made in layer
  // order and no two share a first layer, so a counting sort by lifetime is the whole sort.
  m_count.assign(nl + 1, 0);
  for (const Cand& c : m_cands) m_count[static_cast<size_t>(c.last - c.first)]++;
  for (size_t k = 1; k <= nl; ++k) m_count[k] += m_count[k - 1];
  m_sorted.resize(m_cands.size());
  for (size_t i = m_cands.size(); i-- > 0;)
    m_sorted[static_cast<size_t>(
        --m_count[static_cast<size_t>(m_cands[i].last - m_cands[i].first)])] = m_cands[i];
  m_cands.swap(m_sorted);
  m_addr.assign(m_cands.size(), 0);
  const int64_t limit = chip.sram_bytes - reserve;
  // Placed buffers live at each layer, so that a candidate meets only those it overlaps.
  if (m_live.size() < m_layers.size()) m_live.resize(m_layers.size());
  for (size_t l = 0; l < m_layers.size(); ++l) m_live[l].clear();
  m_stamp.assign(m_cands.size(), -1);
  for (size_t ci = 0; ci < m_cands.size(); ++ci) {
    const Cand& c = m_cands[ci];
    if (c.bytes > limit) continue;
    m_busy.clear();
    for (int l = c.first; l <= c.last; ++l) {
      for (int pi : m_live[static_cast<size_t>(l)]) {
        if (m_stamp[static_cast<size_t>(pi)] == static_cast<int>(ci)) continue;
        m_stamp[static_cast<size_t>(pi)] = static_cast<int>(ci);
        m_busy.emplace_back(
            m_addr[static_cast<size_t>(pi)],
            m_addr[static_cast<size_t>(pi)] + m_cands[static_cast<size_t>(pi)].bytes);
      }
    }
    std::sort(m_busy.begin(), m_busy.end());
    int64_t addr = 0;
    for (const auto& iv : m_busy) {
      if (addr + c.bytes <= iv.first) break;
      addr = std::max(addr, iv.second);
    }
    if (addr + c.bytes > limit) continue;
    m_addr[ci] = addr;
    for (int l = c.first; l <= c.last; ++l)
      m_live[static_cast<size_t>(l)].push_back(static_cast<int>(ci));
    m_resident[static_cast<size_t>(c.t)] = 1;
  }
  // A tensor is resident when its buffer (its producer's layer's) is.
  auto resident = [&](ir::TensorId t) {
    const int p = g.tensor(t).producer;
    return p >= 0 && m_resident[static_cast<size_t>(find(m_layer_of[static_cast<size_t>(p)]))] != 0;
  };
  for (ScannedUnit& su : m_units) {
    const ir::Op& first = ops[static_cast<size_t>(su.first_op)];
    bool in_on = !first.inputs.empty();
    for (ir::TensorId t : first.inputs) in_on = in_on && resident(t);
    su.context.input_on_chip = in_on;
    su.context.output_on_chip = su.out_tensor != ir::kNoTensor && resident(su.out_tensor);
  }
}

void GraphScanner::scan(const ir::Graph& g, const ChipFeatures& chip) {
  m_used_decompose = false;
  make_layers(g, chip.fused_activations);
  if (!group_fast(g)) {
    m_used_decompose = true;
    group_decompose(g, chip.fused_activations);
  }
  fill_geometry(g);
  predict_context(g, chip);
}

}  // namespace nax::est
