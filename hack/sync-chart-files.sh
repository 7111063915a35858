#!/usr/bin/env bash
# sync-chart-files.sh copies the files the binary embeds — the image rules and
# the default model — into the chart, which ships them as ConfigMaps. Helm's
# .Files cannot reach outside the chart directory, so the chart keeps copies;
# charts/chart_test.go (TestChartFilesMatchTheBinary) fails when they drift.
#
# Usage: hack/sync-chart-files.sh        (copies)
#        hack/sync-chart-files.sh check  (exits 1 if a copy differs)
set -euo pipefail
cd "$(dirname "$0")/.."

# The model is shipped gzip-compressed (a ConfigMap holds at most 1 MiB);
# -n leaves name and time out of the header, so the copy is reproducible.
pairs=(
	"imagerules/default-rules.yaml charts/podclass/files/rules.yaml"
	"classifier/default_model.json charts/podclass/files/model.json.gz"
)
status=0
for pair in "${pairs[@]}"; do
	read -r src dst <<<"$pair"
	if [[ $dst == *.gz ]]; then
		if [[ -f $dst ]] && gzip -dc "$dst" | cmp -s "$src" -; then
			continue
		fi
	elif cmp -s "$src" "$dst"; then
		continue
	fi
	if [[ ${1:-} == check ]]; then
		echo "sync-chart-files: $dst differs from $src" >&2
		status=1
	elif [[ $dst == *.gz ]]; then
		gzip -9 -n -c "$src" >"$dst"
		echo "sync-chart-files: $src -> $dst (gzip)" >&2
	else
		cp "$src" "$dst"
		echo "sync-chart-files: $src -> $dst" >&2
	fi
done
exit $status
