package tools

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Versions hack/tools.sh builds.
const (
	EtcdVersion       = "v3.6.16"
	KubeVersion       = "v1.35.4"
	HelmVersion       = "v3.22.0"
	InfluxdVersion    = "v1.8.10"
	KwokVersion       = "v0.8.0"
	VMVersion         = "v1.151.0"
	KyvernoVersion    = "v1.19.1"
	GatekeeperVersion = "v3.23.1"
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

// KubeBinDir is the directory holding kube-controller-manager and
// kube-scheduler ($PODCLASS_KUBE_BIN overrides).
func KubeBinDir() string {
	return fromEnv("PODCLASS_KUBE_BIN", "kube-"+KubeVersion)
}

// Kwok is the kwok binary, simulated nodes and pod lifecycle ($PODCLASS_KWOK overrides).
func Kwok() string { return fromEnv("PODCLASS_KWOK", "kwok-"+KwokVersion, "kwok") }

// VictoriaMetrics is the single-node victoria-metrics binary
// ($PODCLASS_VICTORIA_METRICS overrides).
func VictoriaMetrics() string {
	return fromEnv("PODCLASS_VICTORIA_METRICS", "victoria-metrics-"+VMVersion, "victoria-metrics")
}

// Kyverno is Kyverno's CLI ($PODCLASS_KYVERNO overrides).
func Kyverno() string { return fromEnv("PODCLASS_KYVERNO", "kyverno-"+KyvernoVersion, "kyverno") }

// Gator is Gatekeeper's offline CLI ($PODCLASS_GATOR overrides).
func Gator() string { return fromEnv("PODCLASS_GATOR", "gator-"+GatekeeperVersion, "gator") }

// fromEnv is $variable, or the path under Cache that hack/tools.sh builds.
func fromEnv(variable string, elem ...string) string {
	if p := os.Getenv(variable); p != "" {
		return p
	}
	return filepath.Join(append([]string{Cache()}, elem...)...)
}

// Missing is an error naming the hack/tools.sh target that builds bin, or
// nil when bin exists.
func Missing(bin, target string) error {
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%s missing: run `hack/tools.sh %s` (or `make tools`)", bin, target)
	}
	return nil
}

// Tail is the last n bytes of the file at path (a log a harness keeps), or
// the error reading it: what a failure message shows of a server that did
// not come up.
func Tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err.Error()
	}
	off := max(st.Size()-n, 0)
	b := make([]byte, st.Size()-off)
	read, _ := f.ReadAt(b, off)
	return string(b[:read])
}

// Terminate stops a process a harness started: SIGTERM, up to grace for it
// to exit (exited closes when it has been waited for), then SIGKILL and up to
// 10 s more. A process that already exited is left alone.
func Terminate(p *os.Process, exited <-chan struct{}, grace time.Duration) error {
	select {
	case <-exited:
		return nil
	default:
	}
	_ = p.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		return nil
	case <-time.After(grace):
	}
	_ = p.Kill()
	select {
	case <-exited:
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("the process did not exit after SIGKILL")
	}
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
