package testenv

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// Restarting kube-apiserver in place works because Start gives it a
// certificate directory the test owns (envtest deletes one it made itself on
// Stop) and because open watches end as soon as it is told to stop (the
// shutdown-watch-termination-grace-period flag Start sets): without that, its
// HTTP server waits out the 60 s request timeout for them, envtest's 20 s
// stop timeout passes and the process is killed.

// StopAPIServer stops kube-apiserver the way a rolling restart does (SIGTERM,
// graceful shutdown); etcd keeps running, so every object survives. Clients
// get "connection refused" until StartAPIServer.
func (e *Env) StopAPIServer(t testing.TB) {
	t.Helper()
	t0 := time.Now()
	if err := e.ControlPlane.APIServer.Stop(); err != nil {
		t.Fatalf("stopping kube-apiserver: %v", err)
	}
	t.Logf("kube-apiserver stopped in %s", time.Since(t0).Round(time.Millisecond))
}

// StartAPIServer starts kube-apiserver again after StopAPIServer, on the same
// address with the same serving certificate and client CA, so e.Config and
// every client built from it work unchanged. It returns once /readyz answers
// ok to e.Config's user: the apiserver's own informers (webhook
// configurations among them) have synced and admission works as before.
func (e *Env) StartAPIServer(t testing.TB) {
	t.Helper()
	t0 := time.Now()
	s := e.ControlPlane.APIServer
	if err := s.Start(); err != nil {
		t.Fatalf("starting kube-apiserver again: %v", err)
	}
	if got := s.SecureServing.URL("https", "/").String(); got != e.Config.Host {
		t.Fatalf("kube-apiserver came back at %s, want %s", got, e.Config.Host)
	}
	hc, err := rest.HTTPClientFor(e.Config)
	if err != nil {
		t.Fatalf("HTTP client for the apiserver: %v", err)
	}
	WaitFor(t, 30*time.Second, "kube-apiserver to be ready again", func() (bool, error) {
		return ready(hc, e.Host()+"/readyz")
	})
	t.Logf("kube-apiserver ready again in %s", time.Since(t0).Round(time.Millisecond))
}

// RestartAPIServer is StopAPIServer then StartAPIServer.
func (e *Env) RestartAPIServer(t testing.TB) {
	t.Helper()
	e.StopAPIServer(t)
	e.StartAPIServer(t)
}

func ready(hc *http.Client, url string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return true, nil
}
