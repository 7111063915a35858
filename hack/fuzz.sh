#!/usr/bin/env bash
# fuzz.sh runs every Go fuzz target in the module: first its seed corpus as a
# regression test (f.Add seeds and testdata/fuzz/<Target>/, every committed
# crasher among them), then timed fuzzing for a short while, so CI keeps
# exercising the parsers; longer campaigns: FUZZTIME=10m hack/fuzz.sh.
#
# Only two things fail it: a seed that fails, and a new crasher. Go 1.26's
# fuzzing coordinator can end a timed run with "context deadline exceeded"
# and no failing input when -fuzztime expires while a worker is mid-input on
# a busy machine (go.dev/issue/75804, fixed in Go 1.27); such a run wrote no
# crasher, so it is reported and not counted. A crasher is written to
# <package>/testdata/fuzz/<Target>/: fix the bug and commit the file, which
# then runs as a seed every time.
set -euo pipefail
fuzztime=${1:-10s}
# Minimising a new interesting input re-runs it thousands of times; with the
# model-file seeds (hundreds of KB) that took the whole of a 10 s smoke run
# (0 execs/s after the first seconds). Short runs fuzz instead; a crasher is
# still reported, less minimised. Campaigns: FUZZMINIMIZETIME=60s.
minimize=${FUZZMINIMIZETIME:-1s}
cd "$(dirname "$0")/.."
status=0
ignored=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
corpus_files() { if [[ -d $1 ]]; then find "$1" -type f | sort; fi; }
while IFS=: read -r file func; do
	pkg=./$(dirname "$file")
	echo "fuzz: $pkg $func: seed corpus" >&2
	if ! go test "$pkg" -count=1 -run "^${func}\$"; then
		status=1
		continue
	fi
	echo "fuzz: $pkg $func ($fuzztime)" >&2
	corpus=$(dirname "$file")/testdata/fuzz/$func
	before=$(corpus_files "$corpus")
	if go test "$pkg" -run '^$' -fuzz "^${func}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" 2>&1 | tee "$log" >&2; then
		continue
	fi
	new=$(comm -13 <(echo "$before") <(corpus_files "$corpus"))
	if [[ -n $new ]]; then
		echo "fuzz: $func found a crasher: $new (fix the bug, then commit the file as a seed)" >&2
		status=1
	else
		echo "fuzz: $func: the run ended with an error but wrote no crasher (Go's fuzzing coordinator, go.dev/issue/75804): not counted" >&2
		ignored=$((ignored + 1))
	fi
done < <(grep -rHoE --include='*_test.go' '^func (Fuzz[A-Za-z0-9_]+)' . | sed -E 's#^\./##; s#:func #:#')
echo "fuzz: done; $ignored run(s) ended without a crasher and were not counted" >&2
exit $status
