// Shared pieces of the `nax` command line: subcommand registration, JSON output, tables.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace nax::cli {

// Each subcommand file defines one of these and main.cpp calls it.
void add_model_commands(CLI::App& app);
void add_config_commands(CLI::App& app);
void add_sim_commands(CLI::App& app);     // cmd_sim.cpp
void add_bench_commands(CLI::App& app);   // cmd_bench.cpp
void add_traces_commands(CLI::App& app);  // cmd_traces.cpp
// Adds `traces` under the `bench` subcommand (cmd_bench_traces.cpp).
void add_bench_traces_command(CLI::App& bench);
void add_fit_commands(CLI::App& app);       // cmd_fit.cpp
void add_estimate_commands(CLI::App& app);  // cmd_estimate.cpp
// Adds `estimate` under the `bench` subcommand (cmd_bench_estimate.cpp).
void add_bench_estimate_command(CLI::App& bench);
void add_train_commands(CLI::App& app);            // cmd_train.cpp
void add_proxy_commands(CLI::App& app);            // cmd_proxy.cpp
void add_proxy_validate_command(CLI::App& proxy);  // cmd_proxy_validate.cpp
void add_advise_commands(CLI::App& app);           // cmd_advise.cpp
void add_search_commands(CLI::App& app);           // cmd_search.cpp
void add_study_commands(CLI::App& app);            // cmd_study.cpp
void add_sweep_commands(CLI::App& app);            // cmd_sweep.cpp

// The version recorded in every result.
const char* version();

// Writes JSON to PATH, or to stdout for "-". Throws nax::Error when the file cannot be written.
void write_json(const nlohmann::json& j, const std::string& path);

// Writes text to PATH, or to stdout for "-".
void write_text(const std::string& text, const std::string& path);

// A plain terminal table: columns left-aligned for text, right-aligned for numbers.
class Table {
 public:
  explicit Table(std::vector<std::string> header, std::vector<bool> right_align = {});
  void row(std::vector<std::string> cells);
  std::string str() const;

 private:
  std::vector<std::string> m_header;
  std::vector<bool> m_right;
  std::vector<std::vector<std::string>> m_rows;
};

// 1234567 -> "1.23M", 2048 -> "2.05k"; exact below 1000.
std::string human(double v);
// Bytes: 1536 -> "1.5 KiB".
std::string human_bytes(double v);
// 1234567 -> "1,234,567".
std::string grouped(int64_t v);

// The exit code a command asks for without throwing (an interrupted long job: 128 + the signal),
// returned by main() after the command; 0 by default. Throwing after a simulation has run would
// trip AddressSanitizer's stack bookkeeping in sanitizer builds (google/sanitizers#189).
void set_exit_code(int code);

// Runs this binary with `args` (stdout discarded; stderr too unless `keep_stderr`, for a child's
// progress) and returns its wall time in seconds; throws Error when it fails (benchmarks of whole
// processes, and jobs a command delegates to another subcommand).
double run_self(const std::vector<std::string>& args, bool keep_stderr = false);
int exit_code();

// `--shard i/n` (0 <= i < n): index and count; "" is 0/1. InputError for anything else.
void parse_shard(const std::string& s, int& index, int& count);

}  // namespace nax::cli
