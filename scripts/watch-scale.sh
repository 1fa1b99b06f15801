#!/usr/bin/env bash
# watch-scale.sh [MINUTES]: one `leakscope watch` polling 100 targets on
# 127.0.0.1 every second (each serving tests/fixtures/watch/goroutine-big02.pb.gz),
# one of which accepts and never answers; prints peak memory, CPU, the
# polls each healthy target made and the slowest of them.
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-10}
if [[ -z ${BIN:-} ]]; then
	cargo build --release --no-default-features --quiet
	BIN=target/release/leakscope
fi
WORK=$(mktemp -d /tmp/leakscope-scale.XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
BASE=$((20000 + RANDOM % 20000))
python3 - "$BASE" 100 tests/fixtures/watch/goroutine-big02.pb.gz <<'PY' &
import http.server, sys, threading, time, socketserver
base, n, body = int(sys.argv[1]), int(sys.argv[2]), open(sys.argv[3], 'rb').read()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *a): pass
    def do_GET(self):
        if self.server.server_address[1] == base:  # the one that hangs
            time.sleep(3600); return
        b = body if self.path.startswith('/debug/pprof/goroutine') else b'<html>Types of profiles available:</html>'
        self.send_response(200); self.send_header('Content-Length', str(len(b))); self.end_headers(); self.wfile.write(b)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer): daemon_threads = True
for i in range(n):
    threading.Thread(target=S(('127.0.0.1', base + i), H).serve_forever, daemon=True).start()
threading.Event().wait()
PY
pids+=($!)
sleep 2
mapfile -t targets < <(seq "$BASE" $((BASE + 99)) | sed 's/^/127.0.0.1:/')
"$BIN" watch "${targets[@]}" --out "$WORK/out" --interval 1s --listen 127.0.0.1:0 2>"$WORK/watch.log" &
W=$!
pids+=($W)
sleep $((MINUTES * 60))
ADDR=$(grep -o 'http://127.0.0.1:[0-9]*/metrics' "$WORK/watch.log" | head -1)
curl -s "$ADDR" >"$WORK/metrics.txt"
read -r ut st <<<"$(awk '{print $14, $15}' /proc/$W/stat)"
echo "peak $(awk '/VmHWM/ {print $2}' /proc/$W/status) kB, cpu $(((ut + st) * 1000 / $(getconf CLK_TCK))) ms," \
	"$(ls /proc/$W/task | wc -l) threads"
python3 - "$WORK/metrics.txt" "$BASE" <<'PY'
import re, sys, collections
counts, buckets = {}, collections.defaultdict(list)
for l in open(sys.argv[1]):
    m = re.match(r'leakscope_capture_duration_seconds_count\{target="([^"]+)",kind="goroutine"\} (\S+)', l)
    if m: counts[m.group(1)] = float(m.group(2))
    m = re.match(r'leakscope_capture_duration_seconds_bucket\{le="([^"]+)",target="([^"]+)",kind="goroutine"\} (\S+)', l)
    if m: buckets[m.group(2)].append((float('inf') if m.group(1) == '+Inf' else float(m.group(1)), float(m.group(3))))
healthy = {t: c for t, c in counts.items() if f':{sys.argv[2]}/' not in t}
worst = 0.0
for t, b in buckets.items():
    if t in healthy:
        worst = max(worst, next(le for le, v in sorted(b) if v >= healthy[t]))
print(f"{len(healthy)} healthy targets: {min(healthy.values()):.0f}-{max(healthy.values()):.0f} polls each; slowest poll under {worst} s")
PY
