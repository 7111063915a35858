#!/usr/bin/env bash
# fuzz.sh runs every Go fuzz target in the module for a short time each, so CI
# keeps exercising the parsers; longer campaigns: FUZZTIME=10m hack/fuzz.sh.
set -euo pipefail
fuzztime=${1:-10s}
cd "$(dirname "$0")/.."
status=0
while IFS=: read -r file func; do
	pkg=./$(dirname "$file")
	echo "fuzz: $pkg $func ($fuzztime)" >&2
	go test "$pkg" -run '^$' -fuzz "^${func}\$" -fuzztime "$fuzztime" || status=1
done < <(grep -rHoE --include='*_test.go' '^func (Fuzz[A-Za-z0-9_]+)' . | sed -E 's#^\./##; s#:func #:#')
exit $status
