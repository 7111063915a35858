package prometheus_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podclass/podclass/internal/harness/promtest"
	"github.com/podclass/podclass/samples"
	"github.com/podclass/podclass/samples/prometheus"
)

// benchPods is how many waiting pods one tick reads.
const benchPods = 10000

// BenchmarkTick10000Pods is one refiner tick's read of 10,000 waiting pods
// (Source.Windows over their last minute at the default batch size of 500)
// from each engine, both holding the same series: the recorded corpus
// replicated to 10,000 pods (see replicateCorpus). The engines start once,
// before the clock; every tick's windows are checked against the recording.
// Besides the wall time it reports the CPU time the engine process and this
// one (the source: request, JSON decoding, accumulation) spent on a tick,
// which other work on the machine disturbs less.
//
//	go test ./samples/prometheus -run '^$' -bench Tick10000Pods -benchtime 5x
func BenchmarkTick10000Pods(b *testing.B) {
	rec := loadCorpus(b)
	rep := replicateCorpus(b, rec, benchPods)
	servers := make([]server, len(engines))
	for i, e := range engines {
		t0 := time.Now()
		servers[i] = e.start(b, rep.series)
		b.Logf("%s: %d series of %d pods loaded and searchable in %s", e.name, len(rep.series), benchPods, time.Since(t0).Round(100*time.Millisecond))
	}
	for i, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			rt := &benchTransport{next: http.DefaultTransport}
			src, err := prometheus.NewSource(prometheus.Config{URL: servers[i].URL, RoundTripper: rt, Timeout: 5 * time.Minute})
			if err != nil {
				b.Fatal(err)
			}
			var serverCPU, clientCPU time.Duration
			b.ResetTimer()
			for range b.N {
				s0, c0 := cpuTime(b, servers[i].PID), cpuTime(b, os.Getpid())
				got, err := src.Windows(context.Background(), rep.pods, rep.start, rep.end)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				serverCPU += cpuTime(b, servers[i].PID) - s0
				clientCPU += cpuTime(b, os.Getpid()) - c0
				assertWindowsNear(b, got, rep.want, 1e-12)
				b.StartTimer()
			}
			b.StopTimer()
			n := float64(b.N)
			b.ReportMetric(b.Elapsed().Seconds()/n, "s/tick")
			b.ReportMetric(float64(rt.queries)/n, "queries/tick")
			b.ReportMetric(float64(rt.maxQuery)/1024, "KiB/query")
			b.ReportMetric(serverCPU.Seconds()/n, "engine-cpu-s/tick")
			b.ReportMetric(clientCPU.Seconds()/n, "source-cpu-s/tick")
		})
	}
}

// cpuTime is the user and system CPU time a process has used, from
// /proc/<pid>/stat, in clock ticks of 10 ms.
func cpuTime(tb testing.TB, pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	// The fields after the command name, which is in parentheses.
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		tb.Fatalf("%s: %v %v", data, err1, err2)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// replicated is the corpus grown to n pods over one minute.
type replicated struct {
	series     []promtest.Series
	pods       []samples.PodKey
	start, end time.Time
	want       map[samples.PodKey]*samples.Window
}

// replicateCorpus makes n pods of the corpus's 195: pod i is corpus pod
// i mod 195 under the name <its name>-r<i/195> in its namespace, its first
// minute of samples moved by whole steps onto a common minute (so each keeps
// its offset to the steps, and the samples the same read-back).
func replicateCorpus(tb testing.TB, rec *corpus, n int) *replicated {
	tb.Helper()
	base := rec.start.Truncate(time.Hour)
	r := &replicated{start: base, end: base.Add(6*samples.DefaultInterval + time.Second), want: map[samples.PodKey]*samples.Window{}}
	for i := range n {
		orig := rec.pods[i%len(rec.pods)]
		pod := samples.PodKey{Namespace: orig.Namespace, Name: fmt.Sprintf("%s-r%02d", orig.Name, i/len(rec.pods))}
		r.pods = append(r.pods, pod)
		first := rec.want[orig].Samples[0].Time.Add(-samples.DefaultInterval) // the step before the first sample
		shift := base.Sub(first)
		limit := base.Add(6 * samples.DefaultInterval)
		for _, s := range rec.series[orig] {
			labels := make(map[string]string, len(s.Labels))
			for k, v := range s.Labels {
				labels[k] = v
			}
			labels["pod"] = pod.Name
			out := promtest.Series{Metric: s.Metric, Labels: labels}
			for _, p := range s.Points {
				if t := p.Time.Add(shift); t.Before(limit) {
					out.Points = append(out.Points, promtest.Point{Time: t, Value: p.Value})
				}
			}
			if len(out.Points) > 0 {
				r.series = append(r.series, out)
			}
		}
		w := &samples.Window{Pod: pod}
		for _, s := range rec.want[orig].Samples {
			if s.Time = s.Time.Add(shift); !s.Time.After(limit) {
				w.Samples = append(w.Samples, s)
			}
		}
		r.want[pod] = w
	}
	return r
}

// benchTransport counts range queries and the longest query (the PromQL,
// which VictoriaMetrics' -search.maxQueryLen bounds), and asks
// VictoriaMetrics not to answer from its result cache (nocache=1): every
// tick is read as the first one is, as a live tick's recent minute mostly
// is. Prometheus has no result cache and ignores the parameter.
type benchTransport struct {
	next     http.RoundTripper
	mu       sync.Mutex
	queries  int
	maxQuery int
}

func (t *benchTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	q := req.URL.Query()
	q.Set("nocache", "1")
	req.URL.RawQuery = q.Encode()
	if strings.HasSuffix(req.URL.Path, "/api/v1/query_range") && req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		form, err := url.ParseQuery(string(b))
		if err != nil {
			return nil, err
		}
		t.mu.Lock()
		t.queries++
		t.maxQuery = max(t.maxQuery, len(form.Get("query")))
		t.mu.Unlock()
	}
	return t.next.RoundTrip(req)
}
