// MAC array timing (hw/MACHINE.md): hand-checked boundary probes of MacArrayTimer, map_gemm and
// gemm_cycles.
#include <catch2/catch.hpp>

#include "hw/chip/chip.hpp"
#include "hw/timing/timing.hpp"

using namespace nax::hw;

namespace {

ArrayConfig array(int rows, int cols, Dataflow df, bool overlap, bool pad, int lm = 1) {
  ArrayConfig c;
  c.rows = rows;
  c.cols = cols;
  c.dataflow = df;
  c.overlap_preload = overlap;
  c.pad_partial_folds = pad;
  c.mac_latency_cycles = lm;
  return c;
}

ArraySegment seg(int r, int c, int64_t t, bool new_fold = true, bool last = true) {
  ArraySegment s;
  s.rows_used = r;
  s.cols_used = c;
  s.vectors = t;
  s.new_fold = new_fold;
  s.last_segment = last;
  return s;
}

// Every fold of the GEMM through a fresh timer, one segment each, all ready at 0.
Cycle folds_one_by_one(const ArrayConfig& cfg, const GemmShape& g) {
  const FoldGrid f = map_gemm(cfg, g);
  MacArrayTimer t(cfg);
  Cycle end = 0;
  for (int64_t j = 0; j < f.col_folds; ++j) {
    for (int64_t i = 0; i < f.row_folds; ++i) {
      const FoldShape s = f.fold(i, j);
      end = std::max(end, t.run(seg(s.rows_used, s.cols_used, s.vectors), 0).done);
    }
  }
  return end;
}

}  // namespace

TEST_CASE("SCALE-Sim's formulas: F x (2R + C + T - 2) on ws/is, F x (R + C + T - 2) on os",
          "[timing][array]") {
  // 32x32, K = 100 (row folds 32, 32, 32, 4), M = 40 (col folds 32, 8), Npix = 50.
  const GemmShape g{50, 100, 40, false};
  for (Dataflow df : {Dataflow::kWeightStationary, Dataflow::kInputStationary}) {
    const ArrayConfig cfg = array(32, 32, df, false, true);
    const FoldGrid f = map_gemm(cfg, g);
    const int64_t T = f.vectors;
    INFO(dataflow_name(df));
    CHECK(gemm_cycles(cfg, g) == static_cast<Cycle>(f.folds() * (2 * 32 + 32 + T - 2)));
    CHECK(folds_one_by_one(cfg, g) == gemm_cycles(cfg, g));
  }
  CHECK(map_gemm(array(32, 32, Dataflow::kWeightStationary, false, true), g).folds() == 8);
  CHECK(map_gemm(array(32, 32, Dataflow::kInputStationary, false, true), g).folds() == 8);
  CHECK(gemm_cycles(array(32, 32, Dataflow::kWeightStationary, false, true), g) ==
        8 * (64 + 32 + 50 - 2));
  CHECK(gemm_cycles(array(32, 32, Dataflow::kInputStationary, false, true), g) ==
        8 * (64 + 32 + 40 - 2));
  // os: rows = Npix (2 folds), cols = M (2 folds), T = K = 100.
  const ArrayConfig os = array(32, 32, Dataflow::kOutputStationary, false, true);
  CHECK(map_gemm(os, g).folds() == 4);
  CHECK(gemm_cycles(os, g) == 4 * (32 + 32 + 100 - 2));
  CHECK(folds_one_by_one(os, g) == gemm_cycles(os, g));
}

TEST_CASE("one fold: its preload, stream, fill and drain", "[timing][array]") {
  // ws 4x4, a fold of r = 3, c = 2, T = 10, unpadded: preload 3, stream 10, drain R + c - 2 = 4.
  MacArrayTimer ws(array(4, 4, Dataflow::kWeightStationary, true, false));
  ArrayTiming t = ws.run(seg(3, 2, 10), 5);
  CHECK(t.issue == 5);
  CHECK(t.stream_start == 8);
  CHECK(t.stream_end == 18);
  CHECK(t.done == 22);
  // Padded: the partial fold costs a full one: preload 4, drain 4 + 4 - 2 = 6.
  MacArrayTimer padded(array(4, 4, Dataflow::kWeightStationary, true, true));
  t = padded.run(seg(3, 2, 10), 5);
  CHECK(t.stream_start == 9);
  CHECK(t.done == 9 + 10 + 6);
  // os: no preload; drain r + c - 2 = 3.
  MacArrayTimer os(array(4, 4, Dataflow::kOutputStationary, true, false));
  t = os.run(seg(3, 2, 10), 5);
  CHECK(t.stream_start == 5);
  CHECK(t.done == 15 + 3);
  // MAC latency 3: ws drain R*Lm + c - 2 = 12 + 0, os r + c + Lm - 3 = 3 + 2 + 0.
  MacArrayTimer ws3(array(4, 4, Dataflow::kWeightStationary, true, false, 3));
  CHECK(ws3.run(seg(3, 2, 10), 0).done == 3 + 10 + 12);
  MacArrayTimer os3(array(4, 4, Dataflow::kOutputStationary, true, false, 3));
  CHECK(os3.run(seg(3, 2, 10), 0).done == 10 + 5);
  // A 1x1 array: no fill, no drain.
  MacArrayTimer one(array(1, 1, Dataflow::kOutputStationary, true, false));
  CHECK(one.run(seg(1, 1, 7), 0).done == 7);
}

TEST_CASE("overlap_preload hides the next fold's preload behind the current stream",
          "[timing][array]") {
  // ws 4x4, two full folds of T = 10.
  MacArrayTimer on(array(4, 4, Dataflow::kWeightStationary, true, false));
  ArrayTiming a = on.run(seg(4, 4, 10), 0);
  CHECK(a.stream_start == 4);
  CHECK(a.done == 14 + 6);
  CHECK(on.accepts_at(seg(4, 4, 10)) == 4);  // the new fold preloads from a's stream start
  CHECK(on.accepts_at() == 14);              // a continuing segment waits for the port
  ArrayTiming b = on.run(seg(4, 4, 10), 0);
  CHECK(b.issue == 4);
  CHECK(b.stream_start == 14);  // back to back: the preload (4..8) was hidden
  CHECK(b.done == 24 + 6);
  // A fold shorter than the preload: the next preload waits for it to become active.
  ArrayTiming c = on.run(seg(4, 4, 2), 0);
  CHECK(c.issue == 14);
  CHECK(c.stream_start == 24);
  ArrayTiming d = on.run(seg(4, 4, 2), 0);
  CHECK(d.issue == 24);
  CHECK(d.stream_start == 28);  // 24 + P, not 26

  // Without overlap each fold waits for the previous one to drain, then preloads.
  MacArrayTimer off(array(4, 4, Dataflow::kWeightStationary, false, false));
  a = off.run(seg(4, 4, 10), 0);
  CHECK(a.done == 20);
  CHECK(off.accepts_at(seg(4, 4, 10)) == 20);
  b = off.run(seg(4, 4, 10), 0);
  CHECK(b.issue == 20);
  CHECK(b.stream_start == 24);
  CHECK(b.done == 40);

  // os: overlap starts the next fold when the stream port frees; without, when drained.
  MacArrayTimer os_on(array(4, 4, Dataflow::kOutputStationary, true, false));
  os_on.run(seg(4, 4, 10), 0);
  CHECK(os_on.run(seg(4, 4, 10), 0).stream_start == 10);
  MacArrayTimer os_off(array(4, 4, Dataflow::kOutputStationary, false, false));
  CHECK(os_off.run(seg(4, 4, 10), 0).done == 16);
  CHECK(os_off.run(seg(4, 4, 10), 0).stream_start == 16);
}

TEST_CASE("a late segment stalls the stream, not the drain of the one before", "[timing][array]") {
  MacArrayTimer t(array(4, 4, Dataflow::kWeightStationary, true, false));
  const ArrayTiming s1 = t.run(seg(4, 4, 10, true, false), 0);
  CHECK(s1.done == 14 + 6);
  const ArrayTiming s2 = t.run(seg(4, 4, 10, false, true), 50);  // its data arrives at 50
  CHECK(s2.issue == 50);
  CHECK(s2.stream_start == 50);
  CHECK(s2.done == 60 + 6);
  // Data already there: the segment streams right behind the previous one.
  const ArrayTiming s3 = t.run(seg(4, 4, 5, false, true), 0);
  CHECK(s3.stream_start == 60);
}

TEST_CASE("run_repeated equals running the segment count times", "[timing][array]") {
  for (Dataflow df :
       {Dataflow::kWeightStationary, Dataflow::kInputStationary, Dataflow::kOutputStationary}) {
    for (bool overlap : {false, true}) {
      for (int64_t T : {1, 3, 20}) {
        for (bool new_fold : {false, true}) {
          const ArrayConfig cfg = array(8, 6, df, overlap, false, 2);
          MacArrayTimer a(cfg), b(cfg);
          a.run(seg(5, 3, 7), 3);
          b.run(seg(5, 3, 7), 3);
          ArrayTiming last;
          for (int i = 0; i < 9; ++i) last = a.run(seg(8, 4, T, new_fold), 11);
          const ArrayTiming rep = b.run_repeated(seg(8, 4, T, new_fold), 9, 11);
          INFO(dataflow_name(df) << " overlap " << overlap << " T " << T << " new " << new_fold);
          CHECK(rep.issue == last.issue);
          CHECK(rep.stream_start == last.stream_start);
          CHECK(rep.stream_end == last.stream_end);
          CHECK(rep.done == last.done);
          CHECK(a.run(seg(2, 2, 4), 0).done == b.run(seg(2, 2, 4), 0).done);
        }
      }
    }
  }
}

TEST_CASE("a fold of C channels vs C + 1: one column fold vs two", "[timing][array]") {
  const ArrayConfig ws = array(32, 32, Dataflow::kWeightStationary, true, false);
  const FoldGrid a = map_gemm(ws, {100, 32, 32, false});
  CHECK(a.row_folds == 1);
  CHECK(a.col_folds == 1);
  const FoldGrid b = map_gemm(ws, {100, 32, 33, false});
  CHECK(b.col_folds == 2);
  CHECK(b.cols_full == 32);
  CHECK(b.cols_last == 1);
  // One fold: preload 32 + stream 100 + drain 32 + 32 - 2; the extra channel adds a fold that
  // streams all 100 pixels again (its preload hidden) and drains over one column.
  CHECK(gemm_cycles(ws, {100, 32, 32, false}) == 32 + 100 + 62);
  CHECK(gemm_cycles(ws, {100, 32, 33, false}) == 32 + 100 + 100 + 32 + 1 - 2);
  // Same on the reduction: K = R + 1 is two row folds, the last using one row.
  const FoldGrid k = map_gemm(ws, {100, 33, 32, false});
  CHECK(k.row_folds == 2);
  CHECK(k.rows_last == 1);
  CHECK(k.fold(1, 0).rows_used == 1);
}

TEST_CASE("depthwise convolutions pack channels block-diagonally", "[timing][array]") {
  // 3x3 depthwise, 32 channels, 100 pixels.
  const GemmShape dw{100, 9, 32, true};
  // ws 32x32: g = min(floor(32 / 9), 32) = 3 channels per fold: 11 folds, the last with 2.
  const ArrayConfig ws = array(32, 32, Dataflow::kWeightStationary, true, false);
  FoldGrid f = map_gemm(ws, dw);
  CHECK(f.channels_per_fold == 3);
  CHECK(f.folds() == 11);
  CHECK(f.fold(0, 0).rows_used == 27);
  CHECK(f.fold(0, 0).cols_used == 3);
  CHECK(f.fold(0, 10).rows_used == 18);
  CHECK(f.fold(0, 10).cols_used == 2);
  CHECK(f.fold(0, 10).vectors == 100);
  // ws 32x2: the columns cap g at 2.
  CHECK(map_gemm(array(32, 2, Dataflow::kWeightStationary, true, false), dw).folds() == 16);
  // is 32x32: 3 channels stacked along the rows, pixels on the columns (4 folds of <= 32), one
  // streamed weight vector per channel.
  const ArrayConfig is = array(32, 32, Dataflow::kInputStationary, true, false);
  f = map_gemm(is, dw);
  CHECK(f.row_folds == 11);
  CHECK(f.col_folds == 4);
  CHECK(f.fold(0, 0).rows_used == 27);
  CHECK(f.fold(0, 0).vectors == 3);
  CHECK(f.fold(10, 3).rows_used == 18);
  CHECK(f.fold(10, 3).vectors == 2);
  CHECK(f.fold(10, 3).cols_used == 4);
  // os: one channel per fold: 32 channels x ceil(100 / 32) pixel folds, T = 9.
  f = map_gemm(array(32, 32, Dataflow::kOutputStationary, true, false), dw);
  CHECK(f.folds() == 32 * 4);
  CHECK(f.fold(3, 0).rows_used == 4);
  CHECK(f.fold(0, 0).cols_used == 1);
  CHECK(f.vectors == 9);
  // 5x5 kernel on a 16-row array: k = 25 > R, so K splits over 2 row folds (16 + 9).
  const GemmShape big{10, 25, 4, true};
  f = map_gemm(array(16, 16, Dataflow::kWeightStationary, true, false), big);
  CHECK(f.row_folds == 2);
  CHECK(f.col_folds == 4);
  CHECK(f.fold(1, 3).rows_used == 9);
  f = map_gemm(array(16, 16, Dataflow::kInputStationary, true, false), big);
  CHECK(f.row_folds == 8);  // 4 channels x 2 slices
  CHECK(f.fold(0, 0).rows_used == 16);
  CHECK(f.fold(1, 0).rows_used == 9);
  CHECK(f.fold(2, 0).rows_used == 16);
  CHECK(f.fold(3, 0).vectors == 1);
  for (Dataflow df :
       {Dataflow::kWeightStationary, Dataflow::kInputStationary, Dataflow::kOutputStationary}) {
    for (const GemmShape& g : {dw, big}) {
      const ArrayConfig cfg = array(16, 16, df, true, false, 2);
      CHECK(gemm_cycles(cfg, g) == folds_one_by_one(cfg, g));
    }
  }
}

TEST_CASE("array timing rejects segments that do not fit", "[timing][array]") {
  MacArrayTimer t(array(4, 4, Dataflow::kWeightStationary, true, false));
  CHECK_THROWS_AS(t.run(seg(5, 4, 1), 0), std::invalid_argument);
  CHECK_THROWS_AS(t.run(seg(4, 0, 1), 0), std::invalid_argument);
  CHECK_THROWS_AS(t.run(seg(4, 4, 0), 0), std::invalid_argument);
  CHECK(gemm_cycles(array(4, 4, Dataflow::kWeightStationary, true, false), {0, 3, 3, false}) == 0);
  ChipParams chip;
  chip.mac_array.rows = 8;
  chip.mac_array.cols = 16;
  chip.mac_array.dataflow = Dataflow::kInputStationary;
  chip.mac_array.mac_latency_cycles = 2;
  chip.mac_array.overlap_preload = false;
  chip.mac_array.pad_partial_folds = true;
  const ArrayConfig c = ArrayConfig::from_chip(chip);
  CHECK(c.rows == 8);
  CHECK(c.cols == 16);
  CHECK(c.dataflow == Dataflow::kInputStationary);
  CHECK(c.mac_latency_cycles == 2);
  CHECK_FALSE(c.overlap_preload);
  CHECK(c.pad_partial_folds);
}

TEST_CASE("the SCALE-Sim presets pad partial folds and run folds back to back",
          "[timing][array][presets]") {
  const ArrayConfig ws = ArrayConfig::from_chip(load_chip("scalesim-ws-32x32"));
  CHECK(ws.pad_partial_folds);
  CHECK_FALSE(ws.overlap_preload);
  const ArrayConfig os = ArrayConfig::from_chip(load_chip("scalesim-os-32x32"));
  CHECK(os.pad_partial_folds);
  CHECK(os.dataflow == Dataflow::kOutputStationary);
  CHECK_FALSE(ArrayConfig::from_chip(load_chip("default")).pad_partial_folds);
  // A 3x3 conv, 16 -> 40 channels on a 10x10 output: K = 144 (5 row folds), M = 40 (2 col folds),
  // every fold a full 32x32 one: 10 x (2 x 32 + 32 + 100 - 2) on ws.
  const GemmShape conv{100, 144, 40, false};
  CHECK(gemm_cycles(ws, conv) == 10 * (64 + 32 + 100 - 2));
  // os: Npix = 100 (4 row folds), M = 40 (2 col folds), T = K = 144.
  CHECK(gemm_cycles(os, conv) == 8 * (32 + 32 + 144 - 2));
}
