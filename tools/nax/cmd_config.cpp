// `nax config check|dump|list` and `nax describe`: chip descriptions, their presets and the
// declared parameters (chip schema, model-description blocks).
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "hw/chip/chip.hpp"
#include "hw/timing/timing.hpp"
#include "models/spec/model_spec.hpp"
#include "tools/nax/cli.hpp"

namespace nax::cli {
namespace {

constexpr const char* kDefaultChip = "default";

nlohmann::json chip_json(const hw::ChipParams& chip) {
  nlohmann::json values = nlohmann::json::object();
  for (const auto& d : hw::chip_schema().decls()) {
    const ParamValue& v = chip.values.entry(d.path).value;
    std::visit([&](const auto& x) { values[d.path] = x; }, v);
  }
  return {{"tool_version", version()},
          {"name", chip.name},
          {"description", chip.description},
          {"hash", chip.hash},
          {"values", values}};
}

std::string default_text(const ParamDecl& d) {
  if (!d.default_) return "required";
  const std::string s = format_value(*d.default_);
  return s.empty() ? "\"\"" : s;
}

nlohmann::json decl_json(const ParamDecl& d) {
  return {{"key", d.path},
          {"type", type_name(d.type)},
          {"unit", d.unit},
          {"default", d.default_ ? format_value(*d.default_) : ""},
          {"required", !d.default_.has_value()},
          {"range", d.range_text()},
          {"description", d.description},
          {"hashed", d.hashed}};
}

Table decl_table(const std::vector<ParamDecl>& decls) {
  Table t({"key", "type", "unit", "default", "range", "description"});
  for (const auto& d : decls) {
    t.row({d.path, type_name(d.type), d.unit, default_text(d), d.range_text(), d.description});
  }
  return t;
}

void run_describe(bool blocks, const std::string& json) {
  if (!blocks) {
    const auto& decls = hw::chip_schema().decls();
    if (!json.empty()) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& d : decls) j.push_back(decl_json(d));
      write_json({{"tool_version", version()}, {"chip_parameters", j}}, json);
    }
    if (json == "-") return;
    std::cout << "Chip parameters (YAML keys; nested sections written as dotted paths, e.g. "
                 "mac_array.rows). name and description do not enter the chip hash.\n\n";
    std::cout << decl_table(decls).str();
    return;
  }
  const auto& reg = spec::BlockRegistry::instance();
  if (!json.empty()) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& n : reg.names()) {
      const spec::BlockType* t = reg.find(n);
      nlohmann::json params = nlohmann::json::array();
      for (const auto& d : t->params) params.push_back(decl_json(d));
      j.push_back({{"name", n}, {"description", t->description}, {"params", params}});
    }
    write_json({{"tool_version", version()}, {"blocks", j}}, json);
  }
  if (json == "-") return;
  std::cout << "Block types of the model-description format (each block: `type: NAME` plus these "
               "parameters).\n";
  for (const auto& n : reg.names()) {
    const spec::BlockType* t = reg.find(n);
    std::cout << "\n" << n << ": " << t->description << "\n";
    std::cout << decl_table(t->params).str();
  }
}

void run_list(bool json) {
  if (json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& n : hw::preset_names()) {
      const hw::ChipParams c = hw::load_chip(n);
      j.push_back({{"name", n}, {"description", c.description}, {"hash", c.hash}});
    }
    write_json(j, "-");
    return;
  }
  Table t({"preset", "array", "dataflow", "SRAM", "DRAM", "clock", "description"},
          {false, true, false, true, true, true, false});
  for (const auto& n : hw::preset_names()) {
    const hw::ChipParams c = hw::load_chip(n);
    std::string sram = human_bytes(static_cast<double>(c.sram_bytes()));
    if (c.sram.organization == hw::SramOrganization::kSplit) sram += " split";
    const std::string dram =
        c.dram.ideal ? "ideal" : fmt::format("{} GB/s", c.dram.bandwidth_gb_per_s);
    t.row({n, fmt::format("{}x{}", c.mac_array.rows, c.mac_array.cols),
           hw::dataflow_name(c.mac_array.dataflow), sram, dram, fmt::format("{} MHz", c.clock_mhz),
           c.description});
  }
  std::cout << t.str();
}

struct DumpOptions {
  std::string chip = kDefaultChip;
  std::vector<std::string> overrides;
  std::string out = "-";
  std::string json;
};

struct CheckOptions {
  std::string file;
  std::vector<std::string> overrides;
  std::string json;
};

}  // namespace

void add_config_commands(CLI::App& app) {
  CLI::App* config =
      app.add_subcommand("config", "Check, dump and list chip descriptions (configs/chips/*.yaml)");
  config->require_subcommand(1);
  config->footer(
      "Examples:\n"
      "  nax config list\n"
      "  nax config dump --chip default -p mac_array.rows=64 -o my_chip.yaml\n"
      "  nax config check my_chip.yaml");

  auto check_opts = std::make_shared<CheckOptions>();
  CLI::App* check = config->add_subcommand(
      "check", "Validate a chip YAML file; print its name and hash, or every problem found");
  check->add_option("file", check_opts->file, "chip .yaml file")->required();
  check->add_option("-p", check_opts->overrides,
                    "override key.path=value after reading the file (repeatable)");
  check->add_option("--json", check_opts->json,
                    "also write the result as JSON to PATH ('-' for "
                    "stdout)");
  check->footer(
      "Examples:\n"
      "  nax config check configs/chips/default.yaml\n"
      "  nax config check my_chip.yaml -p sram.capacity_kib=512\n"
      "Exit code 0 when valid, 2 with every problem listed as file:line:col: key = value: "
      "what was expected.");
  check->callback([check_opts] {
    const hw::ChipParams c = hw::load_chip_file(check_opts->file, check_opts->overrides);
    if (!check_opts->json.empty()) {
      nlohmann::json j = chip_json(c);
      j["file"] = check_opts->file;
      j["ok"] = true;
      write_json(j, check_opts->json);
    }
    if (check_opts->json != "-") {
      std::cout << fmt::format("{}: ok (chip {}, hash {})\n", check_opts->file, c.name, c.hash);
      for (const auto& n : hw::design_notes(c)) std::cout << "note: " << n << "\n";
    }
  });

  auto dump_opts = std::make_shared<DumpOptions>();
  CLI::App* dump = config->add_subcommand(
      "dump", "Print a chip's fully resolved YAML: every key, defaults and overrides applied");
  dump->add_option("--chip", dump_opts->chip, "preset name or path to a chip .yaml file")
      ->capture_default_str();
  dump->add_option("-p", dump_opts->overrides, "override key.path=value (repeatable)");
  dump->add_option("--out,-o", dump_opts->out, "output .yaml ('-' for stdout)")
      ->capture_default_str();
  dump->add_option("--json", dump_opts->json,
                   "also write the resolved values as JSON to PATH ('-' for stdout)");
  dump->footer(
      "Examples:\n"
      "  nax config dump\n"
      "  nax config dump --chip scalesim-os-32x32\n"
      "  nax config dump --chip default -p mac_array.rows=64 -p sram.capacity_kib=4096 -o "
      "big.yaml\n"
      "The output is accepted by `nax config check` and gives the same hash.");
  dump->callback([dump_opts] {
    const hw::ChipParams c = hw::load_chip(dump_opts->chip, dump_opts->overrides);
    if (!dump_opts->json.empty()) write_json(chip_json(c), dump_opts->json);
    if (dump_opts->json == "-" && dump_opts->out == "-") return;
    write_text(hw::dump_chip(c), dump_opts->out);
  });

  auto list_json = std::make_shared<bool>(false);
  CLI::App* list =
      config->add_subcommand("list", "The chip presets compiled into nax, one line each");
  list->add_flag("--json", *list_json, "print JSON instead of a table");
  list->footer(
      "Examples:\n"
      "  nax config list\n"
      "  nax config dump --chip eyeriss-like   # one preset in full");
  list->callback([list_json] { run_list(*list_json); });

  auto describe_blocks = std::make_shared<bool>(false);
  auto describe_json = std::make_shared<std::string>();
  CLI::App* describe = app.add_subcommand(
      "describe",
      "Every chip parameter (or, with --blocks, every model block type's parameters) with its "
      "type, unit, default, range and description");
  describe->add_flag("--blocks", *describe_blocks,
                     "describe the block types of the model-description format instead");
  describe->add_option("--json", *describe_json, "also write JSON to PATH ('-' for stdout)");
  describe->footer(
      "Examples:\n"
      "  nax describe\n"
      "  nax describe --blocks\n"
      "  nax describe --json chip_params.json");
  describe->callback(
      [describe_blocks, describe_json] { run_describe(*describe_blocks, *describe_json); });
}

}  // namespace nax::cli
