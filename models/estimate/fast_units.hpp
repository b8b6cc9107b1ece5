// The lean path from a graph to unit geometries, for `nax estimate` and search loops: groups the
// graph's ops into units with est::decompose's rules (models/estimate/unit.hpp) without building
// Unit records or hashing subgraphs, and predicts each unit's context (input / output resident in
// SRAM) the way the lowering decides it. A GraphScanner keeps its buffers between calls, so
// scanning graph after graph allocates nothing once warm.
//
// Scope: block-level graphs (zoo, YAML, search candidates), whose ops carry block metadata.
// A graph with a depthwise conv outside any block (an ONNX import, where decompose finds inverted
// bottlenecks by pattern) is grouped by est::decompose itself (slower, same result).
//
// Context prediction: the lowering's residency rule (hw/lower/lower.cpp step 3) replayed at
// layer granularity. Buffers are formed as the lowering forms them (views share their input's
// storage, an in-place concatenation's inputs are slices of its output); graph inputs start in
// DRAM and graph outputs end there; every other buffer is placed, shortest lifetime first, at the
// lowest SRAM address free over its lifetime and below the capacity minus a working-set reserve
// (a few double-buffered minimal tiles, where the lowering reserves each layer's actual lean
// working set); a buffer that finds no room is in DRAM. A unit's input is on chip when every
// input of its first op is; its output when its last op's is. What the predictor does not model:
// the exact reserve of each layer and the lowering's final comparison of this plan with its
// strict and nothing-on-chip variants. Measured: 99.8% of units right on `default`, fewer on
// chips with very small SRAMs (fit reports the rate and the cost: (d) with labelled contexts).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/estimate/chip_features.hpp"
#include "models/estimate/features.hpp"
#include "models/ir/graph.hpp"

namespace nax::est {

struct ScannedUnit {
  UnitType type = UnitType::kOther;
  const std::string* name = nullptr;  // block name or compute op name (points into the graph)
  UnitGeom geom;                      // layers point into the scanner's storage
  Context context;                    // predicted
  int first_op = 0, last_op = 0;
  ir::TensorId in_tensor = ir::kNoTensor, out_tensor = ir::kNoTensor;
};

class GraphScanner {
 public:
  // Groups `g` into units (decompose's rules and order) and predicts their contexts on `chip`.
  // The graph must outlive the results (names point into it).
  void scan(const ir::Graph& g, const ChipFeatures& chip);
  const std::vector<ScannedUnit>& units() const { return m_units; }
  bool used_decompose() const { return m_used_decompose; }

 private:
  void make_layers(const ir::Graph& g, bool fuse);
  bool group_fast(const ir::Graph& g);
  void group_decompose(const ir::Graph& g, bool fuse);
  void list_unit_layers();
  void fill_geometry(const ir::Graph& g);
  void predict_context(const ir::Graph& g, const ChipFeatures& chip);

  struct Layer {
    int compute = -1;
    int first = 0, last = 0;  // op index range covered (min / max)
    ir::TensorId in = ir::kNoTensor, out = ir::kNoTensor;
    int unit = -1;
  };
  std::vector<int> m_layer_of;  // per op
  std::vector<Layer> m_layers;
  std::vector<int> m_unit_of_op;
  struct UnitBuild {
    UnitType type = UnitType::kOther;
    int first_layer = -1;
    int num_layers = 0;
    const std::string* block = nullptr;
    int first_op = 0, last_op = 0;
  };
  std::vector<UnitBuild> m_build;
  std::vector<int> m_layer_list;  // layers of each unit, grouped (unit-major)
  std::vector<int> m_order;
  std::vector<LayerGeom> m_geoms;
  std::vector<ScannedUnit> m_units;
  // context prediction scratch
  struct Cand {
    int t;  // the buffer's root layer
    int first, last;
    int64_t bytes;
  };
  std::vector<Cand> m_cands, m_sorted;
  std::vector<int> m_count;
  std::vector<int> m_parent;  // union-find over layers (buffers)
  struct BufInfo {
    int64_t bytes = 0;
    int first = -1, last = -1;  // layers it is live at
    bool graph_io = false;
  };
  std::vector<BufInfo> m_buf;
  std::vector<int64_t> m_addr;
  std::vector<std::vector<int>> m_live;  // per layer: placed candidates live there
  std::vector<int> m_stamp;
  std::vector<std::pair<int64_t, int64_t>> m_busy;
  std::vector<int8_t> m_resident;  // per buffer (root layer): 1 resident in SRAM
  bool m_used_decompose = false;
};

}  // namespace nax::est
