package certs_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/certs"
	"github.com/podclass/podclass/imagerules"
	"github.com/podclass/podclass/internal/harness/freeport"
	"github.com/podclass/podclass/internal/harness/testenv"
	"github.com/podclass/podclass/webhook"
)

const releaseNamespace = "podclass-system"

// replica is one webhook pod: its certificate manager and, for the first,
// the server the apiserver calls.
type replica struct {
	m       *certs.Manager
	certDir string
}

// TestSelfManagedRotationKeepsTheWebhookCallable installs the chart's
// self-managed objects, runs two webhook replicas with lifetimes of seconds
// under the webhook's own RBAC, and creates pods throughout several serving
// certificate renewals and a CA rotation: every pod must be annotated, with
// no restart.
func TestSelfManagedRotationKeepsTheWebhookCallable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env, secretName, whcName, port := installSelfManaged(t)
	asWebhook := impersonate(t, env, "system:serviceaccount:"+releaseNamespace+":podclass-webhook")

	opts := certs.Options{
		Namespace: releaseNamespace, SecretName: secretName, WebhookConfigName: whcName,
		DNSNames:    certs.ServiceDNSNames("podclass-webhook", releaseNamespace, "cluster.local"),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		CertName:    "tls.crt", KeyName: "tls.key",
		CALifetime: 8 * time.Second, CertLifetime: 4 * time.Second, CheckInterval: 250 * time.Millisecond,
	}
	var replicas []replica
	for i := range 2 {
		o := opts
		o.CertDir = filepath.Join(t.TempDir(), strconv.Itoa(i))
		m, err := certs.New(asWebhook, o)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Bootstrap(ctx); err != nil {
			t.Fatal(err)
		}
		go func() { _ = m.Start(ctx) }()
		replicas = append(replicas, replica{m: m, certDir: o.CertDir})
	}
	if err := replicas[0].m.Checker()(nil); err != nil {
		t.Fatalf("not ready after bootstrap: %v", err)
	}

	served := make(chan error, 1)
	go func() {
		served <- webhook.Run(ctx, webhook.Options{
			Host: "127.0.0.1", Port: port, CertDir: replicas[0].certDir, CertName: "tls.crt", KeyName: "tls.key",
			ProbeAddr: "0", MetricsAddr: "0",
		}, webhook.NewPodAnnotator(imagerules.Default()), replicas[0].m.Checker())
	}()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	testenv.WaitFor(t, 10*time.Second, "the webhook to serve TLS", func() (bool, error) {
		_, err := servedCert(ctx, env, whcName, addr)
		return err == nil, err
	})

	cas, serials := map[string]bool{}, map[string]bool{}
	deadline := time.Now().Add(30 * time.Second)
	pods := 0
	for (len(cas) < 2 || len(serials) < 4) && time.Now().Before(deadline) {
		select {
		case err := <-served:
			t.Fatalf("the webhook server stopped: %v", err)
		default:
		}
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", GenerateName: "db-"},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: "postgres:16"}}},
		}
		if err := env.Client.Create(ctx, p); err != nil {
			t.Fatalf("creating pod %d: %v", pods, err)
		}
		pods++
		if got := p.Annotations[api.ClassAnnotation]; got != "postgresql" {
			t.Fatalf("pod %d (after %d CAs, %d serving certificates) was not annotated: %v", pods, len(cas), len(serials), p.Annotations)
		}
		cert, err := servedCert(ctx, env, whcName, addr)
		if err != nil {
			t.Fatalf("after pod %d: %v", pods, err)
		}
		serials[cert.SerialNumber.String()] = true
		cas[string(cert.AuthorityKeyId)] = true
		time.Sleep(50 * time.Millisecond)
	}
	if len(cas) < 2 || len(serials) < 4 {
		t.Fatalf("saw %d CAs and %d serving certificates in 30s, want a CA rotation and 3 renewals", len(cas), len(serials))
	}
	t.Logf("%d pods annotated across %d CAs and %d serving certificates", pods, len(cas), len(serials))
	if err := replicas[0].m.Checker()(nil); err != nil {
		t.Errorf("not ready after rotations: %v", err)
	}

	// The other replica serves what the Secret holds too.
	testenv.WaitFor(t, 5*time.Second, "the second replica to write the Secret's certificate", func() (bool, error) {
		s := &corev1.Secret{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: releaseNamespace, Name: secretName}, s); err != nil {
			return false, err
		}
		onDisk, err := os.ReadFile(filepath.Join(replicas[1].certDir, "tls.crt"))
		return string(onDisk) == string(s.Data[certs.CertKey]), err
	})
	// Stop serving before the control plane stops.
	cancel()
	if err := <-served; err != nil {
		t.Errorf("webhook server: %v", err)
	}
}

// installSelfManaged renders the chart with its default (self-managed)
// certificates, creates every object, and points the chart's webhook
// configuration at a local port with an empty caBundle for the replicas to fill.
func installSelfManaged(t *testing.T) (env *testenv.Env, secret, whcName string, port int) {
	t.Helper()
	objs := testenv.RenderChart(t, releaseNamespace)
	env = testenv.Start(t, testenv.Options{})
	env.Namespace(t, releaseNamespace, false)
	env.Namespace(t, "shop", true)
	port, err := freeport.Loopback()
	if err != nil {
		t.Fatal(err)
	}
	whc := testenv.ChartWebhook(t, objs, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), nil)
	var rest []*unstructured.Unstructured
	for _, o := range objs {
		switch o.GetKind() {
		case "MutatingWebhookConfiguration":
		case "Secret":
			secret = o.GetName()
			rest = append(rest, o)
		default:
			rest = append(rest, o)
		}
	}
	if err := env.CreateAll(context.Background(), releaseNamespace, rest); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(context.Background(), whc); err != nil {
		t.Fatal(err)
	}
	if secret == "" {
		t.Fatal("the chart renders no Secret for self-managed certificates")
	}
	return env, secret, whc.Name, port
}

// servedCert dials the webhook trusting exactly the caBundle the apiserver
// has now, as the apiserver would, and returns the certificate served.
func servedCert(ctx context.Context, env *testenv.Env, whcName, addr string) (*x509.Certificate, error) {
	whc := &admissionregistrationv1.MutatingWebhookConfiguration{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: whcName}, whc); err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(whc.Webhooks[0].ClientConfig.CABundle) {
		return nil, errors.New("the webhook configuration has no caBundle yet")
	}
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	if err != nil {
		return nil, fmt.Errorf("dialling the webhook with the injected caBundle: %w", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0], nil
}

func impersonate(t *testing.T, env *testenv.Env, user string) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:serviceaccounts", "system:authenticated"}}
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
