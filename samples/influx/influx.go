package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api"
)

// InfluxConfig says how to reach InfluxDB. Both InfluxDB 1.8 (with
// `[http] flux-enabled = true`) and 2.x serve the Flux endpoint used here.
type InfluxConfig struct {
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
	// BatchSize is how many pods one query covers; zero means DefaultBatchSize.
	BatchSize int
	// Timeout bounds one query; zero means one minute.
	Timeout time.Duration
	// Interval is the bucket width samples are aligned to; zero means
	// DefaultInterval, negative keeps exact timestamps.
	Interval time.Duration
	// Schema maps measurements to samples; the zero value is DefaultSchema.
	Schema Schema
	// HTTPClient replaces the client's own, e.g. to add TLS settings or, in
	// tests, to count requests. Its Timeout then applies instead of Timeout's
	// HTTP part (Timeout still bounds each query through its context).
	HTTPClient *http.Client
}

const defaultQueryTimeout = time.Minute

// InfluxSource reads windows from InfluxDB with one Flux query per batch of
// pods covering every measurement of the schema.
type InfluxSource struct {
	cfg    InfluxConfig
	client influxdb2.Client
	query  api.QueryAPI
}

var (
	_ Source = (*InfluxSource)(nil)
	_ Lister = (*InfluxSource)(nil)
)

// NewInfluxSource checks the configuration; it does not contact the server.
func NewInfluxSource(cfg InfluxConfig) (*InfluxSource, error) {
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
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultQueryTimeout
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	if len(cfg.Schema.Measurements) == 0 {
		cfg.Schema = DefaultSchema()
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
	return &InfluxSource{cfg: cfg, client: client, query: client.QueryAPI(cfg.Org)}, nil
}

// Close releases the client's idle connections.
func (s *InfluxSource) Close() { s.client.Close() }

// Windows runs one query per batch of pods, in order, and merges the results.
func (s *InfluxSource) Windows(ctx context.Context, pods []PodKey, start, end time.Time) (map[PodKey]*Window, error) {
	if !end.After(start) {
		return map[PodKey]*Window{}, nil
	}
	out := map[PodKey]*Window{}
	bs := batches(pods, s.cfg.BatchSize)
	for i, batch := range bs {
		acc := newAccumulator(s.cfg.Interval, batch)
		q := windowsFlux(s.cfg.Bucket, s.cfg.Schema, batch, start, end)
		if err := s.run(ctx, q, func(rec map[string]any) error { return s.addRecord(acc, rec) }); err != nil {
			return nil, fmt.Errorf("influx: batch %d of %d (%d pods): %w", i+1, len(bs), len(batch), err)
		}
		for k, w := range acc.windows() {
			out[k] = w
		}
	}
	return out, nil
}

// Pods lists, sorted, the pods with rows in [start, end).
func (s *InfluxSource) Pods(ctx context.Context, start, end time.Time) ([]PodKey, error) {
	acc := newAccumulator(s.cfg.Interval, nil)
	acc.podsOnly = true
	if !end.After(start) {
		return nil, nil
	}
	err := s.run(ctx, podsFlux(s.cfg.Bucket, s.cfg.Schema, start, end), func(rec map[string]any) error {
		m := s.cfg.Schema.measurement(str(rec["_measurement"]))
		if m == nil {
			return nil
		}
		if ns, pod, ok := recordPod(m, rec); ok {
			acc.find(ns, pod).seen = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("influx: listing pods: %w", err)
	}
	return acc.podKeys(), nil
}

// run sends one Flux query and hands every record to fn.
func (s *InfluxSource) run(ctx context.Context, flux string, fn func(map[string]any) error) (err error) {
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
func (s *InfluxSource) addRecord(acc *accumulator, rec map[string]any) error {
	m := s.cfg.Schema.measurement(str(rec["_measurement"]))
	if m == nil {
		return nil
	}
	ns, pod, ok := recordPod(m, rec)
	if !ok {
		return nil
	}
	p := acc.find(ns, pod)
	if p == nil {
		return nil
	}
	t, ok := rec["_time"].(time.Time)
	if !ok {
		return fmt.Errorf("record of %s has no _time", m.Name)
	}
	var r row
	r.reset()
	r.time = t
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
		r.values[f] = x
		fed = true
	}
	if !fed {
		return nil
	}
	h := newSeriesHash(m.Name)
	for _, tag := range m.SeriesTags {
		h = h.addString(str(rec[tag]))
	}
	r.series = uint64(h)
	acc.add(p, &r)
	return nil
}

// recordPod returns the first pod tag pair the record carries.
func recordPod(m *MeasurementSchema, rec map[string]any) (ns, pod string, ok bool) {
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
	return "/^(?:" + strings.ReplaceAll(alternation(names), "/", `\/`) + ")$/"
}

// fluxTime formats t as a Flux time literal.
func fluxTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
