// MacArrayTimer == the PE-level systolic array reference (tests/reference/systolic_array_ref.hpp),
// cycle for cycle, on random sequences of segments; and the reference's numbers == a plain
// matrix multiply (so the dataflow itself is verified). One TEST_CASE per dataflow.
#include <catch2/catch.hpp>

#include <random>
#include <sstream>

#include "hw/timing/timing.hpp"
#include "tests/reference/systolic_array_ref.hpp"

using namespace nax;
using namespace nax::hw;

namespace {

constexpr int kCases = 2000;

struct Case {
  ArrayConfig cfg;
  std::vector<ref::RefSegment> cmds;
  std::vector<int> fold_of;  // per command
};

std::string describe(const Case& c) {
  std::ostringstream s;
  s << "array " << c.cfg.rows << "x" << c.cfg.cols << " " << dataflow_name(c.cfg.dataflow)
    << " Lm=" << c.cfg.mac_latency_cycles << " overlap=" << c.cfg.overlap_preload
    << " pad=" << c.cfg.pad_partial_folds << "\n";
  for (size_t i = 0; i < c.cmds.size(); ++i) {
    const auto& g = c.cmds[i].seg;
    s << "  cmd " << i << ": r=" << g.rows_used << " c=" << g.cols_used << " T=" << g.vectors
      << (g.new_fold ? " new_fold" : "") << (g.last_segment ? " last" : "")
      << " ready=" << c.cmds[i].ready << "\n";
  }
  return s.str();
}

Case random_case(std::mt19937_64& rng, Dataflow df) {
  auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  Case c;
  c.cfg.rows = uni(1, 8);
  c.cfg.cols = uni(1, 8);
  c.cfg.dataflow = df;
  c.cfg.mac_latency_cycles = uni(1, 3);
  c.cfg.overlap_preload = uni(0, 1) == 1;
  c.cfg.pad_partial_folds = uni(0, 1) == 1;
  const int folds = uni(1, 5);
  int64_t t = uni(0, 10);
  for (int f = 0; f < folds; ++f) {
    const int r = uni(0, 2) == 0 ? c.cfg.rows : uni(1, c.cfg.rows);
    const int cc = uni(0, 2) == 0 ? c.cfg.cols : uni(1, c.cfg.cols);
    const int segs = uni(0, 1) == 0 ? 1 : uni(1, 3);
    std::vector<int64_t> stationary(static_cast<size_t>(r) * cc);
    for (auto& v : stationary) v = uni(-5, 5);
    for (int s = 0; s < segs; ++s) {
      ref::RefSegment cmd;
      cmd.seg.rows_used = r;
      cmd.seg.cols_used = cc;
      cmd.seg.vectors = uni(0, 3) == 0 ? uni(1, 3) : uni(1, 20);
      cmd.seg.new_fold = s == 0;
      cmd.seg.last_segment = s == segs - 1;
      // Ready times: often already ready, sometimes a short or a long wait (a stall), sometimes
      // earlier than the previous command's.
      switch (uni(0, 4)) {
        case 0:
        case 1:
          break;
        case 2:
          t += uni(0, 6);
          break;
        case 3:
          t += uni(10, 80);
          break;
        default:
          t = std::max<int64_t>(0, t - uni(0, 30));
      }
      cmd.ready = static_cast<Cycle>(t);
      if (s == 0) cmd.stationary = std::move(stationary);
      cmd.stream.resize(static_cast<size_t>(cmd.seg.vectors * r));
      for (auto& v : cmd.stream) v = uni(-5, 5);
      if (df == Dataflow::kOutputStationary) {
        cmd.weights.resize(static_cast<size_t>(cmd.seg.vectors * cc));
        for (auto& v : cmd.weights) v = uni(-5, 5);
      }
      c.cmds.push_back(cmd);
      c.fold_of.push_back(f);
    }
  }
  return c;
}

// The expected numbers: ws/is per command T x c; os per fold (on its first command) r x c.
std::vector<std::vector<int64_t>> expected_results(const Case& c) {
  std::vector<std::vector<int64_t>> out(c.cmds.size());
  const bool os = c.cfg.dataflow == Dataflow::kOutputStationary;
  size_t opener = 0;
  for (size_t i = 0; i < c.cmds.size(); ++i) {
    const auto& cmd = c.cmds[i];
    const int r = cmd.seg.rows_used, cc = cmd.seg.cols_used;
    if (cmd.seg.new_fold) opener = i;
    if (!os) {
      const auto& w = c.cmds[opener].stationary;
      auto& y = out[i];
      y.assign(static_cast<size_t>(cmd.seg.vectors * cc), 0);
      for (int64_t t = 0; t < cmd.seg.vectors; ++t)
        for (int m = 0; m < cc; ++m)
          for (int k = 0; k < r; ++k)
            y[static_cast<size_t>(t * cc + m)] +=
                cmd.stream[static_cast<size_t>(t * r + k)] * w[static_cast<size_t>(k * cc + m)];
    } else {
      auto& y = out[opener];
      if (y.empty()) y.assign(static_cast<size_t>(r) * cc, 0);
      for (int64_t t = 0; t < cmd.seg.vectors; ++t)
        for (int i2 = 0; i2 < r; ++i2)
          for (int j = 0; j < cc; ++j)
            y[static_cast<size_t>(i2 * cc + j)] += cmd.stream[static_cast<size_t>(t * r + i2)] *
                                                   cmd.weights[static_cast<size_t>(t * cc + j)];
    }
  }
  return out;
}

void check_dataflow(Dataflow df, uint64_t seed) {
  std::mt19937_64 rng(seed);
  int64_t segments = 0;
  for (int n = 0; n < kCases; ++n) {
    const Case c = random_case(rng, df);
    INFO("case " << n << " (seed " << seed << ")\n" << describe(c));
    MacArrayTimer timer(c.cfg);
    std::vector<ArrayTiming> fast;
    for (const auto& cmd : c.cmds) fast.push_back(timer.run(cmd.seg, cmd.ready));
    ref::SystolicArrayRef ref(c.cfg);
    std::vector<ref::RefTiming> slow;
    try {
      slow = ref.run(c.cmds);
    } catch (const std::exception& e) {
      FAIL("reference: " << e.what());
    }
    for (size_t i = 0; i < c.cmds.size(); ++i) {
      INFO("cmd " << i);
      REQUIRE(fast[i].issue == slow[i].issue);
      REQUIRE(fast[i].stream_start == slow[i].stream_start);
      REQUIRE(fast[i].stream_end == slow[i].stream_end);
      REQUIRE(fast[i].done == slow[i].done);
    }
    const auto want = expected_results(c);
    for (size_t i = 0; i < c.cmds.size(); ++i) {
      INFO("results of cmd " << i);
      REQUIRE(ref.results()[i] == want[i]);
    }
    segments += static_cast<int64_t>(c.cmds.size());
  }
  CHECK(segments > kCases);
}

}  // namespace

TEST_CASE("MAC array timer equals the PE-level reference: weight stationary", "[property][array]") {
  check_dataflow(Dataflow::kWeightStationary, 0x5eed0001);
}

TEST_CASE("MAC array timer equals the PE-level reference: input stationary", "[property][array]") {
  check_dataflow(Dataflow::kInputStationary, 0x5eed0002);
}

TEST_CASE("MAC array timer equals the PE-level reference: output stationary", "[property][array]") {
  check_dataflow(Dataflow::kOutputStationary, 0x5eed0003);
}
