#!/usr/bin/env bash
# run.sh TARGET [SECONDS] [libFuzzer flags...]: fuzzes one target, seeding
# its corpus from the fixtures first, and prints the figures of the run.
#
# Works on the stable toolchain: cargo-fuzz passes `-Z` flags to rustc, which
# `RUSTC_BOOTSTRAP=1` allows on stable. `-s none` (no sanitizer) because the
# crate forbids `unsafe`: what the fuzzer hunts here are panics, hangs,
# overflow (`-a`: debug assertions and overflow checks) and memory blow-ups
# (libFuzzer's `-rss_limit_mb` and `-malloc_limit_mb`).
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?usage: run.sh TARGET [SECONDS] [libFuzzer flags...]}
secs=${2:-60}
shift $(($# >= 2 ? 2 : 1))
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR_FUZZ:-${CARGO_TARGET_DIR:-../target}/fuzz}
# One rayon thread: the parsers split big inputs across threads, fuzz
# inputs are small, and the machine is shared.
export RAYON_NUM_THREADS=${RAYON_NUM_THREADS:-1}
[[ -d corpus/$target ]] || ./seed.sh "$target"
mkdir -p "artifacts/$target"
cargo fuzz run -s none -a "$target" "corpus/$target" -- \
	-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="artifacts/$target/" "$@"
