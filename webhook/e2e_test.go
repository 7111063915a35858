package webhook_test

import (
	"context"
	"fmt"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/internal/harness/testenv"
)

const releaseNamespace = "podclass-system"

func pod(ns, name string, labels, annotations map[string]string, containers ...corev1.Container) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels, Annotations: annotations},
		Spec:       corev1.PodSpec{Containers: containers},
	}
	if name == "" {
		p.GenerateName = "gen-"
	}
	return p
}

func ctr(name, image string) corev1.Container { return corev1.Container{Name: name, Image: image} }

func TestWebhookThroughRealAPIServer(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Webhooks: []*admissionregistrationv1.MutatingWebhookConfiguration{testenv.PodWebhook(releaseNamespace)}})
	env.ServeWebhook(t)
	ctx := context.Background()
	env.Namespace(t, "shop", true)
	env.Namespace(t, "legacy", false)
	env.Namespace(t, releaseNamespace, true)
	// kube-system exists already; opting it in must not matter.
	ks := &corev1.Namespace{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "kube-system"}, ks); err != nil {
		t.Fatal(err)
	}
	ks.Labels[api.EnabledLabel] = "true"
	if err := env.Client.Update(ctx, ks); err != nil {
		t.Fatal(err)
	}

	tests := map[string]struct {
		pod    *corev1.Pod
		dryRun bool
		want   map[string]string // nil: no podclass annotation at all
	}{
		"a pod in an opted-in namespace is annotated": {
			pod:  pod("shop", "db", nil, nil, ctr("mysql", "bitnami/mysql:8")),
			want: map[string]string{api.ClassAnnotation: "mysql", api.StatusAnnotation: "pending", api.SourceAnnotation: "image", api.FamilyAnnotation: "database"},
		},
		"an image no rule knows is guessed from its declared port": {
			pod: pod("shop", "ledger", nil, nil, corev1.Container{Name: "ledger", Image: "ghcr.io/acme/ledger-db:2",
				Ports: []corev1.ContainerPort{{ContainerPort: 5432}}}),
			want: map[string]string{api.ClassAnnotation: "postgresql", api.StatusAnnotation: "pending", api.SourceAnnotation: "ports",
				api.ConfidenceAnnotation: "0.60", api.ImageClassAnnotation: "unknown"},
		},
		"a pod in a namespace that did not opt in is untouched": {
			pod: pod("legacy", "db", nil, nil, ctr("mysql", "mysql:8")),
		},
		"an opted-out pod is untouched": {
			pod: pod("shop", "optout", map[string]string{api.EnabledLabel: "false"}, nil, ctr("redis", "redis:7")),
		},
		"a forged class is overwritten": {
			pod: pod("shop", "forged", nil, map[string]string{api.ClassAnnotation: "postgresql", api.StatusAnnotation: "classified", api.ModelAnnotation: "evil"},
				ctr("cache", "redis:7")),
			want: map[string]string{api.ClassAnnotation: "redis", api.StatusAnnotation: "pending"},
		},
		"a dry-run create is annotated in the answer": {
			pod:    pod("shop", "dry", nil, nil, ctr("web", "nginx:1.27")),
			dryRun: true,
			want:   map[string]string{api.ClassAnnotation: "nginx", api.StatusAnnotation: "pending"},
		},
		"a sidecar does not decide the class": {
			pod:  pod("shop", "mesh", nil, nil, ctr("istio-proxy", "docker.io/istio/proxyv2:1.22.0"), ctr("app", "postgres:16")),
			want: map[string]string{api.ClassAnnotation: "postgresql"},
		},
		"a pod with only generateName is annotated": {
			pod:  pod("shop", "", nil, nil, ctr("mq", "eclipse-mosquitto:2")),
			want: map[string]string{api.ClassAnnotation: "mosquitto"},
		},
		"an unknown image is pending as unknown": {
			pod:  pod("shop", "custom", nil, nil, ctr("api", "registry.example.com:5000/acme/billing@sha256:"+fmt.Sprintf("%064d", 7))),
			want: map[string]string{api.ClassAnnotation: "unknown", api.StatusAnnotation: "pending"},
		},
		"kube-system is never mutated": {
			pod: pod("kube-system", "sys", nil, nil, ctr("etcd", "etcd:3.5")),
		},
		"the webhook's own namespace is never mutated": {
			pod: pod(releaseNamespace, "self", nil, nil, ctr("web", "nginx")),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var opts []client.CreateOption
			if tc.dryRun {
				opts = append(opts, client.DryRunAll)
			}
			p := tc.pod.DeepCopy()
			if err := env.Client.Create(ctx, p, opts...); err != nil {
				t.Fatalf("creating pod: %v", err)
			}
			got := p.Annotations
			if !tc.dryRun {
				stored := &corev1.Pod{}
				if err := env.Client.Get(ctx, client.ObjectKeyFromObject(p), stored); err != nil {
					t.Fatalf("reading the stored pod: %v", err)
				}
				got = stored.Annotations
			} else if err := env.Client.Get(ctx, client.ObjectKeyFromObject(p), &corev1.Pod{}); err == nil {
				t.Errorf("a dry-run pod was stored")
			}
			if tc.want == nil {
				for k := range got {
					if api.IsResult(k) {
						t.Errorf("pod got podclass annotation %s=%s, want none", k, got[k])
					}
				}
				return
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("stored annotation %s = %q, want %q (all: %v)", k, got[k], v, got)
				}
			}
			if _, forged := got[api.ModelAnnotation]; forged {
				t.Errorf("forged %s survived", api.ModelAnnotation)
			}
		})
	}
}
