#!/bin/bash
# Reproduces the README's chip-aware estimator figures: labels 8,000 units on each of nine chips
# (the default chip's family and two presets), then fits a chip-aware estimator on all of them but
# the default chip (its hash: every store has a chip named default) and evaluates it on the default
# chip, which it never saw.
#   tools/chip_family.sh [OUT_DIR]      (default: chip_family/; NAX=path/to/nax picks the binary)
set -euo pipefail
NAX=${NAX:-build/tools/nax}
OUT=${1:-chip_family}
mkdir -p "$OUT"
gen() {
  local name=$1
  shift
  "$NAX" traces --count 8000 --seed 11 --db "$OUT/$name.db" -j 2 -q "$@"
  echo "$name labelled"
}
gen c0_default --chip default
gen c1_r16 --chip default -p mac_array.rows=16 -p mac_array.cols=16
gen c2_r64 --chip default -p mac_array.rows=64 -p mac_array.cols=64 -p vector_unit.lanes=64
gen c3_sram512 --chip default -p sram.capacity_kib=512
gen c4_bw8 --chip default -p dram.bandwidth_gb_per_s=8
gen c5_os --chip default -p mac_array.dataflow=os
gen c6_tiny --chip tiny
gen c7_edgetpu --chip edgetpu-like
gen c8_r32x64 --chip default -p mac_array.cols=64 -p vector_unit.lanes=64 \
  -p sram.capacity_kib=1024 -p dram.bandwidth_gb_per_s=12
dbs=()
for f in "$OUT"/c*.db; do dbs+=(--db "$f"); done
"$NAX" fit "${dbs[@]}" --chip-aware --holdout-chip 64e4411bc221ed28 --out "$OUT/aware.est.json" \
  --json "$OUT/aware.json"
