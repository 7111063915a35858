package testenv

import (
	"context"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/podclass/podclass/internal/harness/localcluster"
	"github.com/podclass/podclass/internal/harness/tools"
)

// AssetsDir is where hack/tools.sh puts etcd and kube-apiserver.
func AssetsDir() string { return tools.EnvtestAssets() }

// Env is a running control plane.
type Env struct {
	*envtest.Environment
	Config *rest.Config
	Client client.Client

	cluster *localcluster.Cluster
}

// Options change what Start installs.
type Options struct {
	// Webhooks are installed with their clientConfig rewritten to the local
	// serving host and port; serve them with Env.WebhookInstallOptions'
	// LocalServingHost, LocalServingPort and LocalServingCertDir.
	Webhooks []*admissionregistrationv1.MutatingWebhookConfiguration
	// CRDDirectoryPaths are extra CRDs to install (e.g. cert-manager's).
	CRDDirectoryPaths []string
	// APIServerFlags are extra kube-apiserver flags.
	APIServerFlags map[string]string
}

// Start starts etcd and kube-apiserver (localcluster.Start) and stops them
// when the test ends.
func Start(t testing.TB, o Options) *Env {
	t.Helper()
	if testing.Short() {
		// `go test -short` is the Makefile's unit-only run; the full run (CI)
		// never skips, and fails below when a binary is missing.
		t.Skip("end-to-end: needs etcd and kube-apiserver; skipped with -short")
	}
	c, err := localcluster.Start(localcluster.Options{
		// The apiserver's certificates live in a directory the test owns, not
		// one envtest deletes on Stop, so StartAPIServer serves the same ones
		// again after StopAPIServer.
		APIServerCertDir:  t.TempDir(),
		Webhooks:          o.Webhooks,
		CRDDirectoryPaths: o.CRDDirectoryPaths,
		APIServerFlags:    o.APIServerFlags,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Logf("stopping envtest: %v", err)
		}
	})
	return &Env{Environment: c.Env, Config: c.Config, Client: c.Client, cluster: c}
}

// PodWebhook returns podclass's webhook configuration pointing at the
// Service the chart creates; envtest rewrites that to the test's local
// server (localcluster.PodWebhook).
func PodWebhook(releaseNamespace string) *admissionregistrationv1.MutatingWebhookConfiguration {
	return localcluster.PodWebhook(releaseNamespace)
}

// Namespace creates a namespace, opted in to podclass when optIn is set.
func (e *Env) Namespace(t testing.TB, name string, optIn bool) {
	t.Helper()
	if err := e.cluster.Namespace(context.Background(), name, optIn); err != nil {
		t.Fatal(err)
	}
}

// Host is the apiserver's base URL without the trailing slash envtest adds.
func (e *Env) Host() string { return strings.TrimSuffix(e.Config.Host, "/") }

// WaitFor polls cond every 20 ms until it is true or timeout passes.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok {
			return
		}
		lastErr = err
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s (last error: %v)", timeout, what, lastErr)
}
