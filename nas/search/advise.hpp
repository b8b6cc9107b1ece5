// The expert advisor (`nax advise`): the moves the seed's human experts made to speed a network
// up on an accelerator, each a named rule that turns a model into zero or more suggestions, every
// suggestion evaluated like a search candidate (latency from the oracle, then simulation; memory
// and MACs; the trainability score) and ranked by latency gain, then memory gain.
//
// Rules (each suggestion = the modified model + the changes made + a description):
//   fuse           per stage, in order: its IBN blocks as fused-IBN. A suggestion for every stage
//                  where the oracle's latency drops, and one with every such stage fused. Where
//                  fusing pays (early, high-resolution stages rather than late, wide ones) comes
//                  from the oracle's numbers only.
//   align          every channel count a block sets (parameters with unit `channels`: out, mid,
//                  width, inter, expand_channels) rounded to the nearest multiple of the chip's
//                  parallelism factor (ties up, never 0), and every IBN expansion whose expanded
//                  width is not a multiple pinned to the rounded width (expand_channels). Left
//                  alone: the task's outputs (the `out` of the blocks that produce the model's
//                  outputs: classes, predictions) and squeeze-excite bottlenecks (tiny 1x1 convs on
//                  a 1x1 map, which rounding up would multiply).
//   even           the same channel counts made even (odd -> next even), expanded widths too.
//   standard_conv  depthwise convolutions replaced by standard ones everywhere: IBN -> fused-IBN,
//                  `dwconv` -> `conv` (groups 1, out = in x multiplier), a `conv` with groups equal
//                  to its input channels -> groups 1, SSD-style `separable` heads -> full convs.
//   depth          depth multipliers 0.75 and 0.5 (spec::apply_depth_multiplier).
//   transfer       the patterns of another model (a search's best): which stages are fused, found
//                  by the resolution of the stage's output relative to the input (1/2, 1/4, ...)
//                  and applied to this model's stages at the same relative resolution; the channel
//                  alignment (the largest power of two, up to the parallelism factor, dividing all
//                  its channel counts); the depth of every stage whose name both models share.
//
// A retyped block keeps its meaning: parameters it leaves at a default that differs between the
// old and new type (IBN's expansion 6 vs fused-IBN's 4) are written out explicitly.
//
// `apply` combines suggestions greedily in rank order: each suggestion's edit (re-made on the
// model built so far) is kept only if the estimated latency drops and, when scoring, the score
// stays at least the original's.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/spec/model_spec.hpp"
#include "nas/search/evaluate.hpp"

namespace nax::search {

// The same edit for any model (apply() re-makes a suggestion on the model combined so far).
using ModelTransform = std::function<spec::ModelSpec(const spec::ModelSpec&)>;

struct Suggestion {
  std::string rule;                  // fuse, align, even, standard_conv, depth, transfer
  std::string name;                  // unique: "fuse s2", "fuse s1+s2", "depth 0.75"
  std::string description;           // what it does, for people
  std::vector<std::string> changes;  // against the model it was made for ("s2.type=fused_ibn")
  spec::ModelSpec model;             // the modified model
  ModelTransform transform;
};

// ---- model edits: each returns an edited copy (blocks keep their names) ----

// Blocks whose `out` is the task's (classes, predictions): the blocks named by `outputs` (the last
// block when empty), followed back through blocks without an `out` of their own (softmax,
// flatten, resize) to the first that has one; heads combining several inputs stop the walk.
std::set<std::string> task_output_blocks(const spec::ModelSpec& m);
// Stage -> downsampling factor of its output (input height / output height, rounded), for stages
// whose output is a feature map.
std::map<std::string, int64_t> stage_levels(const spec::ModelSpec& m);
// Changes `b` to `type`, writing out every parameter whose default differs between the types.
void retype_block(spec::BlockSpec& b, const std::string& type);
spec::ModelSpec fuse_stages(const spec::ModelSpec& m, const std::vector<std::string>& stages);
spec::ModelSpec align_channels(const spec::ModelSpec& m, int factor);
spec::ModelSpec standard_convs(const spec::ModelSpec& m);
// `v` rounded to the nearest multiple of `factor`, ties up, at least `factor`.
int64_t round_channels(int64_t v, int factor);
// The edits from `before` to `after` as override-style "key=value" strings: one per stage
// ("s3.type=fused_ibn") when every block of the stage changed alike, else one per block
// ("s3.1.out=32"); "s3.repeats=2" for a stage's depth.
std::vector<std::string> spec_changes(const spec::ModelSpec& before, const spec::ModelSpec& after);

// ---- rules: each returns nothing when it would not change the model ----

std::vector<Suggestion> rule_fuse(const spec::ModelSpec& m, LatencyOracle& latency);
std::vector<Suggestion> rule_align(const spec::ModelSpec& m, int parallelism);
std::vector<Suggestion> rule_even(const spec::ModelSpec& m);
std::vector<Suggestion> rule_standard_conv(const spec::ModelSpec& m);
std::vector<Suggestion> rule_depth(const spec::ModelSpec& m,
                                   const std::vector<double>& multipliers = {0.75, 0.5});

// What transfers from a finished model.
struct TransferPatterns {
  std::string source;  // the source model's name
  // Downsampling factor -> whether each of the source's IBN stages at that resolution, in order,
  // is fused (at least half of its IBN-family blocks are fused-IBN).
  std::map<int64_t, std::vector<bool>> fused_by_level;
  int alignment = 1;                  // every channel count a multiple of this (1: none found)
  std::map<std::string, int> depths;  // stage name -> the source's depth (stages without
                                      // fixed_depth)

  nlohmann::json to_json() const;
  std::string summary() const;
};
TransferPatterns extract_patterns(const spec::ModelSpec& source, int parallelism);
// Depths of stages both models name (and `target` does not fix), then fusion by level (the j-th
// of n target stages at a level takes the pattern of the source's floor(j * m / n)-th of m; only
// fuses, never unfuses), then the channel alignment.
spec::ModelSpec apply_patterns(const spec::ModelSpec& target, const TransferPatterns& p);
std::vector<Suggestion> rule_transfer(const spec::ModelSpec& target, const TransferPatterns& p);

// ---- evaluation, ranking, combination ----

struct Evaluation {
  Metrics metrics;                     // static metrics, latency_ms (the oracle's), score
  std::optional<double> simulated_ms;  // when a simulator was given
  std::string score_note;              // why there is no score when scoring was asked for

  nlohmann::json to_json() const;  // Metrics::to_json + simulated_latency_ms (+ score_note)
};

struct RankedSuggestion {
  Suggestion suggestion;
  Evaluation after;
  double gain_pct = 0;  // of the oracle's latency, positive = faster
  std::optional<double> simulated_gain_pct;
  std::optional<double> score_delta;
  int64_t memory_gain_bytes = 0;  // (parameter bytes + peak activation bytes) saved

  nlohmann::json to_json(const Evaluation& baseline) const;
};

struct AdviseOptions {
  std::vector<std::string> rules;  // empty: fuse, align, even, standard_conv, depth
  std::vector<double> depth_multipliers = {0.75, 0.5};
  std::optional<TransferPatterns> transfer;  // adds the `transfer` rule
};

struct Advice {
  Evaluation baseline;
  std::vector<RankedSuggestion> suggestions;               // best first
  std::vector<std::pair<std::string, std::string>> notes;  // rule -> why it suggested nothing,
                                                           // or a suggestion that cannot build
};

struct ApplyStep {
  std::string name;  // the suggestion's
  bool kept = false;
  std::string reason;  // why it was left out ("" when kept)
  std::optional<double> latency_ms;
  std::optional<double> score;
  std::vector<std::string> changes;  // against the model combined so far
};

struct Applied {
  spec::ModelSpec model;
  Evaluation after;
  std::vector<ApplyStep> steps;
  std::vector<std::string> changes;  // against the original model
  std::vector<std::string> kept;     // names of the suggestions combined
  double gain_pct = 0;
  std::optional<double> simulated_gain_pct;
  std::optional<double> score_delta;

  nlohmann::json to_json(const Evaluation& baseline) const;
};

const std::vector<std::string>& advise_rule_names();  // fuse, align, even, standard_conv, depth
// The rules a run makes, in order, from the names asked for (empty: all, and transfer when there
// is a source model). Unknown names, and transfer without a source, are an InputError.
std::vector<std::string> rules_to_run(const std::vector<std::string>& rules, bool has_transfer);

class Advisor {
 public:
  // `simulator` (optional) adds simulated latencies beside the oracle's; it may be `latency`
  // itself. `score.enabled` false skips the score.
  Advisor(spec::ModelSpec model, ChipLimits chip, LatencyOracle& latency, LatencyOracle* simulator,
          ScoreOptions score);
  ~Advisor();

  const spec::ModelSpec& model() const { return m_model; }
  // Called before each model is scored (the slow part: what, models scored so far).
  void on_progress(std::function<void(const std::string&, int)> f) { m_progress = std::move(f); }

  // Everything measured of `m` (cached by graph hash; the score only when `with_score` and
  // scoring is enabled). Throws InputError when it does not build.
  Evaluation evaluate(const spec::ModelSpec& m, const std::string& what = "",
                      bool with_score = true);
  // Runs the rules; unknown rule names are an InputError.
  Advice advise(const AdviseOptions& o);
  // Combines the advice's suggestions greedily (see the header comment).
  Applied apply(const Advice& a);

 private:
  class CachedOracle;
  spec::ModelSpec m_model;
  ChipLimits m_chip;
  std::unique_ptr<CachedOracle> m_latency;
  std::unique_ptr<CachedOracle> m_simulator;
  bool m_sim_is_latency = false;
  ScoreOptions m_score;
  std::map<std::string, std::pair<std::optional<double>, std::string>> m_scores;
  std::function<void(const std::string&, int)> m_progress;
  int m_scored = 0;
};

}  // namespace nax::search
