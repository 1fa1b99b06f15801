#!/usr/bin/env bash
# seed.sh: fills fuzz/corpus/<target>/ with seeds made from the real fixtures
# in tests/fixtures (nothing is copied into git; run it again any time, it
# only adds files). Usage: fuzz/seed.sh [target...]
set -euo pipefail
cd "$(dirname "$0")"
F=../tests/fixtures
C=corpus
targets=("$@")
((${#targets[@]})) || targets=(pprof dump debug1 folded trace_v2 trace_legacy load_bytes session_dir live_text)

# put TARGET NAME < data
put() { mkdir -p "$C/$1"; cat >"$C/$1/seed-$2"; }

for t in "${targets[@]}"; do
	case $t in
	pprof)
		for f in "$F"/*.pb.gz; do gzip -dc "$f" | put pprof "$(basename "$f" .gz)"; done ;;
	dump)
		for f in "$F"/*.debug2.txt "$F"/panic-*.txt "$F"/stackdump-*.txt "$F"/variants/{crash,deadlock,debug2,repanic,sigquit,stack}.txt; do
			put dump "$(basename "$f")" <"$f"
		done ;;
	debug1)
		for f in "$F"/*.debug1.txt "$F"/variants/debug1.txt; do put debug1 "$(basename "$f")" <"$f"; done ;;
	folded)
		for f in ../tests/golden/folded-*.txt; do put folded "$(basename "$f")" <"$f"; done
		printf 'main;a;b 3\nmain;a;c 1\nmain;d 7\n' | put folded small.txt ;;
	trace_v2)
		# First byte picks the minor (22 + b % 4): 1 is go 1.23. The small
		# trace of another program keeps inputs short and executions fast.
		{ printf '\001'; tail -c +17 "$F/trace-go123.out"; } | put trace_v2 go123
		{ printf '\001'; tail -c +17 "$F/variants/trace-go123.out"; } | put trace_v2 variants-go123 ;;
	trace_legacy)
		# First byte picks the minor (11 + b % 11): 10 is go 1.21.
		{ printf '\012'; tail -c +17 "$F/trace-go121-legacy.out"; } | put trace_legacy go121
		{ printf '\012'; tail -c +17 "$F/variants/trace-go121.out"; } | put trace_legacy variants-go121 ;;
	load_bytes)
		for f in "$F"/*.pb.gz "$F"/*.txt "$F"/trace-*.out "$F"/variants/*.txt "$F"/variants/*.out ../tests/golden/folded-*.txt; do
			put load_bytes "$(basename "$f")" <"$f"
		done ;;
	session_dir)
		# manifest |NUL| name |NUL| content ...
		m='{"leakscope_session":1,"url":"http://127.0.0.1:6060/debug/pprof/","captures":[{"file":"000001-20261127T101500.120Z-goroutine.pb.gz","kind":"goroutine","started_at_ns":1764238500120000000},{"file":"000002-20261127T101505.118Z-goroutine-debug2.txt","kind":"goroutine-debug2","started_at_ns":1764238505118000000,"partial":true}],"failures":[],"failures_dropped":0}'
		{
			printf '%s|\0|%s|\0|' "$m" 000001-20261127T101500.120Z-goroutine.pb.gz
			cat "$F/goroutine-t0.pb.gz"
			printf '|\0|%s|\0|' 000002-20261127T101505.118Z-goroutine-debug2.txt
			cat "$F/goroutine-t1.debug1.txt"
		} | put session_dir two-captures
		{ printf -- '-|\0|%s|\0|' a.txt; cat "$F/goroutine-t0.debug1.txt"; } | put session_dir no-manifest ;;
	live_text)
		{
			printf "<html><table><tr><td>12</td><td><a href='allocs?debug=1'>allocs</a></td></tr>\n"
			printf "<tr><td>45</td><td><a href='goroutine?debug=1'>goroutine</a></td></tr></table></html>"
			printf '\0http://user:pw@127.0.0.1:6060/debug/pprof/\0/debug/pprof/goroutine?debug=1\0Authorization: Bearer abc'
		} | put live_text index ;;
	*) echo "unknown target $t" >&2; exit 2 ;;
	esac
done
