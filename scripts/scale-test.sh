#!/usr/bin/env bash
# scale-test.sh: loads captures far bigger than the benchmark fixtures and
# reports how long `leakscope inspect --json` takes on each and how much
# memory it peaks at, against the file's size.
#
# The captures come from the fixture factory (tests/fixtures/src/leakyd, a
# real Go service in its large mode), in longer runs than
# make-large-fixtures.sh makes:
#
#   dump   `leakyd -park 1000000`: 1,000,000 parked goroutines over 150
#          stacks plus one leak phase, as runtime.Stack(buf, true) output
#          (GET /admin/stackdump; /debug/pprof/goroutine?debug=2 stops at
#          64 MB) and as the goroutine profile (proto and debug=1).
#   trace  `leakyd -park 20000 -sensors 500 -churn N` traced through
#          /debug/pprof/trace?seconds=S until the file reaches about
#          $TRACE_MB MB (500 by default); with $GO_LEGACY, the same capture
#          in the legacy format too.
#
# Needs: a Go toolchain ($GO, default `go`; 1.22+), curl, GNU time, and a
# few GB of disk and memory (the 1M-goroutine service itself takes ~4 GB).
# The captures are kept in $SCALE_DIR (default target/scale) and reused on
# later runs; delete them to capture fresh ones.
#
#   scripts/scale-test.sh                 # capture what is missing, measure
#   RUNS=3 scripts/scale-test.sh          # more runs per file (median shown)
#   GO=/usr/lib/go-1.23/bin/go GO_LEGACY=/usr/lib/go-1.21/bin/go scripts/scale-test.sh
#   SKIP_DUMP=1 TRACE_MB=1000 SCALE_DIR=target/scale-1g scripts/scale-test.sh   # a 1 GB trace
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

GO=${GO:-go}
GO_LEGACY=${GO_LEGACY:-}
OUT=${SCALE_DIR:-${CARGO_TARGET_DIR:-target}/scale}
TRACE_MB=${TRACE_MB:-500}
PARK=${PARK:-1000000}
CHURN=${CHURN:-11}
RUNS=${RUNS:-1}
SRC=${LEAKYD_SRC:-$ROOT/tests/fixtures/src/leakyd}
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0

log() { printf '[scale-test] %s\n' "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}
bytes() { stat -c %s "$1"; }

GNU_TIME=$(type -P time || true)
[[ -n $GNU_TIME ]] && "$GNU_TIME" -f '%e' true 2>/dev/null || die "GNU time is required (Debian: time)"
command -v curl >/dev/null || die "curl is required"

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
	if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then kill "$SERVER_PID" || true; fi
	rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$OUT"

# --- capturing ----------------------------------------------------------------

need_leakyd() {
	[[ -x $WORK/leakyd ]] && return 0
	[[ -d $SRC ]] || die "no leakyd source at $SRC (set LEAKYD_SRC)"
	log "building leakyd with $("$GO" env GOVERSION)"
	(cd "$SRC" && "$GO" build -trimpath -o "$WORK/leakyd" .)
	if [[ -n $GO_LEGACY ]]; then
		(cd "$SRC" && "$GO_LEGACY" build -trimpath -o "$WORK/leakyd-legacy" .)
	fi
}

# start_server BINARY [flags...]: returns once it listens (after -park).
start_server() {
	local bin=$1 i
	shift
	rm -f "$WORK/addr"
	"$bin" -addr 127.0.0.1:0 -addr-file "$WORK/addr" "$@" >"$WORK/server.log" 2>&1 &
	SERVER_PID=$!
	for ((i = 0; i < 3000; i++)); do
		[[ -s $WORK/addr ]] && break
		kill -0 "$SERVER_PID" 2>/dev/null || die "leakyd exited early: $(cat "$WORK/server.log")"
		sleep 0.1
	done
	[[ -s $WORK/addr ]] || die "leakyd did not listen within 300 s"
	BASE="http://$(head -n1 "$WORK/addr")"
	log "leakyd $* listening on $BASE"
}

stop_server() {
	kill -TERM "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" || true
	SERVER_PID=
}

hit() {
	local i
	for ((i = 0; i < $2; i++)); do curl -sS --max-time 10 -o /dev/null "$BASE$1"; done
}

# One dose of every leak of the service (see tests/fixtures/MANIFEST.md).
leak_phase() {
	hit "/api/search?q=scale" 10
	hit "/api/subscribe?topic=scale" 5
	hit "/api/watch?key=scale" 3
	hit "/api/reserve?sku=widget&qty=1" 4
	hit "/api/batch?items=a,,b" 2
	hit "/api/stream?session=scale" 1
	hit "/api/proxy?sym=SCALE" 2
	sleep 1
}

capture_dump() {
	local dump=$OUT/goroutine-1m.stack.txt
	[[ -s $dump ]] && return 0
	need_leakyd
	start_server "$WORK/leakyd" -duration 30m -park "$PARK" -sensors 50 -stackdump "$dump.part"
	leak_phase
	curl -fsS --max-time 600 -o "$OUT/goroutine-1m.pb.gz" "$BASE/debug/pprof/goroutine"
	curl -fsS --max-time 600 -o "$OUT/goroutine-1m.debug1.txt" "$BASE/debug/pprof/goroutine?debug=1"
	curl -fsS --max-time 600 -o /dev/null "$BASE/admin/stackdump"
	mv "$dump.part" "$dump"
	stop_server
	log "captured $(grep -c '^goroutine ' "$dump") goroutines, $(bytes "$dump") bytes"
}

# capture_trace BINARY FILE
capture_trace() {
	local bin=$1 file=$OUT/$2 secs
	[[ -s $file ]] && return 0
	need_leakyd
	# A first short capture gives this machine's bytes per second.
	start_server "$bin" -duration 30m -park 20000 -sensors 500 -churn "$CHURN"
	sleep 2
	curl -fsS --max-time 60 -o "$WORK/probe.trace" "$BASE/debug/pprof/trace?seconds=4"
	secs=$(((TRACE_MB * 1000000 * 4 / $(bytes "$WORK/probe.trace")) + 1))
	((secs <= 1500)) || secs=1500
	log "tracing for $secs s to reach about $TRACE_MB MB"
	curl -fsS --max-time $((secs + 120)) -o "$file.part" "$BASE/debug/pprof/trace?seconds=$secs" &
	local fetcher=$!
	sleep 1
	leak_phase
	wait "$fetcher"
	mv "$file.part" "$file"
	stop_server
	log "captured $2: $(bytes "$file") bytes"
}

if [[ ${SKIP_DUMP:-0} != 1 ]]; then capture_dump; fi
capture_trace "$WORK/leakyd" "trace-${TRACE_MB}mb-go123.out"
if [[ -n $GO_LEGACY ]]; then
	need_leakyd
	capture_trace "$WORK/leakyd-legacy" "trace-${TRACE_MB}mb-go121-legacy.out"
fi

# --- measuring ----------------------------------------------------------------

cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/leakscope

# measure FILE: median wall time and peak RSS of `leakscope inspect --json`.
measure() {
	local f=$1 i times=() rss=() size
	size=$(bytes "$f")
	for ((i = 0; i < RUNS; i++)); do
		"$GNU_TIME" -o "$WORK/time" -f '%e %M' "$BIN" inspect --json "$f" >"$WORK/out.json" ||
			die "leakscope inspect failed on $f"
		read -r t m <"$WORK/time"
		times+=("$t")
		rss+=("$m")
	done
	local mt mr
	mt=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
	mr=$(printf '%s\n' "${rss[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
	awk -v name="$(basename "$f")" -v size="$size" -v t="$mt" -v kb="$mr" 'BEGIN {
		printf "%-32s %9.1f MB  %7.2f s  %8.1f MB peak  %5.2fx the file  %6.0f MB/s\n",
			name, size / 1e6, t, kb * 1024 / 1e6, kb * 1024 / size, size / 1e6 / (t > 0 ? t : 0.001)
	}'
	# What it found, so a wrong answer at scale shows too.
	python3 - "$WORK/out.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
for i in r.get("inputs", []):
    w = i.get("warnings") or []
    print(f"    {i.get('format')}: {i.get('goroutines', '')} goroutines"
          + (f", warnings: {w}" if w else ""))
t = r.get("trace")
if t:
    print(f"    trace: {t['events']} events, {t['goroutines_created']} created, "
          f"{t['goroutines_ended']} ended, {t['alive_at_end']} alive at end")
top = [s for s in r.get("suspects", []) if s.get("growing") or s.get("source") == "trace"][:10]
for s in top:
    print(f"    suspect {s['function']} {s.get('wait_reason') or ''} counts={s['counts']}")
EOF
}

printf '\nleakscope inspect --json, %d run(s) each, %d CPUs, %s\n' "$RUNS" "$(nproc)" \
	"$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n1)"
for f in "$OUT"/goroutine-1m.stack.txt "$OUT"/goroutine-1m.debug1.txt "$OUT"/goroutine-1m.pb.gz \
	"$OUT"/trace-"$TRACE_MB"mb-go123.out "$OUT"/trace-"$TRACE_MB"mb-go121-legacy.out; do
	[[ -f $f ]] && measure "$f"
done
