package app

import (
	"fmt"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/podclass/podclass/imagerules"
	"github.com/podclass/podclass/webhook"
)

type webhookConfig struct {
	webhook.Options
	RulesFile string
}

func newWebhookCommand() *cobra.Command {
	cfg := webhookConfig{Options: webhook.Options{
		Port: 9443, CertDir: "/tmp/k8s-webhook-server/serving-certs", CertName: "tls.crt", KeyName: "tls.key",
		ProbeAddr: ":8081", MetricsAddr: ":8080",
	}}
	cmd := &cobra.Command{
		Use:   "webhook",
		Short: "Serve the mutating admission webhook that annotates pods with their image class",
		Args:  cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if cfg.Port <= 0 || cfg.Port > 65535 {
				return fmt.Errorf("--port %d is not a TCP port", cfg.Port)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			setupLogging()
			rules := imagerules.Default()
			if cfg.RulesFile != "" {
				var err error
				if rules, err = imagerules.LoadFile(cfg.RulesFile); err != nil {
					return err
				}
			}
			return webhook.Run(cmd.Context(), cfg.Options, webhook.NewPodAnnotator(rules), nil)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Host, "host", cfg.Host, "Address to serve admissions on (empty: all).")
	f.IntVar(&cfg.Port, "port", cfg.Port, "TLS port to serve admissions on.")
	f.StringVar(&cfg.CertDir, "cert-dir", cfg.CertDir, "Directory holding the serving certificate and key; reloaded on change.")
	f.StringVar(&cfg.CertName, "cert-name", cfg.CertName, "Serving certificate file name in --cert-dir.")
	f.StringVar(&cfg.KeyName, "key-name", cfg.KeyName, "Serving key file name in --cert-dir.")
	f.StringVar(&cfg.ProbeAddr, "health-probe-bind-address", cfg.ProbeAddr, "Plain HTTP address for /healthz and /readyz (0 disables).")
	f.StringVar(&cfg.MetricsAddr, "metrics-bind-address", cfg.MetricsAddr, "Plain HTTP address for Prometheus /metrics (0 disables).")
	f.StringVar(&cfg.RulesFile, "rules", cfg.RulesFile, "Image rules file (YAML); the built-in rules when empty.")
	return cmd
}

// setupLogging routes controller-runtime's logger to klog, which honours -v.
func setupLogging() {
	ctrl.SetLogger(klogr())
}
