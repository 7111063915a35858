package charts_test

import (
	"context"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podclass/podclass/imagerules"
	"github.com/podclass/podclass/internal/harness/testenv"
	"github.com/podclass/podclass/trainer"
)

// TestRBACIsLeastPrivilege asks the apiserver's authorizer, after the
// chart's RBAC is installed, what each component's ServiceAccount may do.
func TestRBACIsLeastPrivilege(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	env := testenv.Start(t, testenv.Options{})
	env.Namespace(t, releaseNamespace, false)
	objs := testenv.RenderChart(t, releaseNamespace)
	if err := env.CreateAll(context.Background(), releaseNamespace, objs); err != nil {
		t.Fatal(err)
	}
	const ns = releaseNamespace
	type access = authorizationv1.ResourceAttributes
	tests := map[string]struct {
		sa    string
		what  access
		allow bool
	}{
		"the webhook reads its certificate Secret": {
			sa: "webhook", what: access{Namespace: ns, Verb: "get", Resource: "secrets", Name: "podclass-webhook-tls"}, allow: true,
		},
		"the webhook renews its certificate Secret": {
			sa: "webhook", what: access{Namespace: ns, Verb: "update", Resource: "secrets", Name: "podclass-webhook-tls"}, allow: true,
		},
		"the webhook cannot read other Secrets": {
			sa: "webhook", what: access{Namespace: ns, Verb: "get", Resource: "secrets", Name: "influxdb"},
		},
		"the webhook creates its certificate Secret the first time": {
			sa: "webhook", what: access{Namespace: ns, Verb: "create", Resource: "secrets"}, allow: true,
		},
		"the webhook cannot create Secrets elsewhere": {
			sa: "webhook", what: access{Namespace: "shop", Verb: "create", Resource: "secrets"},
		},
		"the webhook cannot list Secrets": {
			sa: "webhook", what: access{Namespace: ns, Verb: "list", Resource: "secrets"},
		},
		"the webhook patches its own webhook configuration": {
			sa: "webhook", what: access{Verb: "patch", Group: "admissionregistration.k8s.io", Resource: "mutatingwebhookconfigurations", Name: "podclass"}, allow: true,
		},
		"the webhook cannot patch other webhook configurations": {
			sa: "webhook", what: access{Verb: "patch", Group: "admissionregistration.k8s.io", Resource: "mutatingwebhookconfigurations", Name: "istio-sidecar-injector"},
		},
		"the webhook cannot read pods": {
			sa: "webhook", what: access{Namespace: "shop", Verb: "get", Resource: "pods"},
		},
		"the refiner patches pods in any namespace": {
			sa: "refiner", what: access{Namespace: "shop", Verb: "patch", Resource: "pods"}, allow: true,
		},
		"the refiner watches which namespaces opted in": {
			sa: "refiner", what: access{Verb: "watch", Resource: "namespaces"}, allow: true,
		},
		"the refiner cannot change namespaces": {
			sa: "refiner", what: access{Verb: "update", Resource: "namespaces", Name: "shop"},
		},
		"the trainer lists the opted-in namespaces": {
			sa: "trainer", what: access{Verb: "list", Resource: "namespaces"}, allow: true,
		},
		"the refiner cannot delete pods": {
			sa: "refiner", what: access{Namespace: "shop", Verb: "delete", Resource: "pods"},
		},
		"the refiner watches its model ConfigMap": {
			sa: "refiner", what: access{Namespace: ns, Verb: "watch", Resource: "configmaps", Name: "podclass-model"}, allow: true,
		},
		"the refiner cannot list every ConfigMap of its namespace": {
			sa: "refiner", what: access{Namespace: ns, Verb: "list", Resource: "configmaps"},
		},
		"the refiner cannot read ConfigMaps elsewhere": {
			sa: "refiner", what: access{Namespace: "shop", Verb: "get", Resource: "configmaps", Name: "podclass-model"},
		},
		"the refiner holds its leader Lease": {
			sa: "refiner", what: access{Namespace: ns, Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Name: "podclass-refiner"}, allow: true,
		},
		"the refiner records Events": {
			sa: "refiner", what: access{Namespace: "shop", Verb: "create", Group: "events.k8s.io", Resource: "events"}, allow: true,
		},
		"the refiner records core Events": {
			sa: "refiner", what: access{Namespace: "shop", Verb: "create", Resource: "events"}, allow: true,
		},
		"the refiner cannot delete Events": {
			sa: "refiner", what: access{Namespace: "shop", Verb: "delete", Resource: "events"},
		},
		"the refiner cannot read Secrets": {
			sa: "refiner", what: access{Namespace: ns, Verb: "get", Resource: "secrets", Name: "podclass-webhook-tls"},
		},
		"the trainer lists pods": {
			sa: "trainer", what: access{Verb: "list", Resource: "pods"}, allow: true,
		},
		"the trainer cannot watch pods": {
			sa: "trainer", what: access{Verb: "watch", Resource: "pods"},
		},
		"the trainer cannot get a pod by name": {
			sa: "trainer", what: access{Namespace: "kube-system", Verb: "get", Resource: "pods", Name: "kube-apiserver"},
		},
		"the trainer cannot patch pods": {
			sa: "trainer", what: access{Namespace: "shop", Verb: "patch", Resource: "pods"},
		},
		"the trainer publishes the model ConfigMap": {
			sa: "trainer", what: access{Namespace: ns, Verb: "update", Resource: "configmaps", Name: "podclass-model"}, allow: true,
		},
		"the trainer creates the first model ConfigMap": {
			sa: "trainer", what: access{Namespace: ns, Verb: "create", Resource: "configmaps"}, allow: true,
		},
		"the trainer cannot create ConfigMaps elsewhere": {
			sa: "trainer", what: access{Namespace: "shop", Verb: "create", Resource: "configmaps"},
		},
		"the trainer records Events in its namespace": {
			sa: "trainer", what: access{Namespace: ns, Verb: "create", Group: "events.k8s.io", Resource: "events"}, allow: true,
		},
		"the trainer records core Events in its namespace": {
			sa: "trainer", what: access{Namespace: ns, Verb: "create", Resource: "events"}, allow: true,
		},
		"the trainer cannot record Events elsewhere": {
			sa: "trainer", what: access{Namespace: "shop", Verb: "create", Resource: "events"},
		},
		"the trainer cannot change the rules ConfigMap": {
			sa: "trainer", what: access{Namespace: ns, Verb: "update", Resource: "configmaps", Name: "podclass-rules"},
		},
	}
	t.Run("the refiner's cache may list its model ConfigMap by name", func(t *testing.T) {
		// RBAC matches a metadata.name field selector against resourceNames;
		// this is the request controller-runtime's cache makes.
		refiner := impersonating(t, env, rest.ImpersonationConfig{
			UserName: "system:serviceaccount:" + ns + ":podclass-refiner",
			Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
		})
		// The chart ships no model (model.ship); the trainer's first
		// publication creates the ConfigMap.
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "podclass-model"}}
		if err := env.Client.Create(context.Background(), cm); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		var l corev1.ConfigMapList
		if err := refiner.List(context.Background(), &l, client.InNamespace(ns), client.MatchingFields{"metadata.name": "podclass-model"}); err != nil {
			t.Fatal(err)
		}
		if len(l.Items) != 1 {
			t.Errorf("listed %d ConfigMaps, want the model", len(l.Items))
		}
	})
	t.Run("the trainer reads the pods of opted-in namespaces with these rights", func(t *testing.T) {
		ctx := context.Background()
		env.Namespace(t, "shop", true)
		env.Namespace(t, "legacy", false)
		for _, ns := range []string{"shop", "legacy"} {
			p := testPod(ns, "db", nil, nil, "mysql:8")
			if err := env.Client.Create(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		trainerSA := impersonating(t, env, rest.ImpersonationConfig{
			UserName: "system:serviceaccount:" + ns + ":podclass-trainer",
			Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
		})
		pods, err := trainer.ClusterPods(ctx, trainerSA, imagerules.Default())
		if err != nil {
			t.Fatal(err)
		}
		if len(pods) != 1 || pods[0].Key.Namespace != "shop" {
			t.Errorf("the trainer read %v, want the one pod of the opted-in namespace", pods)
		}
	})
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			what := tc.what
			sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User:               "system:serviceaccount:" + ns + ":podclass-" + tc.sa,
				Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
				ResourceAttributes: &what,
			}}
			if err := env.Client.Create(context.Background(), sar); err != nil {
				t.Fatal(err)
			}
			if sar.Status.Allowed != tc.allow {
				t.Errorf("allowed = %v, want %v (%s)", sar.Status.Allowed, tc.allow, sar.Status.Reason)
			}
		})
	}
}
