package influx

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/podclass/podclass/samples"
)

// windowsFlux builds the one query that reads a batch of pods: every schema
// measurement in one filter (so no union is needed), pods matched by anchored
// regexes on their namespace and name tags (regex predicates are pushed down
// to InfluxDB's storage, set membership is not), fields pivoted into columns
// so one record is one series at one time, and only the columns we read kept.
func windowsFlux(bucket string, schema samples.Schema, pods []samples.PodKey, start, end time.Time) string {
	namespaces, names := samples.NamesOf(pods)
	nsRe, podRe := fluxRegex(namespaces), fluxRegex(names)
	var podPreds []string
	for _, pt := range schema.PodTagPairs() {
		podPreds = append(podPreds, fmt.Sprintf("(r[%s] =~ %s and r[%s] =~ %s)",
			fluxString(pt.Namespace), nsRe, fluxString(pt.Pod), podRe))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "from(bucket: %s)\n", fluxString(bucket))
	fmt.Fprintf(&b, "  |> range(start: %s, stop: %s)\n", fluxTime(start), fluxTime(end))
	fmt.Fprintf(&b, "  |> filter(fn: (r) => (%s) and (%s))\n", measurementPreds(schema, true), strings.Join(podPreds, " or "))
	b.WriteString("  |> pivot(rowKey: [\"_time\"], columnKey: [\"_field\"], valueColumn: \"_value\")\n")
	fmt.Fprintf(&b, "  |> keep(columns: [%s])\n", strings.Join(quoteAll(keptColumns(schema)), ", "))
	return b.String()
}

// podsFlux lists the pods: one field per measurement, the first row of each
// series, and only the pod tags.
func podsFlux(bucket string, schema samples.Schema, start, end time.Time) string {
	cols := []string{"_measurement"}
	for _, pt := range schema.PodTagPairs() {
		cols = append(cols, pt.Namespace, pt.Pod)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "from(bucket: %s)\n", fluxString(bucket))
	fmt.Fprintf(&b, "  |> range(start: %s, stop: %s)\n", fluxTime(start), fluxTime(end))
	fmt.Fprintf(&b, "  |> filter(fn: (r) => %s)\n", measurementPreds(schema, false))
	b.WriteString("  |> first()\n")
	fmt.Fprintf(&b, "  |> keep(columns: [%s])\n", strings.Join(quoteAll(dedupe(cols)), ", "))
	return b.String()
}

// measurementPreds ORs, per measurement, its name, required tags and fields
// (all fields, or only the first when any one proves a pod is there).
func measurementPreds(schema samples.Schema, allFields bool) string {
	var preds []string
	for _, m := range schema.Measurements {
		parts := []string{"r._measurement == " + fluxString(m.Name)}
		reqs := make([]string, 0, len(m.Require))
		for tag, v := range m.Require {
			reqs = append(reqs, fmt.Sprintf("r[%s] == %s", fluxString(tag), fluxString(v)))
		}
		sort.Strings(reqs)
		parts = append(parts, reqs...)
		fields := sortedFields(m)
		if !allFields {
			fields = fields[:1]
		}
		var fp []string
		for _, f := range fields {
			fp = append(fp, "r._field == "+fluxString(f))
		}
		parts = append(parts, "("+strings.Join(fp, " or ")+")")
		preds = append(preds, "("+strings.Join(parts, " and ")+")")
	}
	return strings.Join(preds, " or ")
}

// keptColumns are the columns windowsFlux returns; keep ignores the ones a
// measurement lacks.
func keptColumns(schema samples.Schema) []string {
	cols := []string{"_time", "_measurement"}
	for _, m := range schema.Measurements {
		for _, pt := range m.PodTags {
			cols = append(cols, pt.Namespace, pt.Pod)
		}
		cols = append(cols, m.SeriesTags...)
		cols = append(cols, m.ContainerTags...)
		cols = append(cols, sortedFields(m)...)
	}
	return dedupe(cols)
}

func sortedFields(m samples.MeasurementSchema) []string {
	fs := make([]string, 0, len(m.Fields))
	for f := range m.Fields {
		fs = append(fs, f)
	}
	sort.Strings(fs)
	return fs
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fluxString(s)
	}
	return out
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
