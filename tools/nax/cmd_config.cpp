// Placeholder: `nax config` and `nax describe` land with the chip schema (issue 2, in progress).
#include "tools/nax/cli.hpp"

namespace nax::cli {
void add_config_commands(CLI::App&) {}
}  // namespace nax::cli
