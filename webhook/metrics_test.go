package webhook

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/podclass/podclass/imagerules"
)

const expiryMetric = "podclass_certificate_expiry_timestamp_seconds"

// writeCert writes a self-signed leaf expiring at notAfter, followed by a
// second certificate (as in a chain file) expiring later, to path.
func writeCert(t *testing.T, path string, notAfter time.Time) {
	t.Helper()
	var out bytes.Buffer
	for i, until := range []time.Time{notAfter, notAfter.Add(365 * 24 * time.Hour)} {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), Subject: pkix.Name{CommonName: "podclass-test"},
			NotBefore: notAfter.Add(-time.Hour), NotAfter: until}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		_ = pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestServingCertificateExpiryIsExported: the server's certificate file is
// read at each scrape of the registry /metrics serves, so a renewal shows at
// once, and a file without a certificate removes the metric rather than
// failing the scrape.
func TestServingCertificateExpiryIsExported(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "serving.crt")
	first := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	writeCert(t, path, first)
	NewServer(Options{CertDir: dir, CertName: "serving.crt", KeyName: "serving.key"}, NewPodAnnotator(imagerules.Default()))

	if v, n := gathered(t, expiryMetric, nil); n != 1 || v != float64(first.Unix()) {
		t.Errorf("the first certificate: %d series, value %v; want 1 series, %d", n, v, first.Unix())
	}
	renewed := first.Add(90 * 24 * time.Hour)
	writeCert(t, path, renewed)
	if v, n := gathered(t, expiryMetric, nil); n != 1 || v != float64(renewed.Unix()) {
		t.Errorf("after renewal: %d series, value %v; want 1 series, %d", n, v, renewed.Unix())
	}
	if err := os.WriteFile(path, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, n := gathered(t, expiryMetric, nil); n != 0 {
		t.Errorf("a file without a certificate: %d series, want none", n)
	}
}

// TestAdmissionLatencyIsExported: the admission server NewServer returns
// records each admission's latency and HTTP answer for Path on the registry
// /metrics serves; the dashboard and the alerts read them.
func TestAdmissionLatencyIsExported(t *testing.T) {
	srv := NewServer(Options{CertDir: t.TempDir()}, NewPodAnnotator(imagerules.Default()))
	latency := map[string]string{"webhook": Path}
	ok := map[string]string{"webhook": Path, "code": "200"}
	latencyBefore, _ := gathered(t, "controller_runtime_webhook_latency_seconds", latency)
	okBefore, _ := gathered(t, "controller_runtime_webhook_requests_total", ok)

	body := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","kind":{"version":"v1","kind":"Pod"},"resource":{"version":"v1","resource":"pods"},"operation":"CREATE","namespace":"shop","object":{"metadata":{"name":"db","namespace":"shop"},"spec":{"containers":[{"name":"db","image":"mysql:8"}]}}}}`
	req := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	srv.WebhookMux().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("admission answered %d: %s", rec.Code, rec.Body)
	}
	if v, _ := gathered(t, "controller_runtime_webhook_latency_seconds", latency); v-latencyBefore != 1 {
		t.Errorf("controller_runtime_webhook_latency_seconds%v counted %v admissions, want 1", latency, v-latencyBefore)
	}
	if v, _ := gathered(t, "controller_runtime_webhook_requests_total", ok); v-okBefore != 1 {
		t.Errorf("controller_runtime_webhook_requests_total%v rose by %v, want 1", ok, v-okBefore)
	}
}

// gathered reads name from metrics.Registry, as /metrics serves it: the
// value of its series with exactly labels (a histogram's sample count), and
// how many series the family has.
func gathered(t *testing.T, name string, labels map[string]string) (value float64, series int) {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		series = len(f.GetMetric())
	metric:
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; !ok || v != l.GetValue() {
					continue metric
				}
			}
			switch {
			case m.GetHistogram() != nil:
				value = float64(m.GetHistogram().GetSampleCount())
			case m.GetCounter() != nil:
				value = m.GetCounter().GetValue()
			default:
				value = m.GetGauge().GetValue()
			}
		}
	}
	return value, series
}
