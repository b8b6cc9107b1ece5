// Test-only, cycle-stepped, PE-level reference of the MAC array of hw/MACHINE.md (ws, is, os).
//
// Obviously correct rather than fast: R x C PEs with registers, advanced one cycle at a time.
// Operands really move one PE per cycle, stationary operands are preloaded through a chain into
// shadow registers and switched in per PE as the new fold's first vector arrives, partial sums
// move down through Lm-stage MAC pipelines (ws/is) or accumulate in double-buffered accumulators
// (os). It computes real numbers, so the tests check both the cycles (against MacArrayTimer) and
// the results (against a plain matrix multiply), and it checks its own hazards as it goes: a
// vector and its partial sum meeting out of step, a shadow register switched in before its
// preload arrived or overwritten before it was switched in, an accumulator reused too early.
//
// Only the control decisions come from the contract (when a command may issue and stream:
// the table in MACHINE.md, "Timing of one array command"); everything they depend on is
// observed here (stream port idle, preload finished, the previous fold's results out).
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "hw/timing/timing.hpp"

namespace nax::ref {

using hw::ArrayConfig;
using hw::Cycle;
using hw::Dataflow;

// One command for the reference: the segment plus its data.
//  ws/is: `stationary` (r x c, row-major) for a new fold; `stream` T vectors of r values.
//         result: T x c, out[t][m] = sum_k stream[t][k] * stationary[k][m].
//  os:    `stream` T steps of r values (row inputs), `weights` T steps of c values (column
//         inputs); a fold's result r x c: acc[i][j] = sum over the fold's steps of in[i] * w[j].
struct RefSegment {
  hw::ArraySegment seg;
  Cycle ready = 0;
  std::vector<int64_t> stationary;
  std::vector<int64_t> stream;
  std::vector<int64_t> weights;
};

struct RefTiming {
  Cycle issue = 0, stream_start = 0, stream_end = 0, done = 0;
};

class SystolicArrayRef {
 public:
  explicit SystolicArrayRef(const ArrayConfig& cfg)
      : m_cfg(cfg), m_R(cfg.rows), m_C(cfg.cols), m_Lm(cfg.mac_latency_cycles) {}

  // Runs the whole command list; returns each command's timing. Results in results().
  std::vector<RefTiming> run(const std::vector<RefSegment>& cmds);

  // ws/is: per command, T x c outputs (row-major); os: per fold (indexed by the command that
  // opened it), r x c accumulators; empty for other commands.
  const std::vector<std::vector<int64_t>>& results() const { return m_results; }
  Cycle cycles_simulated() const { return m_cycle; }

 private:
  bool os() const { return m_cfg.dataflow == Dataflow::kOutputStationary; }
  int rp(int r) const { return m_cfg.pad_partial_folds ? m_R : r; }
  int cp(int c) const { return m_cfg.pad_partial_folds ? m_C : c; }
  [[noreturn]] void fail(const std::string& what) const {
    std::ostringstream s;
    s << "SystolicArrayRef cycle " << m_cycle << ": " << what;
    throw std::logic_error(s.str());
  }

  // A value travelling through the array, tagged with where it comes from.
  struct Token {
    bool valid = false;
    int64_t value = 0;
    int cmd = -1;        // command (segment) it belongs to
    int fold = -1;       // fold number (0, 1, ...)
    int64_t t = -1;      // vector (ws/is) or step (os) within its command
    bool first = false;  // first vector/step of its fold
    bool last = false;   // last step of its fold (os)
  };
  // An operand on its way down a column's preload chain.
  struct Preload {
    bool valid = false;
    int64_t value = 0;
    int fold = -1;
    int row = -1;  // PE row it is for
  };
  struct Shadow {
    int64_t value = 0;
    int fold = -1;         // fold whose operand it holds (-1: none)
    bool switched = true;  // copied to active already
  };

  size_t at(int k, int m) const { return static_cast<size_t>(k) * m_C + m; }
  void step_cycle(const std::vector<RefSegment>& cmds);
  bool try_issue(const std::vector<RefSegment>& cmds);
  bool start_stream(const std::vector<RefSegment>& cmds);
  void feed(const std::vector<RefSegment>& cmds);

  ArrayConfig m_cfg;
  int m_R, m_C, m_Lm;
  Cycle m_cycle = 0;

  // Control state.
  size_t m_next_issue = 0;                    // first command not issued yet
  std::deque<int> m_to_stream;                // issued, not yet streaming (in order)
  int m_streaming = -1;                       // command whose vectors are being fed
  int64_t m_next_vector = 0;                  // its next vector
  int m_fold = -1;                            // fold number of the last issued new fold
  std::vector<int> m_fold_of;                 // per command
  std::vector<int> m_fold_rows, m_fold_cols;  // r, c per fold
  std::vector<Cycle> m_preload_end;           // per command (ws/is new fold)
  bool m_last_preloaded_streaming = true;     // the last preloaded fold has started streaming
  std::vector<int64_t> m_outstanding;         // per command: results still to come out
  std::vector<RefTiming> m_timing;
  std::vector<bool> m_finished;  // per command: every result out

  // Datapath state ("during the current cycle").
  std::map<Cycle, std::vector<Token>> m_row_edge;  // cycle -> token entering each row's left edge
  std::map<Cycle, std::vector<Token>> m_col_edge;  // os: cycle -> token entering each column top
  std::map<Cycle, std::vector<Preload>> m_push;    // ws/is: cycle -> operand pushed per column
  std::vector<Token> m_x;                          // input at PE(k, m)
  std::vector<Token> m_w;                          // os: weight at PE(k, m)
  std::vector<std::vector<Token>> m_pipe;          // ws/is: psum pipeline stage j of PE(k, m)
  std::vector<std::vector<Token>> m_prod;          // os: product pipeline (Lm - 1 stages)
  std::vector<std::vector<Preload>> m_chain;       // ws/is: per column, stage s = row s / Lm
  std::vector<int64_t> m_active;
  std::vector<int> m_active_fold;
  std::vector<Shadow> m_shadow;
  struct Acc {
    int64_t value = 0;
    int fold = -1;
    bool finished = true;
  };
  std::vector<Acc> m_acc[2];  // os: double-buffered accumulators
  std::vector<std::vector<int64_t>> m_results;
};

inline std::vector<RefTiming> SystolicArrayRef::run(const std::vector<RefSegment>& cmds) {
  const size_t n = cmds.size();
  const size_t pes = static_cast<size_t>(m_R) * m_C;
  m_x.assign(pes, Token{});
  m_w.assign(pes, Token{});
  m_pipe.assign(pes, std::vector<Token>(static_cast<size_t>(m_Lm)));
  m_prod.assign(pes, std::vector<Token>(static_cast<size_t>(m_Lm > 1 ? m_Lm - 1 : 0)));
  m_chain.assign(static_cast<size_t>(m_C), std::vector<Preload>(static_cast<size_t>(m_R) * m_Lm));
  m_active.assign(pes, 0);
  m_active_fold.assign(pes, -1);
  m_shadow.assign(pes, Shadow{});
  m_acc[0].assign(pes, Acc{});
  m_acc[1].assign(pes, Acc{});
  m_results.assign(n, {});
  m_timing.assign(n, RefTiming{});
  m_finished.assign(n, false);
  m_outstanding.assign(n, 0);
  m_fold_of.assign(n, -1);
  m_preload_end.assign(n, 0);
  m_fold_rows.clear();
  m_fold_cols.clear();

  for (size_t i = 0; i < n; ++i) {
    const auto& s = cmds[i].seg;
    if (s.rows_used < 1 || s.rows_used > m_R || s.cols_used < 1 || s.cols_used > m_C ||
        s.vectors < 1) {
      fail("command " + std::to_string(i) + " does not fit the array");
    }
  }
  size_t done = 0;
  const Cycle limit = 10'000'000;
  while (done < n) {
    step_cycle(cmds);
    done = 0;
    for (size_t i = 0; i < n; ++i) done += m_finished[i] ? 1 : 0;
    if (m_cycle > limit) fail("no progress");
  }
  return m_timing;
}

// Issues every command that may issue in the current cycle (in order), per the contract's table.
inline bool SystolicArrayRef::try_issue(const std::vector<RefSegment>& cmds) {
  bool any = false;
  while (m_next_issue < cmds.size()) {
    const int i = static_cast<int>(m_next_issue);
    const RefSegment& c = cmds[static_cast<size_t>(i)];
    if (m_cycle < c.ready) return any;
    // "Stream port free": nothing is being fed this cycle and nothing issued waits to stream.
    const bool port_free = m_streaming < 0 && m_to_stream.empty();
    // "Previous fold's done": every issued command's results are out (observed).
    bool drained = true;
    for (size_t j = 0; j < m_next_issue; ++j) drained = drained && m_finished[j];
    bool ok = false;
    if (!c.seg.new_fold) {
      ok = port_free;
    } else if (os()) {
      ok = port_free && (m_cfg.overlap_preload || drained);
    } else {
      ok = m_cfg.overlap_preload ? m_last_preloaded_streaming : drained;
    }
    if (!ok) return any;
    any = true;
    m_timing[static_cast<size_t>(i)].issue = m_cycle;
    if (c.seg.new_fold || m_fold < 0) {
      ++m_fold;
      m_fold_rows.push_back(c.seg.rows_used);
      m_fold_cols.push_back(c.seg.cols_used);
    }
    m_fold_of[static_cast<size_t>(i)] = m_fold;
    if (c.seg.new_fold && !os()) {
      // Preload: column m pushes row k's operand at cycle p + m + r' - 1 - k.
      const int r = c.seg.rows_used, cc = c.seg.cols_used, rr = rp(r), ccp = cp(cc);
      if (static_cast<int64_t>(c.stationary.size()) != int64_t{r} * cc) fail("bad stationary");
      for (int m = 0; m < ccp; ++m) {
        for (int k = 0; k < rr; ++k) {
          const Cycle when = m_cycle + static_cast<Cycle>(m + rr - 1 - k);
          auto& row = m_push[when];
          if (row.empty()) row.assign(static_cast<size_t>(m_C), Preload{});
          Preload& p = row[static_cast<size_t>(m)];
          if (p.valid) fail("two preload pushes into one column in one cycle");
          p.valid = true;
          p.value = (k < r && m < cc) ? c.stationary[static_cast<size_t>(k) * cc + m] : 0;
          p.fold = m_fold;
          p.row = k;
        }
      }
      m_preload_end[static_cast<size_t>(i)] = m_cycle + static_cast<Cycle>(rr);
      m_last_preloaded_streaming = false;
    }
    m_to_stream.push_back(i);
    ++m_next_issue;
  }
  return any;
}

// Starts the next issued command's stream when the port is free (and its preload is over).
inline bool SystolicArrayRef::start_stream(const std::vector<RefSegment>& cmds) {
  if (m_streaming < 0 && !m_to_stream.empty()) {
    const int i = m_to_stream.front();
    const RefSegment& c = cmds[static_cast<size_t>(i)];
    const bool waits_preload = c.seg.new_fold && !os();
    if (!waits_preload || m_cycle >= m_preload_end[static_cast<size_t>(i)]) {
      m_to_stream.pop_front();
      m_streaming = i;
      m_next_vector = 0;
      m_timing[static_cast<size_t>(i)].stream_start = m_cycle;
      if (waits_preload) m_last_preloaded_streaming = true;
      const int cc = c.seg.cols_used;
      m_outstanding[static_cast<size_t>(i)] =
          os() ? int64_t{rp(c.seg.rows_used)} * cp(cc) : c.seg.vectors * cp(cc);
      if (os()) {
        if (static_cast<int64_t>(c.stream.size()) != c.seg.vectors * c.seg.rows_used ||
            static_cast<int64_t>(c.weights.size()) != c.seg.vectors * cc) {
          fail("bad os operands");
        }
      } else if (static_cast<int64_t>(c.stream.size()) != c.seg.vectors * c.seg.rows_used) {
        fail("bad stream");
      }
      if (!os())
        m_results[static_cast<size_t>(i)].assign(static_cast<size_t>(c.seg.vectors * cc), 0);
      return true;
    }
  }
  return false;
}

// Feeds the streaming command's next vector (one per cycle) into the row (and column) edges.
inline void SystolicArrayRef::feed(const std::vector<RefSegment>& cmds) {
  if (m_streaming < 0) return;
  const int i = m_streaming;
  const RefSegment& c = cmds[static_cast<size_t>(i)];
  const int r = c.seg.rows_used;
  const int64_t t = m_next_vector;
  Token base;
  base.valid = true;
  base.cmd = i;
  base.fold = m_fold_of[static_cast<size_t>(i)];
  base.t = t;
  base.first = c.seg.new_fold && t == 0;
  base.last = c.seg.last_segment && t == c.seg.vectors - 1;
  // Row k's value enters the left edge k Lm (ws/is) or k (os) cycles later; rows the fold does
  // not use (and padding rows) carry zeros.
  const int row_skew = os() ? 1 : m_Lm;
  for (int k = 0; k < m_R; ++k) {
    auto& edge = m_row_edge[m_cycle + static_cast<Cycle>(k) * row_skew];
    if (edge.empty()) edge.assign(static_cast<size_t>(m_R), Token{});
    Token tok = base;
    tok.value = k < r ? c.stream[static_cast<size_t>(t * r + k)] : 0;
    if (edge[static_cast<size_t>(k)].valid) fail("two vectors enter one row in one cycle");
    edge[static_cast<size_t>(k)] = tok;
  }
  if (os()) {
    const int cc = c.seg.cols_used;
    for (int m = 0; m < m_C; ++m) {
      auto& edge = m_col_edge[m_cycle + static_cast<Cycle>(m)];
      if (edge.empty()) edge.assign(static_cast<size_t>(m_C), Token{});
      Token tok = base;
      tok.value = m < cc ? c.weights[static_cast<size_t>(t * cc + m)] : 0;
      edge[static_cast<size_t>(m)] = tok;
    }
  }
  if (++m_next_vector == c.seg.vectors) {
    m_timing[static_cast<size_t>(i)].stream_end = m_cycle + 1;
    m_streaming = -1;
  }
}

inline void SystolicArrayRef::step_cycle(const std::vector<RefSegment>& cmds) {
  // 1. Control: issue and start streams until nothing changes (a command may stream in its issue
  //    cycle; a preload may issue in the cycle the fold before it starts streaming), then feed.
  while (try_issue(cmds) | start_stream(cmds)) {
  }
  feed(cmds);

  // 2. Values present during this cycle: shift inputs right (and weights down on os) by one PE,
  //    taking new ones from the edges.
  std::vector<Token> x(m_x.size()), w(m_w.size());
  {
    auto edge = m_row_edge.find(m_cycle);
    for (int k = 0; k < m_R; ++k) {
      for (int m = m_C - 1; m > 0; --m) x[at(k, m)] = m_x[at(k, m - 1)];
      x[at(k, 0)] = edge != m_row_edge.end() ? edge->second[static_cast<size_t>(k)] : Token{};
    }
    if (edge != m_row_edge.end()) m_row_edge.erase(edge);
  }
  if (os()) {
    auto edge = m_col_edge.find(m_cycle);
    for (int m = 0; m < m_C; ++m) {
      for (int k = m_R - 1; k > 0; --k) w[at(k, m)] = m_w[at(k - 1, m)];
      w[at(0, m)] = edge != m_col_edge.end() ? edge->second[static_cast<size_t>(m)] : Token{};
    }
    if (edge != m_col_edge.end()) m_col_edge.erase(edge);
  }
  m_x = x;
  m_w = w;

  if (!os()) {
    // 3a. Preload chains: shift down one stage, push at the top.
    auto push = m_push.find(m_cycle);
    for (int m = 0; m < m_C; ++m) {
      auto& ch = m_chain[static_cast<size_t>(m)];
      for (size_t s = ch.size() - 1; s > 0; --s) ch[s] = ch[s - 1];
      ch[0] = push != m_push.end() ? push->second[static_cast<size_t>(m)] : Preload{};
    }
    if (push != m_push.end()) m_push.erase(push);

    // 4a. Every PE: switch on a fold's first vector, multiply-add into its MAC pipeline.
    std::vector<std::vector<Token>> pipe_next = m_pipe;
    for (int k = 0; k < m_R; ++k) {
      for (int m = 0; m < m_C; ++m) {
        const size_t p = at(k, m);
        const Token& in = m_x[p];
        const Token psum_in = k == 0 ? Token{} : m_pipe[at(k - 1, m)].back();
        auto& nxt = pipe_next[p];
        for (size_t j = nxt.size() - 1; j > 0; --j) nxt[j] = m_pipe[p][j - 1];
        nxt[0] = Token{};
        if (!in.valid) {
          if (psum_in.valid) fail("a partial sum reached a PE without its input vector");
          continue;
        }
        if (k > 0 && (!psum_in.valid || psum_in.cmd != in.cmd || psum_in.t != in.t)) {
          fail("input vector and partial sum out of step at PE(" + std::to_string(k) + "," +
               std::to_string(m) + ")");
        }
        if (in.first) {
          Shadow& sh = m_shadow[p];
          const bool needed = k < rp(m_fold_rows[static_cast<size_t>(in.fold)]) &&
                              m < cp(m_fold_cols[static_cast<size_t>(in.fold)]);
          if (needed && sh.fold != in.fold) {
            fail("fold " + std::to_string(in.fold) + " switched in at PE(" + std::to_string(k) +
                 "," + std::to_string(m) + ") before its preload arrived");
          }
          m_active[p] = sh.value;
          m_active_fold[p] = sh.fold;
          sh.switched = true;
        }
        Token out = in;
        out.value = (k == 0 ? 0 : psum_in.value) + m_active[p] * in.value;
        nxt[0] = out;
      }
    }
    // 5a. End of cycle: PEs latch the operands addressed to them from their chain stage.
    for (int m = 0; m < m_C; ++m) {
      for (int k = 0; k < m_R; ++k) {
        const Preload& pl = m_chain[static_cast<size_t>(m)][static_cast<size_t>(k) * m_Lm];
        if (!pl.valid || pl.row != k) continue;
        Shadow& sh = m_shadow[at(k, m)];
        if (!sh.switched) {
          fail("PE(" + std::to_string(k) + "," + std::to_string(m) + ") shadow of fold " +
               std::to_string(sh.fold) + " overwritten by fold " + std::to_string(pl.fold) +
               " before it was switched in");
        }
        sh.value = pl.value;
        sh.fold = pl.fold;
        sh.switched = false;
      }
    }
    m_pipe = pipe_next;
  } else {
    // 4b. os: operands meet, products go through Lm - 1 stages, then into the accumulator.
    std::vector<std::vector<Token>> prod_next = m_prod;
    for (int k = 0; k < m_R; ++k) {
      for (int m = 0; m < m_C; ++m) {
        const size_t p = at(k, m);
        const Token& a = m_x[p];
        const Token& b = m_w[p];
        if (a.valid != b.valid || (a.valid && (a.cmd != b.cmd || a.t != b.t))) {
          fail("input and weight out of step at PE(" + std::to_string(k) + "," + std::to_string(m) +
               ")");
        }
        Token prod;
        if (a.valid) {
          prod = a;
          prod.value = a.value * b.value;
        }
        Token to_acc = prod;
        auto& pipe = prod_next[p];
        if (!pipe.empty()) {
          to_acc = m_prod[p].back();
          for (size_t j = pipe.size() - 1; j > 0; --j) pipe[j] = m_prod[p][j - 1];
          pipe[0] = prod;
        }
        if (!to_acc.valid) continue;
        Acc& acc = m_acc[to_acc.fold % 2][p];
        if (to_acc.first) {
          if (!acc.finished) fail("accumulator reused before its fold finished");
          acc.value = 0;
          acc.fold = to_acc.fold;
          acc.finished = false;
        } else if (acc.fold != to_acc.fold) {
          fail("product of fold " + std::to_string(to_acc.fold) + " hit fold " +
               std::to_string(acc.fold) + "'s accumulator");
        }
        acc.value += to_acc.value;
        // Accumulated at the end of this cycle: out from the next.
        const size_t ci = static_cast<size_t>(to_acc.cmd);
        const int fold = to_acc.fold;
        const bool in_region = k < rp(m_fold_rows[static_cast<size_t>(fold)]) &&
                               m < cp(m_fold_cols[static_cast<size_t>(fold)]);
        if (to_acc.last) {
          acc.finished = true;
          // Record the fold's result on the command that opened it.
          int opener = static_cast<int>(ci);
          while (opener > 0 && m_fold_of[static_cast<size_t>(opener - 1)] == fold) --opener;
          auto& res = m_results[static_cast<size_t>(opener)];
          const int rr = m_fold_rows[static_cast<size_t>(fold)];
          const int cc = m_fold_cols[static_cast<size_t>(fold)];
          if (res.empty()) res.assign(static_cast<size_t>(rr) * cc, 0);
          if (k < rr && m < cc) res[static_cast<size_t>(k) * cc + m] = acc.value;
        }
        if (in_region && to_acc.t == cmds[ci].seg.vectors - 1) {
          // This PE's share of the segment is in: its last step accumulated.
          RefTiming& tm = m_timing[ci];
          tm.done = std::max(tm.done, m_cycle + 1);
          if (--m_outstanding[ci] == 0) m_finished[ci] = true;
        }
      }
    }
    m_prod = prod_next;
  }

  if (!os()) {
    // Results available at the bottom during the next cycle: collect them now, out at +1.
    for (int m = 0; m < m_C; ++m) {
      const Token& res = m_pipe[at(m_R - 1, m)].back();
      if (!res.valid) continue;
      const size_t ci = static_cast<size_t>(res.cmd);
      const int cc = cmds[ci].seg.cols_used;
      if (m >= cp(cc)) continue;
      if (m < cc) m_results[ci][static_cast<size_t>(res.t * cc + m)] = res.value;
      RefTiming& tm = m_timing[ci];
      tm.done = std::max(tm.done, m_cycle + 1);
      if (--m_outstanding[ci] == 0) m_finished[ci] = true;
    }
  }
  ++m_cycle;
}

}  // namespace nax::ref
