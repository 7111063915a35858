package localcluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/imagerules"
	"github.com/podclass/podclass/internal/harness/influxd"
	"github.com/podclass/podclass/internal/harness/tools"
	"github.com/podclass/podclass/webhook"
)

// Options say what Start brings up.
type Options struct {
	// AssetsDir holds etcd and kube-apiserver; empty means tools.EnvtestAssets.
	AssetsDir string
	// APIServerCertDir keeps kube-apiserver's certificates where the caller
	// owns them (envtest deletes a directory it made itself on Stop), so the
	// apiserver can be restarted in place; empty lets envtest choose.
	APIServerCertDir string
	// Webhooks are installed with their clientConfig rewritten to the local
	// serving host and port, which ServeWebhook serves.
	Webhooks []*admissionregistrationv1.MutatingWebhookConfiguration
	// CRDDirectoryPaths are extra CRDs to install (e.g. cert-manager's).
	CRDDirectoryPaths []string
	// APIServerFlags are extra kube-apiserver flags.
	APIServerFlags map[string]string
	// Influxd, when set, is the influxd binary to start InfluxDB with.
	Influxd string
	// Cluster, when set, also starts kube-controller-manager,
	// kube-scheduler and kwok with simulated nodes (see ClusterOptions).
	Cluster *ClusterOptions
}

// StartTimeout and StopTimeout bound how long etcd and kube-apiserver may
// take to start (answer their health check) and to stop, for every control
// plane Start brings up and for testenv's apiserver restarts. envtest's 20 s
// default failed on a busy 2-core CI machine (kube-apiserver's first start
// runs its post-start hooks and bootstrap RBAC while tests compile and an
// InfluxDB runs next to it); a timeout that long only delays a real failure.
// KUBEBUILDER_CONTROLPLANE_START_TIMEOUT and …_STOP_TIMEOUT still override them.
const (
	StartTimeout = 3 * time.Minute
	StopTimeout  = time.Minute
)

// Cluster is what Start brought up.
type Cluster struct {
	Env    *envtest.Environment
	Config *rest.Config
	Client client.Client
	// Influx is the InfluxDB, nil unless Options.Influxd was set.
	Influx *influxd.Server
	// Kubeconfig is a kubeconfig file for a cluster admin (system:masters),
	// for helm and kubectl; set when Options.Cluster was.
	Kubeconfig string
	// Nodes are the simulated nodes' names, when Options.Cluster was set.
	Nodes []string

	stops      []func() error
	components []*component
}

// PodWebhook returns podclass's webhook configuration (webhook.Configuration)
// pointing at the Service the chart creates; envtest rewrites that to the
// local server ServeWebhook runs.
func PodWebhook(releaseNamespace string) *admissionregistrationv1.MutatingWebhookConfiguration {
	path := webhook.Path
	return webhook.Configuration("podclass", releaseNamespace, admissionregistrationv1.WebhookClientConfig{
		Service: &admissionregistrationv1.ServiceReference{Namespace: releaseNamespace, Name: "podclass-webhook", Path: &path},
	})
}

// Start starts etcd and kube-apiserver, the rest of a cluster when
// o.Cluster is set, and InfluxDB when asked. A missing binary is an error
// naming the command that builds it, before anything starts.
func Start(o Options) (*Cluster, error) {
	dir := o.AssetsDir
	if dir == "" {
		dir = tools.EnvtestAssets()
	}
	target := "envtest"
	if o.Cluster != nil {
		target = "cluster"
	}
	for _, bin := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			return nil, fmt.Errorf("envtest binary %s missing in %s: run `hack/tools.sh %s` (or `make tools`)", bin, dir, target)
		}
	}
	if o.Cluster != nil {
		if _, _, _, err := clusterBinaries(o.Cluster); err != nil {
			return nil, err
		}
	}
	env := environment(o, dir)
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting the control plane: %w", err)
	}
	c := &Cluster{Env: env, Config: cfg}
	c.stops = append(c.stops, env.Stop)
	if c.Client, err = client.New(cfg, client.Options{}); err != nil {
		return nil, errors.Join(err, c.Stop())
	}
	if o.Cluster != nil {
		work, err := os.MkdirTemp("", "podclass-cluster-")
		if err != nil {
			return nil, errors.Join(err, c.Stop())
		}
		c.stops = append(c.stops, func() error { return os.RemoveAll(work) })
		if c.Kubeconfig, err = c.writeKubeconfig(filepath.Join(work, "admin.kubeconfig"), envtest.User{Name: "podclass-admin", Groups: []string{"system:masters"}}); err != nil {
			return nil, errors.Join(err, c.Stop())
		}
		if err := c.startCluster(context.Background(), o.Cluster, work); err != nil {
			return nil, errors.Join(fmt.Errorf("starting the cluster: %w", err), c.Stop())
		}
	}
	if o.Influxd != "" {
		dir, err := os.MkdirTemp("", "podclass-influxd-")
		if err != nil {
			return nil, errors.Join(err, c.Stop())
		}
		c.stops = append(c.stops, func() error { return os.RemoveAll(dir) })
		if c.Influx, err = influxd.Start(o.Influxd, dir); err != nil {
			return nil, errors.Join(err, c.Stop())
		}
		c.stops = append(c.stops, c.Influx.Stop)
	}
	return c, nil
}

// environment is the envtest environment Start starts.
func environment(o Options, dir string) *envtest.Environment {
	env := &envtest.Environment{
		BinaryAssetsDirectory: dir,
		ErrorIfCRDPathMissing: true,
		CRDDirectoryPaths:     o.CRDDirectoryPaths,
		WebhookInstallOptions: envtest.WebhookInstallOptions{MutatingWebhooks: o.Webhooks},
		// Left zero when the variable is set: envtest then reads it.
		ControlPlaneStartTimeout: timeout("KUBEBUILDER_CONTROLPLANE_START_TIMEOUT", StartTimeout),
		ControlPlaneStopTimeout:  timeout("KUBEBUILDER_CONTROLPLANE_STOP_TIMEOUT", StopTimeout),
	}
	if o.APIServerCertDir != "" {
		env.ControlPlane = envtest.ControlPlane{APIServer: &envtest.APIServer{CertDir: o.APIServerCertDir}}
	}
	args := env.ControlPlane.GetAPIServer().Configure()
	// On SIGTERM, end open watches at once and wait at most 2 s for them to
	// drain, so the apiserver stops in about a second even while informers
	// watch it (see testenv's RestartAPIServer).
	args.Set("shutdown-watch-termination-grace-period", "2s")
	for k, v := range o.APIServerFlags {
		args.Set(k, v)
	}
	return env
}

// timeout is def unless the environment variable is set (to anything:
// envtest parses it and reports a bad value).
func timeout(variable string, def time.Duration) time.Duration {
	if os.Getenv(variable) != "" {
		return 0
	}
	return def
}

// Stop stops what Start started, last first.
func (c *Cluster) Stop() error {
	var errs []error
	for i := len(c.stops) - 1; i >= 0; i-- {
		errs = append(errs, c.stops[i]())
	}
	c.stops = nil
	return errors.Join(errs...)
}

// Namespace creates a namespace, opted in to podclass when optIn is set.
func (c *Cluster) Namespace(ctx context.Context, name string, optIn bool) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if optIn {
		ns.Labels = map[string]string{api.EnabledLabel: "true"}
	}
	if err := c.Client.Create(ctx, ns); err != nil {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	return nil
}

// ServeWebhook serves podclass's webhook (built-in rules) where the
// installed webhook configurations point and returns once it answers TLS.
// stop drains in-flight admissions and returns the server's error; it is
// the caller's to call (Stop does not).
func (c *Cluster) ServeWebhook() (stop func() error, err error) {
	o := c.Env.WebhookInstallOptions
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- webhook.Run(ctx, webhook.Options{
			Host: o.LocalServingHost, Port: o.LocalServingPort, CertDir: o.LocalServingCertDir,
			CertName: "tls.crt", KeyName: "tls.key", ProbeAddr: "0", MetricsAddr: "0",
		}, webhook.NewPodAnnotator(imagerules.Default()), nil)
	}()
	addr := net.JoinHostPort(o.LocalServingHost, strconv.Itoa(o.LocalServingPort))
	if err := WaitTLS(context.Background(), addr, done, 10*time.Second); err != nil {
		cancel()
		if !errors.Is(err, ErrServerStopped) {
			<-done
		}
		return nil, err
	}
	return func() error { cancel(); return <-done }, nil
}

// RedirectWebhook points every webhook of the named
// MutatingWebhookConfiguration — one `helm install` created, calling the
// chart's in-cluster Service — at the server ServeWebhook runs, with its CA:
// the cluster's pods are simulated, so the apiserver calls the webhook
// process on this machine instead, over TLS, at the Service's path.
func (c *Cluster) RedirectWebhook(ctx context.Context, name string) error {
	o := c.Env.WebhookInstallOptions
	whc := &admissionregistrationv1.MutatingWebhookConfiguration{}
	if err := c.Client.Get(ctx, client.ObjectKey{Name: name}, whc); err != nil {
		return fmt.Errorf("reading webhook configuration %s: %w", name, err)
	}
	for i := range whc.Webhooks {
		cc := &whc.Webhooks[i].ClientConfig
		path := webhook.Path
		if cc.Service != nil && cc.Service.Path != nil {
			path = *cc.Service.Path
		}
		url := "https://" + net.JoinHostPort(o.LocalServingHost, strconv.Itoa(o.LocalServingPort)) + path
		cc.Service, cc.URL, cc.CABundle = nil, &url, o.LocalServingCAData
	}
	if err := c.Client.Update(ctx, whc); err != nil {
		return fmt.Errorf("redirecting webhook configuration %s: %w", name, err)
	}
	return nil
}

// ErrServerStopped is WaitTLS's error when the server stopped before serving.
var ErrServerStopped = errors.New("the server stopped")

// WaitTLS waits up to timeout until addr completes a TLS handshake, or the
// server whose Run result arrives on done stops first (its certificate
// bootstrap failed, say).
func WaitTLS(ctx context.Context, addr string, done <-chan error, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		// A full handshake, so the server logs no half-open connection.
		if conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true}); err == nil {
			return conn.Close()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-done:
			return fmt.Errorf("%w before serving: %w", ErrServerStopped, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("the server at %s did not come up within %s", addr, timeout)
}
