// Search spaces (configs/spaces/*.yaml): a baseline model plus the choices a search may make on it.
//
// A space is a list of decisions. A decision has a name and a list of options; an architecture
// (a Genotype) is one option index per decision, and realize() applies the chosen options to the
// baseline's ModelSpec in a fixed order:
//   1. resolution          the input height and width;
//   2. depth_multiplier    every stage without fixed_depth (spec::apply_depth_multiplier);
//   3. stage decisions     "<stage>.repeats", "<stage>.out", "<stage>.kernel", ... (every block of
//                          the stage whose type has the parameter; `repeats` sets the stage's
//                          depth, after the multiplier); repeats first, then type, then the rest;
//   4. block decisions     "<stage>.<i>.type", "<stage>.<i>.expansion", ... for block i of the
//                          stage (type first); a decision whose block does not exist at the
//                          realized depth is inactive (ignored), so many genotypes may realize the
//                          same model: caches key on the realized model, never on the genotype.
// Block decisions exist for every block position up to the deepest the stage can get (its largest
// `repeats` option, or its depth at the largest multiplier, among the decisions the variant keeps);
// positions past the baseline's depth start from a copy of the stage's last block, as
// spec::set_stage_depth makes it.
// The baseline's own value is always one of a decision's options, so baseline() realizes the
// baseline model exactly.
//
// One file yields two spaces over the same ranges:
//   curated    channel counts are multiples of the chip's parallelism factor within the range
//              (at most `curated_values` of them, evenly spread), depth multipliers from the
//              file's short list;
//   uncurated  channel counts at step 1 over the same range, depth multipliers at `step` over
//              [min, max] of the short list (and the list itself).
// Other options (types, kernels, expansions, repeats, resolutions) are the same in both.
// Variants (`variants: {v1: [depth], v2: [type], ...}`) enable a subset of the decision groups;
// the others stay at the baseline's value.
//
// Chip decisions (`chip:`, joint chip + network search): each names chip keys (`mac_array.rows`,
// or several tied to one value with `same_as`) and their options; a genotype's chip is the
// search's base chip (--chip, -p) with the chosen options as overrides (chip_overrides()). They do
// not change the model (realize() ignores them). nas never links hw (DESIGN.md), so the tool that
// loads the space supplies ChipAxes: the base chip's value of a key (the baseline option) and a
// check of the base chip with overrides, which every option passes alone when the file is loaded
// (an unknown key or a value the chip schema refuses is reported at its line). Combinations of
// chip options are checked when a candidate is evaluated (an invalid chip is infeasible with the
// reason). The curated channel options use the base chip's parallelism factor.
//
// File format: configs/spaces/README.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/spec/model_spec.hpp"

namespace nax::search {

using Genotype = std::vector<int>;

struct Decision {
  std::string name;   // "resolution", "depth_multiplier", "s3.out", "s3.1.type"
  std::string group;  // what variants enable: resolution, depth, type, kernel, expansion,
                      // channels (the `out` of stages), or the file's own group name
  std::string stage;  // stage the decision is about ("" for resolution and depth_multiplier)
  int block = -1;     // block index within the stage; -1 for stage-wide decisions
  std::string key;    // the block parameter it sets ("type", "out", "kernel", "expansion") or
                      // "repeats", "resolution", "depth_multiplier"
  std::vector<std::string> values;  // option values as text (numbers as written by fmt "{}")
  int baseline = 0;                 // index of the baseline model's value in `values`
  bool ordered = false;             // numeric options sorted increasing (neighbours are close)
  // Chip decisions (key "chip", name "chip.<first key>"): the chip keys the option sets (more than
  // one when keys are tied with `same_as`); empty for network decisions.
  std::vector<std::string> chip_keys;

  bool is_chip() const { return !chip_keys.empty(); }
};

// What loading a space with chip decisions needs from the tool layer (nas never links hw).
struct ChipAxes {
  // The base chip's value of `key` as text ("32", "17", "ws"); throws InputError for a key that is
  // not a chip parameter (its message is reported at the key's line).
  std::function<std::string(const std::string& key)> base_value;
  // The base chip with `overrides` ("key=value"): "" when valid, else why not.
  std::function<std::string(const std::vector<std::string>& overrides)> check;

  bool available() const { return base_value && check; }
};

struct SpaceOptions {
  bool curated = true;
  std::string variant;  // "" = every decision the file declares
  int parallelism = 0;  // the chip's parallelism factor (> 0; from the chip, the tool layer)
  ChipAxes chip;        // needed only by spaces with chip decisions
};

class SearchSpace {
 public:
  // Reads a space file. The baseline model (`base:`) is a zoo name with parameters or a model
  // YAML path relative to the space file. Throws InputError naming the file, the line and what
  // was expected (unknown keys, stages or blocks the baseline lacks, empty ranges, an unknown
  // variant, an option that breaks the model when applied alone to the space's deepest model).
  // Checks that baseline() realizes the base model (same ir::graph_hash).
  static SearchSpace load(const std::string& path, const SpaceOptions& o);
  static SearchSpace parse(const std::string& yaml_text, const std::string& file,
                           const SpaceOptions& o);

  const std::string& name() const { return m_name; }
  const std::string& file() const { return m_file; }
  const SpaceOptions& options() const { return m_options; }
  const spec::ModelSpec& base() const { return m_base; }
  const std::string& base_source() const { return m_base_source; }
  const std::vector<Decision>& decisions() const { return m_decisions; }
  std::vector<int> cardinalities() const;
  std::vector<bool> ordered() const;
  std::vector<std::string> variants() const;  // declared variant names, file order
  // log10 of the number of genotypes.
  double log10_size() const;

  Genotype baseline() const;
  // The model a genotype describes (named "<space>-<short hash>"). Throws InputError when the
  // genotype has the wrong length or an index out of range.
  spec::ModelSpec realize(const Genotype& g) const;
  // "depth_multiplier=0.75 s3.0.type=fused_ibn ..." (the active decisions that differ from the
  // baseline, in decision order); "baseline" when there are none.
  std::string describe(const Genotype& g) const;
  // True when the space (as loaded, with its variant) has chip decisions.
  bool has_chip() const;
  // The chip overrides of a genotype ("mac_array.rows=64", one per chip key whose option is not
  // the baseline's, in decision order); empty: the base chip.
  std::vector<std::string> chip_overrides(const Genotype& g) const;
  // Which decisions take effect in a genotype: false for block decisions whose block does not
  // exist at the realized depth (and for depth_multiplier when every stage it could change has its
  // depth set by a `repeats` decision).
  std::vector<bool> active(const Genotype& g) const;

 private:
  std::string m_name;
  std::string m_file;
  SpaceOptions m_options;
  spec::ModelSpec m_base;
  std::string m_base_source;
  std::vector<Decision> m_decisions;
  std::vector<std::string> m_variants;

  void check(const Genotype& g) const;  // InputError on a wrong length or index
  // Applies the genotype to `m` (a copy of the baseline) in the documented order; `active` (when
  // given) receives which decisions took effect.
  void apply(const Genotype& g, spec::ModelSpec& m, std::vector<bool>* active) const;
};

// The options of a channel range: curated = multiples of `parallelism` in [lo, hi] (at most
// `max_values`, evenly spread, ends kept; when none, the multiple nearest the range), uncurated =
// every integer in [lo, hi]; `baseline` is added (sorted) when missing.
std::vector<int> channel_options(int lo, int hi, int baseline, bool curated, int parallelism,
                                 int max_values);

}  // namespace nax::search
