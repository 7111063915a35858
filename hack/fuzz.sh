#!/usr/bin/env bash
# fuzz.sh runs every Go fuzz target in the module for a short time each, so CI
# keeps exercising the parsers; longer campaigns: FUZZTIME=10m hack/fuzz.sh.
set -euo pipefail
fuzztime=${1:-10s}
# Minimising a new interesting input re-runs it thousands of times; with the
# model-file seeds (hundreds of KB) that took the whole of a 10 s smoke run
# (0 execs/s after the first seconds). Short runs fuzz instead; a crasher is
# still reported, less minimised. Campaigns: FUZZMINIMIZETIME=60s.
minimize=${FUZZMINIMIZETIME:-1s}
cd "$(dirname "$0")/.."
status=0
while IFS=: read -r file func; do
	pkg=./$(dirname "$file")
	echo "fuzz: $pkg $func ($fuzztime)" >&2
	go test "$pkg" -run '^$' -fuzz "^${func}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" || status=1
done < <(grep -rHoE --include='*_test.go' '^func (Fuzz[A-Za-z0-9_]+)' . | sed -E 's#^\./##; s#:func #:#')
exit $status
