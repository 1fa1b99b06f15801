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
# Both read the file, build the flame graph and write the SVG, RUNS rounds
# of the four commands in turn.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-target}"
input="${1:-$target/tmp/export-bench/stacks-100k.folded}"
inferno="${INFERNO:-inferno-flamegraph}"
runs="${RUNS:-20}"
[ -f "$input" ] || { echo "no $input: run cargo bench --bench export first" >&2; exit 1; }
cargo build --release --quiet
leakscope="$target/release/leakscope"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# The four commands run in turn, round after round, so that a slow spell
# of a shared machine weighs on all of them alike rather than on whichever
# happened to be running; each one's best and median wall times are printed,
# and the ratio of medians against inferno at the same pruning.
names=(
	"inferno-flamegraph --minwidth 0.01"
	"leakscope export --min-width 0.01"
	"inferno-flamegraph --minwidth 0.1"
	"leakscope export (default 0.1)"
)
run_one() {
	case $1 in
	0) "$inferno" --minwidth 0.01 "$input" >"$out/inferno.svg" ;;
	1) "$leakscope" export --min-width 0.01 --force --svg "$out/leakscope.svg" "$input" >/dev/null ;;
	2) "$inferno" --minwidth 0.1 "$input" >"$out/inferno-0.1.svg" ;;
	3) "$leakscope" export --force --svg "$out/leakscope-default.svg" "$input" >/dev/null ;;
	esac
}
echo "input: $input ($(wc -l <"$input") lines, $(du -h "$input" | cut -f1)), $runs rounds"
for _ in $(seq "$runs"); do
	for i in 0 1 2 3; do
		start=$(date +%s%N)
		run_one "$i"
		end=$(date +%s%N)
		echo $(((end - start) / 1000000)) >>"$out/times$i"
	done
done
declare -a medians
for i in 0 1 2 3; do
	sorted=$(sort -n "$out/times$i")
	best=$(echo "$sorted" | head -1)
	medians[i]=$(echo "$sorted" | sed -n "$(((runs + 1) / 2))p")
	printf '%-40s best %5d ms   median %5d ms\n' "${names[i]}" "$best" "${medians[i]}"
done
awk -v a="${medians[1]}" -v b="${medians[0]}" -v c="${medians[3]}" -v d="${medians[2]}" \
	'BEGIN { printf "leakscope / inferno (medians): %.2fx at 0.01 %%, %.2fx at 0.1 %%\n", a / b, c / d }'
ls -l "$out"/*.svg | awk '{print $5, $9}'
