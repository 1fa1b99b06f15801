#!/usr/bin/env bash
# Times `leakscope export` against inferno's own CLI on the same 100,000
# folded stacks, side by side, at inferno's default pruning (0.01 %) and at
# leakscope's (0.1 %). The issue's goal: within 1.2x of inferno at equal
# settings.
#
#   cargo install inferno --root /somewhere   # provides inferno-flamegraph
#   cargo bench --bench export                # writes the input file
#   INFERNO=/somewhere/bin/inferno-flamegraph benches/export-vs-inferno.sh
#
# Both read the file, build the flame graph and write the SVG; each is run
# RUNS times and the best and median wall times are printed.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-target}"
input="${1:-$target/tmp/export-bench/stacks-100k.folded}"
inferno="${INFERNO:-inferno-flamegraph}"
runs="${RUNS:-10}"
[ -f "$input" ] || { echo "no $input: run cargo bench --bench export first" >&2; exit 1; }
cargo build --release --quiet
leakscope="$target/release/leakscope"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# Prints the best and the median of $runs wall times of a command, in ms.
time_it() {
	local name="$1"
	shift
	local times=()
	for _ in $(seq "$runs"); do
		local start end
		start=$(date +%s%N)
		"$@" >/dev/null
		end=$(date +%s%N)
		times+=($(((end - start) / 1000000)))
	done
	local sorted
	sorted=$(printf '%s\n' "${times[@]}" | sort -n)
	printf '%-40s best %5d ms   median %5d ms\n' "$name" \
		"$(echo "$sorted" | head -1)" "$(echo "$sorted" | sed -n "$(((runs + 1) / 2))p")"
}

echo "input: $input ($(wc -l <"$input") lines, $(du -h "$input" | cut -f1))"
time_it "inferno-flamegraph --minwidth 0.01" sh -c "\"$inferno\" --minwidth 0.01 \"$input\" > \"$out/inferno.svg\""
time_it "leakscope export --min-width 0.01" "$leakscope" export --min-width 0.01 --force --svg "$out/leakscope.svg" "$input"
time_it "inferno-flamegraph --minwidth 0.1" sh -c "\"$inferno\" --minwidth 0.1 \"$input\" > \"$out/inferno-0.1.svg\""
time_it "leakscope export (default 0.1)" "$leakscope" export --force --svg "$out/leakscope-default.svg" "$input"
ls -l "$out"/*.svg | awk '{print $5, $9}'
