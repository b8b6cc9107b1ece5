// VectorTimer / vector_issues / vector_element_ops == the cycle-stepped vector unit reference, and
// SramTimer == the cycle-stepped bank arbiter, on random cases (fixed seeds).
#include <catch2/catch.hpp>

#include <random>
#include <sstream>

#include "hw/timing/timing.hpp"
#include "tests/reference/sram_ref.hpp"
#include "tests/reference/vector_unit_ref.hpp"

using namespace nax;
using namespace nax::hw;

namespace {

constexpr int kCases = 2000;

int uni(std::mt19937_64& rng, int lo, int hi) {
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

VectorWork random_work(std::mt19937_64& rng) {
  VectorWork w;
  w.op = static_cast<VectorOp>(uni(rng, 0, 6));
  w.elements = uni(rng, 0, 3) == 0 ? uni(rng, 0, 8) : uni(rng, 0, 300);
  w.channels = uni(rng, 0, 70);
  w.out_h = uni(rng, 0, 4);
  w.out_w = uni(rng, 0, 4);
  w.kernel_h = uni(rng, 1, 3);
  w.kernel_w = uni(rng, 1, 3);
  const int taps[] = {1, 4, 16};
  w.taps = taps[uni(rng, 0, 2)];
  return w;
}

std::string describe(const VectorWork& w) {
  std::ostringstream s;
  s << vector_op_name(w.op) << " elements=" << w.elements << " channels=" << w.channels
    << " out=" << w.out_h << "x" << w.out_w << " kernel=" << w.kernel_h << "x" << w.kernel_w
    << " taps=" << w.taps;
  return s.str();
}

}  // namespace

TEST_CASE("vector unit timer equals the cycle-stepped pipeline reference", "[property][vector]") {
  std::mt19937_64 rng(0x5eed0101);
  for (int n = 0; n < kCases; ++n) {
    const int lanes = uni(rng, 0, 2) == 0 ? uni(rng, 1, 4) : uni(rng, 1, 40);
    const int latency = uni(rng, 0, 6);
    const int count = uni(rng, 1, 6);
    std::ostringstream what;
    what << "case " << n << ": lanes " << lanes << ", latency " << latency << "\n";
    std::vector<ref::VectorRefCommand> cmds;
    int64_t t = uni(rng, 0, 5);
    for (int i = 0; i < count; ++i) {
      const VectorWork w = random_work(rng);
      const auto instr = ref::vector_instructions(w, lanes);
      int64_t used = 0;
      for (int l : instr) used += l;
      INFO(what.str() << "work " << describe(w));
      REQUIRE(vector_issues(w, lanes) == static_cast<int64_t>(instr.size()));
      REQUIRE(vector_element_ops(w, lanes) == used);
      t = uni(rng, 0, 2) == 0 ? std::max<int64_t>(0, t - uni(rng, 0, 20)) : t + uni(rng, 0, 40);
      cmds.push_back({static_cast<int64_t>(instr.size()), static_cast<Cycle>(t)});
      what << "  cmd " << i << ": issues " << instr.size() << " ready " << t << "\n";
    }
    INFO(what.str());
    const auto slow = ref::run_vector_ref(cmds, latency);
    VectorTimer timer(lanes, latency);
    for (size_t i = 0; i < cmds.size(); ++i) {
      const VectorTiming fast = timer.run(cmds[i].issues, cmds[i].ready);
      INFO("cmd " << i);
      REQUIRE(fast.start == slow[i].start);
      REQUIRE(fast.accept == slow[i].accept);
      REQUIRE(fast.done == slow[i].done);
    }
  }
}

TEST_CASE("SRAM timer equals the cycle-stepped bank arbiter", "[property][sram]") {
  std::mt19937_64 rng(0x5eed0201);
  int contended = 0;
  for (int n = 0; n < kCases; ++n) {
    SramConfig cfg;
    cfg.banks = 1 << uni(rng, 0, 3);
    cfg.ports_per_bank = uni(rng, 1, 4);
    cfg.bank_bytes_per_cycle = 1 << uni(rng, 0, 4);
    cfg.buffers = uni(rng, 0, 1) == 0 ? 1 : 3;
    std::vector<SramRequest> reqs(static_cast<size_t>(uni(rng, 1, 30)));
    Cycle t = static_cast<Cycle>(uni(rng, 0, 3));
    std::ostringstream what;
    what << "case " << n << ": banks " << cfg.banks << ", ports " << cfg.ports_per_bank
         << ", bytes/cycle " << cfg.bank_bytes_per_cycle << ", buffers " << cfg.buffers << "\n";
    for (size_t i = 0; i < reqs.size(); ++i) {
      SramRequest& r = reqs[i];
      switch (uni(rng, 0, 3)) {
        case 0:
          break;  // same cycle as the previous one
        case 1:
          t += static_cast<Cycle>(uni(rng, 1, 3));
          break;
        case 2:
          t += static_cast<Cycle>(uni(rng, 0, 20));
          break;
        default:
          t += static_cast<Cycle>(uni(rng, 20, 200));  // often finds the SRAM idle
      }
      r.arrival = t;
      const int size = uni(rng, 0, 9);
      r.bytes = size == 0 ? 0 : size < 4 ? uni(rng, 1, 40) : uni(rng, 1, 1500);
      r.start_bank = uni(rng, 0, cfg.banks - 1);
      r.buffer = uni(rng, 0, cfg.buffers - 1);
      what << "  req " << i << ": arrival " << r.arrival << " bytes " << r.bytes << " bank "
           << r.start_bank << " buffer " << r.buffer << "\n";
    }
    INFO(what.str());
    const auto slow = ref::run_sram_ref(cfg, reqs);
    SramTimer timer(cfg);
    for (size_t i = 0; i < reqs.size(); ++i) {
      INFO("req " << i);
      const Cycle fast = timer.serve(reqs[i]);
      REQUIRE(fast == slow[i]);
      const int64_t beats =
          (reqs[i].bytes + cfg.bank_bytes_per_cycle - 1) / cfg.bank_bytes_per_cycle;
      const int64_t lower =
          (beats + cfg.banks * cfg.ports_per_bank - 1) / (int64_t{cfg.banks} * cfg.ports_per_bank);
      if (fast > reqs[i].arrival + static_cast<Cycle>(lower)) ++contended;
    }
  }
  CHECK(contended > kCases);  // the arbiter was exercised, not only the idle fast path
}
