// Closed-form timing of every unit of the machine in hw/MACHINE.md (plain C++, no SystemC).
//
// Each timer keeps the state a unit carries between commands (busy-until times) and computes a
// command's issue/done cycles in O(1) (the DMA in O(bursts), without simulation events). The
// SystemC modules in hw/sim/ call these at the simulated time a command starts; the lowering calls
// them to cost candidate tilings; the tests compare them with the cycle-stepped references in
// tests/reference/. Requests must be made in nondecreasing `ready` order (global time order).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hw/chip/chip.hpp"

namespace nax::hw {

using Cycle = uint64_t;

// ---------------------------------------------------------------- MAC array

struct ArrayConfig {
  int rows = 32;
  int cols = 32;
  Dataflow dataflow = Dataflow::kWeightStationary;
  int mac_latency_cycles = 1;
  bool overlap_preload = true;
  bool pad_partial_folds = false;

  static ArrayConfig from_chip(const ChipParams& chip);
};

// One segment of one fold (hw/MACHINE.md, "Timing of one array command").
struct ArraySegment {
  int rows_used = 0;     // r: rows of the array this fold uses
  int cols_used = 0;     // c: columns this fold uses
  int64_t vectors = 0;   // T: vectors streamed by this segment
  bool new_fold = true;  // first segment of a fold (preload on ws/is, fresh accumulators on os)
  bool last_segment = true;
};

struct ArrayTiming {
  Cycle issue = 0;  // the command started: its preload (ws/is new fold) or else its stream
  Cycle stream_start = 0;
  Cycle stream_end = 0;  // the stream port is free here (accepts_at() for a continuing segment)
  Cycle done = 0;        // the segment's results have left the array
};

class MacArrayTimer {
 public:
  explicit MacArrayTimer(const ArrayConfig& cfg);
  // Runs a segment whose dependencies are all done at `ready`. The array applies its own
  // constraints (in-order issue, preload, stream port), so any `ready` between the dependencies'
  // done and accepts_at(seg) gives the same timing. Throws std::invalid_argument for a segment
  // outside the array (r, c < 1 or > the array, T < 1).
  ArrayTiming run(const ArraySegment& seg, Cycle ready);
  // Runs `count` identical segments (each as `seg`), all ready at `ready`, in O(1); returns the
  // timing of the last one (whose done is the latest). count >= 1.
  ArrayTiming run_repeated(const ArraySegment& seg, int64_t count, Cycle ready);
  // Earliest cycle the array accepts (issues) `next`: issue = max(ready, accepts_at(next)).
  // On ws/is with overlap_preload a new fold is accepted before the current stream ends (its
  // preload overlaps the current fold), so controllers should use this overload.
  Cycle accepts_at(const ArraySegment& next) const;
  // Earliest cycle the array accepts a segment that continues the current fold (its stream port
  // is free): accepts_at(next) for next.new_fold == false.
  Cycle accepts_at() const;
  void reset();
  const ArrayConfig& config() const { return m_cfg; }

 private:
  ArrayConfig m_cfg;
  Cycle m_stream_free = 0;        // input stream port free
  Cycle m_preload_free = 0;       // shadow registers free (overlap) / array idle (no overlap)
  Cycle m_last_done = 0;          // done of the most recent segment
  Cycle m_fold_stream_start = 0;  // stream start of the fold currently active
  Cycle m_last_issue = 0;         // issue of the most recent command (in-order queue)
};

// How a GEMM (or a depthwise conv) maps onto the array: the fold grid and each fold's r, c, T.
struct GemmShape {
  int64_t npix = 0;  // output pixels
  int64_t k = 0;     // reduction: kh*kw*cin/groups
  int64_t m = 0;     // output channels
  // Depthwise: `m` channels, each with reduction `k` = kh*kw and its own inputs.
  bool depthwise = false;
};

// How the folds of a GEMM are packed (map_gemm, hw/MACHINE.md).
enum class FoldPacking {
  kDense,             // rows dim x cols dim cut into R x C folds
  kDepthwiseColumns,  // ws depthwise, kh*kw <= R: g channels per fold, r = c x kh*kw
  kDepthwiseRows,     // is depthwise, kh*kw <= R: g channels per row fold, r = g x kh*kw, T = g
  kDepthwiseSlices,   // is depthwise, kh*kw > R: per channel ceil(kh*kw/R) row folds, T = 1
};

// One fold: the r, c and T of hw/MACHINE.md.
struct FoldShape {
  int rows_used = 0;
  int cols_used = 0;
  int64_t vectors = 0;
};

struct FoldGrid {
  int64_t row_folds = 0;
  int64_t col_folds = 0;
  int64_t vectors = 0;  // T per fold
  int rows_full = 0;    // r of a full fold
  int rows_last = 0;    // r of the last row fold
  int cols_full = 0;
  int cols_last = 0;
  int channels_per_fold = 1;  // depthwise packing (1 otherwise)
  FoldPacking packing = FoldPacking::kDense;
  int block = 0;       // depthwise: kh*kw (rows per channel); 0 for a dense GEMM
  int64_t slices = 1;  // kDepthwiseSlices: row folds per channel
  int64_t folds() const { return row_folds * col_folds; }
  // The shape of fold (row_fold, col_fold); 0 <= row_fold < row_folds, 0 <= col_fold < col_folds.
  FoldShape fold(int64_t row_fold, int64_t col_fold) const;
};

FoldGrid map_gemm(const ArrayConfig& cfg, const GemmShape& g);

// Cycles of a whole GEMM on an otherwise idle array with all data ready: its folds run as one
// segment each, row folds inner, column folds outer (as SCALE-Sim), on a fresh MacArrayTimer from
// cycle 0; the result is the latest done. O(1) (no loop over folds). Used by tests and cost models.
Cycle gemm_cycles(const ArrayConfig& cfg, const GemmShape& g);

// ---------------------------------------------------------------- vector unit

enum class VectorOp {
  kEltwise,     // add, sub, mul, div, copy, concat moves
  kActivation,  // standalone activation, batch norm, requantisation
  kPool,        // k x k pooling window
  kGlobalPool,
  kDepthwise,
  kResize,
  kSoftmax,
};
const char* vector_op_name(VectorOp op);

// Shape of a vector command; fields a class does not use are ignored.
struct VectorWork {
  VectorOp op = VectorOp::kEltwise;
  int64_t elements = 0;          // output elements (eltwise, activation, resize, softmax)
  int64_t channels = 0;          // pooling, global pooling, depthwise
  int64_t out_h = 0, out_w = 0;  // pooling, depthwise; global pooling: input h, w
  int kernel_h = 1, kernel_w = 1;
  int taps = 1;  // resize: 1 nearest, 4 linear, 16 cubic
};

// Vector instructions the command issues (one per cycle), hw/MACHINE.md table.
int64_t vector_issues(const VectorWork& w, int lanes);
// Element operations performed (for energy): issues x lanes actually used.
int64_t vector_element_ops(const VectorWork& w, int lanes);

struct VectorTiming {
  Cycle start = 0;
  Cycle accept = 0;  // next command may issue
  Cycle done = 0;
};

class VectorTimer {
 public:
  VectorTimer(int lanes, int pipeline_latency_cycles);
  VectorTiming run(int64_t issues, Cycle ready);
  Cycle accepts_at() const { return m_issue_free; }
  void reset() { m_issue_free = 0; }

 private:
  int m_lanes;
  int m_latency;
  Cycle m_issue_free = 0;
};

// ---------------------------------------------------------------- SRAM

struct SramConfig {
  int banks = 16;
  int ports_per_bank = 1;
  int bank_bytes_per_cycle = 16;
  int buffers = 1;     // 1 unified, 3 split (ifmap, weight, ofmap): each has its own banks
  bool ideal = false;  // every request is done at its arrival

  static SramConfig from_chip(const ChipParams& chip);
};

struct SramRequest {
  Cycle arrival = 0;
  int64_t bytes = 0;
  int start_bank = 0;
  int buffer = 0;  // 0 unified / ifmap, 1 weight, 2 ofmap
};

class SramTimer {
 public:
  explicit SramTimer(const SramConfig& cfg);
  // Serves a request (arrivals must not decrease); returns the cycle its last beat is done
  // (== arrival for a request of 0 bytes). O(min(beats, banks) x ports), O(1) when the buffer is
  // idle at the arrival. Throws std::invalid_argument when arrivals decrease or the buffer or
  // start bank is out of range.
  Cycle serve(const SramRequest& req);
  void reset();
  const SramConfig& config() const { return m_cfg; }

 private:
  // A buffer's banks: explicit port free times (each bank's ports kept sorted), or, after a
  // request served on an idle buffer, that request alone (materialised when a later request
  // arrives before it is finished).
  struct BufferState {
    Cycle max_free = 0;  // every port of the buffer is free from here
    bool lazy = false;
    Cycle lazy_arrival = 0;
    int64_t lazy_full = 0;  // beats every bank got
    int64_t lazy_rem = 0;   // banks lazy_start.. got one more
    int lazy_start = 0;
  };
  void materialize(int buffer);

  SramConfig m_cfg;
  std::vector<Cycle> m_port_free;  // [buffer][bank][port] flattened
  std::vector<BufferState> m_state;
  Cycle m_last_arrival = 0;
};

// ---------------------------------------------------------------- DMA and DRAM

constexpr uint64_t kTicksPerCycle = 1024;  // DRAM bus accounting resolution

struct DramConfig {
  bool ideal = false;
  double bytes_per_cycle = 16;  // bandwidth at the chip clock
  Cycle latency_cycles = 100;

  static DramConfig from_chip(const ChipParams& chip);
  // Bus occupancy of `bytes`, in ticks (0 when ideal).
  uint64_t ticks(int64_t bytes) const;
};

struct DmaConfig {
  int burst_bytes = 64;
  int setup_cycles = 16;
  int max_outstanding = 8;

  static DmaConfig from_chip(const ChipParams& chip);
};

// The shared DRAM data bus: transfers are served whole, in global time order.
class DramBus {
 public:
  explicit DramBus(const DramConfig& cfg) : m_cfg(cfg) {}
  const DramConfig& config() const { return m_cfg; }
  uint64_t free_tick() const { return m_free_tick; }
  void occupy_until(uint64_t tick) { m_free_tick = tick; }
  // Transfers must start in global time order: throws std::logic_error when `issue` is earlier
  // than the previous transfer's issue.
  void begin_transfer(Cycle issue);
  void reset() {
    m_free_tick = 0;
    m_last_issue = 0;
  }

 private:
  DramConfig m_cfg;
  uint64_t m_free_tick = 0;
  Cycle m_last_issue = 0;
};

struct DmaTiming {
  Cycle start = 0;
  Cycle done = 0;
  Cycle first_data = 0;  // cycle the first burst's data started on the bus
};

// One DMA channel; transfers run one at a time.
class DmaChannelTimer {
 public:
  explicit DmaChannelTimer(const DmaConfig& cfg);
  // A transfer of `bytes` whose dependencies are done at `ready`, over `bus`. It issues at
  // max(ready, accepts_at()); calls (over all channels sharing `bus`) must come in nondecreasing
  // issue order, ties in channel order. O(bursts) worst case; O(max_outstanding) once the
  // schedule is bandwidth-bound or periodic (the usual case), detected exactly.
  DmaTiming run(int64_t bytes, Cycle ready, DramBus& bus);
  Cycle accepts_at() const { return m_free; }
  void reset() { m_free = 0; }

 private:
  DmaConfig m_cfg;
  Cycle m_free = 0;
  std::vector<Cycle> m_burst_done;     // scratch: completion of each burst (window)
  std::vector<Cycle> m_burst_request;  // scratch: request cycle of each burst (window)
  std::vector<uint64_t> m_burst_end;   // scratch: bus end tick of each burst (window)
};

// ---------------------------------------------------------------- design notes

// Bytes per cycle one DMA channel sustains on an otherwise idle DRAM bus in steady state
// (measured with DmaChannelTimer: 2 MiB minus 1 MiB): below the bus bandwidth when burst_bytes x
// max_outstanding does not cover the bandwidth-delay product.
double dma_channel_bytes_per_cycle(const ChipParams& chip);

// Observations on a valid chip that an architect likely wants to know (not errors), e.g. a DMA
// window too small to use the DRAM bandwidth. Printed by `nax config check`.
std::vector<std::string> design_notes(const ChipParams& chip);

}  // namespace nax::hw
