package app

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/podclass/podclass/modelstore"
	"github.com/podclass/podclass/refiner"
	"github.com/podclass/podclass/samples"
	"github.com/podclass/podclass/samples/influx"
	"github.com/podclass/podclass/samples/prometheus"
)

type refinerConfig struct {
	refiner.Options
	source         sourceConfig
	ModelConfigMap string
	ModelFile      string
	Namespace      string
	LeaderElect    bool
	ProbeAddr      string
	MetricsAddr    string
	QPS            float32
	Burst          int
}

func newRefinerCommand() *cobra.Command {
	cfg := refinerConfig{Options: refiner.DefaultOptions(), LeaderElect: true, ProbeAddr: ":8081", MetricsAddr: ":8080",
		Namespace: os.Getenv("POD_NAMESPACE"), QPS: 50, Burst: 100}
	cfg.source = defaultSourceConfig()
	cmd := &cobra.Command{
		Use:   "refiner",
		Short: "Classify pending pods from their runtime metrics and patch their annotations",
		Args:  cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if cfg.Namespace == "" {
				cfg.Namespace = "default"
			}
			if err := cfg.source.validate(); err != nil {
				return err
			}
			return cfg.Options.Validate()
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			setupLogging()
			return runRefiner(cmd, cfg)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&cfg.Interval, "interval", cfg.Interval, "Time between ticks; each tick reads the metrics of all pending pods.")
	f.DurationVar(&cfg.MinWindow, "min-window", cfg.MinWindow, "Sampled time a pod needs before it is classified (unless the model's window is full).")
	f.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "Give a pod up as unclassified when it has no usable metrics this long after creation.")
	f.DurationVar(&cfg.MaxBackoff, "max-backoff", cfg.MaxBackoff, "Longest wait between ticks while the metrics store fails.")
	f.IntVar(&cfg.Workers, "workers", cfg.Workers, "Concurrent pod patches.")
	f.BoolVar(&cfg.SetClassLabel, "set-class-label", cfg.SetClassLabel, "Also write the decided class as the podclass.io/class label.")
	f.StringVar(&cfg.ModelConfigMap, "model-configmap", cfg.ModelConfigMap, "ConfigMap (in --namespace) holding the model under key model.json; hot-reloaded.")
	f.StringVar(&cfg.ModelFile, "model", cfg.ModelFile, "Model file used at start; the embedded default model when empty.")
	f.StringVar(&cfg.Namespace, "namespace", cfg.Namespace, "The refiner's own namespace (model ConfigMap, leader election lease); default $POD_NAMESPACE.")
	f.BoolVar(&cfg.LeaderElect, "leader-elect", cfg.LeaderElect, "Elect a leader so that only one replica decides pods.")
	f.StringVar(&cfg.ProbeAddr, "health-probe-bind-address", cfg.ProbeAddr, "Address for /healthz and /readyz (0 disables).")
	f.StringVar(&cfg.MetricsAddr, "metrics-bind-address", cfg.MetricsAddr, "Address for Prometheus /metrics (0 disables).")
	f.Float32Var(&cfg.QPS, "kube-api-qps", cfg.QPS, "Sustained requests per second to the API server.")
	f.IntVar(&cfg.Burst, "kube-api-burst", cfg.Burst, "Burst of requests to the API server.")
	cfg.source.addFlags(f)
	return cmd
}

func runRefiner(cmd *cobra.Command, cfg refinerConfig) error {
	ctx := cmd.Context()
	model, err := modelstore.Open(cfg.ModelFile)
	if err != nil {
		return err
	}
	src, closeSrc, err := cfg.source.build()
	if err != nil {
		return err
	}
	defer closeSrc()

	restCfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	restCfg.QPS, restCfg.Burst = cfg.QPS, cfg.Burst
	mgr, err := ctrl.NewManager(restCfg, refinerManagerOptions(cfg))
	if err != nil {
		return fmt.Errorf("creating manager: %w", err)
	}
	r, err := refiner.Setup(mgr, cfg.Options, src, refiner.NewModelHolder(model), cfg.Namespace, cfg.ModelConfigMap)
	if err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("metrics-store", r.MetricsStoreCheck); err != nil {
		return err
	}
	return mgr.Start(ctx)
}

// refinerManagerOptions adds addresses and the leader election switch to
// the refiner's own manager options.
func refinerManagerOptions(cfg refinerConfig) ctrl.Options {
	o := refiner.ManagerOptions(cfg.Namespace, cfg.ModelConfigMap)
	o.LeaderElection = cfg.LeaderElect
	o.HealthProbeBindAddress = cfg.ProbeAddr
	if cfg.ProbeAddr == "0" {
		o.HealthProbeBindAddress = ""
	}
	o.Metrics = metricsserver.Options{BindAddress: cfg.MetricsAddr}
	return o
}

// sourceConfig selects and configures the metrics store.
type sourceConfig struct {
	Kind           string
	InfluxURL      string
	InfluxToken    string
	InfluxUser     string
	InfluxPassword string
	InfluxOrg      string
	InfluxBucket   string
	PrometheusURL  string
	PromToken      string
	BatchSize      int
	QueryTimeout   time.Duration
}

func defaultSourceConfig() sourceConfig {
	return sourceConfig{Kind: "influxdb", InfluxBucket: "telegraf", InfluxToken: os.Getenv("INFLUX_TOKEN"),
		InfluxPassword: os.Getenv("INFLUX_PASSWORD"), PromToken: os.Getenv("PROMETHEUS_TOKEN"), BatchSize: 500, QueryTimeout: 30 * time.Second}
}

func (s *sourceConfig) addFlags(f interface {
	StringVar(*string, string, string, string)
	IntVar(*int, string, int, string)
	DurationVar(*time.Duration, string, time.Duration, string)
}) {
	f.StringVar(&s.Kind, "source", s.Kind, "Metrics store: influxdb (telegraf's schema) or prometheus (cAdvisor's series).")
	f.StringVar(&s.PrometheusURL, "prometheus-url", s.PrometheusURL, "Prometheus URL, e.g. http://prometheus.monitoring:9090 (bearer token from $PROMETHEUS_TOKEN).")
	f.StringVar(&s.InfluxURL, "influx-url", s.InfluxURL, "InfluxDB URL, e.g. http://influxdb.monitoring:8086.")
	f.StringVar(&s.InfluxToken, "influx-token", s.InfluxToken, "InfluxDB token (default $INFLUX_TOKEN); prefer the environment to the command line.")
	f.StringVar(&s.InfluxUser, "influx-user", s.InfluxUser, "InfluxDB 1.x user (password from $INFLUX_PASSWORD).")
	f.StringVar(&s.InfluxOrg, "influx-org", s.InfluxOrg, "InfluxDB 2.x organisation.")
	f.StringVar(&s.InfluxBucket, "influx-database", s.InfluxBucket, "InfluxDB database (1.x, \"db\" or \"db/rp\") or bucket (2.x).")
	f.IntVar(&s.BatchSize, "batch-size", s.BatchSize, "Pods per metrics query.")
	f.DurationVar(&s.QueryTimeout, "query-timeout", s.QueryTimeout, "Bound on one metrics query.")
}

func (s *sourceConfig) validate() error {
	switch s.Kind {
	case "influxdb":
		if s.InfluxURL == "" {
			return fmt.Errorf("--influx-url is required with --source influxdb")
		}
	case "prometheus":
		if s.PrometheusURL == "" {
			return fmt.Errorf("--prometheus-url is required with --source prometheus")
		}
	default:
		return fmt.Errorf("--source %q is not one of: influxdb, prometheus", s.Kind)
	}
	if s.BatchSize < 1 {
		return fmt.Errorf("--batch-size must be at least 1")
	}
	return nil
}

func (s *sourceConfig) build() (samples.Source, func(), error) {
	if s.Kind == "prometheus" {
		src, err := prometheus.NewSource(prometheus.Config{URL: s.PrometheusURL, BearerToken: s.PromToken, BatchSize: s.BatchSize})
		if err != nil {
			return nil, nil, fmt.Errorf("metrics source: %w", err)
		}
		return src, func() {}, nil
	}
	src, err := influx.NewSource(influx.Config{
		URL: s.InfluxURL, Token: s.InfluxToken, Username: s.InfluxUser, Password: s.InfluxPassword,
		Org: s.InfluxOrg, Bucket: s.InfluxBucket, BatchSize: s.BatchSize, Timeout: s.QueryTimeout,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("metrics source: %w", err)
	}
	return src, src.Close, nil
}
