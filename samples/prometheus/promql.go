package prometheus

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/podclass/podclass/samples"

	"github.com/prometheus/common/model"
)

// windowsQuery builds the one PromQL expression that reads a batch, naming
// the pods once per selector however many series there are: a 500-pod batch
// of the benchmark's names is 31 KiB of PromQL instead of 183 KiB with one
// selector per series, and the engines spend about half the CPU time on it
// (docs/benchmarks.md):
//
//   - the per-container series in one selector, summed per container and
//     metric name (over devices): the infrastructure "POD" container and the
//     pod-level "" cgroup excluded, which would count the containers twice;
//     the containers are summed after the ContainerFilter has left sidecars
//     out;
//   - the pod-level series (network), one value per interface, since every
//     reporting cgroup of the pod sees the same interfaces, then the
//     interfaces added up.
//
// last_over_time keeps the metric name, in PromQL as in MetricsQL, and
// "by (__name__)" keeps it through the sum: the answer says which series
// each stream is.
func (s *Source) windowsQuery(pods []samples.PodKey) string {
	l := s.cfg.Labels
	namespaces, names := samples.NamesOf(pods)
	podMatch := fmt.Sprintf(`%s=~%s,%s=~%s`, l.Namespace, strconv.Quote(samples.Alternation(namespaces)), l.Pod, strconv.Quote(samples.Alternation(names)))
	look := model.Duration(s.cfg.Lookback).String()
	by := l.Namespace + ", " + l.Pod
	var perContainer, perPod []string
	var labelled [][]Series // metrics whose series are told apart by labels
	for _, name := range s.metricNames() {
		group := s.series[name]
		switch {
		case len(group[0].Match) > 0:
			labelled = append(labelled, group)
		case group[0].PodLevel:
			perPod = append(perPod, name)
		default:
			perContainer = append(perContainer, name)
		}
	}
	var parts []string
	if len(perContainer) > 0 {
		parts = append(parts, fmt.Sprintf(`sum by (%s, %s, __name__) (last_over_time({__name__=~%s,%s!="",%s!="POD",%s}[%s]))`,
			by, l.Container, strconv.Quote(samples.Alternation(perContainer)), l.Container, l.Container, podMatch, look))
	}
	if len(perPod) > 0 {
		parts = append(parts, fmt.Sprintf(`sum by (%s, __name__) (max by (%s, %s, __name__) (last_over_time({__name__=~%s,%s}[%s])))`,
			by, by, l.Interface, strconv.Quote(samples.Alternation(perPod)), podMatch, look))
	}
	// A labelled metric's series share one selector: each label it is
	// matched on takes any of its series' values and stays in the sum's
	// grouping, so each stream is one series (containers' faults, not the
	// hierarchy's, and not pgfault and pgmajfault added up).
	for _, group := range labelled {
		names, matchers := labelMatchers(group)
		grouping := by + ", " + l.Container + ", __name__, " + strings.Join(names, ", ")
		parts = append(parts, fmt.Sprintf(`sum by (%s) (last_over_time({__name__=%s,%s,%s!="",%s!="POD",%s}[%s]))`,
			grouping, strconv.Quote(group[0].Metric), matchers, l.Container, l.Container, podMatch, look))
	}
	return strings.Join(parts, "\nor\n")
}

// podsQuery lists the pods with any configured series in the lookback d.
func (s *Source) podsQuery(d time.Duration) string {
	l := s.cfg.Labels
	metrics := s.metricNames()
	return fmt.Sprintf(`group by (%s, %s) (last_over_time({__name__=~%s,%s!="",%s!=""}[%s]))`,
		l.Namespace, l.Pod, strconv.Quote(samples.Alternation(metrics)), l.Namespace, l.Pod, model.Duration(d).String())
}

// metricNames lists the configured metrics, sorted.
func (s *Source) metricNames() []string {
	out := make([]string, 0, len(s.series))
	for name := range s.series {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// labelMatchers returns the label names a metric's series are matched on,
// sorted, and the matchers that select all of them: name="v" for one value,
// name=~"v1|v2" for several.
func labelMatchers(group []Series) ([]string, string) {
	values := map[string]map[string]bool{}
	for _, ser := range group {
		for k, v := range ser.Match {
			if values[k] == nil {
				values[k] = map[string]bool{}
			}
			values[k][v] = true
		}
	}
	names := make([]string, 0, len(values))
	for k := range values {
		names = append(names, k)
	}
	sort.Strings(names)
	var m []string
	for _, k := range names {
		vs := make([]string, 0, len(values[k]))
		for v := range values[k] {
			vs = append(vs, v)
		}
		sort.Strings(vs)
		if len(vs) == 1 {
			m = append(m, fmt.Sprintf("%s=%s", k, strconv.Quote(vs[0])))
		} else {
			m = append(m, fmt.Sprintf("%s=~%s", k, strconv.Quote(samples.Alternation(vs))))
		}
	}
	return names, strings.Join(m, ",")
}
