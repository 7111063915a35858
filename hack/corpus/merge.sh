#!/usr/bin/env bash
# Merge recordings of several machine shapes into one corpus: metrics.lp
# concatenated, pods.csv with one header. Fails if two recordings name the
# same pod or their pods.csv headers differ.
#
# Usage: hack/corpus/merge.sh OUT DIR...
#   hack/corpus/record.sh -machine cpu1 -out /tmp/c/cpu1
#   hack/corpus/record.sh -machine cpu2 -seed 2 -out /tmp/c/cpu2
#   hack/corpus/merge.sh testdata/corpus /tmp/c/cpu1 /tmp/c/cpu2
set -euo pipefail
out=$1
shift
(($# >= 1)) || { echo "usage: merge.sh OUT DIR..." >&2; exit 2; }
header=$(head -1 "$1/pods.csv")
for d in "$@"; do
	[[ $(head -1 "$d/pods.csv") == "$header" ]] || { echo "merge.sh: $d/pods.csv has another header" >&2; exit 1; }
done
dups=$(for d in "$@"; do tail -n +2 "$d/pods.csv" | cut -d, -f1,2; done | sort | uniq -d)
[[ -z $dups ]] || { echo "merge.sh: pods recorded twice: $dups" >&2; exit 1; }
mkdir -p "$out"
{
	echo "$header"
	for d in "$@"; do tail -n +2 "$d/pods.csv"; done
} >"$out/pods.csv.tmp"
for d in "$@"; do cat "$d/metrics.lp"; done >"$out/metrics.lp.tmp"
mv "$out/pods.csv.tmp" "$out/pods.csv"
mv "$out/metrics.lp.tmp" "$out/metrics.lp"
echo "merged $(($(wc -l <"$out/pods.csv") - 1)) pods into $out"
