package tools

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// Versions hack/tools.sh builds.
const (
	EtcdVersion    = "v3.6.16"
	KubeVersion    = "v1.35.4"
	HelmVersion    = "v3.22.0"
	InfluxdVersion = "v1.8.10"
)

// Cache is hack/tools.sh's cache directory:
// ${PODCLASS_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/podclass}.
func Cache() string {
	if d := os.Getenv("PODCLASS_TOOLS_CACHE"); d != "" {
		return d
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "podclass")
}

// EnvtestAssets is the directory holding etcd and kube-apiserver
// ($KUBEBUILDER_ASSETS overrides).
func EnvtestAssets() string {
	if d := os.Getenv("KUBEBUILDER_ASSETS"); d != "" {
		return d
	}
	return filepath.Join(Cache(), "envtest", "etcd-"+EtcdVersion+"-kube-"+KubeVersion)
}

// Influxd is the influxd binary ($PODCLASS_INFLUXD overrides).
func Influxd() string {
	if p := os.Getenv("PODCLASS_INFLUXD"); p != "" {
		return p
	}
	return filepath.Join(Cache(), "influxd-"+InfluxdVersion, "influxd")
}

// Helm is the helm binary ($PODCLASS_HELM overrides).
func Helm() string {
	if p := os.Getenv("PODCLASS_HELM"); p != "" {
		return p
	}
	return filepath.Join(Cache(), "helm-"+HelmVersion, "helm")
}

// WaitHTTP polls url every interval until it answers status, the process
// whose exit closes exited stops (an error naming it), or timeout passes (an
// error with the last answer): how a harness knows a server it started is up.
func WaitHTTP(url string, status int, name string, exited <-chan struct{}, timeout, interval time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == status {
				return nil
			}
			err = fmt.Errorf("%s: %s", req.URL.Path, resp.Status)
		}
		last = err
		select {
		case <-exited:
			return fmt.Errorf("%s exited", name)
		case <-ctx.Done():
			return fmt.Errorf("no answer within %v: %w", timeout, last)
		case <-time.After(interval):
		}
	}
}
