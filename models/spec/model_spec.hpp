// Block-level model descriptions: what the YAML model format, the zoo and search candidates are.
//
// A ModelSpec is an input (channels, height, width), a data type and a list of stages, each a list
// of blocks. A block has a registered type ("conv", "ibn", "fused_ibn", "basic", "ssdlite", ...)
// and parameters declared once by that type (ParamDecl: type, default, range, description), so
// parsing, validation, overrides and `nax describe --blocks` share one declaration.
//
// Blocks consume the previous block's output unless their `input` parameter names another block
// (or an internal tap such as "s6.0/expand"); heads take several inputs. Building a spec gives an
// ir::Graph whose ops carry their block name, block type and role.
//
// Overrides ("key=value", used by `--model name:k=v` and by searches) address a block by name
// ("s3.1.type=fused_ibn"), every block of a stage ("s3.kernel=5"), or a stage's depth
// ("s3.repeats=4": drop trailing blocks or repeat the last one).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "models/common/error.hpp"
#include "models/common/params.hpp"
#include "models/ir/graph.hpp"

namespace nax::spec {

struct BlockSpec {
  std::string type;
  std::string name;                          // unique in the model
  std::map<std::string, ParamValue> params;  // explicitly set parameters only
  std::map<std::string, SourceLoc> locs;     // where each parameter was written (YAML)
  SourceLoc loc;                             // where the block was written (YAML)

  bool has(const std::string& key) const { return params.count(key) != 0; }
  void set(const std::string& key, ParamValue v) { params[key] = std::move(v); }
};

struct StageSpec {
  std::string name;
  std::vector<BlockSpec> blocks;
  bool fixed_depth = false;  // stems and heads: depth multipliers leave them alone
};

struct ModelSpec {
  std::string name = "model";
  int64_t batch = 1;
  int64_t in_channels = 3;
  int64_t height = 224;
  int64_t width = 224;
  std::string dtype = "int8";
  std::vector<StageSpec> stages;
  std::vector<std::string> outputs;  // block names (or taps) that are graph outputs; empty = last
  std::string source;                // file it was read from, for messages

  BlockSpec* find_block(const std::string& name);
  const BlockSpec* find_block(const std::string& name) const;
  StageSpec* find_stage(const std::string& name);
  size_t num_blocks() const;
  // Gives every unnamed block the name "<stage>.<index>".
  void assign_names();
};

// ---- block types ----

class BlockArgs;
class BuildContext;

struct BlockType {
  std::string name;
  std::string description;
  std::vector<ParamDecl> params;  // flat names; `input`/`inputs` are added by the registry
  // Builds the block's ops and returns its output tensor.
  std::function<ir::TensorId(const BlockArgs&, BuildContext&)> build;
};

class BlockRegistry {
 public:
  static BlockRegistry& instance();
  bool add(BlockType t);  // returns true so it can initialise a static
  const BlockType* find(const std::string& name) const;
  std::vector<std::string> names() const;  // sorted
};

// Registers a block type from a file of its own: NAX_REGISTER_BLOCK(make_ibn_type());
#define NAX_BLOCK_CAT2(a, b) a##b
#define NAX_BLOCK_CAT(a, b) NAX_BLOCK_CAT2(a, b)
#define NAX_REGISTER_BLOCK(expr)                                     \
  static const bool NAX_BLOCK_CAT(nax_block_registered_, __LINE__) = \
      ::nax::spec::BlockRegistry::instance().add(expr)

// A block's parameters resolved against its type's declarations (defaults filled, checked).
class BlockArgs {
 public:
  BlockArgs(const BlockSpec& spec, const BlockType& type, ParamSet values)
      : m_spec(spec), m_type(type), m_values(std::move(values)) {}
  const BlockSpec& spec() const { return m_spec; }
  const std::string& name() const { return m_spec.name; }
  int64_t i(const std::string& key) const { return m_values.get_int(key); }
  int in(const std::string& key) const { return static_cast<int>(m_values.get_int(key)); }
  double f(const std::string& key) const { return m_values.get_float(key); }
  bool b(const std::string& key) const { return m_values.get_bool(key); }
  const std::string& s(const std::string& key) const { return m_values.get_string(key); }
  const std::vector<int64_t>& ilist(const std::string& key) const {
    return m_values.get_int_list(key);
  }
  const std::vector<std::string>& slist(const std::string& key) const {
    return m_values.get_string_list(key);
  }
  // Location of a parameter (or the block) for error messages.
  SourceLoc loc(const std::string& key) const;
  // Throws InputError located at the parameter (or block) with the block name in the message.
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

 private:
  const BlockSpec& m_spec;
  const BlockType& m_type;
  ParamSet m_values;
};

// Shared vocabulary of activations: "relu", "relu6", "hswish", "hsigmoid", "sigmoid", "silu",
// "tanh", "none".
const std::vector<std::string>& activation_names();

// What a block builder uses to add ops to the graph.
class BuildContext {
 public:
  BuildContext(ir::Graph& g, const ModelSpec& model) : m_graph(g), m_model(model) {}

  ir::Graph& graph() { return m_graph; }
  const ModelSpec& model() const { return m_model; }

  // The block's input: its `input` parameter if set, else the previous block's output.
  ir::TensorId input(const BlockArgs& a);
  // The block's inputs from its `inputs` list parameter (heads, concat, add).
  std::vector<ir::TensorId> inputs(const BlockArgs& a);
  // A named output: a block name or a tap a block published ("s6.0/expand").
  ir::TensorId tap(const BlockArgs& a, const std::string& name, const std::string& key);
  void publish(const std::string& name, ir::TensorId t) { m_taps[name] = t; }
  ir::TensorId find(const std::string& name) const;  // kNoTensor when unknown
  std::vector<std::string> tap_names() const;

  // Op helpers: names are "<block>.<role>", metadata carries block, type and role.
  ir::TensorId conv(const BlockArgs& a, ir::TensorId x, const ir::ConvAttrs& attrs,
                    const std::string& role, const std::string& act = "none");
  ir::TensorId act(const BlockArgs& a, ir::TensorId x, const std::string& act,
                   const std::string& role);
  ir::TensorId op(const BlockArgs& a, ir::OpKind kind, const std::vector<ir::TensorId>& inputs,
                  const std::string& role, ir::OpAttrs attrs = {});
  // Squeeze-excite as its parts: global pool, 1x1 reduce (bias) + act, 1x1 expand (bias) + gate,
  // multiply.
  ir::TensorId squeeze_excite(const BlockArgs& a, ir::TensorId x, int squeeze_channels,
                              const std::string& act, const std::string& gate);

  // Internal: set by build_graph between blocks.
  void set_current(const std::string& block, ir::TensorId t) {
    m_prev = t;
    m_taps[block] = t;
  }
  ir::TensorId previous() const { return m_prev; }

 private:
  ir::Graph& m_graph;
  const ModelSpec& m_model;
  ir::TensorId m_prev = ir::kNoTensor;
  std::map<std::string, ir::TensorId> m_taps;
};

// ---- building, reading, writing ----

// Resolves a block's parameters (defaults, ranges, unknown keys with did-you-mean) into sink.
// Returns false when something was reported.
bool resolve_block(const BlockSpec& b, ParamSet& out, DiagnosticSink& sink);

// Validates every block, then builds the graph. Throws InputError with every problem found.
ir::Graph build_graph(const ModelSpec& spec);

// YAML model format. read_model_yaml reports every problem (located) together.
ModelSpec read_model_yaml(const std::string& text, const std::string& file);
ModelSpec load_model_yaml(const std::string& path);
// Writes compact YAML: consecutive blocks equal but for the first one's stride become `repeats`.
std::string write_model_yaml(const ModelSpec& spec);

// Applies one "key=value" override (see the header comment). Throws InputError on unknown
// blocks, stages or parameters.
void apply_override(ModelSpec& spec, const std::string& key, const std::string& value);

// Sets a stage's number of blocks (drops trailing blocks, or repeats the last with stride 1).
void set_stage_depth(StageSpec& stage, int depth);

// Multiplies the depth of every stage without fixed_depth by m (rounded up), at least 1 block.
void apply_depth_multiplier(ModelSpec& spec, double m);

// make_divisible as in the MobileNet reference code: round to a multiple of `divisor`, not below
// min_value (default divisor) and not more than 10% below v.
int make_divisible(double v, int divisor = 8, int min_value = 0);

}  // namespace nax::spec
