// Parameter declarations shared by several block types, so each is described once.
#pragma once

#include <limits>

#include "models/common/params.hpp"
#include "models/spec/model_spec.hpp"

namespace nax::spec::bp {

constexpr double kInf = std::numeric_limits<double>::infinity();

inline ParamDecl out(std::optional<int64_t> def = std::nullopt) {
  return ParamDecl::integer("out", "channels", def, 1, 1 << 20, "output channels");
}
inline ParamDecl kernel(int64_t def = 3) {
  return ParamDecl::integer("kernel", "px", def, 1, 31, "kernel size (square)");
}
inline ParamDecl stride(int64_t def = 1) {
  return ParamDecl::integer("stride", "px", def, 1, 8, "stride of the block's spatial reduction");
}
inline ParamDecl dilation() {
  return ParamDecl::integer("dilation", "px", 1, 1, 64, "dilation of the spatial convolution");
}
inline ParamDecl act(const std::string& def) {
  return ParamDecl::enumeration("act", activation_names(), def, "activation function");
}
inline ParamDecl expansion(double def) {
  return ParamDecl::number("expansion", "x", def, 0.05, 64,
                           "expanded channels = round(input channels x expansion)");
}
inline ParamDecl expand_channels() {
  return ParamDecl::integer("expand_channels", "channels", 0, 0, 1 << 20,
                            "expanded channels, overriding expansion when > 0");
}
inline ParamDecl se_channels() {
  return ParamDecl::integer("se_channels", "channels", 0, 0, 1 << 20,
                            "squeeze-excite bottleneck channels; 0 for no squeeze-excite");
}
inline ParamDecl se_act() {
  return ParamDecl::enumeration("se_act", activation_names(), std::string("relu"),
                                "activation after the squeeze-excite reduce conv");
}
inline ParamDecl se_gate() {
  return ParamDecl::enumeration("se_gate", activation_names(), std::string("hsigmoid"),
                                "gate activation of squeeze-excite");
}
inline ParamDecl residual() {
  return ParamDecl::boolean(
      "residual", true, "add the block input to its output when stride is 1 and channels match");
}
inline ParamDecl inputs() {
  return ParamDecl::string_list("inputs", {}, std::nullopt, "blocks (or taps) to combine");
}

}  // namespace nax::spec::bp
