package certs

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

func testOptions(t *testing.T) Options {
	o := DefaultOptions()
	o.Namespace, o.SecretName, o.WebhookConfigName = "podclass-system", "podclass-webhook-tls", "podclass"
	o.DNSNames = ServiceDNSNames("podclass-webhook", "podclass-system", "cluster.local")
	o.CertDir = t.TempDir()
	return o
}

func webhookConfig() *admissionregistrationv1.MutatingWebhookConfiguration {
	return &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "podclass"},
		Webhooks:   []admissionregistrationv1.MutatingWebhook{{Name: "pods.podclass.io"}, {Name: "other.podclass.io"}},
	}
}

// newReplica returns a Manager on c with its own cert dir and clock.
func newReplica(t *testing.T, c client.Client, clk *clocktesting.FakeClock) *Manager {
	t.Helper()
	o := testOptions(t)
	m, err := New(c, o)
	if err != nil {
		t.Fatal(err)
	}
	m.Clock = clk
	return m
}

func TestSyncCreatesInjectsAndWrites(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientBuilder().WithObjects(webhookConfig()).Build()
	clk := clocktesting.NewFakeClock(time.Now())
	a, b := newReplica(t, c, clk), newReplica(t, c, clk)

	if err := a.Checker()(nil); err == nil {
		t.Error("ready before any certificate was written")
	}
	for _, m := range []*Manager{a, b, a} {
		if err := m.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "podclass-system", Name: "podclass-webhook-tls"}, s); err != nil {
		t.Fatal(err)
	}
	whc := &admissionregistrationv1.MutatingWebhookConfiguration{}
	if err := c.Get(ctx, client.ObjectKey{Name: "podclass"}, whc); err != nil {
		t.Fatal(err)
	}
	for _, w := range whc.Webhooks {
		if !bytes.Equal(w.ClientConfig.CABundle, s.Data[CABundleKey]) {
			t.Errorf("webhook %s does not trust the Secret's bundle", w.Name)
		}
	}
	for i, m := range []*Manager{a, b} {
		onDisk, err := os.ReadFile(filepath.Join(m.opts.CertDir, m.opts.CertName))
		if err != nil || !bytes.Equal(onDisk, s.Data[CertKey]) {
			t.Errorf("replica %d does not serve the Secret's certificate (%v)", i, err)
		}
		if err := m.Checker()(nil); err != nil {
			t.Errorf("replica %d not ready: %v", i, err)
		}
	}

	// The second replica renews; the first adopts its certificate rather than issuing another.
	clk.Step(70 * 24 * time.Hour)
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	renewed := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(s), renewed); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(renewed.Data[CertKey], s.Data[CertKey]) {
		t.Fatal("the serving certificate was not renewed with a fifth of its life left")
	}
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	again := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(s), again); err != nil {
		t.Fatal(err)
	}
	if again.ResourceVersion != renewed.ResourceVersion {
		t.Error("the first replica renewed again instead of adopting the Secret")
	}
	if onDisk, _ := os.ReadFile(filepath.Join(a.opts.CertDir, a.opts.CertName)); !bytes.Equal(onDisk, renewed.Data[CertKey]) {
		t.Error("the first replica does not serve the renewed certificate")
	}

	clk.Step(100 * 24 * time.Hour)
	if err := a.Checker()(nil); err == nil {
		t.Error("ready with an expired certificate")
	}
}

func TestSyncFailsWithoutTheWebhookConfiguration(t *testing.T) {
	c := fake.NewClientBuilder().Build()
	m := newReplica(t, c, clocktesting.NewFakeClock(time.Now()))
	if err := m.Sync(context.Background()); err == nil {
		t.Fatal("Sync succeeded with no webhook configuration to trust the CA")
	}
	if _, err := os.Stat(filepath.Join(m.opts.CertDir, m.opts.CertName)); err == nil {
		t.Error("a certificate was written before its CA could be injected")
	}
	if err := m.Checker()(nil); err == nil {
		t.Error("ready without a certificate")
	}
}
