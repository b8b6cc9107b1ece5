// Chip descriptions: the one YAML schema for an accelerator, its presets and validation.
//
// Every parameter is declared once in chip_schema() (type, unit in the key name, default or
// required, range, description); that declaration drives parsing, validation, `nax describe`,
// `nax config dump` and the chip hash. Raw YAML -> validated, immutable ChipParams: hardware code
// never sees YAML.
//
// Validation happens in two passes, and every problem of both is reported together:
//   1. per key (Schema): unknown keys (did-you-mean), types, ranges, powers of two, enums,
//      duplicates, missing required keys, `-p` overrides of keys that do not exist;
//   2. across keys (validate_chip in chip.cpp), each message located at the offending key:
//      - sram.organization unified: sram.ifmap_kib/weight_kib/ofmap_kib must be 0 (unused);
//      - sram.organization split: each of the three must be >= 1 and sram.capacity_kib must
//        equal their sum (capacity is never derived: the file states the total it means);
//      - every SRAM buffer divides into sram.banks banks of whole sram.bank_bytes_per_cycle
//        rows (with split, each of the three buffers has sram.banks banks);
//      - depthwise_on: vector_unit needs dwconv in vector_unit.ops;
//      - data.accumulator_bits >= the wider of activation_bits and weight_bits;
//      - the SRAM holds one minimal tile (see MinimalTile below);
//      - name is not empty.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/common/params.hpp"

namespace nax::hw {

enum class Dataflow { kWeightStationary, kOutputStationary, kInputStationary };
enum class DepthwiseMapping { kMacArray, kVectorUnit };
enum class SramOrganization { kUnified, kSplit };

const char* dataflow_name(Dataflow d);                   // "ws", "os", "is"
const char* depthwise_mapping_name(DepthwiseMapping d);  // "mac_array", "vector_unit"
const char* sram_organization_name(SramOrganization o);  // "unified", "split"

// The op classes a vector unit can run (the vocabulary of vector_unit.ops).
const std::vector<std::string>& vector_op_names();

// A validated, resolved chip. Built only by parse_chip / load_chip (or as a literal in tests);
// consumers take it as `const ChipParams&` and never change it after load.
struct ChipParams {
  std::string name;
  std::string description;
  double clock_mhz = 0;

  struct MacArray {
    int rows = 0;
    int cols = 0;
    Dataflow dataflow = Dataflow::kWeightStationary;
    int mac_latency_cycles = 1;
    bool overlap_preload = true;     // preload the next fold's operands during the current fold
    bool pad_partial_folds = false;  // a partial fold costs a full one (SCALE-Sim's padding)
    bool fused_activations = true;   // output pipeline applies activations/requantisation
  } mac_array;

  struct VectorUnit {
    int lanes = 0;
    int pipeline_latency_cycles = 0;
    std::vector<std::string> ops;  // op classes it runs: dwconv, pool, eltwise, activation, ...
    bool runs(const std::string& op) const;
  } vector_unit;

  struct Sram {
    SramOrganization organization = SramOrganization::kUnified;
    int64_t capacity_kib = 0;  // unified capacity; with split, the sum of the three
    int64_t ifmap_kib = 0;     // split only
    int64_t weight_kib = 0;    // split only
    int64_t ofmap_kib = 0;     // split only
    int banks = 0;             // banks of the SRAM (with split: of each of the three buffers)
    int ports_per_bank = 0;
    int bank_bytes_per_cycle = 0;
    bool ideal = false;  // bandwidth never limits (SCALE-Sim's default)
    bool double_buffering = true;
  } sram;

  struct Dma {
    int channels = 0;
    int burst_bytes = 0;
    int setup_cycles = 0;
    int max_outstanding = 0;
  } dma;

  struct Dram {
    bool ideal = false;  // infinite bandwidth, zero latency (SCALE-Sim's stall-free mode)
    double bandwidth_gb_per_s = 0;
    double latency_ns = 0;
  } dram;

  struct Data {
    int activation_bits = 8;
    int weight_bits = 8;
    int accumulator_bits = 32;
  } data;

  DepthwiseMapping depthwise_on = DepthwiseMapping::kMacArray;

  struct Energy {
    double mac_pj = 0;
    double sram_read_pj_per_byte = 0;
    double sram_write_pj_per_byte = 0;
    double dram_pj_per_byte = 0;
    double vector_op_pj = 0;
    double static_mw = 0;
  } energy;

  struct Area {
    double pe_um2 = 0;
    double sram_mm2_per_mib = 0;
    double vector_lane_um2 = 0;
    double dma_channel_mm2 = 0;
    double other_mm2 = 0;
  } area;

  std::string hash;  // content hash of the hashed (hardware) parameters
  ParamSet values;   // the resolved values behind the struct, for dump and describe

  // Lanes along the channel dimensions: channel counts that are not multiples of it leave lanes
  // idle. Output channels map to the array's columns.
  int parallelism_factor() const { return mac_array.cols; }
  int64_t sram_bytes() const { return sram.capacity_kib * 1024; }
  int activation_bytes() const { return (data.activation_bits + 7) / 8; }
  int weight_bytes() const { return (data.weight_bits + 7) / 8; }
  int accumulator_bytes() const { return (data.accumulator_bits + 7) / 8; }
  int64_t num_pes() const { return int64_t{mac_array.rows} * mac_array.cols; }
};

// The smallest working set the MAC array can run on, whatever the dataflow: one fold of the
// array's weights (rows x cols weights), one input vector along the rows (rows activations) and
// one output vector along the columns (cols accumulators at accumulator width). With
// sram.double_buffering every part is held twice (the next tile loads while this one computes).
// A chip whose SRAM (or, with split SRAM, whose weight / ifmap / ofmap buffer) cannot hold its
// part is rejected at load time: no layer could ever be tiled onto it.
struct MinimalTile {
  int64_t weight_bytes = 0;       // rows x cols x weight bytes, x2 with double buffering
  int64_t input_bytes = 0;        // rows x activation bytes, x2 with double buffering
  int64_t accumulator_bytes = 0;  // cols x accumulator bytes, x2 with double buffering
  int64_t total_bytes() const { return weight_bytes + input_bytes + accumulator_bytes; }
};
MinimalTile minimal_tile(const ChipParams& chip);

// The declarations of every chip parameter.
const Schema& chip_schema();

// Largest chip description nax reads (a real one is a few KiB).
constexpr size_t kMaxChipYamlBytes = 1u << 20;

// Names of the presets compiled into the binary (configs/chips/*.yaml), sorted.
std::vector<std::string> preset_names();
// The YAML text of a preset; InputError with a did-you-mean for an unknown name.
const std::string& preset_text(const std::string& name);

// True when a --chip value names a file rather than a preset: it contains '/' or ends in
// .yaml/.yml.
bool is_chip_path(const std::string& chip_arg);

// Parses, validates (every problem reported together) and resolves a chip description.
// `file` names the source in messages. Overrides are "key.path=value", applied after the file.
ChipParams parse_chip(const std::string& yaml_text, const std::string& file,
                      const std::vector<std::string>& overrides = {});

// Reads a chip YAML file (missing, unreadable, a directory, too large: InputError), then
// parse_chip.
ChipParams load_chip_file(const std::string& path, const std::vector<std::string>& overrides = {});

// `--chip PRESET|PATH` plus `-p key.path=value` overrides.
ChipParams load_chip(const std::string& chip_arg, const std::vector<std::string>& overrides = {});

// The fully resolved YAML (defaults included), which parses back to the same chip and hash.
std::string dump_chip(const ChipParams& chip);

}  // namespace nax::hw
