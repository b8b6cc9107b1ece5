// PNG plots drawn by the Python scripts in tools/ (plot_study.py, plot_sweep.py) with Debian's
// /usr/bin/python3 and python3-matplotlib. Plots are optional: a machine without them gets the
// results and a "plots skipped (why)" line, never a failed command.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace nax::cli {

// The source tree this binary was built from (configs/, tools/*.py): the CLI's sources are
// compiled by absolute path.
std::filesystem::path source_dir();

struct PlotResult {
  std::vector<std::string> pngs;  // the file names the script printed, in its order
  std::string skipped;            // why nothing was drawn ("" when the script succeeded)
};

// Runs `/usr/bin/python3 <source>/tools/<script> <args...>`, which prints the name of each PNG it
// writes, one a line. Missing python3, a missing script, a missing matplotlib or a failing script
// come back in `skipped` (with the script's last line of output), not as an exception.
PlotResult run_plot_script(const std::string& script, const std::vector<std::string>& args);

}  // namespace nax::cli
