package charts_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/internal/harness/testenv"
)

// installChart starts a control plane with the chart's own webhook
// configuration (envtest points it at the local server and fills its CA),
// creates every other rendered object and serves the webhook.
func installChart(t *testing.T) *testenv.Env {
	env, _ := installChartServing(t)
	return env
}

// installChartServing is installChart that also returns the webhook's stop,
// to take it down.
func installChartServing(t *testing.T) (*testenv.Env, func()) {
	t.Helper()
	objs := testenv.RenderChart(t, releaseNamespace)
	whc := &admissionregistrationv1.MutatingWebhookConfiguration{}
	testenv.Convert(t, testenv.Find(objs, "MutatingWebhookConfiguration")[0], whc)
	env := testenv.Start(t, testenv.Options{Webhooks: []*admissionregistrationv1.MutatingWebhookConfiguration{whc}})
	env.Namespace(t, releaseNamespace, true)
	var rest []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() != "MutatingWebhookConfiguration" {
			rest = append(rest, o)
		}
	}
	if err := env.CreateAll(context.Background(), releaseNamespace, rest); err != nil {
		t.Fatal(err)
	}
	return env, env.ServeWebhook(t)
}

func testPod(ns, name string, labels, annotations map[string]string, image string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels, Annotations: annotations},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: image}}},
	}
}

func TestChartWebhookConfigurationAnnotatesPods(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	env := installChart(t)
	ctx := context.Background()
	env.Namespace(t, "shop", true)
	env.Namespace(t, "legacy", false)

	tests := map[string]struct {
		pod       *corev1.Pod
		wantClass string // empty: not annotated
	}{
		"a pod in an opted-in namespace is annotated":       {pod: testPod("shop", "db", nil, nil, "bitnami/mysql:8"), wantClass: "mysql"},
		"a pod in a namespace that did not opt in is not":   {pod: testPod("legacy", "db", nil, nil, "mysql:8")},
		"an opted-out pod is not annotated":                 {pod: testPod("shop", "out", map[string]string{api.EnabledLabel: "false"}, nil, "redis:7")},
		"a pod in the release namespace is never annotated": {pod: testPod(releaseNamespace, "self", nil, nil, "nginx")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if err := env.Client.Create(ctx, tc.pod); err != nil {
				t.Fatalf("creating pod: %v", err)
			}
			got := &corev1.Pod{}
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(tc.pod), got); err != nil {
				t.Fatal(err)
			}
			if c := got.Annotations[api.ClassAnnotation]; c != tc.wantClass {
				t.Errorf("class = %q, want %q (annotations %v)", c, tc.wantClass, got.Annotations)
			}
			if tc.wantClass != "" && got.Annotations[api.StatusAnnotation] != api.StatusPending {
				t.Errorf("status = %q, want pending", got.Annotations[api.StatusAnnotation])
			}
		})
	}
}

func TestAdmissionPolicyLetsOnlyTheRefinerChangeResults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	env := installChart(t)
	ctx := context.Background()
	env.Namespace(t, "tenant", true)
	// The tenant may edit pods in its namespace; only the policy stands in its way.
	grant(t, env, "tenant", "alice")

	tenant := impersonating(t, env, rest.ImpersonationConfig{UserName: "alice", Groups: []string{"system:authenticated"}})
	refiner := impersonating(t, env, rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + releaseNamespace + ":podclass-refiner",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + releaseNamespace, "system:authenticated"},
	})

	p := testPod("tenant", "cache", nil, nil, "redis:7")
	if err := env.Client.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	if p.Annotations[api.ClassAnnotation] != "redis" {
		t.Fatalf("the webhook did not annotate the pod: %v", p.Annotations)
	}
	// Policies start to apply a moment after they are created: probe with a
	// new value each time (an edit that changes nothing is always allowed).
	probe := 0
	testenv.WaitFor(t, 20*time.Second, "the policy to apply", func() (bool, error) {
		probe++
		err := editPod(ctx, env.Client, p, func(p *corev1.Pod) { p.Annotations[api.ClassAnnotation] = "probe-" + strconv.Itoa(probe) })
		return isPolicyDenial(err), err
	})

	tests := map[string]struct {
		as      client.Client
		edit    func(*corev1.Pod)
		allowed bool
	}{
		"a tenant cannot change the class": {
			as: tenant, edit: func(p *corev1.Pod) { p.Annotations[api.ClassAnnotation] = "postgresql" },
		},
		"a tenant cannot remove the status": {
			as: tenant, edit: func(p *corev1.Pod) { delete(p.Annotations, api.StatusAnnotation) },
		},
		"a tenant cannot add a model annotation": {
			as: tenant, edit: func(p *corev1.Pod) { p.Annotations[api.ModelAnnotation] = "forged" },
		},
		"a tenant cannot set the class label": {
			as: tenant, edit: func(p *corev1.Pod) { p.Labels = map[string]string{api.ClassLabel: "postgresql"} },
		},
		"a tenant can change other annotations": {
			as: tenant, edit: func(p *corev1.Pod) { p.Annotations["team"] = "payments" }, allowed: true,
		},
		"the refiner can change the class": {
			as: refiner, allowed: true, edit: func(p *corev1.Pod) {
				p.Annotations[api.ClassAnnotation] = "redis"
				p.Annotations[api.StatusAnnotation] = api.StatusClassified
				p.Annotations[api.SourceAnnotation] = api.SourceMetrics
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := editPod(ctx, tc.as, p, tc.edit)
			switch {
			case tc.allowed && err != nil:
				t.Errorf("edit refused: %v", err)
			case !tc.allowed && !isPolicyDenial(err):
				t.Errorf("edit not refused by the policy: %v", err)
			}
		})
	}
}

// editPod applies edit to the current pod as c, with a merge patch like kubectl.
func editPod(ctx context.Context, c client.Client, p *corev1.Pod, edit func(*corev1.Pod)) error {
	cur := &corev1.Pod{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(p), cur); err != nil {
		return err
	}
	next := cur.DeepCopy()
	if next.Annotations == nil {
		next.Annotations = map[string]string{}
	}
	edit(next)
	return c.Patch(ctx, next, client.MergeFrom(cur))
}

func isPolicyDenial(err error) bool {
	return apierrors.IsForbidden(err) && strings.Contains(err.Error(), "ValidatingAdmissionPolicy")
}

func impersonating(t *testing.T, env *testenv.Env, as rest.ImpersonationConfig) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = as
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// grant lets user get and edit pods in ns.
func grant(t *testing.T, env *testenv.Env, ns, user string) {
	t.Helper()
	ctx := context.Background()
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pod-editor"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "update", "patch"}}},
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pod-editor"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: user}},
	}
	for _, o := range []client.Object{role, binding} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
}
