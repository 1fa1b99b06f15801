#!/usr/bin/env bash
# Makes the screenshots in screenshots/ with the app's own --screenshot flag,
# under Xvfb (no display needed), at 1280×800 and 1920×1080. Needs:
# xvfb-run and Mesa's software GL (Debian: xvfb xauth libgl1-mesa-dri
# libegl-mesa0). A screenshot run reads and writes none of the app's saved
# state, so these pictures are the same on every machine.
#
#   scripts/screenshots.sh              # release build
#   PROFILE=dev scripts/screenshots.sh  # the debug build (same pictures)
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${PROFILE:-release}
cargo build --profile "$PROFILE" --quiet
TARGET=${CARGO_TARGET_DIR:-target}
case $PROFILE in
dev) BIN=$TARGET/debug/leakscope ;;
*) BIN=$TARGET/$PROFILE/leakscope ;;
esac
FIX=tests/fixtures
mkdir -p screenshots
shot() {
	local name=$1
	shift
	for size in 1280x800 1920x1080; do
		local out=screenshots/$name-$size.png
		xvfb-run -a -s "-screen 0 1920x1080x24" "$BIN" --screenshot "$out" --size "$size" "$@"
		echo "wrote $out"
	done
}
# The embedded demo session (dumps of leakyd 20-40 s apart and a trace of
# it) with the fastest-growing suspect selected: its lanes, creation events
# and blocking points, flame graph path, details and series.
shot demo --select 'querySearchBackend'
# Long import paths (example.org/acme/svc.v2, generics) in a dump and a
# trace of the same program, the generic pool's waiters selected.
shot long-paths-and-trace --select 'Pool' "$FIX/variants/debug2.txt" "$FIX/variants/trace-go123.out"
# One profile of 100,096 goroutines (leakyd's large mode), its biggest group selected.
shot 100k-goroutines --select 'lockLedger' "$FIX/large/goroutine-100k.pb.gz"
# A Go 1.27 dump with the runtime's proof: five groups marked PROVEN.
shot go1.27-proven-leaks --select 'sendResult' "$FIX/releases/go1.27/goroutineleak.debug2.txt"
# One dump with wait ages (agingd's six waves a minute apart): each lane
# starts when its goroutine began to wait, and the ages' histogram takes
# the one-point plot's place; the growing group selected.
shot single-dump-wait-ages --select 'submitOrder' "$FIX/waitage/goroutine-aged.debug2.txt"
# The flame pane's Top view (self and total per function) of the last leakyd
# goroutine profile, the growing search leak's site picked.
shot flame-top --flame-view top --select 'querySearchBackend' "$FIX/goroutine-t3.pb.gz"
# The Sandwich of the 100k profile's biggest group's leak site: what calls it
# (deep, recursive stacks) standing on it, what it calls hanging below.
shot flame-sandwich --flame-view sandwich --select 'lockLedger' "$FIX/large/goroutine-100k.pb.gz"
