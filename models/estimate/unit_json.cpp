#include "models/estimate/unit_json.hpp"

#include "models/common/error.hpp"

namespace nax::est {

namespace {

nlohmann::json layer_to_json(const LayerRec& r) {
  return {{"op", r.op},
          {"kind", ir::op_name(r.kind)},
          {"depthwise", r.depthwise},
          {"kernel", {r.kernel_h, r.kernel_w}},
          {"stride", {r.stride_h, r.stride_w}},
          {"dilation", r.dilation},
          {"groups", r.groups},
          {"in", r.in},
          {"out", r.out},
          {"macs", r.macs},
          {"params", r.params},
          {"vector_ops", r.vector_ops},
          {"role", r.role}};
}

bool parse_op_kind(const std::string& s, ir::OpKind& out) {
  for (int k = 0; k <= static_cast<int>(ir::OpKind::kZeros); ++k) {
    if (s == ir::op_name(static_cast<ir::OpKind>(k))) {
      out = static_cast<ir::OpKind>(k);
      return true;
    }
  }
  return false;
}

LayerRec layer_from_json(const nlohmann::json& j) {
  LayerRec r;
  r.op = j.at("op").get<int>();
  if (!parse_op_kind(j.at("kind").get<std::string>(), r.kind)) {
    throw InputError("unit description: unknown op kind '" + j.at("kind").get<std::string>() + "'");
  }
  r.depthwise = j.at("depthwise").get<bool>();
  r.kernel_h = j.at("kernel").at(0).get<int>();
  r.kernel_w = j.at("kernel").at(1).get<int>();
  r.stride_h = j.at("stride").at(0).get<int>();
  r.stride_w = j.at("stride").at(1).get<int>();
  r.dilation = j.at("dilation").get<int>();
  r.groups = j.at("groups").get<int>();
  r.in = j.at("in").get<ir::Shape>();
  r.out = j.at("out").get<ir::Shape>();
  r.macs = j.at("macs").get<int64_t>();
  r.params = j.at("params").get<int64_t>();
  r.vector_ops = j.at("vector_ops").get<int64_t>();
  r.role = j.at("role").get<std::string>();
  return r;
}

}  // namespace

nlohmann::json unit_to_json(const Unit& u) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& r : u.layers) layers.push_back(layer_to_json(r));
  return {{"type", unit_type_name(u.type)},
          {"name", u.name},
          {"ops", u.ops},
          {"layers", layers},
          {"in_shape", u.in_shape},
          {"out_shape", u.out_shape},
          {"macs", u.macs},
          {"params", u.params},
          {"vector_ops", u.vector_ops},
          {"cin", u.cin},
          {"hidden", u.hidden},
          {"cout", u.cout},
          {"kernel", u.kernel},
          {"stride", u.stride},
          {"se_channels", u.se_channels},
          {"residual", u.residual},
          {"hash", u.hash}};
}

Unit unit_from_json(const nlohmann::json& j) {
  try {
    Unit u;
    if (!parse_unit_type(j.at("type").get<std::string>(), u.type)) {
      throw InputError("unit description: unknown unit type '" + j.at("type").get<std::string>() +
                       "'");
    }
    u.name = j.at("name").get<std::string>();
    u.ops = j.at("ops").get<std::vector<int>>();
    for (const auto& l : j.at("layers")) u.layers.push_back(layer_from_json(l));
    u.in_shape = j.at("in_shape").get<ir::Shape>();
    u.out_shape = j.at("out_shape").get<ir::Shape>();
    u.macs = j.at("macs").get<int64_t>();
    u.params = j.at("params").get<int64_t>();
    u.vector_ops = j.at("vector_ops").get<int64_t>();
    u.cin = j.at("cin").get<int64_t>();
    u.hidden = j.at("hidden").get<int64_t>();
    u.cout = j.at("cout").get<int64_t>();
    u.kernel = j.at("kernel").get<int>();
    u.stride = j.at("stride").get<int>();
    u.se_channels = j.at("se_channels").get<int64_t>();
    u.residual = j.at("residual").get<bool>();
    u.hash = j.at("hash").get<std::string>();
    return u;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string("unit description: ") + e.what());
  }
}

}  // namespace nax::est
