package webhook

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Admission outcomes. controller-runtime already exports request latency
// (controller_runtime_webhook_latency_seconds) and HTTP answers
// (controller_runtime_webhook_requests_total) for Path; these count what we
// decided.
const (
	resultAnnotated = "annotated"
	resultOptedOut  = "opted_out"
	resultInvalid   = "invalid"
	// Refused unread by the memory budget (reviewBudget).
	resultTooLarge = "too_large"
	resultBusy     = "busy"
)

var admissions = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "podclass_webhook_admissions_total",
	Help: "Pod CREATE admissions by outcome and image class.",
}, []string{"result", "class"})

// servingCert exports when the serving certificate expires. NewServer points
// it at the file the server's certwatcher loads.
var servingCert = &certExpiry{desc: prometheus.NewDesc(
	"podclass_certificate_expiry_timestamp_seconds",
	"Expiry (NotAfter, Unix seconds) of the webhook's serving certificate, read from its file at each scrape; absent while the file holds no certificate.",
	nil, nil)}

// collectors are every metric the webhook package exports.
var collectors = []prometheus.Collector{admissions, servingCert}

func init() { metrics.Registry.MustRegister(collectors...) }

// Collectors returns the webhook's own metrics, which init registered on
// controller-runtime's metrics.Registry (the one Run serves), so that tests
// and tools can check dashboards and alert rules against what the webhook
// exports. They must not be registered again. The admission server adds
// controller-runtime's controller_runtime_webhook_* metrics to the same
// registry.
func Collectors() []prometheus.Collector { return append([]prometheus.Collector(nil), collectors...) }

func observe(result, class string) { admissions.WithLabelValues(result, class).Inc() }

// certExpiry is a collector reading a certificate file at every scrape: it
// follows renewals (self-managed or cert-manager) the moment certwatcher
// could, without a hook into either.
type certExpiry struct {
	desc *prometheus.Desc
	path atomic.Pointer[string]
}

// watch makes the collector read path from now on.
func (c *certExpiry) watch(path string) { c.path.Store(&path) }

func (c *certExpiry) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *certExpiry) Collect(ch chan<- prometheus.Metric) {
	p := c.path.Load()
	if p == nil {
		return
	}
	cert, err := readCertificate(*p)
	if err != nil {
		// No certificate yet (bootstrap) or a broken one: readiness reports
		// it; a scrape error would hide every other metric.
		log.V(1).Info("No serving certificate to export", "reason", err.Error())
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(cert.NotAfter.Unix()))
}

// readCertificate returns the first certificate of a PEM file: the leaf, as
// certwatcher (tls.X509KeyPair) serves it.
func readCertificate(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("%s: %w", path, errNoCertificate)
		}
		if block.Type == "CERTIFICATE" {
			return x509.ParseCertificate(block.Bytes)
		}
	}
}

var errNoCertificate = errors.New("no PEM certificate")

// certPath is the certificate file controller-runtime's webhook server
// loads for o, with its defaults for empty fields.
func certPath(o Options) string {
	dir, name := o.CertDir, o.CertName
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "k8s-webhook-server", "serving-certs")
	}
	if name == "" {
		name = "tls.crt"
	}
	return filepath.Join(dir, name)
}
