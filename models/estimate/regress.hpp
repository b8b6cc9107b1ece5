// Regressors behind the latency models: weighted ridge regression (Eigen) and tree ensembles
// (trained by XGBoost, evaluated by our own flat evaluator).
//
// Why XGBoost (Debian's libxgboost-dev 1.7, C API): the nn-Meter-style baseline needs random
// forests, and the hardware-aware model's best form (chosen by measurement, see estimator.hpp)
// is gradient-boosted trees on top of the physics; writing and validating a tree learner here
// would be a project of its own. Only training uses the library: an estimator file stores the
// trees as plain arrays and TreeEnsemble::predict evaluates them (a test checks it equals
// XGBoost's own predictions), so `nax estimate` and search loops never call into XGBoost.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

namespace nax::est {

// Weighted ridge regression: argmin_w sum_i s_i (x_i.w - y_i)^2 + lambda n ||D w||^2, where D
// scales each column by its weighted RMS (so lambda is unit-free). Returns w.
Eigen::VectorXd fit_ridge(const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                          const Eigen::VectorXd& weight, double lambda);

// A forest of binary regression trees: prediction = base + sum of the leaves reached, a node
// going left when x[feature] < threshold (as XGBoost, in single precision).
class TreeEnsemble {
 public:
  bool empty() const { return m_roots.empty(); }
  int num_trees() const { return static_cast<int>(m_roots.size()); }
  int num_nodes() const { return static_cast<int>(m_nodes.size()); }
  int num_features() const { return m_num_features; }

  // `x` has num_features() values. Trees of depth <= kMaxDense are evaluated from a complete
  // (padded) layout, branch-free and four trees at a time; deeper ones node by node.
  float predict(const float* x) const {
    return m_dense_depth > 0 ? predict_dense(x) : predict_nodes(x);
  }
  float predict_nodes(const float* x) const {
    float sum = 0;
    const Node* nodes = m_nodes.data();
    for (int32_t r : m_roots) {
      const Node* n = nodes + r;
      while (n->feature >= 0) n = nodes + n->left + (x[n->feature] < n->value ? 0 : 1);
      sum += n->value;
    }
    return m_base + sum;
  }
  int depth() const { return m_depth; }
  static constexpr int kMaxDense = 8;

  // From XGBoost's JSON model (XGBoosterSaveModelToBuffer, format json). Throws InputError.
  static TreeEnsemble from_xgboost_json(const nlohmann::json& model, int num_features);
  nlohmann::json to_json() const;
  // Throws InputError naming what is malformed.
  static TreeEnsemble from_json(const nlohmann::json& j);

 private:
  struct Node {
    int32_t feature = -1;  // -1: leaf
    float value = 0;       // threshold, or the leaf's value
    int32_t left = 0;      // index of the left child; the right child is left + 1
  };
  float predict_dense(const float* x) const;
  void build_dense();

  std::vector<Node> m_nodes;
  std::vector<int32_t> m_roots;
  float m_base = 0;
  int m_num_features = 0;
  int m_depth = 0;
  // Complete layout (depth m_dense_depth): per tree 2^D - 1 split nodes (feature, threshold;
  // children of node i at 2i + 1 and 2i + 2) and 2^D leaves.
  int m_dense_depth = 0;
  std::vector<int32_t> m_dense_feature;
  std::vector<float> m_dense_threshold;
  std::vector<float> m_dense_leaf;
};

struct TreeParams {
  // Defaults of the hardware-aware model: 40 trees of depth 6 keep a prediction near half a
  // microsecond (nax fit --trees/--depth/--eta; the README's sweep shows the trade-off).
  int rounds = 40;  // boosting rounds
  int max_depth = 6;
  double eta = 0.15;       // learning rate
  double subsample = 1.0;  // row subsampling per tree
  double colsample = 1.0;  // column subsampling per node
  double min_child_weight = 1;
  double lambda = 1;       // L2 on leaf weights
  int parallel_trees = 1;  // > 1 with rounds = 1 and eta = 1: a random forest
  uint64_t seed = 0;
  int threads = 1;
};

// Trains with XGBoost (reg:squarederror, hist) on a row-major float matrix and returns the
// ensemble. When `xgb_predictions` is given, also XGBoost's own predictions for `x`.
TreeEnsemble fit_trees(const std::vector<float>& x, size_t rows, size_t cols,
                       const std::vector<float>& y, const std::vector<float>& weight,
                       const TreeParams& p, std::vector<float>* xgb_predictions = nullptr);

}  // namespace nax::est
