package influx

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/podclass/podclass/samples"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api"
)

// Config says how to reach InfluxDB. Both InfluxDB 1.8 (with
// `[http] flux-enabled = true`) and 2.x serve the Flux endpoint used here.
type Config struct {
	// URL of the server, e.g. http://influxdb.monitoring:8086.
	URL string
	// Token authenticates to InfluxDB 2.x. For 1.8 leave it empty and set
	// Username and Password (sent as the "user:pass" token 1.8 expects).
	Token              string
	Username, Password string
	// Org is required by 2.x and ignored by 1.8.
	Org string
	// Bucket is "database/retention-policy" or "database" (the database's
	// default retention policy) on 1.8, a bucket name on 2.x.
	Bucket string
	// BatchSize is how many pods one query covers; zero means samples.DefaultBatchSize.
	BatchSize int
	// Timeout bounds one query; zero means one minute.
	Timeout time.Duration
	// Interval is the bucket width samples are aligned to; zero means
	// samples.DefaultInterval, negative keeps exact timestamps.
	Interval time.Duration
	// Schema maps measurements to samples; the zero value is samples.DefaultSchema.
	Schema samples.Schema
	// Containers picks the containers that feed a pod's samples; nil keeps
	// every container (never the pod-level "" or the pause container).
	Containers samples.ContainerFilter
	// HTTPClient replaces the client's own, e.g. to add TLS settings or, in
	// tests, to count requests. Its Timeout then applies instead of Timeout's
	// HTTP part (Timeout still bounds each query through its context).
	HTTPClient *http.Client
}

// Source reads windows from InfluxDB with one Flux query per batch of
// pods covering every measurement of the schema.
type Source struct {
	cfg    Config
	client influxdb2.Client
	query  api.QueryAPI
}

var (
	_ samples.Source = (*Source)(nil)
	_ samples.Lister = (*Source)(nil)
)

// NewSource checks the configuration; it does not contact the server.
func NewSource(cfg Config) (*Source, error) {
	if cfg.URL == "" {
		return nil, errors.New("influx: URL is required")
	}
	if cfg.Bucket == "" {
		return nil, errors.New("influx: bucket is required")
	}
	if cfg.Token != "" && (cfg.Username != "" || cfg.Password != "") {
		return nil, errors.New("influx: set either a token or a username and password, not both")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = samples.DefaultBatchSize
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = samples.DefaultQueryTimeout
	}
	if cfg.Interval == 0 {
		cfg.Interval = samples.DefaultInterval
	}
	if len(cfg.Schema.Measurements) == 0 {
		cfg.Schema = samples.DefaultSchema()
	}
	if err := cfg.Schema.Validate(); err != nil {
		return nil, fmt.Errorf("influx: %w", err)
	}
	token := cfg.Token
	if cfg.Username != "" || cfg.Password != "" {
		token = cfg.Username + ":" + cfg.Password
	}
	opts := influxdb2.DefaultOptions().
		SetApplicationName("podclass").
		SetLogLevel(0).
		SetHTTPRequestTimeout(uint(math.Ceil(cfg.Timeout.Seconds())))
	if cfg.HTTPClient != nil {
		opts.SetHTTPClient(cfg.HTTPClient)
	}
	client := influxdb2.NewClientWithOptions(cfg.URL, token, opts)
	return &Source{cfg: cfg, client: client, query: client.QueryAPI(cfg.Org)}, nil
}

// Close releases the client's idle connections.
func (s *Source) Close() { s.client.Close() }

// Windows runs one query per batch of pods, in order, and merges the results.
func (s *Source) Windows(ctx context.Context, pods []samples.PodKey, start, end time.Time) (map[samples.PodKey]*samples.Window, error) {
	if !end.After(start) {
		return map[samples.PodKey]*samples.Window{}, nil
	}
	out := map[samples.PodKey]*samples.Window{}
	bs := samples.Batches(pods, s.cfg.BatchSize)
	for i, batch := range bs {
		acc := samples.NewAccumulator(s.cfg.Interval, batch)
		q := windowsFlux(s.cfg.Bucket, s.cfg.Schema, batch, start, end)
		if err := s.run(ctx, q, func(rec map[string]any) error { return s.addRecord(acc, rec) }); err != nil {
			return nil, fmt.Errorf("influx: batch %d of %d (%d pods): %w", i+1, len(bs), len(batch), err)
		}
		for k, w := range acc.Windows() {
			out[k] = w
		}
	}
	return out, nil
}

// Pods lists, sorted, the pods with rows in [start, end).
func (s *Source) Pods(ctx context.Context, start, end time.Time) ([]samples.PodKey, error) {
	acc := samples.NewAccumulator(s.cfg.Interval, nil)
	acc.PodsOnly = true
	if !end.After(start) {
		return nil, nil
	}
	err := s.run(ctx, podsFlux(s.cfg.Bucket, s.cfg.Schema, start, end), func(rec map[string]any) error {
		m := s.cfg.Schema.Measurement(str(rec["_measurement"]))
		if m == nil {
			return nil
		}
		if ns, pod, ok := recordPod(m, rec); ok {
			acc.Find(ns, pod).MarkSeen()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("influx: listing pods: %w", err)
	}
	return acc.PodKeys(), nil
}

// run sends one Flux query and hands every record to fn.
func (s *Source) run(ctx context.Context, flux string, fn func(map[string]any) error) (err error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	// The client's CSV reader panics on some malformed answers (found by
	// FuzzInfluxResponse); a bad answer from the store is an error, not a crash.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("reading result: malformed answer from InfluxDB: %v", r)
		}
	}()
	res, err := s.query.Query(ctx, flux)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	defer res.Close()
	for res.Next() {
		rec := res.Record()
		if rec == nil {
			return fmt.Errorf("reading result: malformed answer from InfluxDB (a row without a table)")
		}
		if err := fn(rec.Values()); err != nil {
			return err
		}
	}
	if err := res.Err(); err != nil {
		return fmt.Errorf("reading result: %w", err)
	}
	return ctx.Err()
}

// addRecord folds one pivoted record (one series at one time, fields as
// columns) into the accumulator.
func (s *Source) addRecord(acc *samples.Accumulator, rec map[string]any) error {
	m := s.cfg.Schema.Measurement(str(rec["_measurement"]))
	if m == nil {
		return nil
	}
	ns, pod, ok := recordPod(m, rec)
	if !ok {
		return nil
	}
	p := acc.Find(ns, pod)
	if p == nil {
		return nil
	}
	t, ok := rec["_time"].(time.Time)
	if !ok {
		return fmt.Errorf("record of %s has no _time", m.Name)
	}
	var r samples.Row
	r.Reset()
	r.Time = t
	fed := false
	for name, f := range m.Fields {
		v, ok := rec[name]
		if !ok || v == nil {
			continue
		}
		x, ok := toFloat(v)
		if !ok {
			return fmt.Errorf("field %s.%s: want a number, got %T", m.Name, name, v)
		}
		r.Values[f] = x
		fed = true
	}
	if !fed {
		return nil
	}
	if !s.cfg.Containers.KeepRow(m, func(tag string) string { return str(rec[tag]) }) {
		return nil
	}
	h := samples.NewSeriesHash(m.Name)
	for _, tag := range m.SeriesTags {
		h = h.AddString(str(rec[tag]))
	}
	r.Series = uint64(h)
	acc.Add(p, &r)
	return nil
}

// recordPod returns the first pod tag pair the record carries.
func recordPod(m *samples.MeasurementSchema, rec map[string]any) (ns, pod string, ok bool) {
	for _, pt := range m.PodTags {
		ns, pod = str(rec[pt.Namespace]), str(rec[pt.Pod])
		if ns != "" && pod != "" {
			return ns, pod, true
		}
	}
	return "", "", false
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	}
	return 0, false
}

// fluxString quotes s as a Flux string literal; "$" is escaped because Flux
// interpolates "${…}".
func fluxString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

// fluxRegex returns an anchored Flux regex literal matching exactly names.
func fluxRegex(names []string) string {
	return "/^(?:" + strings.ReplaceAll(samples.Alternation(names), "/", `\/`) + ")$/"
}

// fluxTime formats t as a Flux time literal.
func fluxTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
