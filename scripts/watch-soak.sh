#!/usr/bin/env bash
# watch-soak.sh [MINUTES]: `leakscope watch` polling a 10,009-goroutine
# profile (tests/fixtures/watch/goroutine-big02.pb.gz, served on 127.0.0.1)
# every 100 ms; prints its RSS, peak RSS, polls and CPU at 1, 10 and 30
# minutes (or up to MINUTES). Memory must stay flat: the window is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
LAST=${1:-30}
if [[ -z ${BIN:-} ]]; then
	cargo build --release --no-default-features --quiet
	BIN=target/release/leakscope
fi
WORK=$(mktemp -d /tmp/leakscope-soak.XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT=$((20000 + RANDOM % 20000))
python3 - "$PORT" tests/fixtures/watch/goroutine-big02.pb.gz <<'PY' &
import http.server, sys, socketserver
port, body = int(sys.argv[1]), open(sys.argv[2], 'rb').read()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *a): pass
    def do_GET(self):
        b = body if self.path.startswith('/debug/pprof/goroutine') else b'<html>Types of profiles available:</html>'
        self.send_response(200); self.send_header('Content-Length', str(len(b))); self.end_headers(); self.wfile.write(b)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer): daemon_threads = True
S(('127.0.0.1', port), H).serve_forever()
PY
pids+=($!)
sleep 1
"$BIN" watch "127.0.0.1:$PORT" --out "$WORK/out" --interval 100ms --listen 127.0.0.1:0 2>"$WORK/watch.log" &
W=$!
pids+=($W)
T0=$(date +%s)
TCK=$(getconf CLK_TCK)
sleep 2
ADDR=$(grep -o 'http://127.0.0.1:[0-9]*/metrics' "$WORK/watch.log" | head -1)
for m in 1 10 30; do
	((m <= LAST)) || break
	while (($(date +%s) - T0 < m * 60)); do sleep 5; done
	polls=$(curl -s "$ADDR" | awk '/^leakscope_capture_duration_seconds_count\{/ && /kind="goroutine"/ {print $2}')
	read -r ut st <<<"$(awk '{print $14, $15}' /proc/$W/stat)"
	cpu=$(((ut + st) * 1000 / TCK))
	echo "minute $m: polls $polls, rss $(awk '/VmRSS/ {print $2}' /proc/$W/status) kB," \
		"peak $(awk '/VmHWM/ {print $2}' /proc/$W/status) kB, cpu $cpu ms ($((cpu * 1000 / polls)) µs/poll)"
done
