package webhook

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/podclass/podclass/internal/harness/freeport"
	"github.com/podclass/podclass/internal/harness/testcerts"
)

func freePort(t *testing.T) int {
	t.Helper()
	port, err := freeport.Loopback()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func probe(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestProbesAnswerWhileBootstrapping: while the certificate bootstrap is
// still running (self-managed certificates wait for the API server), the
// process is alive (/healthz 200) but not ready (/readyz fails) and the
// admission port is closed; once the bootstrap has written the certificate
// the server starts and /readyz passes.
func TestProbesAnswerWhileBootstrapping(t *testing.T) {
	dir := t.TempDir()
	probeAddr, port := "127.0.0.1:"+strconv.Itoa(freePort(t)), freePort(t)
	release := make(chan struct{})
	bootstrap := func(ctx context.Context) error {
		select {
		case <-release:
		case <-ctx.Done():
			return ctx.Err()
		}
		_, err := testcerts.Write(dir, "127.0.0.1")
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Host: "127.0.0.1", Port: port, CertDir: dir, CertName: "tls.crt", KeyName: "tls.key",
			ProbeAddr: probeAddr, MetricsAddr: "0", Bootstrap: bootstrap}, admission.HandlerFunc(func(context.Context, admission.Request) admission.Response {
			return admission.Allowed("")
		}), nil)
	}()
	base := "http://" + probeAddr
	waitUntil(t, "/healthz to answer during the bootstrap", func() bool { return probe(base+"/healthz") == http.StatusOK })
	if code := probe(base + "/readyz"); code == http.StatusOK {
		t.Fatal("/readyz passed before the certificate existed")
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second); err == nil {
		c.Close()
		t.Fatal("the admission port accepted connections before the bootstrap finished")
	}
	close(release)
	waitUntil(t, "/readyz to pass after the bootstrap", func() bool { return probe(base+"/readyz") == http.StatusOK })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// TestAFailedBootstrapEndsRun: an error from the bootstrap ends Run with it
// (the process exits and is restarted) rather than serving without a
// certificate.
func TestAFailedBootstrapEndsRun(t *testing.T) {
	port := freePort(t)
	boom := errors.New("no certificate: forbidden")
	err := Run(context.Background(), Options{Host: "127.0.0.1", Port: port, CertDir: t.TempDir(), CertName: "tls.crt", KeyName: "tls.key",
		ProbeAddr: "0", MetricsAddr: "0", Bootstrap: func(context.Context) error { return boom }}, admission.HandlerFunc(func(context.Context, admission.Request) admission.Response {
		return admission.Allowed("")
	}), nil)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("Run returned %v, want the bootstrap's error", err)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
