package prometheus_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podclass/podclass/internal/harness/promtest"
	"github.com/podclass/podclass/internal/harness/vmtest"
	"github.com/podclass/podclass/samples"
	"github.com/podclass/podclass/samples/prometheus"
	"github.com/podclass/podclass/samples/samplestest"
)

// engine is a server of Prometheus' HTTP API the source is tested against,
// started holding the given series and configured as docs/install.md says.
type engine struct {
	name  string
	start func(tb testing.TB, series []promtest.Series, flags ...string) server
	// sampleLimit is the flag bounding the samples one query may read, a
	// format for the number; limitError is in the answer past it.
	sampleLimit, limitError string
}

// server is a running engine.
type server struct {
	URL string
	PID int
}

// vmFlags are what docs/install.md asks of VictoriaMetrics: a query for
// hundreds of pods is longer than its default -search.maxQueryLen of 16 KiB.
// Its other defaults stay, -search.latencyOffset's 30 s among them.
var vmFlags = []string{"-search.maxQueryLen=1MiB"}

var engines = []engine{
	{
		name: "Prometheus",
		start: func(tb testing.TB, s []promtest.Series, flags ...string) server {
			srv := promtest.Start(tb, s, flags...)
			return server{URL: srv.URL, PID: srv.PID()}
		},
		sampleLimit: "--query.max-samples=%d",
		limitError:  "too many samples",
	},
	{
		name: "VictoriaMetrics",
		start: func(tb testing.TB, s []promtest.Series, flags ...string) server {
			srv := vmtest.Start(tb, s, append(slices.Clone(vmFlags), flags...)...)
			return server{URL: srv.URL, PID: srv.PID()}
		},
		sampleLimit: "-search.maxSamplesPerQuery=%d",
		limitError:  "-search.maxSamplesPerQuery",
	},
}

// TestPrometheusSource runs one suite against each engine, both holding the
// same series: the cAdvisor fixture, the recorded corpus and a pod's last
// minute up to now.
func TestPrometheusSource(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			fixture := newCadvisor()
			rec := loadCorpus(t)
			live := newLivePod(time.Now())
			srv := e.start(t, slices.Concat(fixture.series, allSeries(rec.series), live.series)).URL
			t.Run("fixture", func(t *testing.T) { testFixture(t, srv, fixture) })
			t.Run("recorded corpus", func(t *testing.T) { testCorpus(t, srv, rec) })
			t.Run("samples up to now", func(t *testing.T) { testLivePod(t, srv, live) })
			t.Run("a tenant header", func(t *testing.T) { testTenantHeader(t, srv, fixture) })
		})
	}
}

// fixturePods are the fixture's pods and one with no series.
var fixturePods = []samples.PodKey{{Namespace: "shop", Name: "web-1"}, {Namespace: "shop", Name: "db-0"}, {Namespace: "shop", Name: "api.v2-0"}, {Namespace: "shop", Name: "gone"}}

func testFixture(t *testing.T, srv string, c *cadvisor) {
	pods := fixturePods
	end := promStart.Add(promSteps * 10 * time.Second)
	tests := map[string]struct {
		batch   int
		queries int64
	}{
		"all pods in one query":                {batch: 0, queries: 1},
		"pods split into batches of two":       {batch: 2, queries: 2},
		"one pod per batch still merges right": {batch: 1, queries: 4},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rt := &samplestest.CountingTransport{Suffix: "/api/v1/query_range", Next: http.DefaultTransport}
			// The corpus's recordings span hours (its machine shapes were
			// recorded one after another): reads that long are split in
			// time, which the max-samples test holds; here only batching
			// counts.
			src, err := prometheus.NewSource(prometheus.Config{URL: srv, BatchSize: tc.batch, RoundTripper: rt, PodStepsPerQuery: 1 << 30})
			if err != nil {
				t.Fatal(err)
			}
			got, err := src.Windows(context.Background(), pods, promStart, end)
			if err != nil {
				t.Fatal(err)
			}
			samplestest.AssertWindows(t, got, c.want)
			if n := rt.Queries(); n != tc.queries {
				t.Errorf("%d range queries, want %d", n, tc.queries)
			}
		})
	}

	t.Run("sidecars left out: the main container's own series and the pod's network", func(t *testing.T) {
		src, _ := prometheus.NewSource(prometheus.Config{URL: srv, Containers: func(c string) bool { return c != "sidecar" }})
		got, err := src.Windows(context.Background(), pods, promStart, end)
		if err != nil {
			t.Fatal(err)
		}
		samplestest.AssertWindows(t, got, c.wantMain)
	})

	t.Run("a range not on step boundaries is aligned to them", func(t *testing.T) {
		src, _ := prometheus.NewSource(prometheus.Config{URL: srv})
		got, err := src.Windows(context.Background(), pods[1:2], promStart.Add(3*time.Second), promStart.Add(31*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		w := got[pods[1]]
		if w == nil || len(w.Samples) != 3 || !w.Samples[0].Time.Equal(promStart.Add(10*time.Second)) {
			t.Fatalf("window = %+v, want samples at 10 s, 20 s, 30 s", w)
		}
	})

	t.Run("pods are listed", func(t *testing.T) {
		src, _ := prometheus.NewSource(prometheus.Config{URL: srv})
		got, err := src.Pods(context.Background(), promStart, end)
		if err != nil {
			t.Fatal(err)
		}
		want := "[other/web-1 shop/api.v2-0 shop/apixv2-0 shop/db-0 shop/web-1]"
		if fmt.Sprint(got) != want {
			t.Errorf("Pods = %v, want %s", got, want)
		}
	})
}

// testCorpus reads every recorded pod, in batches of the default size (500)
// and of 50: each window must be what the line-protocol reader makes of the
// recording.
func testCorpus(t *testing.T, srv string, rec *corpus) {
	// The corpus's recordings span days (its rounds were recorded a week
	// apart): a read that long is split in time, each range one query per
	// batch.
	ranges := prometheus.TimeRanges(rec.start, rec.end, samples.DefaultInterval, 1<<30)
	for _, tc := range []struct {
		batch   int
		queries int64
	}{
		{batch: 0, queries: ranges * int64((len(rec.pods)+samples.DefaultBatchSize-1)/samples.DefaultBatchSize)},
		{batch: 50, queries: ranges * int64((len(rec.pods)+49)/50)},
	} {
		t.Run(fmt.Sprintf("%d pods, batch size %d", len(rec.pods), tc.batch), func(t *testing.T) {
			rt := &samplestest.CountingTransport{Suffix: "/api/v1/query_range", Next: http.DefaultTransport}
			// The time split is held by the max-samples test; here
			// batching counts.
			src, err := prometheus.NewSource(prometheus.Config{URL: srv, BatchSize: tc.batch, RoundTripper: rt, PodStepsPerQuery: 1 << 30})
			if err != nil {
				t.Fatal(err)
			}
			got, err := src.Windows(context.Background(), rec.pods, rec.start, rec.end)
			if err != nil {
				t.Fatal(err)
			}
			assertWindowsNear(t, got, rec.want, 1e-12)
			if n := rt.Queries(); n != tc.queries {
				t.Errorf("%d range queries, want %d", n, tc.queries)
			}
		})
	}
}

// livePod is one pod's last minute: six samples, 3 s before each of the
// last six steps up to now.
type livePod struct {
	pod    samples.PodKey
	series []promtest.Series
	start  time.Time
	want   map[samples.PodKey]*samples.Window
}

func newLivePod(now time.Time) *livePod {
	l := &livePod{pod: samples.PodKey{Namespace: "live", Name: "app-0"}, want: map[samples.PodKey]*samples.Window{}}
	last := now.Truncate(samples.DefaultInterval) // the last step not after now
	l.start = last.Add(-6 * samples.DefaultInterval)
	labels := map[string]string{"namespace": l.pod.Namespace, "pod": l.pod.Name, "container": "app"}
	cpu := promtest.Series{Metric: "container_cpu_usage_seconds_total", Labels: labels}
	threads := promtest.Series{Metric: "container_threads", Labels: labels}
	w := &samples.Window{Pod: l.pod}
	for i := range 6 {
		step := last.Add(-time.Duration(5-i) * samples.DefaultInterval)
		at := step.Add(-3 * time.Second)
		cpu.Points = append(cpu.Points, promtest.Point{Time: at, Value: float64(i + 1)})
		threads.Points = append(threads.Points, promtest.Point{Time: at, Value: float64(10 + i)})
		s := samples.NewSample(step)
		s.CPUCoreNanoSeconds, s.Threads = float64(i+1)*1e9, float64(10+i)
		w.Samples = append(w.Samples, s)
	}
	l.series = []promtest.Series{cpu, threads}
	l.want[l.pod] = w
	return l
}

// testLivePod reads a pod up to a step past now, as the refiner reads its
// pods up to now: the newest samples are the ones written, none is made up
// after now.
func testLivePod(t *testing.T, srv string, l *livePod) {
	src, err := prometheus.NewSource(prometheus.Config{URL: srv})
	if err != nil {
		t.Fatal(err)
	}
	got, err := src.Windows(context.Background(), []samples.PodKey{l.pod}, l.start, time.Now().Add(samples.DefaultInterval))
	if err != nil {
		t.Fatal(err)
	}
	samplestest.AssertWindows(t, got, l.want)
}

// tenantGateway stands in front of an engine as Mimir's gateway does: a
// request without X-Scope-OrgID: tenant-a is refused.
func tenantGateway(t *testing.T, upstream string) (string, *atomic.Int64) {
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var passed atomic.Int64
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Values("X-Scope-OrgID"); len(got) != 1 || got[0] != "tenant-a" {
			http.Error(w, "no org id", http.StatusUnauthorized)
			return
		}
		passed.Add(1)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(gw.Close)
	return gw.URL, &passed
}

func testTenantHeader(t *testing.T, srv string, c *cadvisor) {
	gw, passed := tenantGateway(t, srv)
	end := promStart.Add(promSteps * 10 * time.Second)

	t.Run("sent on every request", func(t *testing.T) {
		src, err := prometheus.NewSource(prometheus.Config{URL: gw, BatchSize: 2, Headers: http.Header{"x-scope-orgid": {"tenant-a"}}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := src.Windows(context.Background(), fixturePods, promStart, end)
		if err != nil {
			t.Fatal(err)
		}
		samplestest.AssertWindows(t, got, c.want)
		if _, err := src.Pods(context.Background(), promStart, end); err != nil {
			t.Fatal(err)
		}
		if n := passed.Load(); n != 3 {
			t.Errorf("the gateway passed %d requests, want 3 (two batches, one listing)", n)
		}
	})

	t.Run("refused without it", func(t *testing.T) {
		src, err := prometheus.NewSource(prometheus.Config{URL: gw})
		if err != nil {
			t.Fatal(err)
		}
		_, err = src.Windows(context.Background(), fixturePods, promStart, end)
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("err = %v, want the gateway's 401", err)
		}
	})
}

func TestAServerThatIsGoneIsAnErrorNamingTheBatch(t *testing.T) {
	src, _ := prometheus.NewSource(prometheus.Config{URL: "http://127.0.0.1:1", Timeout: 2 * time.Second})
	_, err := src.Windows(context.Background(), fixturePods, promStart, promStart.Add(time.Minute))
	if err == nil || !strings.Contains(err.Error(), "prometheus: batch 1 of 1") {
		t.Errorf("err = %v, want a wrapped batch error", err)
	}
}

// TestVictoriaMetricsNewestSamples writes a pod's last minute into a running
// VictoriaMetrics with its default -search.latencyOffset (30 s) and reads it
// at once up to a step past now, as the refiner reads its pods. By default
// VictoriaMetrics answers the points of its last 30 s with the point before
// them, and a point after now with the last one: the source must get the
// samples as written, and none after now.
func TestVictoriaMetricsNewestSamples(t *testing.T) {
	srv := vmtest.Start(t, nil, vmFlags...)
	// Write and read between 1 s and 6 s past a step, so the step after now
	// is still ahead when the query runs.
	for now := time.Now(); now.Sub(now.Truncate(samples.DefaultInterval)) < time.Second || now.Sub(now.Truncate(samples.DefaultInterval)) > 6*time.Second; now = time.Now() {
		time.Sleep(200 * time.Millisecond)
	}
	live := newLivePod(time.Now())
	if err := srv.Import(context.Background(), live.series); err != nil {
		t.Fatal(err)
	}
	src, err := prometheus.NewSource(prometheus.Config{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	got, err := src.Windows(context.Background(), []samples.PodKey{live.pod}, live.start, time.Now().Add(samples.DefaultInterval))
	if err != nil {
		t.Fatal(err)
	}
	samplestest.AssertWindows(t, got, live.want)
}

// TestLongReadsStayUnderTheSampleLimit starts each engine with a limit of
// 20,000 samples a query, which the whole corpus read in one query exceeds:
// the source fails naming the limit, and split into five-minute queries
// (PodStepsPerQuery) it reads every window.
func TestLongReadsStayUnderTheSampleLimit(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			rec := loadCorpus(t)
			srv := e.start(t, allSeries(rec.series), fmt.Sprintf(e.sampleLimit, 20000)).URL

			// One batch of every pod, so the split below is the time split
			// alone.
			src, err := prometheus.NewSource(prometheus.Config{URL: srv, BatchSize: len(rec.pods), PodStepsPerQuery: 1 << 30})
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.Windows(context.Background(), rec.pods, rec.start, rec.end)
			if err == nil || !strings.Contains(err.Error(), e.limitError) {
				t.Errorf("one query: err = %v, want the engine's sample limit", err)
			}

			rt := &samplestest.CountingTransport{Suffix: "/api/v1/query_range", Next: http.DefaultTransport}
			src, err = prometheus.NewSource(prometheus.Config{URL: srv, RoundTripper: rt, BatchSize: len(rec.pods), PodStepsPerQuery: len(rec.pods) * 30})
			if err != nil {
				t.Fatal(err)
			}
			got, err := src.Windows(context.Background(), rec.pods, rec.start, rec.end)
			if err != nil {
				t.Fatal(err)
			}
			assertWindowsNear(t, got, rec.want, 1e-12)
			first := rec.start.Truncate(samples.DefaultInterval).Add(samples.DefaultInterval)
			last := rec.end.Add(-time.Nanosecond).Truncate(samples.DefaultInterval)
			steps := int(last.Sub(first)/samples.DefaultInterval) + 1
			if n, want := rt.Queries(), int64((steps+29)/30); n != want {
				t.Errorf("%d queries, want %d: %d steps, 30 a query", n, want, steps)
			}
		})
	}
}
