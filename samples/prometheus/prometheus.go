package prometheus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/podclass/podclass/samples"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Config says how to reach Prometheus (or anything serving its
// HTTP API) holding the kubelet's cAdvisor series.
type Config struct {
	// URL of the server, e.g. http://prometheus.monitoring:9090.
	URL string
	// BearerToken, or Username and Password, authenticate; empty means none.
	BearerToken        string
	Username, Password string
	// Headers are sent with every request: X-Scope-OrgID naming a Mimir or
	// Cortex tenant, a gateway's key. Authorization may be among them only
	// when BearerToken, Username and Password are empty; Host and the
	// body's Content-Type and Content-Length never.
	Headers http.Header
	// BatchSize is how many pods one query covers; zero means samples.DefaultBatchSize.
	BatchSize int
	// Step is the resolution of the range queries and so the sample interval;
	// zero means samples.DefaultInterval.
	Step time.Duration
	// Lookback is how far back from each step a sample may be; zero means
	// Step, so a pod that stopped being scraped stops having samples at once
	// instead of repeating its last value for Prometheus' five minutes.
	Lookback time.Duration
	// PodStepsPerQuery bounds the pods times the steps one query reads, so
	// its answer stays under the engine's sample limit (Prometheus'
	// --query.max-samples, 50 million by default, counts about twice the
	// series times the steps): a longer range is split. Zero means
	// DefaultPodStepsPerQuery.
	PodStepsPerQuery int
	// Timeout bounds one query; zero means one minute.
	Timeout time.Duration
	// Labels are the label names cAdvisor uses; zero values are the defaults.
	Labels Labels
	// Series maps metrics onto samples; nil means DefaultSeries.
	Series []Series
	// Containers picks the containers that feed a pod's samples; nil keeps
	// every container (never the pod-level "" or the pause container).
	Containers samples.ContainerFilter
	// RoundTripper replaces the HTTP transport, e.g. for TLS or, in tests, to
	// count requests.
	RoundTripper http.RoundTripper
}

// Labels names cAdvisor's labels.
type Labels struct {
	Namespace string // default "namespace"
	Pod       string // default "pod"
	Container string // default "container"
	Interface string // default "interface"
}

// Series maps one metric onto a samples.Sample value.
type Series struct {
	Metric string
	Field  samples.Field
	// Scale multiplies every value; zero means 1. CPU seconds become
	// nanoseconds with 1e9 so every source fills a samples.Sample in the same units.
	Scale float64
	// PodLevel marks series cAdvisor reports for the pod sandbox (network),
	// not per container: they are taken once per interface instead of summed
	// over the pod's containers, which would count the pod's traffic for
	// every reporting cgroup.
	PodLevel bool
	// Match holds label values the series must carry, for a metric whose
	// labels say what it counts: cAdvisor's container_memory_failures_total
	// is page faults with failure_type="pgfault" and major faults with
	// "pgmajfault", each for scope="container" and again for "hierarchy".
	// Series of one metric must all match on the same label names; a
	// PodLevel series matches none.
	Match map[string]string

	// id is key(), set once by NewSource: the read path names each
	// stream's series by it.
	id string
}

// key tells series of one metric apart by their Match values.
func (s Series) key() string {
	if len(s.Match) == 0 {
		return s.Metric
	}
	names := make([]string, 0, len(s.Match))
	for k := range s.Match {
		names = append(names, k)
	}
	sort.Strings(names)
	k := s.Metric
	for _, n := range names {
		k += "," + n + "=" + s.Match[n]
	}
	return k
}

// matches reports whether a stream's labels carry every Match value.
func (s Series) matches(m model.Metric) bool {
	for k, v := range s.Match {
		if string(m[model.LabelName(k)]) != v {
			return false
		}
	}
	return true
}

// DefaultSeries are the cAdvisor series the kubelet exports.
func DefaultSeries() []Series {
	return []Series{
		{Metric: "container_cpu_usage_seconds_total", Field: samples.FieldCPUCoreNanoSeconds, Scale: 1e9},
		{Metric: "container_memory_working_set_bytes", Field: samples.FieldMemoryWorkingSet},
		{Metric: "container_memory_rss", Field: samples.FieldMemoryRSS},
		{Metric: "container_memory_usage_bytes", Field: samples.FieldMemoryUsage},
		// The container's own faults, as the kubelet's summary API (and so
		// telegraf's memory_page_faults) reports them: scope "container".
		{Metric: "container_memory_failures_total", Field: samples.FieldPageFaults,
			Match: map[string]string{"failure_type": "pgfault", "scope": "container"}},
		{Metric: "container_memory_failures_total", Field: samples.FieldMajorPageFaults,
			Match: map[string]string{"failure_type": "pgmajfault", "scope": "container"}},
		{Metric: "container_network_receive_bytes_total", Field: samples.FieldRxBytes, PodLevel: true},
		{Metric: "container_network_transmit_bytes_total", Field: samples.FieldTxBytes, PodLevel: true},
		{Metric: "container_fs_reads_bytes_total", Field: samples.FieldIOReadBytes},
		{Metric: "container_fs_writes_bytes_total", Field: samples.FieldIOWriteBytes},
		{Metric: "container_processes", Field: samples.FieldProcesses},
		{Metric: "container_threads", Field: samples.FieldThreads},
		{Metric: "container_file_descriptors", Field: samples.FieldFileDescriptors},
		{Metric: "container_sockets", Field: samples.FieldSockets},
	}
}

// maxPointsPerQuery stays under Prometheus' 11,000 points per series limit;
// longer ranges are split.
const maxPointsPerQuery = 10000

// DefaultPodStepsPerQuery lets a query of 500 pods read an hour at 10 s
// steps: a refiner's tick (its --timeout, 10 minutes, and an interval) is
// one query per batch, the trainer's day of history 24. With 40 series a
// pod that is at most 14.4 million samples in Prometheus' count.
const DefaultPodStepsPerQuery = 500 * 360

// Source reads windows with one range query per batch of pods covering
// every series (per PodStepsPerQuery/batch steps: a query of 500 pods reads
// an hour at most, a query of fewer pods longer, never more than 10,000
// steps).
type Source struct {
	cfg Config
	api v1.API
	// series lists each metric's series (more than one when they differ in
	// their Match labels).
	series map[string][]Series
}

var (
	_ samples.Source = (*Source)(nil)
	_ samples.Lister = (*Source)(nil)
)

// NewSource checks the configuration; it does not contact the server.
func NewSource(cfg Config) (*Source, error) {
	if cfg.URL == "" {
		return nil, errors.New("prometheus: URL is required")
	}
	if cfg.BearerToken != "" && (cfg.Username != "" || cfg.Password != "") {
		return nil, errors.New("prometheus: set either a bearer token or a username and password, not both")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = samples.DefaultBatchSize
	}
	if cfg.Step <= 0 {
		cfg.Step = samples.DefaultInterval
	}
	if cfg.Step < time.Millisecond {
		return nil, fmt.Errorf("prometheus: step %v is below Prometheus' millisecond resolution", cfg.Step)
	}
	if cfg.Lookback <= 0 {
		cfg.Lookback = cfg.Step
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = samples.DefaultQueryTimeout
	}
	if cfg.PodStepsPerQuery <= 0 {
		cfg.PodStepsPerQuery = DefaultPodStepsPerQuery
	}
	l := &cfg.Labels
	l.Namespace = orDefault(l.Namespace, "namespace")
	l.Pod = orDefault(l.Pod, "pod")
	l.Container = orDefault(l.Container, "container")
	l.Interface = orDefault(l.Interface, "interface")
	if cfg.Series == nil {
		cfg.Series = DefaultSeries()
	}
	byName := map[string][]Series{}
	keys := map[string]bool{}
	fed := map[samples.Field]string{}
	for _, s := range cfg.Series {
		if !model.IsValidMetricName(model.LabelValue(s.Metric)) {
			return nil, fmt.Errorf("prometheus: invalid metric name %q", s.Metric)
		}
		if !s.Field.Valid() {
			return nil, fmt.Errorf("prometheus: %s maps to invalid %v", s.Metric, s.Field)
		}
		for k := range s.Match {
			if !labelName.MatchString(k) || k == model.MetricNameLabel {
				return nil, fmt.Errorf("prometheus: %s: invalid label name %q to match", s.Metric, k)
			}
		}
		s.id = s.key()
		if keys[s.id] {
			return nil, fmt.Errorf("prometheus: %s listed twice", s.id)
		}
		if o, dup := fed[s.Field]; dup {
			return nil, fmt.Errorf("prometheus: %v is fed by both %s and %s", s.Field, o, s.id)
		}
		if others := byName[s.Metric]; len(others) > 0 && !sameLabelNames(others[0].Match, s.Match) {
			return nil, fmt.Errorf("prometheus: the series of %s match on different labels", s.Metric)
		}
		if s.PodLevel && len(s.Match) > 0 {
			return nil, fmt.Errorf("prometheus: %s: a pod-level series cannot match labels", s.Metric)
		}
		if s.Scale == 0 {
			s.Scale = 1
		}
		byName[s.Metric] = append(byName[s.Metric], s)
		keys[s.id] = true
		fed[s.Field] = s.id
	}
	if len(byName) == 0 {
		return nil, errors.New("prometheus: no series")
	}
	headers, err := checkHeaders(cfg.Headers, cfg.BearerToken != "" || cfg.Username != "" || cfg.Password != "")
	if err != nil {
		return nil, err
	}
	rt := cfg.RoundTripper
	if rt == nil {
		rt = api.DefaultRoundTripper
	}
	rt = requestEditor{next: rt, headers: headers, bearer: cfg.BearerToken, user: cfg.Username, pass: cfg.Password}
	client, err := api.NewClient(api.Config{Address: cfg.URL, RoundTripper: rt})
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	return &Source{cfg: cfg, api: v1.NewAPI(client), series: byName}, nil
}

// labelName is a label name a selector takes unquoted.
var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// sameLabelNames reports whether a and b name the same labels.
func sameLabelNames(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Windows runs one range query per batch of pods and merges the results.
func (s *Source) Windows(ctx context.Context, pods []samples.PodKey, start, end time.Time) (map[samples.PodKey]*samples.Window, error) {
	if start.IsZero() || end.IsZero() {
		// An open range would be millions of steps.
		return nil, errors.New("prometheus: a window needs both a start and an end time")
	}
	// No sample is newer than now. A point asked for ahead of it holds no
	// sample on Prometheus, and on VictoriaMetrics the point before it
	// repeated: a sample that never was.
	if now := time.Now(); end.After(now) {
		end = now
	}
	out := map[samples.PodKey]*samples.Window{}
	bs := samples.Batches(pods, s.cfg.BatchSize)
	for i, batch := range bs {
		acc := samples.NewAccumulator(s.cfg.Step, batch)
		q := s.windowsQuery(batch)
		perQuery := min(maxPointsPerQuery, max(1, s.cfg.PodStepsPerQuery/len(batch)))
		for _, r := range steps(start, end, s.cfg.Step, perQuery) {
			if err := s.rangeQuery(ctx, acc, q, r); err != nil {
				return nil, fmt.Errorf("prometheus: batch %d of %d (%d pods): %w", i+1, len(bs), len(batch), err)
			}
		}
		for k, w := range acc.Windows() {
			out[k] = w
		}
	}
	return out, nil
}

func (s *Source) rangeQuery(ctx context.Context, acc *samples.Accumulator, q string, r v1.Range) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	val, _, err := s.api.QueryRange(ctx, q, r, v1.WithTimeout(s.cfg.Timeout))
	if err != nil {
		return fmt.Errorf("range query %v–%v: %w", r.Start.UTC().Format(time.RFC3339), r.End.UTC().Format(time.RFC3339), err)
	}
	m, ok := val.(model.Matrix)
	if !ok {
		return fmt.Errorf("range query returned a %s, want a matrix", val.Type())
	}
	var row samples.Row
	for _, stream := range m {
		name := string(stream.Metric[model.MetricNameLabel])
		if name == "" {
			// An engine whose last_over_time drops the name, unlike PromQL's
			// and MetricsQL's: fail rather than read nothing.
			return fmt.Errorf("range query returned a series without a metric name (%v): the engine's last_over_time must keep it, as Prometheus' does", stream.Metric)
		}
		ser, ok := s.seriesOf(name, stream.Metric)
		if !ok {
			continue
		}
		p := acc.Find(string(stream.Metric[model.LabelName(s.cfg.Labels.Namespace)]), string(stream.Metric[model.LabelName(s.cfg.Labels.Pod)]))
		if p == nil {
			continue
		}
		container := string(stream.Metric[model.LabelName(s.cfg.Labels.Container)])
		if !ser.PodLevel && !s.cfg.Containers.Keep(container) {
			continue
		}
		series := uint64(samples.NewSeriesHash(ser.id).AddString(container))
		for _, sp := range stream.Values {
			row.Reset()
			row.Series = series
			row.Time = sp.Timestamp.Time()
			row.Values[ser.Field] = float64(sp.Value) * ser.Scale
			acc.Add(p, &row)
		}
	}
	return nil
}

// seriesOf is the configured series a stream of metric name is.
func (s *Source) seriesOf(name string, m model.Metric) (Series, bool) {
	for _, ser := range s.series[name] {
		if ser.matches(m) {
			return ser, true
		}
	}
	return Series{}, false
}

// Pods lists, sorted, the pods with any series in [start, end): one instant
// query at the end of the range looking back over all of it.
func (s *Source) Pods(ctx context.Context, start, end time.Time) ([]samples.PodKey, error) {
	if start.IsZero() || end.IsZero() {
		return nil, errors.New("prometheus: listing pods needs both a start and an end time")
	}
	if !end.After(start.Add(time.Millisecond)) {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	at := end.Add(-time.Millisecond) // the range is half-open
	val, _, err := s.api.Query(ctx, s.podsQuery(at.Sub(start)), at, v1.WithTimeout(s.cfg.Timeout))
	if err != nil {
		return nil, fmt.Errorf("prometheus: listing pods: %w", err)
	}
	vec, ok := val.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("prometheus: listing pods returned a %s, want a vector", val.Type())
	}
	acc := samples.NewAccumulator(s.cfg.Step, nil)
	for _, smp := range vec {
		ns, pod := string(smp.Metric[model.LabelName(s.cfg.Labels.Namespace)]), string(smp.Metric[model.LabelName(s.cfg.Labels.Pod)])
		if ns != "" && pod != "" {
			acc.Find(ns, pod).MarkSeen()
		}
	}
	return acc.PodKeys(), nil
}

// steps splits [start, end) into ranges of step-aligned evaluation times,
// each of at most perQuery. Aligning to multiples of the step makes every
// batch and every call land on the same timestamps.
func steps(start, end time.Time, step time.Duration, perQuery int) []v1.Range {
	first := ceilTo(start, step)
	if !first.Before(end) {
		return nil
	}
	last := ceilTo(end, step).Add(-step) // the last time < end
	var out []v1.Range
	for t := first; !t.After(last); {
		e := t.Add(time.Duration(perQuery-1) * step)
		if e.After(last) {
			e = last
		}
		out = append(out, v1.Range{Start: t, End: e, Step: step})
		t = e.Add(step)
	}
	return out
}

// ceilTo rounds t up to a multiple of d since the Unix epoch.
func ceilTo(t time.Time, d time.Duration) time.Time {
	ns, iv := t.UnixNano(), int64(d)
	r := ns % iv
	if r < 0 {
		r += iv
	}
	if r != 0 {
		ns += iv - r
	}
	return time.Unix(0, ns).UTC()
}

// latencyOffset is sent as VictoriaMetrics' latency_offset on every query,
// its smallest value: by default (-search.latencyOffset=30s) it replaces the
// points of the last 30 s with the point before them, so a pod's newest
// samples would repeat an older one and its counters look idle. Prometheus,
// Thanos and Mimir ignore the parameter.
const latencyOffset = "1ms"

// requestEditor adds the configured headers, the credentials and
// latency_offset to every request.
type requestEditor struct {
	next       http.RoundTripper
	headers    http.Header
	bearer     string
	user, pass string
}

func (e requestEditor) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	for name, values := range e.headers {
		req.Header[name] = append([]string(nil), values...)
	}
	switch {
	case e.bearer != "":
		req.Header.Set("Authorization", "Bearer "+e.bearer)
	case e.user != "" || e.pass != "":
		req.SetBasicAuth(e.user, e.pass)
	}
	q := req.URL.Query()
	q.Set("latency_offset", latencyOffset)
	req.URL.RawQuery = q.Encode()
	return e.next.RoundTrip(req)
}

// checkHeaders returns h with canonical names, or why it cannot be sent.
func checkHeaders(h http.Header, credentials bool) (http.Header, error) {
	out := http.Header{}
	for name, values := range h {
		if !validHeaderName(name) {
			return nil, fmt.Errorf("prometheus: header name %q is not an HTTP token", name)
		}
		canonical := http.CanonicalHeaderKey(name)
		switch canonical {
		case "Host", "Content-Type", "Content-Length", "Transfer-Encoding", "Connection":
			return nil, fmt.Errorf("prometheus: header %s is the HTTP client's to set", canonical)
		case "Authorization":
			if credentials {
				return nil, errors.New("prometheus: set either an Authorization header or a bearer token or username and password, not both")
			}
		}
		for _, v := range values {
			if strings.ContainsAny(v, "\r\n\x00") {
				return nil, fmt.Errorf("prometheus: header %s has a value with a line break or NUL", canonical)
			}
			out.Add(canonical, v)
		}
	}
	return out, nil
}

// validHeaderName reports whether name is an RFC 9110 token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range []byte(name) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
