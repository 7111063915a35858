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
	for _, ser := range s.sortedSeries() {
		if ser.PodLevel {
			perPod = append(perPod, ser.Metric)
		} else {
			perContainer = append(perContainer, ser.Metric)
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
	return strings.Join(parts, "\nor\n")
}

// podsQuery lists the pods with any configured series in the lookback d.
func (s *Source) podsQuery(d time.Duration) string {
	l := s.cfg.Labels
	var metrics []string
	for _, ser := range s.sortedSeries() {
		metrics = append(metrics, ser.Metric)
	}
	return fmt.Sprintf(`group by (%s, %s) (last_over_time({__name__=~%s,%s!="",%s!=""}[%s]))`,
		l.Namespace, l.Pod, strconv.Quote(samples.Alternation(metrics)), l.Namespace, l.Pod, model.Duration(d).String())
}

func (s *Source) sortedSeries() []Series {
	out := make([]Series, 0, len(s.series))
	for _, ser := range s.series {
		out = append(out, ser)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Metric < out[j].Metric })
	return out
}
