#!/usr/bin/env bash
# Makes the README's screenshots in screenshots/ with the app's own
# --screenshot flag, under Xvfb (no display needed). Needs: xvfb-run and
# Mesa's software GL (Debian: xvfb xauth libgl1-mesa-dri libegl-mesa0).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN=target/release/leakscope
mkdir -p screenshots
shot() {
	local out=$1
	shift
	xvfb-run -a -s "-screen 0 1600x1000x24" "$BIN" --screenshot "$out" --size 1440x900 "$@"
	echo "wrote $out"
}
# The embedded demo session with the fastest-growing suspect selected:
# its lanes, creation events and blocking points, flame graph path and series.
shot screenshots/demo-suspect-selected.png --select 'querySearchBackend'
# A 100,096-goroutine dump, if it was unpacked into $LEAKSCOPE_LARGE_DIR (default
# $CARGO_TARGET_DIR/large; see tests/fixtures/large/README.md).
BIG=${LEAKSCOPE_LARGE_DIR:-${CARGO_TARGET_DIR:-target}/large}/goroutine-100k.debug2.txt
if [[ -f $BIG ]]; then
	shot screenshots/100k-goroutines.png --select 'lockLedger' "$BIG"
fi
