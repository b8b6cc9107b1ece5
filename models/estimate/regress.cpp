#include "models/estimate/regress.hpp"

#include <xgboost/c_api.h>

#include <cmath>
#include <functional>
#include <limits>
#include <memory>

#include "models/common/error.hpp"

namespace nax::est {

Eigen::VectorXd fit_ridge(const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                          const Eigen::VectorXd& weight, double lambda) {
  const Eigen::Index n = x.rows(), k = x.cols();
  if (n == 0) return Eigen::VectorXd::Zero(k);
  const Eigen::VectorXd sw = weight.cwiseSqrt();
  const Eigen::MatrixXd xw = sw.asDiagonal() * x;
  const Eigen::VectorXd yw = sw.cwiseProduct(y);
  Eigen::VectorXd scale(k);
  const double wsum = std::max(weight.sum(), 1e-300);
  for (Eigen::Index j = 0; j < k; ++j) {
    const double rms = std::sqrt(xw.col(j).squaredNorm() / wsum);
    scale(j) = rms > 0 ? rms : 1.0;
  }
  const Eigen::MatrixXd xs = xw * scale.cwiseInverse().asDiagonal();
  Eigen::MatrixXd a = xs.transpose() * xs;
  a.diagonal().array() += lambda * wsum + 1e-12 * a.diagonal().maxCoeff();
  const Eigen::VectorXd b = xs.transpose() * yw;
  const Eigen::VectorXd ws = a.ldlt().solve(b);
  return ws.cwiseQuotient(scale);
}

// ------------------------------------------------------------------ TreeEnsemble

void TreeEnsemble::build_dense() {
  // Depth of every tree.
  m_depth = 0;
  for (int32_t r : m_roots) {
    std::vector<std::pair<int32_t, int>> stack = {{r, 0}};
    while (!stack.empty()) {
      const auto [n, d] = stack.back();
      stack.pop_back();
      const Node& nd = m_nodes[static_cast<size_t>(n)];
      if (nd.feature < 0) {
        m_depth = std::max(m_depth, d);
      } else {
        stack.push_back({nd.left, d + 1});
        stack.push_back({nd.left + 1, d + 1});
      }
    }
  }
  m_dense_depth = 0;
  m_dense_feature.clear();
  m_dense_threshold.clear();
  m_dense_leaf.clear();
  if (m_depth > kMaxDense || m_roots.empty()) return;
  const int D = std::max(1, m_depth);
  const size_t inner = (size_t{1} << D) - 1, leaves = size_t{1} << D;
  m_dense_feature.assign(inner * m_roots.size(), 0);
  m_dense_threshold.assign(inner * m_roots.size(), 0.f);
  m_dense_leaf.assign(leaves * m_roots.size(), 0.f);
  for (size_t t = 0; t < m_roots.size(); ++t) {
    int32_t* feat = &m_dense_feature[t * inner];
    float* thr = &m_dense_threshold[t * inner];
    float* leaf = &m_dense_leaf[t * leaves];
    // Walk: (source node, dense index). A leaf above the last level becomes splits that always
    // go left (threshold +inf), its value copied to every leaf below it.
    std::vector<std::pair<int32_t, size_t>> stack = {{m_roots[t], 0}};
    while (!stack.empty()) {
      const auto [n, i] = stack.back();
      stack.pop_back();
      const Node& nd = m_nodes[static_cast<size_t>(n)];
      if (i >= inner) {
        leaf[i - inner] = nd.value;  // a leaf on the last level
        continue;
      }
      if (nd.feature < 0) {
        // Fill the subtree below i: splits always left, leaves = value.
        std::vector<size_t> sub = {i};
        while (!sub.empty()) {
          const size_t j = sub.back();
          sub.pop_back();
          if (j >= inner) {
            leaf[j - inner] = nd.value;
            continue;
          }
          feat[j] = 0;
          thr[j] = std::numeric_limits<float>::infinity();
          sub.push_back(2 * j + 1);
          sub.push_back(2 * j + 2);
        }
        continue;
      }
      feat[i] = nd.feature;
      thr[i] = nd.value;
      stack.push_back({nd.left, 2 * i + 1});
      stack.push_back({nd.left + 1, 2 * i + 2});
    }
  }
  m_dense_depth = D;
}

float TreeEnsemble::predict_dense(const float* x) const {
  const int D = m_dense_depth;
  const size_t inner = (size_t{1} << D) - 1, leaves = size_t{1} << D;
  const size_t nt = m_roots.size();
  const int32_t* feat = m_dense_feature.data();
  const float* thr = m_dense_threshold.data();
  const float* leaf = m_dense_leaf.data();
  float sum = 0;
  size_t t = 0;
  // Four trees at a time: independent chains of loads overlap.
  for (; t + 4 <= nt; t += 4) {
    const size_t o0 = t * inner, o1 = o0 + inner, o2 = o1 + inner, o3 = o2 + inner;
    size_t i0 = 0, i1 = 0, i2 = 0, i3 = 0;
    for (int d = 0; d < D; ++d) {
      i0 = 2 * i0 + 1 + static_cast<size_t>(!(x[feat[o0 + i0]] < thr[o0 + i0]));
      i1 = 2 * i1 + 1 + static_cast<size_t>(!(x[feat[o1 + i1]] < thr[o1 + i1]));
      i2 = 2 * i2 + 1 + static_cast<size_t>(!(x[feat[o2 + i2]] < thr[o2 + i2]));
      i3 = 2 * i3 + 1 + static_cast<size_t>(!(x[feat[o3 + i3]] < thr[o3 + i3]));
    }
    // Added in tree order, as XGBoost does.
    sum += leaf[t * leaves + i0 - inner];
    sum += leaf[(t + 1) * leaves + i1 - inner];
    sum += leaf[(t + 2) * leaves + i2 - inner];
    sum += leaf[(t + 3) * leaves + i3 - inner];
  }
  for (; t < nt; ++t) {
    const size_t o = t * inner;
    size_t i = 0;
    for (int d = 0; d < D; ++d) i = 2 * i + 1 + static_cast<size_t>(!(x[feat[o + i]] < thr[o + i]));
    sum += leaf[t * leaves + i - inner];
  }
  return m_base + sum;
}

TreeEnsemble TreeEnsemble::from_xgboost_json(const nlohmann::json& model, int num_features) {
  TreeEnsemble e;
  e.m_num_features = num_features;
  try {
    const auto& learner = model.at("learner");
    e.m_base = std::stof(learner.at("learner_model_param").at("base_score").get<std::string>());
    const auto& trees = learner.at("gradient_booster").at("model").at("trees");
    for (const auto& t : trees) {
      const auto left = t.at("left_children").get<std::vector<int>>();
      const auto right = t.at("right_children").get<std::vector<int>>();
      const auto feat = t.at("split_indices").get<std::vector<int>>();
      const auto cond = t.at("split_conditions").get<std::vector<float>>();
      if (left.size() != right.size() || left.size() != feat.size() || left.size() != cond.size() ||
          left.empty()) {
        throw InputError("XGBoost model: inconsistent tree arrays");
      }
      // Breadth-first re-layout so that right = left + 1.
      const int32_t root = static_cast<int32_t>(e.m_nodes.size());
      e.m_roots.push_back(root);
      std::vector<int> queue = {0};
      e.m_nodes.emplace_back();
      for (size_t qi = 0; qi < queue.size(); ++qi) {
        const int src = queue[qi];
        Node& dst = e.m_nodes[static_cast<size_t>(root) + qi];
        if (left[static_cast<size_t>(src)] < 0) {
          dst.feature = -1;
          dst.value = cond[static_cast<size_t>(src)];
          continue;
        }
        if (feat[static_cast<size_t>(src)] < 0 || feat[static_cast<size_t>(src)] >= num_features)
          throw InputError("XGBoost model: split on an unknown feature");
        dst.feature = feat[static_cast<size_t>(src)];
        dst.value = cond[static_cast<size_t>(src)];
        dst.left = root + static_cast<int32_t>(queue.size());
        queue.push_back(left[static_cast<size_t>(src)]);
        queue.push_back(right[static_cast<size_t>(src)]);
        e.m_nodes.emplace_back();
        e.m_nodes.emplace_back();
      }
    }
  } catch (const nlohmann::json::exception& ex) {
    throw InputError(std::string("XGBoost model: ") + ex.what());
  }
  e.build_dense();
  return e;
}

nlohmann::json TreeEnsemble::to_json() const {
  std::vector<int32_t> feature, left;
  std::vector<double> value;
  for (const Node& n : m_nodes) {
    feature.push_back(n.feature);
    value.push_back(static_cast<double>(n.value));
    left.push_back(n.left);
  }
  return {{"base", static_cast<double>(m_base)},
          {"num_features", m_num_features},
          {"roots", m_roots},
          {"feature", feature},
          {"value", value},
          {"left", left}};
}

TreeEnsemble TreeEnsemble::from_json(const nlohmann::json& j) {
  TreeEnsemble e;
  try {
    e.m_base = static_cast<float>(j.at("base").get<double>());
    e.m_num_features = j.at("num_features").get<int>();
    e.m_roots = j.at("roots").get<std::vector<int32_t>>();
    const auto feature = j.at("feature").get<std::vector<int32_t>>();
    const auto value = j.at("value").get<std::vector<double>>();
    const auto left = j.at("left").get<std::vector<int32_t>>();
    if (feature.size() != value.size() || feature.size() != left.size())
      throw InputError("trees: feature, value and left differ in length");
    const int32_t n = static_cast<int32_t>(feature.size());
    for (size_t i = 0; i < feature.size(); ++i) {
      Node nd;
      nd.feature = feature[i];
      nd.value = static_cast<float>(value[i]);
      nd.left = left[i];
      if (nd.feature >= e.m_num_features || nd.feature < -1 ||
          (nd.feature >= 0 && (nd.left <= static_cast<int32_t>(i) || nd.left + 1 >= n))) {
        throw InputError("trees: node " + std::to_string(i) + " is malformed");
      }
      e.m_nodes.push_back(nd);
    }
    for (int32_t r : e.m_roots)
      if (r < 0 || r >= n) throw InputError("trees: a root is out of range");
  } catch (const nlohmann::json::exception& ex) {
    throw InputError(std::string("trees: ") + ex.what());
  }
  e.build_dense();
  return e;
}

// ------------------------------------------------------------------ XGBoost training

namespace {

void check(int rc, const char* what) {
  if (rc != 0) throw Error(std::string("XGBoost ") + what + ": " + XGBGetLastError());
}

struct DMatrix {
  DMatrixHandle h = nullptr;
  ~DMatrix() {
    if (h) XGDMatrixFree(h);
  }
};

struct Booster {
  BoosterHandle h = nullptr;
  ~Booster() {
    if (h) XGBoosterFree(h);
  }
};

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

TreeEnsemble fit_trees(const std::vector<float>& x, size_t rows, size_t cols,
                       const std::vector<float>& y, const std::vector<float>& weight,
                       const TreeParams& p, std::vector<float>* xgb_predictions) {
  if (rows == 0 || x.size() != rows * cols || y.size() != rows)
    throw Error("fit_trees: empty or inconsistent training data");
  check(XGBSetGlobalConfig("{\"verbosity\": 0}"), "config");
  DMatrix d;
  check(XGDMatrixCreateFromMat(x.data(), rows, cols, std::nanf(""), &d.h), "matrix");
  check(XGDMatrixSetFloatInfo(d.h, "label", y.data(), rows), "labels");
  if (!weight.empty()) check(XGDMatrixSetFloatInfo(d.h, "weight", weight.data(), rows), "weights");
  Booster b;
  check(XGBoosterCreate(&d.h, 1, &b.h), "booster");
  const std::pair<const char*, std::string> params[] = {
      {"objective", "reg:squarederror"},
      {"tree_method", "hist"},
      {"max_depth", std::to_string(p.max_depth)},
      {"eta", num(p.eta)},
      {"subsample", num(p.subsample)},
      {"colsample_bynode", num(p.colsample)},
      {"min_child_weight", num(p.min_child_weight)},
      {"lambda", num(p.lambda)},
      {"num_parallel_tree", std::to_string(p.parallel_trees)},
      {"seed", std::to_string(p.seed)},
      {"nthread", std::to_string(p.threads)},
      {"base_score", "0"},
  };
  for (const auto& kv : params)
    check(XGBoosterSetParam(b.h, kv.first, kv.second.c_str()), kv.first);
  for (int i = 0; i < p.rounds; ++i) check(XGBoosterUpdateOneIter(b.h, i, d.h), "training");
  bst_ulong len = 0;
  const char* buf = nullptr;
  check(XGBoosterSaveModelToBuffer(b.h, "{\"format\": \"json\"}", &len, &buf), "save");
  const nlohmann::json model = nlohmann::json::parse(std::string(buf, len));
  TreeEnsemble e = TreeEnsemble::from_xgboost_json(model, static_cast<int>(cols));
  if (xgb_predictions) {
    bst_ulong n = 0;
    const float* out = nullptr;
    check(XGBoosterPredict(b.h, d.h, 0, 0, 0, &n, &out), "predict");
    xgb_predictions->assign(out, out + n);
  }
  return e;
}

}  // namespace nax::est
