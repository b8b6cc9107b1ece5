// nax: Neural Accelerator eXplorer. One binary; each subcommand lives in its own cmd_*.cpp.
// Exit codes: 0 success, 2 bad input or usage, 1 any other failure.
#include <iostream>

#include "models/common/error.hpp"
#include "tools/nax/cli.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "nax: Neural Accelerator eXplorer -- simulate neural accelerators, estimate latency, and "
      "search networks and chips together.",
      "nax"};
  app.set_version_flag("--version", std::string("nax ") + nax::cli::version());
  app.require_subcommand(1);
  app.footer(
      "Examples:\n"
      "  nax model info --model mobilenet_v2:width=0.75,resolution=160\n"
      "  nax config dump --chip default -p mac_array.rows=64\n"
      "  nax sim --model mobilenet_v2 --chip default --json result.json\n"
      "  nax describe\n"
      "Run `nax <subcommand> --help` for each subcommand's options.");
  nax::cli::add_model_commands(app);
  nax::cli::add_config_commands(app);
  nax::cli::add_sim_commands(app);
  nax::cli::add_bench_commands(app);
  nax::cli::add_bench_traces_command(*app.get_subcommand("bench"));
  nax::cli::add_traces_commands(app);
  nax::cli::add_bench_estimate_command(*app.get_subcommand("bench"));
  nax::cli::add_fit_commands(app);
  nax::cli::add_estimate_commands(app);
  nax::cli::add_train_commands(app);
  nax::cli::add_proxy_commands(app);
  nax::cli::add_proxy_validate_command(*app.get_subcommand("proxy"));
  nax::cli::add_advise_commands(app);
  nax::cli::add_search_commands(app);
  nax::cli::add_study_commands(app);
  nax::cli::add_sweep_commands(app);
  try {
    app.parse(argc, argv);
    return nax::cli::exit_code();
  } catch (const CLI::RuntimeError& e) {  // a subcommand's own exit code (130 after Ctrl-C)
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const nax::InputError& e) {
    for (const auto& d : e.diagnostics()) std::cerr << "nax: error: " << d.str() << "\n";
    return 2;
  } catch (const nax::Error& e) {
    std::cerr << "nax: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "nax: internal error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
