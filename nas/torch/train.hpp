// Short training inside the plugin (nas/torch/train.cpp), behind api.hpp's short_train.
// Torch-free declaration.
#pragma once

#include "models/ir/graph.hpp"
#include "nas/torch/api.hpp"

namespace nax::torchnet {

TrainResult short_train_impl(const ir::Graph& g, const TrainOptions& o);

}  // namespace nax::torchnet
