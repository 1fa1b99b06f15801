#!/usr/bin/env bash
# release-check.sh: what to run before a release, beyond CI (.ci/run):
# the CI checks, then a short run of every fuzz target seeded from the
# fixtures (60 s each by default; FUZZ_SECONDS to change, 0 to skip), then,
# with SCALE=1, the scale test (scripts/scale-test.sh: a 1,000,000-goroutine
# dump and a 500 MB trace; needs Go and a few GB).
#
# Fuzzing needs cargo-fuzz (`cargo install cargo-fuzz`); it runs on the
# stable toolchain (see fuzz/run.sh). A crash stops the script with the
# target's name; the input that crashed is in fuzz/artifacts/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
TARGETS=(pprof dump debug1 folded trace_v2 trace_legacy load_bytes session_dir live_text)

echo "== the CI checks (.ci/run)"
.ci/run

if ((FUZZ_SECONDS > 0)); then
	command -v cargo-fuzz >/dev/null || {
		echo "cargo-fuzz is not installed: cargo install cargo-fuzz (or FUZZ_SECONDS=0)" >&2
		exit 1
	}
	for t in "${TARGETS[@]}"; do
		echo "== fuzz $t for ${FUZZ_SECONDS}s"
		log=$(mktemp)
		if ! fuzz/run.sh "$t" "$FUZZ_SECONDS" >"$log" 2>&1; then
			tail -n 40 "$log"
			echo "fuzz target $t failed; see fuzz/artifacts/$t/" >&2
			exit 1
		fi
		grep -E '^Done|stat::(number_of_executed_units|new_units_added|peak_rss_mb)' "$log" | sed 's/^/   /'
		rm -f "$log"
	done
fi

if [[ ${SCALE:-0} == 1 ]]; then
	echo "== scale test"
	scripts/scale-test.sh
fi
echo "release checks passed"
