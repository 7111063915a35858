package app

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podclass/podclass/certs"
	"github.com/podclass/podclass/cmd/internal/options"
	"github.com/podclass/podclass/imagerules"
	"github.com/podclass/podclass/webhook"
)

// Certificate modes of the webhook command.
const (
	certModeFile        = "file"         // someone else (cert-manager, a mounted Secret) writes --cert-dir
	certModeSelfManaged = "self-managed" // the webhook keeps its own CA and certificate (package certs)
)

type webhookConfig struct {
	webhook.Options
	RulesFile string

	CertMode      string
	Certs         certs.Options
	ServiceName   string
	ClusterDomain string
	ExtraDNSNames []string
	ExtraIPs      []net.IP
}

func newWebhookCommand() *cobra.Command {
	cfg := webhookConfig{
		Options: webhook.Options{
			Port: 9443, CertDir: "/tmp/k8s-webhook-server/serving-certs", CertName: "tls.crt", KeyName: "tls.key",
			ProbeAddr: ":8081", MetricsAddr: ":8080",
		},
		CertMode: certModeFile, Certs: certs.DefaultOptions(),
		ServiceName: "podclass-webhook", ClusterDomain: "cluster.local",
	}
	cfg.Certs.Namespace = os.Getenv("POD_NAMESPACE")
	cfg.Certs.SecretName = "podclass-webhook-tls"
	cfg.Certs.WebhookConfigName = "podclass"
	cmd := &cobra.Command{
		Use:   "webhook",
		Short: "Serve the mutating admission webhook that annotates pods with their image class",
		Args:  cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if cfg.Port <= 0 || cfg.Port > 65535 {
				return fmt.Errorf("--port %d is not a TCP port", cfg.Port)
			}
			switch cfg.CertMode {
			case certModeFile:
				return nil
			case certModeSelfManaged:
				return cfg.completeCerts().Validate()
			}
			return fmt.Errorf("--cert-mode %q: want %s or %s", cfg.CertMode, certModeFile, certModeSelfManaged)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			setupLogging()
			webhook.TuneGC()
			rules := imagerules.Default()
			if cfg.RulesFile != "" {
				var err error
				if rules, err = imagerules.LoadFile(cfg.RulesFile); err != nil {
					return err
				}
			}
			annotator := webhook.NewPodAnnotator(rules)
			if cfg.CertMode == certModeFile {
				// Ready only while the mounted pair is valid: a Secret that
				// cert-manager failed to renew takes the replica out of the Service.
				ready := certs.FileChecker(filepath.Join(cfg.CertDir, cfg.CertName), filepath.Join(cfg.CertDir, cfg.KeyName), nil)
				return webhook.Run(cmd.Context(), cfg.Options, annotator, ready)
			}
			return runSelfManaged(cmd.Context(), cfg, annotator)
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

	f.StringVar(&cfg.CertMode, "cert-mode", cfg.CertMode, "Who provides --cert-dir: 'file' (cert-manager or a mounted Secret) or 'self-managed' (this process keeps a CA and certificate in --cert-secret and injects the CA into --webhook-config-name).")
	f.StringVar(&cfg.Certs.SecretName, "cert-secret", cfg.Certs.SecretName, "Self-managed: Secret in --namespace holding the CA and serving certificate; shared by all replicas.")
	f.StringVar(&cfg.Certs.Namespace, "namespace", cfg.Certs.Namespace, "Self-managed: namespace of --cert-secret and of the webhook Service (default $POD_NAMESPACE).")
	f.StringVar(&cfg.Certs.WebhookConfigName, "webhook-config-name", cfg.Certs.WebhookConfigName, "Self-managed: MutatingWebhookConfiguration whose caBundle is kept.")
	f.StringVar(&cfg.ServiceName, "service-name", cfg.ServiceName, "Self-managed: webhook Service the certificate is for.")
	f.StringVar(&cfg.ClusterDomain, "cluster-domain", cfg.ClusterDomain, "Self-managed: cluster DNS domain added to the certificate's names (empty: none).")
	f.StringSliceVar(&cfg.ExtraDNSNames, "cert-extra-dns-names", nil, "Self-managed: more DNS names for the certificate.")
	f.IPSliceVar(&cfg.ExtraIPs, "cert-extra-ips", nil, "Self-managed: IP addresses for the certificate (e.g. for a URL clientConfig).")
	f.DurationVar(&cfg.Certs.CALifetime, "ca-lifetime", cfg.Certs.CALifetime, "Self-managed: lifetime of a new CA; renewed with a third left, the old CA stays trusted until it expires.")
	f.DurationVar(&cfg.Certs.CertLifetime, "cert-lifetime", cfg.Certs.CertLifetime, "Self-managed: lifetime of a serving certificate; renewed with a third left.")
	f.DurationVar(&cfg.Certs.CheckInterval, "cert-check-interval", cfg.Certs.CheckInterval, "Self-managed: how often the Secret and caBundle are checked.")
	return cmd
}

// completeCerts fills the certs options that follow from other flags.
func (c *webhookConfig) completeCerts() certs.Options {
	c.Certs.CertDir, c.Certs.CertName, c.Certs.KeyName = c.CertDir, c.CertName, c.KeyName
	c.Certs.DNSNames = append(certs.ServiceDNSNames(c.ServiceName, c.Certs.Namespace, c.ClusterDomain), c.ExtraDNSNames...)
	c.Certs.IPAddresses = c.ExtraIPs
	return c.Certs
}

// runSelfManaged writes a valid certificate before the server starts (it
// reads the files at start), keeps it renewed while serving, and holds
// /readyz until the certificate is valid and trusted.
func runSelfManaged(ctx context.Context, cfg webhookConfig, h *webhook.PodAnnotator) error {
	restCfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig for self-managed certificates: %w", err)
	}
	c, err := client.New(restCfg, client.Options{})
	if err != nil {
		return fmt.Errorf("kube client for self-managed certificates: %w", err)
	}
	m, err := certs.New(c, cfg.completeCerts())
	if err != nil {
		return err
	}
	return webhook.RunWithCerts(ctx, cfg.Options, h, m)
}

// setupLogging routes controller-runtime's logger to klog, which honours -v.
func setupLogging() {
	ctrl.SetLogger(options.Logger())
}
