package webhook_test

import (
	"context"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/internal/harness/testenv"
	"github.com/podclass/podclass/webhook"
)

// TestPodCreationFailsOpen shows the webhook can never block a pod: with it
// down, or answering slower than its 2 s timeout, the real apiserver still
// creates the pod (failurePolicy Ignore), unannotated — the refiner
// backfills such pods later (refiner e2e).
func TestPodCreationFailsOpen(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Webhooks: []*admissionregistrationv1.MutatingWebhookConfiguration{testenv.PodWebhook(releaseNamespace)}})
	env.Namespace(t, "shop", true)
	ctx := context.Background()
	create := func(name string) (*corev1.Pod, time.Duration) {
		p := pod("shop", name, nil, nil, ctr("db", "mysql:8"))
		start := time.Now()
		if err := env.Client.Create(ctx, p); err != nil {
			t.Fatalf("creating %s: %v", name, err)
		}
		return p, time.Since(start)
	}

	t.Run("a pod is created while the webhook is down", func(t *testing.T) {
		p, _ := create("while-down")
		if _, ok := p.Annotations[api.StatusAnnotation]; ok {
			t.Errorf("pod annotated with no webhook running: %v", p.Annotations)
		}
	})

	t.Run("a pod is created when the webhook answers after its timeout", func(t *testing.T) {
		o := env.WebhookInstallOptions
		srv := crwebhook.NewServer(crwebhook.Options{Host: o.LocalServingHost, Port: o.LocalServingPort, CertDir: o.LocalServingCertDir})
		srv.Register(webhook.Path, &crwebhook.Admission{Handler: admission.HandlerFunc(func(ctx context.Context, _ admission.Request) admission.Response {
			select {
			case <-time.After(5 * time.Second):
			case <-ctx.Done():
			}
			return admission.Allowed("too late")
		})})
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- srv.Start(sctx) }()
		defer func() { cancel(); <-done }()
		testenv.WaitFor(t, 10*time.Second, "the slow webhook to serve", func() (bool, error) {
			return srv.StartedChecker()(nil) == nil, nil
		})
		p, took := create("while-slow")
		if _, ok := p.Annotations[api.StatusAnnotation]; ok {
			t.Errorf("pod annotated by a webhook that timed out: %v", p.Annotations)
		}
		if took > 4*time.Second {
			t.Errorf("creation took %s; the webhook's 2 s timeout should bound it", took)
		}
		t.Logf("pod created in %s with the webhook hanging", took.Round(time.Millisecond))
	})
}
