#include "hw/chip/chip.hpp"

namespace nax::hw {

const char* dataflow_name(Dataflow d) {
  switch (d) {
    case Dataflow::kWeightStationary:
      return "ws";
    case Dataflow::kOutputStationary:
      return "os";
    case Dataflow::kInputStationary:
      return "is";
  }
  return "?";
}

}  // namespace nax::hw

// Placeholder until the chip schema lands (issue 2, in progress).
namespace nax::hw {
ChipParams load_chip(const std::string& chip_arg, const std::vector<std::string>&) {
  throw Error("chip configs are not built yet: " + chip_arg);
}
}  // namespace nax::hw
