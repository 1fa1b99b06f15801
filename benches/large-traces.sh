#!/bin/sh
# Unpacks the large benchmark traces into $CARGO_TARGET_DIR/large (default
# target/large), where benches/trace.rs looks for them. They are tens of MB
# each, so they stay out of git, and so do their compressed originals:
# LEAKSCOPE_FIXTURES names the directory that holds the .xz files (see
# tests/fixtures/large/README.md).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
src=${LEAKSCOPE_FIXTURES:?set LEAKSCOPE_FIXTURES to the directory holding trace-large-*.out.xz}
dst=${CARGO_TARGET_DIR:-$here/target}/large
mkdir -p "$dst"
for f in trace-large-go123.out trace-large-go121-legacy.out; do
	if [ ! -s "$dst/$f" ]; then
		xz -dc "$src/$f.xz" >"$dst/$f.tmp"
		mv "$dst/$f.tmp" "$dst/$f"
	fi
	echo "$dst/$f"
done
