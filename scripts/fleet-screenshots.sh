#!/usr/bin/env bash
# Screenshots of the app on a fleet, made by command: three instances of the
# relay of tests/fixtures/watch (two leaking, one steady) served from their
# real captures on 127.0.0.1, a Prometheus scraping their go_goroutines, one
# `leakscope capture --targets-file` of all three, then the app opened on the
# three folders with the history from Prometheus, at 1280x800 and 1920x1080.
#
#   scripts/fleet-screenshots.sh          (BIN=target/debug/leakscope to skip the release build)
#
# Needs python3, xvfb-run (see scripts/screenshots.sh) and the Debian
# package prometheus.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z ${BIN:-} ]]; then
	cargo build --release --quiet
	BIN=target/release/leakscope
fi
PROM=$(command -v prometheus || echo /usr/bin/prometheus)
WORK=$(mktemp -d /tmp/leakscope-fleet.XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
BASE=$((20000 + RANDOM % 20000))
cat >"$WORK/serve.py" <<'PY'
import http.server, sys, threading, socketserver
fixtures, base = sys.argv[1], int(sys.argv[2])
class Instance:
    def __init__(self, steps): self.steps, self.polls, self.total = steps, 0, 0
instances = {base: Instance(range(20)), base + 1: Instance(range(3, 20)), base + 2: Instance([10])}
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        inst = instances[self.server.server_address[1]]
        path = self.path.split('?')[0]
        if path == '/debug/pprof/goroutine':
            steps = list(inst.steps)
            step = steps[min(inst.polls, len(steps) - 1)]
            inst.polls += 1
            inst.total = 9 + 6 * step
            body = open(f'{fixtures}/goroutine-s{step:02d}.pb.gz', 'rb').read()
        elif path == '/metrics':
            body = f'# TYPE go_goroutines gauge\ngo_goroutines {inst.total}\n'.encode()
        elif path == '/debug/pprof/':
            body = b"<html>Types of profiles available:<table><tr><td>1</td><td><a href='goroutine?debug=1'>goroutine</a></td></tr></table></html>"
        else:
            self.send_response(404); self.end_headers(); return
        self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer): daemon_threads = True
for port in instances:
    threading.Thread(target=S(('127.0.0.1', port), H).serve_forever, daemon=True).start()
threading.Event().wait()
PY
python3 "$WORK/serve.py" tests/fixtures/watch "$BASE" &
pids+=($!)
cat >"$WORK/prometheus.yml" <<YML
global: { scrape_interval: 1s }
scrape_configs:
  - job_name: relay
    static_configs:
      - targets: ["127.0.0.1:$BASE", "127.0.0.1:$((BASE + 1))", "127.0.0.1:$((BASE + 2))"]
YML
"$PROM" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/data" \
	--web.listen-address="127.0.0.1:$((BASE + 10))" >"$WORK/prometheus.log" 2>&1 &
pids+=($!)
sleep 3
printf '127.0.0.1:%s\n' "$BASE" "$((BASE + 1))" "$((BASE + 2))" >"$WORK/targets.txt"
# Two snapshots of warm-up for Prometheus to record, then the capture.
"$BIN" capture --targets-file "$WORK/targets.txt" --snapshots 10 --interval 1s \
	--no-goroutineleak --out "$WORK/fleet" >/dev/null
sleep 2
mkdir -p screenshots
for size in 1280x800 1920x1080; do
	out=screenshots/fleet-history-$size.png
	xvfb-run -a -s "-screen 0 ${size}x24" "$BIN" --screenshot "$out" --size "$size" \
		--prometheus "http://127.0.0.1:$((BASE + 10))" --history 5m \
		--select 'relay' "$WORK"/fleet/*/
	echo "wrote $out"
done
