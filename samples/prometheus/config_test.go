package prometheus_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podclass/podclass/samples"
	"github.com/podclass/podclass/samples/prometheus"
)

func TestNewSourceChecksHeaders(t *testing.T) {
	tests := map[string]struct {
		cfg     prometheus.Config
		wantErr string
	}{
		"a tenant header":                 {cfg: prometheus.Config{Headers: http.Header{"X-Scope-OrgID": {"tenant-a"}}}},
		"an Authorization header alone":   {cfg: prometheus.Config{Headers: http.Header{"authorization": {"ApiKey k"}}}},
		"a name that is no token":         {cfg: prometheus.Config{Headers: http.Header{"X Scope": {"a"}}}, wantErr: "not an HTTP token"},
		"an empty name":                   {cfg: prometheus.Config{Headers: http.Header{"": {"a"}}}, wantErr: "not an HTTP token"},
		"a value with a line break":       {cfg: prometheus.Config{Headers: http.Header{"X-A": {"a\r\nX-B: b"}}}, wantErr: "line break"},
		"the client's own header":         {cfg: prometheus.Config{Headers: http.Header{"content-type": {"text/plain"}}}, wantErr: "client's to set"},
		"Authorization beside a token":    {cfg: prometheus.Config{BearerToken: "t", Headers: http.Header{"Authorization": {"Bearer u"}}}, wantErr: "not both"},
		"Authorization beside a user":     {cfg: prometheus.Config{Username: "u", Headers: http.Header{"Authorization": {"Basic x"}}}, wantErr: "not both"},
		"credentials without an override": {cfg: prometheus.Config{BearerToken: "t", Headers: http.Header{"X-Scope-OrgID": {"a"}}}},
		"a token and a password":          {cfg: prometheus.Config{BearerToken: "t", Password: "p"}, wantErr: "not both"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.cfg.URL = "http://prometheus.example:9090"
			_, err := prometheus.NewSource(tc.cfg)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("err = %v, want none", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("err = %v, want one with %q", err, tc.wantErr)
			}
		})
	}
}

// recorder answers every query with result and keeps the requests' forms.
func recorder(t *testing.T, result string) (*httptest.Server, *[]url.Values) {
	var forms []url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		forms = append(forms, r.Form)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[` + result + `]}}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &forms
}

// TestABatchOfLongNamesFitsOneMebibyte: docs/install.md asks
// VictoriaMetrics for -search.maxQueryLen=1MiB (its default, 16 KiB, is less
// than a batch of ordinary names). 500 pods with the longest names
// Kubernetes allows, dots and all, still make one query under it: the pods
// are named once per selector, not once per series.
func TestABatchOfLongNamesFitsOneMebibyte(t *testing.T) {
	srv, forms := recorder(t, "")
	var pods []samples.PodKey
	for i := range samples.DefaultBatchSize {
		name := fmt.Sprintf("%03d.%s", i, strings.Repeat("a.", 125)) // 253 characters
		pods = append(pods, samples.PodKey{Namespace: strings.Repeat("n", 63), Name: name})
	}
	src, err := prometheus.NewSource(prometheus.Config{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, err := src.Windows(context.Background(), pods, now.Add(-time.Minute), now); err != nil {
		t.Fatal(err)
	}
	if len(*forms) != 1 {
		t.Fatalf("%d queries, want 1", len(*forms))
	}
	f := (*forms)[0]
	if n := len(f.Get("query")); n >= 1<<20 {
		t.Errorf("the query is %d bytes, not under 1 MiB", n)
	}
	if got := f.Get("latency_offset"); got != "1ms" {
		t.Errorf("latency_offset = %q, want 1ms", got)
	}
}

// TestASeriesWithoutItsNameIsAnError: an engine whose last_over_time drops
// the metric name would leave every window empty; the source says so.
func TestASeriesWithoutItsNameIsAnError(t *testing.T) {
	srv, _ := recorder(t, `{"metric":{"namespace":"shop","pod":"db-0","container":"postgres"},"values":[[1709251200,"1"]]}`)
	src, err := prometheus.NewSource(prometheus.Config{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	_, err = src.Windows(context.Background(), []samples.PodKey{{Namespace: "shop", Name: "db-0"}}, now.Add(-time.Minute), now)
	if err == nil || !strings.Contains(err.Error(), "without a metric name") {
		t.Errorf("err = %v, want one about the missing metric name", err)
	}
}

// TestLongReadsAreSplit: a refiner's tick of 500 pods is one query; the
// trainer's day of history is split into hours so each answer stays under
// Prometheus' --query.max-samples; a single pod reads 10,000 steps a query.
func TestLongReadsAreSplit(t *testing.T) {
	end := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	pods := func(n int) []samples.PodKey {
		var out []samples.PodKey
		for i := range n {
			out = append(out, samples.PodKey{Namespace: "shop", Name: fmt.Sprintf("db-%d", i)})
		}
		return out
	}
	tests := map[string]struct {
		pods         []samples.PodKey
		start        time.Time
		podSteps     int
		queries      int
		stepsLongest int
	}{
		"a tick: 10 min 17 s of 500 pods":            {pods: pods(500), start: end.Add(-617 * time.Second), queries: 1, stepsLongest: 61},
		"a day of 500 pods":                          {pods: pods(500), start: end.Add(-24 * time.Hour), queries: 24, stepsLongest: 360},
		"a day of 1,000 pods: two batches of 24":     {pods: pods(1000), start: end.Add(-24 * time.Hour), queries: 48, stepsLongest: 360},
		"a day of 100 pods":                          {pods: pods(100), start: end.Add(-24 * time.Hour), queries: 5, stepsLongest: 1800},
		"a day of one pod: 10,000 steps a query":     {pods: pods(1), start: end.Add(-24 * time.Hour), queries: 1, stepsLongest: 8640},
		"two days of one pod":                        {pods: pods(1), start: end.Add(-48 * time.Hour), queries: 2, stepsLongest: 10000},
		"a smaller budget: 500 pods, 10 min a query": {pods: pods(500), start: end.Add(-time.Hour), podSteps: 500 * 60, queries: 6, stepsLongest: 60},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv, forms := recorder(t, "")
			src, err := prometheus.NewSource(prometheus.Config{URL: srv.URL, PodStepsPerQuery: tc.podSteps})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := src.Windows(context.Background(), tc.pods, tc.start, end); err != nil {
				t.Fatal(err)
			}
			if len(*forms) != tc.queries {
				t.Errorf("%d queries, want %d", len(*forms), tc.queries)
			}
			longest := 0
			covered := 0
			for _, f := range *forms {
				from, _ := strconv.ParseFloat(f.Get("start"), 64)
				to, _ := strconv.ParseFloat(f.Get("end"), 64)
				n := int((to-from)/10) + 1
				longest = max(longest, n)
				covered += n
			}
			if longest != tc.stepsLongest {
				t.Errorf("the longest query reads %d steps, want %d", longest, tc.stepsLongest)
			}
			if want := int(end.Sub(tc.start)/(10*time.Second)) * ((len(tc.pods) + 499) / 500); covered != want {
				t.Errorf("the queries read %d steps in all, want %d: every step once per batch", covered, want)
			}
		})
	}
}

// TestSeriesMatchIsChecked: series told apart by labels must be told apart
// consistently, or a stream could be two series or none.
func TestSeriesMatchIsChecked(t *testing.T) {
	faults := func(ft, scope string, f samples.Field) prometheus.Series {
		return prometheus.Series{Metric: "container_memory_failures_total", Field: f, Match: map[string]string{"failure_type": ft, "scope": scope}}
	}
	tests := map[string]struct {
		series []prometheus.Series
		want   string // "" when the configuration is valid
	}{
		"two series of one metric, told apart by a label": {
			series: []prometheus.Series{faults("pgfault", "container", samples.FieldPageFaults), faults("pgmajfault", "container", samples.FieldMajorPageFaults)},
		},
		"the same series twice": {
			series: []prometheus.Series{faults("pgfault", "container", samples.FieldPageFaults), faults("pgfault", "container", samples.FieldMajorPageFaults)},
			want:   "listed twice",
		},
		"series of one metric matched on different labels": {
			series: []prometheus.Series{faults("pgfault", "container", samples.FieldPageFaults),
				{Metric: "container_memory_failures_total", Field: samples.FieldMajorPageFaults, Match: map[string]string{"failure_type": "pgmajfault"}}},
			want: "different labels",
		},
		"a label name that is not one": {
			series: []prometheus.Series{{Metric: "container_memory_failures_total", Field: samples.FieldPageFaults, Match: map[string]string{"failure-type": "pgfault"}}},
			want:   "invalid label name",
		},
		"a pod-level series matching labels": {
			series: []prometheus.Series{{Metric: "container_network_receive_bytes_total", Field: samples.FieldRxBytes, PodLevel: true, Match: map[string]string{"interface": "eth0"}}},
			want:   "pod-level",
		},
		"matching on the metric name": {
			series: []prometheus.Series{{Metric: "container_memory_failures_total", Field: samples.FieldPageFaults, Match: map[string]string{"__name__": "x"}}},
			want:   "invalid label name",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := prometheus.NewSource(prometheus.Config{URL: "http://127.0.0.1:1", Series: tc.series})
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("valid series refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// TestFaultsAreReadFromTheContainersOwnScope: the query keeps the fault
// series apart by failure_type and scope, and a stream of the hierarchy
// scope, or of a failure type nobody asked for, feeds nothing.
func TestFaultsAreReadFromTheContainersOwnScope(t *testing.T) {
	now := time.Now().Truncate(samples.DefaultInterval)
	at := strconv.FormatInt(now.Add(-samples.DefaultInterval).Unix(), 10)
	stream := func(ft, scope, v string) string {
		return `{"metric":{"__name__":"container_memory_failures_total","namespace":"shop","pod":"db-0","container":"postgres","failure_type":"` + ft + `","scope":"` + scope + `"},"values":[[` + at + `,"` + v + `"]]}`
	}
	srv, forms := recorder(t, strings.Join([]string{stream("pgfault", "container", "10"), stream("pgfault", "hierarchy", "99"),
		stream("pgmajfault", "container", "2"), stream("oom", "container", "5")}, ","))
	src, err := prometheus.NewSource(prometheus.Config{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	pod := samples.PodKey{Namespace: "shop", Name: "db-0"}
	got, err := src.Windows(context.Background(), []samples.PodKey{pod}, now.Add(-time.Minute), now)
	if err != nil {
		t.Fatal(err)
	}
	w := got[pod]
	if w == nil || len(w.Samples) != 1 {
		t.Fatalf("windows %v, want one sample for %v", got, pod)
	}
	if s := w.Samples[0]; s.PageFaults != 10 || s.MajorPageFaults != 2 {
		t.Errorf("PageFaults %v, MajorPageFaults %v; want 10 and 2 (the container scope's)", s.PageFaults, s.MajorPageFaults)
	}
	q := (*forms)[0].Get("query")
	for _, want := range []string{`failure_type=~"pgfault|pgmajfault"`, `scope="container"`, "failure_type, scope"} {
		if !strings.Contains(q, want) {
			t.Errorf("the query lacks %s:\n%s", want, q)
		}
	}
}
