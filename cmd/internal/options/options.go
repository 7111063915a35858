package options

import (
	"flag"
	"fmt"
	"math"
	"net/http"
	"os"
	"strings"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/go-logr/logr"
	"github.com/podclass/podclass/samples"
	"github.com/podclass/podclass/samples/influx"
	"github.com/podclass/podclass/samples/prometheus"
	"github.com/spf13/pflag"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/textlogger"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Positive says whether v is a finite number above zero (not NaN).
func Positive(v float64) bool { return v > 0 && !math.IsInf(v, 1) }

// KubeClient is an uncached client from the kubeconfig or the in-cluster config.
func KubeClient() (client.Client, error) {
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	return client.New(cfg, client.Options{})
}

var logConfig = textlogger.NewConfig()

// AddLogFlags adds klog's -v and --vmodule to a flag set.
func AddLogFlags(fs *pflag.FlagSet) {
	gofs := flag.NewFlagSet("log", flag.ContinueOnError)
	logConfig.AddFlags(gofs)
	fs.AddGoFlagSet(gofs)
}

// Logger is klog's logger with the flags AddLogFlags bound, also made
// klog's own.
func Logger() logr.Logger {
	l := textlogger.NewLogger(logConfig)
	klog.SetLoggerWithOptions(l, klog.ContextualLogger(true))
	return l
}

// Source is the metrics-store flag group of refiner and train: which store,
// where, and how it is queried.
type Source struct {
	Kind           string
	InfluxURL      string
	InfluxToken    string
	InfluxUser     string
	InfluxPassword string
	InfluxOrg      string
	InfluxBucket   string
	PrometheusURL  string
	PromToken      string
	// PromHeaders are "Name: value" headers sent with every Prometheus
	// request (--prometheus-header), e.g. Mimir's X-Scope-OrgID.
	PromHeaders  []string
	BatchSize    int
	QueryTimeout time.Duration
	// Containers leaves sidecars out of the pods' samples (see
	// samples.ContainerFilter); nil keeps every container.
	Containers samples.ContainerFilter
}

// DefaultSource is the flags' defaults (secrets from the environment).
func DefaultSource() Source {
	return Source{Kind: "influxdb", InfluxBucket: "telegraf", InfluxToken: os.Getenv("INFLUX_TOKEN"),
		InfluxPassword: os.Getenv("INFLUX_PASSWORD"), PromToken: os.Getenv("PROMETHEUS_TOKEN"), BatchSize: 500, QueryTimeout: 30 * time.Second}
}

// AddFlags binds the group to a flag set.
func (s *Source) AddFlags(f interface {
	StringVar(*string, string, string, string)
	IntVar(*int, string, int, string)
	DurationVar(*time.Duration, string, time.Duration, string)
	StringArrayVar(*[]string, string, []string, string)
}) {
	f.StringVar(&s.Kind, "source", s.Kind, "Metrics store: influxdb (telegraf's schema) or prometheus (cAdvisor's series).")
	f.StringVar(&s.PrometheusURL, "prometheus-url", s.PrometheusURL, "Prometheus URL, e.g. http://prometheus.monitoring:9090 (bearer token from $PROMETHEUS_TOKEN).")
	f.StringArrayVar(&s.PromHeaders, "prometheus-header", s.PromHeaders, "Header sent with every Prometheus request, \"Name: value\" (repeatable), e.g. \"X-Scope-OrgID: tenant-a\" for Mimir; visible in the process list, so no secrets.")
	f.StringVar(&s.InfluxURL, "influx-url", s.InfluxURL, "InfluxDB URL, e.g. http://influxdb.monitoring:8086.")
	f.StringVar(&s.InfluxToken, "influx-token", s.InfluxToken, "InfluxDB token (default $INFLUX_TOKEN); prefer the environment to the command line.")
	f.StringVar(&s.InfluxUser, "influx-user", s.InfluxUser, "InfluxDB 1.x user (password from $INFLUX_PASSWORD).")
	f.StringVar(&s.InfluxOrg, "influx-org", s.InfluxOrg, "InfluxDB 2.x organisation.")
	f.StringVar(&s.InfluxBucket, "influx-database", s.InfluxBucket, "InfluxDB database (1.x, \"db\" or \"db/rp\") or bucket (2.x).")
	f.IntVar(&s.BatchSize, "batch-size", s.BatchSize, "Pods per metrics query.")
	f.DurationVar(&s.QueryTimeout, "query-timeout", s.QueryTimeout, "Bound on one metrics query.")
}

// Validate checks the group.
func (s *Source) Validate() error {
	switch s.Kind {
	case "influxdb":
		if s.InfluxURL == "" {
			return fmt.Errorf("--influx-url is required with --source influxdb")
		}
	case "prometheus":
		if s.PrometheusURL == "" {
			return fmt.Errorf("--prometheus-url is required with --source prometheus")
		}
		headers, err := s.promHeaders()
		if err != nil {
			return err
		}
		// The source's own checks (header names, a token beside an
		// Authorization header) without contacting the server.
		if _, err := prometheus.NewSource(prometheus.Config{URL: s.PrometheusURL, BearerToken: s.PromToken, Headers: headers}); err != nil {
			return fmt.Errorf("--prometheus-url, --prometheus-header: %w", err)
		}
	default:
		return fmt.Errorf("--source %q is not one of: influxdb, prometheus", s.Kind)
	}
	if s.BatchSize < 1 {
		return fmt.Errorf("--batch-size must be at least 1")
	}
	return nil
}

// Build returns the configured source and its close function.
func (s *Source) Build() (samples.Source, func(), error) {
	if s.Kind == "prometheus" {
		headers, err := s.promHeaders()
		if err != nil {
			return nil, nil, err
		}
		src, err := prometheus.NewSource(prometheus.Config{URL: s.PrometheusURL, BearerToken: s.PromToken, Headers: headers,
			BatchSize: s.BatchSize, Timeout: s.QueryTimeout, Containers: s.Containers})
		if err != nil {
			return nil, nil, fmt.Errorf("metrics source: %w", err)
		}
		return src, func() {}, nil
	}
	src, err := influx.NewSource(influx.Config{
		URL: s.InfluxURL, Token: s.InfluxToken, Username: s.InfluxUser, Password: s.InfluxPassword,
		Org: s.InfluxOrg, Bucket: s.InfluxBucket, BatchSize: s.BatchSize, Timeout: s.QueryTimeout,
		Containers: s.Containers,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("metrics source: %w", err)
	}
	return src, src.Close, nil
}

// promHeaders parses --prometheus-header's "Name: value" entries; a name
// given twice sends both values.
func (s *Source) promHeaders() (http.Header, error) {
	if len(s.PromHeaders) == 0 {
		return nil, nil
	}
	h := http.Header{}
	for _, kv := range s.PromHeaders {
		name, value, ok := strings.Cut(kv, ":")
		if !ok || name == "" || strings.TrimSpace(name) != name {
			return nil, fmt.Errorf("--prometheus-header %q is not \"Name: value\"", kv)
		}
		h.Add(name, strings.TrimSpace(value))
	}
	return h, nil
}
