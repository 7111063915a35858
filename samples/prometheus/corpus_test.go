package prometheus_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	lp "github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/podclass/podclass/internal/harness/promtest"
	"github.com/podclass/podclass/samples"
	"github.com/podclass/podclass/samples/lineprotocol"
	"github.com/podclass/podclass/samples/prometheus"
)

// corpusFile is the recorded corpus: telegraf's line protocol of real pods
// (testdata/corpus/README.md).
const corpusFile = "../../testdata/corpus/metrics.lp"

// corpus is the recorded corpus as the kubelet's cAdvisor would have
// exported it, per pod, and what a Source must make of it.
type corpus struct {
	// series are each pod's cAdvisor series at the recorded timestamps
	// (to the millisecond, as the engines store them).
	series map[samples.PodKey][]promtest.Series
	pods   []samples.PodKey
	// start is the first recorded time, end just after the last step a
	// sample is read at.
	start, end time.Time
	// want is what the line-protocol reader makes of the same file, every
	// sample moved to the step it is read at (the first step at or after
	// it) and reduced to the fields the cAdvisor series feed.
	want map[samples.PodKey]*samples.Window
}

// cadvisorNames maps telegraf's measurement and field onto cAdvisor's metric
// and the scale from telegraf's unit to cAdvisor's.
var cadvisorNames = map[string]map[string]struct {
	metric string
	scale  float64
	labels map[string]string
}{
	"kubernetes_pod_container": {
		"cpu_usage_core_nanoseconds": {"container_cpu_usage_seconds_total", 1e-9, nil},
		"memory_working_set_bytes":   {"container_memory_working_set_bytes", 1, nil},
		"memory_rss_bytes":           {"container_memory_rss", 1, nil},
		"memory_usage_bytes":         {"container_memory_usage_bytes", 1, nil},
		"memory_page_faults":         {"container_memory_failures_total", 1, map[string]string{"failure_type": "pgfault"}},
		"memory_major_page_faults":   {"container_memory_failures_total", 1, map[string]string{"failure_type": "pgmajfault"}},
	},
	"prometheus": {
		"container_processes":        {"container_processes", 1, nil},
		"container_threads":          {"container_threads", 1, nil},
		"container_file_descriptors": {"container_file_descriptors", 1, nil},
		"container_sockets":          {"container_sockets", 1, nil},
	},
	"kubernetes_pod_network": {
		"rx_bytes": {"container_network_receive_bytes_total", 1, nil},
		"tx_bytes": {"container_network_transmit_bytes_total", 1, nil},
	},
	"docker_container_blkio": {
		"io_service_recursive_read":  {"container_fs_reads_bytes_total", 1, nil},
		"io_service_recursive_write": {"container_fs_writes_bytes_total", 1, nil},
	},
}

// loadCorpus converts the corpus line by line: a container's values become
// its series (labels namespace, pod, container as cAdvisor's), the pod's
// network becomes interface eth0 of both the pod cgroup ("") and the
// sandbox ("POD"), which cAdvisor both report, and block IO goes to device
// /dev/vda.
func loadCorpus(tb testing.TB) *corpus {
	tb.Helper()
	data, err := os.ReadFile(corpusFile)
	if err != nil {
		tb.Fatal(err)
	}
	c := &corpus{series: map[samples.PodKey][]promtest.Series{}}
	type key struct {
		pod    samples.PodKey
		metric string
		labels string
	}
	index := map[key]int{}
	add := func(pod samples.PodKey, metric string, labels map[string]string, p promtest.Point) {
		k := key{pod, metric, fmt.Sprint(labels)}
		i, ok := index[k]
		if !ok {
			i = len(c.series[pod])
			index[k] = i
			c.series[pod] = append(c.series[pod], promtest.Series{Metric: metric, Labels: labels})
		}
		c.series[pod][i].Points = append(c.series[pod][i].Points, p)
	}
	var first, last time.Time
	dec := lp.NewDecoderWithBytes(data)
	for dec.Next() {
		m, err := dec.Measurement()
		if err != nil {
			tb.Fatal(err)
		}
		fields := cadvisorNames[string(m)]
		tags := map[string]string{}
		for {
			k, v, err := dec.NextTag()
			if err != nil {
				tb.Fatal(err)
			}
			if k == nil {
				break
			}
			tags[string(k)] = string(v)
		}
		type value struct {
			metric string
			labels map[string]string
			v      float64
		}
		var values []value
		for {
			k, v, err := dec.NextField()
			if err != nil {
				tb.Fatal(err)
			}
			if k == nil {
				break
			}
			f, ok := fields[string(k)]
			if !ok {
				continue
			}
			x := number(tb, v) * f.scale
			if f.metric != "container_memory_failures_total" {
				values = append(values, value{f.metric, nil, x})
				continue
			}
			// cAdvisor reports each fault count for the container's own
			// cgroup and for its hierarchy; the hierarchy's is made larger
			// here, so a source that read it (or summed both) would differ.
			ft := f.labels["failure_type"]
			values = append(values,
				value{f.metric, map[string]string{"failure_type": ft, "scope": "container"}, x},
				value{f.metric, map[string]string{"failure_type": ft, "scope": "hierarchy"}, 3*x + 7})
		}
		ts, err := dec.Time(lp.Nanosecond, time.Time{})
		if err != nil {
			tb.Fatal(err)
		}
		ts = ts.Truncate(time.Millisecond).UTC()
		if first.IsZero() || ts.Before(first) {
			first = ts
		}
		if ts.After(last) {
			last = ts
		}
		var pod samples.PodKey
		var containers []map[string]string
		switch string(m) {
		case "kubernetes_pod_container":
			pod = samples.PodKey{Namespace: tags["namespace"], Name: tags["pod_name"]}
			containers = []map[string]string{{"container": tags["container_name"]}}
		case "prometheus":
			pod = samples.PodKey{Namespace: tags["namespace"], Name: tags["pod"]}
			containers = []map[string]string{{"container": tags["container"]}}
		case "kubernetes_pod_network":
			pod = samples.PodKey{Namespace: tags["namespace"], Name: tags["pod_name"]}
			containers = []map[string]string{{"container": "", "interface": "eth0"}, {"container": "POD", "interface": "eth0"}}
		case "docker_container_blkio":
			if tags["device"] != "total" {
				continue
			}
			pod = samples.PodKey{Namespace: tags["io.kubernetes.pod.namespace"], Name: tags["io.kubernetes.pod.name"]}
			containers = []map[string]string{{"container": tags["io.kubernetes.container.name"], "device": "/dev/vda"}}
		default:
			continue
		}
		for _, v := range values {
			for _, ctr := range containers {
				labels := map[string]string{"namespace": pod.Namespace, "pod": pod.Name, "job": "kubelet", "metrics_path": "/metrics/cadvisor"}
				for k, v := range ctr {
					labels[k] = v
				}
				for k, lv := range v.labels {
					labels[k] = lv
				}
				add(pod, v.metric, labels, promtest.Point{Time: ts, Value: v.v})
			}
		}
	}
	if err := dec.Err(); err != nil {
		tb.Fatal(err)
	}
	for k := range c.series {
		c.pods = append(c.pods, k)
	}
	sort.Slice(c.pods, func(i, j int) bool { return c.pods[i].String() < c.pods[j].String() })
	c.start = first
	c.want = recordedWindows(tb, data)
	for _, w := range c.want {
		if t := w.Samples[len(w.Samples)-1].Time; !t.Before(c.end) {
			c.end = t.Add(time.Second)
		}
	}
	return c
}

func number(tb testing.TB, v lp.Value) float64 {
	switch v.Kind() {
	case lp.Int:
		return float64(v.IntV())
	case lp.Uint:
		return float64(v.UintV())
	case lp.Float:
		return v.FloatV()
	}
	tb.Fatalf("corpus: a %v field", v.Kind())
	return 0
}

// cadvisorFields are the fields the default series feed.
func cadvisorFields() map[samples.Field]bool {
	out := map[samples.Field]bool{}
	for _, s := range prometheus.DefaultSeries() {
		out[s.Field] = true
	}
	return out
}

// recordedWindows reads the corpus with the line-protocol reader at its
// exact timestamps and moves each sample to the step a range query reads it
// at: the first multiple of 10 s at or after it, where last_over_time(…[10s])
// finds it. Of two samples before one step the later is read.
func recordedWindows(tb testing.TB, data []byte) map[samples.PodKey]*samples.Window {
	tb.Helper()
	mem, _, err := lineprotocol.Read(context.Background(), bytes.NewReader(data), lineprotocol.Options{Interval: -1})
	if err != nil {
		tb.Fatal(err)
	}
	fields := cadvisorFields()
	out := map[samples.PodKey]*samples.Window{}
	for k, w := range mem.All() {
		byStep := map[time.Time]*samples.Sample{}
		var steps []time.Time
		for _, s := range w.Samples {
			t := s.Time.Truncate(time.Millisecond)
			step := t.Truncate(samples.DefaultInterval)
			if step.Equal(t) {
				// Prometheus' range selectors before 3.0 include their
				// start, VictoriaMetrics' do not: such a sample would be
				// read at two steps by one and at one by the other.
				tb.Fatalf("corpus: %v has a sample on a step boundary (%v): the engines differ there", k, t)
			}
			step = step.Add(samples.DefaultInterval)
			got := byStep[step]
			if got == nil {
				ns := samples.NewSample(step)
				got = &ns
				byStep[step] = got
				steps = append(steps, step)
			}
			for f := range fields {
				if v := s.Get(f); !math.IsNaN(v) {
					got.Set(f, v) // samples are in time order: the later wins
				}
			}
		}
		sort.Slice(steps, func(i, j int) bool { return steps[i].Before(steps[j]) })
		win := &samples.Window{Pod: k}
		for _, t := range steps {
			win.Samples = append(win.Samples, *byStep[t])
		}
		out[k] = win
	}
	return out
}

// assertWindowsNear is samplestest.AssertWindows with a relative tolerance:
// CPU seconds are the recorded nanoseconds over 1e9, so the nanoseconds read
// back differ from the recorded ones by float rounding.
func assertWindowsNear(t testing.TB, got, want map[samples.PodKey]*samples.Window, rel float64) {
	t.Helper()
	var errs []string
	for k := range got {
		if want[k] == nil {
			errs = append(errs, fmt.Sprintf("unexpected window for %v", k))
		}
	}
	for k, w := range want {
		g := got[k]
		switch {
		case g == nil:
			errs = append(errs, fmt.Sprintf("no window for %v", k))
			continue
		case len(g.Samples) != len(w.Samples):
			errs = append(errs, fmt.Sprintf("%v: %d samples, want %d", k, len(g.Samples), len(w.Samples)))
			continue
		}
		for i := range w.Samples {
			gs, ws := g.Samples[i], w.Samples[i]
			if !gs.Time.Equal(ws.Time) {
				errs = append(errs, fmt.Sprintf("%v sample %d: time %v, want %v", k, i, gs.Time, ws.Time))
			}
			for _, f := range samples.Fields() {
				a, b := gs.Get(f), ws.Get(f)
				if math.IsNaN(a) && math.IsNaN(b) || math.Abs(a-b) <= rel*math.Abs(b) {
					continue
				}
				errs = append(errs, fmt.Sprintf("%v sample %d (%v): %v = %v, want %v", k, i, ws.Time.Format(time.TimeOnly), f, a, b))
			}
		}
	}
	if len(errs) > 0 {
		if len(errs) > 20 {
			errs = append(errs[:20], fmt.Sprintf("… and %d more", len(errs)-20))
		}
		t.Error(strings.Join(errs, "\n"))
	}
}

// allSeries flattens per-pod series.
func allSeries(byPod map[samples.PodKey][]promtest.Series) []promtest.Series {
	var out []promtest.Series
	for _, s := range byPod {
		out = append(out, s...)
	}
	return out
}
