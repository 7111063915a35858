package app

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/podclass/podclass/cmd/internal/options"
	"github.com/podclass/podclass/imagerules"
	"github.com/podclass/podclass/modelstore"
	"github.com/podclass/podclass/refiner"
)

type refinerConfig struct {
	refiner.Options
	source         options.Source
	ModelConfigMap string
	ModelFile      string
	RulesFile      string
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
	cfg.source = options.DefaultSource()
	cmd := &cobra.Command{
		Use:   "refiner",
		Short: "Classify pending pods from their runtime metrics and patch their annotations",
		Args:  cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if cfg.Namespace == "" {
				cfg.Namespace = "default"
			}
			if err := cfg.source.Validate(); err != nil {
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
	f.BoolVar(&cfg.RequireModelDigest, "require-model-digest", cfg.RequireModelDigest, "Serve from --model-configmap only a model the trainer published (its SHA-256 matches the podclass.io/model-sha256 annotation) or the embedded default.")
	f.StringVar(&cfg.ModelFile, "model", cfg.ModelFile, "Model file used at start; the embedded default model when empty.")
	f.StringVar(&cfg.RulesFile, "rules", cfg.RulesFile, "Image rules file (YAML) whose sidecar container names are left out of each pod's samples; the built-in rules when empty.")
	f.StringVar(&cfg.Namespace, "namespace", cfg.Namespace, "The refiner's own namespace (model ConfigMap, leader election lease); default $POD_NAMESPACE.")
	f.BoolVar(&cfg.LeaderElect, "leader-elect", cfg.LeaderElect, "Elect a leader so that only one replica decides pods.")
	f.StringVar(&cfg.ProbeAddr, "health-probe-bind-address", cfg.ProbeAddr, "Address for /healthz and /readyz (0 disables).")
	f.StringVar(&cfg.MetricsAddr, "metrics-bind-address", cfg.MetricsAddr, "Address for Prometheus /metrics (0 disables).")
	f.Float32Var(&cfg.QPS, "kube-api-qps", cfg.QPS, "Sustained requests per second to the API server.")
	f.IntVar(&cfg.Burst, "kube-api-burst", cfg.Burst, "Burst of requests to the API server.")
	cfg.source.AddFlags(f)
	return cmd
}

func runRefiner(cmd *cobra.Command, cfg refinerConfig) error {
	ctx := cmd.Context()
	model, err := modelstore.Open(cfg.ModelFile)
	if err != nil {
		return err
	}
	rules := imagerules.Default()
	if cfg.RulesFile != "" {
		if rules, err = imagerules.LoadFile(cfg.RulesFile); err != nil {
			return err
		}
	}
	// A pod is classified from its main containers' own series: an
	// istio-proxy's CPU and memory are not the service's.
	cfg.source.Containers = rules.IsMainContainer
	src, closeSrc, err := cfg.source.Build()
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
