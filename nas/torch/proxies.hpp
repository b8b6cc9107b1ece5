// The zero-shot proxies as the plugin implements them (nas/torch/proxies.cpp; definitions, inputs
// and costs in nas/torch/PROXIES.md); nas/torch/plugin.cpp puts these into the plugin's function
// table, behind api.hpp's compute_proxies and proxy_names. Torch-free declarations.
#pragma once

#include <string>
#include <vector>

#include "models/ir/graph.hpp"
#include "nas/torch/api.hpp"

namespace nax::torchnet {

ProxyResult compute_proxies_impl(const ir::Graph& g, const ProxyOptions& o);
std::vector<std::string> proxy_names_impl();

}  // namespace nax::torchnet
