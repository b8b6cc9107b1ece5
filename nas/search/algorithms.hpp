// Search algorithms behind one ask/tell contract: the algorithm proposes genotypes (ask), the
// driver evaluates them and reports what it measured (tell), in the order asked.
//
// Contract (tests/unit/search/algorithms_test.cpp checks each algorithm against it):
// - ask(n) returns between 0 and n genotypes, each of the space's length with every index in
//   [0, cardinality); it may return fewer than n (or none) while it waits for results, and none
//   once it has nothing more to propose (local search at a local optimum it cannot escape, for
//   example; the driver then stops).
// - tell() receives one Observation per asked genotype, in ask order, before the next ask.
// - Deterministic: the same seed and the same sequence of tells give the same asks (the driver's
//   resume replays a run from its stored log on this guarantee). No std::*_distribution (their
//   output is not fixed by the standard): draws use est::SplitMix64 (models/estimate/sampler.hpp).
// - The objective is minimised; an infeasible candidate has objective +inf (and feasible false).
//   The algorithms treat an observation with feasible false, or a NaN objective, as +inf.
// - Proposals avoid genotypes asked before: a repeat is redrawn a few times (12), then accepted
//   (a converged population or policy may repeat; the driver's cache answers those). Every
//   algorithm returns nothing once every genotype of a (small) space has been asked.
// - tell() throws InputError for a genotype that does not fit the space (a resumed log that
//   belongs to another space).
//
// Algorithms:
//   random              uniform over each decision, independently; no genotype twice (a small
//                       space is enumerated when draws keep repeating), then nothing.
//   evolution           regularised (aging) evolution, Real et al. 2019: a population of
//                       `population` starts random (or `start`, then mutations of it, or
//                       `start` with its `start_free` decisions drawn at random), asked
//                       in full (an ask returns at most the rest of it) and awaited; then each
//                       child is a mutation of the best of `sample` members drawn without
//                       replacement (ties: the first drawn; +inf is the worst), all children of
//                       one ask from the same population. A mutation changes one decision with
//                       more than one option to another value; an ordered decision with more
//                       than two options moves to a neighbouring value with probability 0.7.
//                       A repeated child is redrawn, from the 5th try with 2 changes, from the
//                       9th with 3. Each told child joins; the oldest member dies.
//   rl                  REINFORCE: an independent softmax per decision (logits start at 0).
//                       Reward r = -objective / (moving mean of |objective|); infeasible: the
//                       worst objective seen so far, as a reward, minus 0.1. Advantage =
//                       (r - moving baseline) / moving deviation (averages over observations,
//                       factor 0.9). After each tell, one plain gradient step (no Adam) of
//                       `learning_rate` on the sum over the batch of advantage x grad log p plus
//                       `entropy` x grad of the entropy per observation (the step per
//                       evaluation does not depend on the batch size).
//   local               hill climbing from `start` (empty: random) over single-decision moves
//                       (ordered decisions: the adjacent values; unordered: every other value)
//                       in a seeded random order, except that the other improving moves seen
//                       from the previous point are tried first. An ask returns the point (when
//                       not yet evaluated) and its next untried moves, up to n; after a tell
//                       it moves to the best strictly improving evaluated move (batches of one:
//                       first improvement). When no move improves, or the point is infeasible,
//                       a random restart at a genotype never asked (at most `restarts`); then
//                       nothing more (the driver stops).
//   zeroshot-evolution  zero-shot prefiltering, then evolution: a pool of `prefilter_pool`
//                       genotypes (`start` first when given, the rest random) is proposed and
//                       awaited first; the `population` of them with the best trainability
//                       score (ties: better objective) among those feasible with a finite
//                       objective, then, if fewer have a score, the unscored ones with the best
//                       objectives, seed the aging evolution (oldest first in pool order); any
//                       slots left are filled by random genotypes. The seed's "combine the
//                       categories": a cheap accuracy proxy picks where the search starts.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nas/search/space.hpp"

namespace nax::search {

struct Observation {
  Genotype genotype;
  double objective = 0;  // minimised; +inf when infeasible
  bool feasible = true;
  std::optional<double> score;  // trainability score when the driver computed it (higher better)
};

struct AlgorithmOptions {
  int population = 24;         // evolution, zeroshot-evolution (>= 1)
  int sample = 6;              // evolution tournament size (>= 1; above population: all)
  double learning_rate = 0.1;  // rl
  double entropy = 0.01;       // rl entropy bonus weight
  int restarts = 1000;         // local
  int prefilter_pool = 0;      // zeroshot-evolution; 0: 4 x population
  Genotype start;  // evolution/local start (e.g. the baseline), zeroshot-evolution's first pool
                   // member; empty: random
  // evolution with a start: the decisions the initial population draws at random (the others
  // from `start`, then mutated only on repeats). A joint chip + network search starts from the
  // baseline network on random chips: the base chip is only the area budget's yardstick, and
  // trading one resource for another within the budget (a wider array for less SRAM) takes two
  // changes at once that a single mutation of the base chip never makes. Empty: none.
  std::vector<bool> start_free;
};

class Algorithm {
 public:
  virtual ~Algorithm() = default;
  virtual std::string name() const = 0;
  virtual std::vector<Genotype> ask(int n) = 0;
  virtual void tell(const std::vector<Observation>& results) = 0;
};

// names: random, evolution, rl, local, zeroshot-evolution. Throws InputError for another name
// (listing these), empty cardinalities, a cardinality < 1, `ordered` neither empty (all
// unordered) nor one flag per decision, an option out of range, or a `start` outside the space.
std::unique_ptr<Algorithm> make_algorithm(const std::string& name,
                                          const std::vector<int>& cardinalities,
                                          const std::vector<bool>& ordered, uint64_t seed,
                                          const AlgorithmOptions& o = {});
const std::vector<std::string>& algorithm_names();

}  // namespace nax::search
