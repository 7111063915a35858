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

// windowsQuery builds the one PromQL expression that reads a batch: per
// series, the pods' values per container (the infrastructure "POD" container
// and the pod-level "" cgroup excluded, which would count the containers
// twice), tagged with the metric name, all joined with `or`. The containers
// are summed after the ContainerFilter has left sidecars out.
func (s *Source) windowsQuery(pods []samples.PodKey) string {
	l := s.cfg.Labels
	namespaces, names := samples.NamesOf(pods)
	podMatch := fmt.Sprintf(`%s=~%s,%s=~%s`, l.Namespace, strconv.Quote(samples.Alternation(namespaces)), l.Pod, strconv.Quote(samples.Alternation(names)))
	look := model.Duration(s.cfg.Lookback).String()
	by := l.Namespace + ", " + l.Pod
	var parts []string
	for _, ser := range s.sortedSeries() {
		var expr string
		if ser.PodLevel {
			// Every reporting cgroup of the pod sees the same interfaces: take
			// one value per interface, then add the interfaces up.
			expr = fmt.Sprintf(`sum by (%s) (max by (%s, %s) (last_over_time(%s{%s}[%s])))`,
				by, by, l.Interface, ser.Metric, podMatch, look)
		} else {
			expr = fmt.Sprintf(`sum by (%s, %s) (last_over_time(%s{%s!="",%s!="POD",%s}[%s]))`,
				by, l.Container, ser.Metric, l.Container, l.Container, podMatch, look)
		}
		parts = append(parts, fmt.Sprintf(`label_replace(%s, %q, %q, "", "")`, expr, seriesLabel, ser.Metric))
	}
	return strings.Join(parts, "\nor\n")
}

// podsQuery lists the pods with any configured series in the lookback d.
func (s *Source) podsQuery(d time.Duration) string {
	l := s.cfg.Labels
	var parts []string
	for _, ser := range s.sortedSeries() {
		parts = append(parts, fmt.Sprintf(`group by (%s, %s) (last_over_time(%s{%s!="",%s!=""}[%s]))`,
			l.Namespace, l.Pod, ser.Metric, l.Namespace, l.Pod, model.Duration(d).String()))
	}
	return strings.Join(parts, " or ")
}

func (s *Source) sortedSeries() []Series {
	out := make([]Series, 0, len(s.series))
	for _, ser := range s.series {
		out = append(out, ser)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Metric < out[j].Metric })
	return out
}
