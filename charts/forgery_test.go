package charts_test

import (
	"context"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/internal/harness/testenv"
)

// forgedResult is what a tenant would like policy engines to believe.
func forgedResult() map[string]string {
	return map[string]string{
		api.ClassAnnotation: "mysql", api.StatusAnnotation: api.StatusClassified, api.SourceAnnotation: api.SourceMetrics,
		api.ConfidenceAnnotation: "0.99", api.FamilyAnnotation: "database",
	}
}

// TestNobodyButPodclassWritesResults tries, as a tenant with create, update
// and patch on pods and update on pods/status, every way issue 12 found to
// store a pod carrying result keys podclass did not write — through the
// real apiserver evaluating the chart's ValidatingAdmissionPolicy after the
// chart's webhook — and, as the refiner, to change more than podclass's keys.
func TestNobodyButPodclassWritesResults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	env, stopWebhook := installChartServing(t)
	ctx := context.Background()
	env.Namespace(t, "tenant", true)
	env.Namespace(t, "legacy", false)
	for _, ns := range []string{"tenant", "legacy"} {
		grantOperator(t, env, ns, "alice")
	}
	tenant := impersonating(t, env, rest.ImpersonationConfig{UserName: "alice", Groups: []string{"system:authenticated"}})
	refiner := impersonating(t, env, rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + releaseNamespace + ":podclass-refiner",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + releaseNamespace, "system:authenticated"},
	})
	waitForPolicy(t, env)

	createdFrom := func(ns, name, image string, labels, annotations map[string]string) (*corev1.Pod, error) {
		p := testPod(ns, name, labels, annotations, image)
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "sidecar", Image: "ghcr.io/acme/exporter:1"})
		return p, tenant.Create(ctx, p)
	}
	created := func(ns, name string, labels, annotations map[string]string) (*corev1.Pod, error) {
		return createdFrom(ns, name, "redis:7", labels, annotations)
	}

	t.Run("at CREATE", func(t *testing.T) {
		tests := map[string]struct {
			ns          string
			labels      map[string]string
			annotations map[string]string
			image       string // redis:7 if empty
			refused     bool
			want        string // the webhook's class, in an opted-in namespace
		}{
			"a forged result in a namespace that did not opt in is refused": {
				ns: "legacy", annotations: forgedResult(), refused: true,
			},
			"a forged result on a pod that opted out is refused": {
				ns: "tenant", labels: map[string]string{api.EnabledLabel: "false"}, annotations: forgedResult(), refused: true,
			},
			"a forged pending guess in a namespace that did not opt in is refused": {
				ns: "legacy", refused: true, annotations: map[string]string{
					api.ClassAnnotation: "mysql", api.StatusAnnotation: api.StatusPending, api.SourceAnnotation: api.SourceImage,
					api.ConfidenceAnnotation: "0.95", api.ImageClassAnnotation: "mysql",
				},
			},
			"a forged class label in a namespace that did not opt in is refused": {
				ns: "legacy", labels: map[string]string{api.ClassLabel: "mysql"}, refused: true,
			},
			"a pod without podclass keys is created where podclass does not annotate": {
				ns: "legacy", annotations: map[string]string{"team": "payments"},
			},
			"a forged result in an opted-in namespace is overwritten by the webhook": {
				ns: "tenant", annotations: forgedResult(), labels: map[string]string{api.ClassLabel: "mysql"}, want: "redis",
			},
			"a pod the webhook guesses from a hint is created": {
				ns: "tenant", image: "ghcr.io/acme/inhouse:1", annotations: map[string]string{api.HintAnnotation: "redis"}, want: "redis",
			},
			"a pod the webhook cannot name is created": {
				ns: "tenant", image: "ghcr.io/acme/inhouse:1", want: api.ClassUnknown,
			},
		}
		i := 0
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				i++
				image := tc.image
				if image == "" {
					image = "redis:7"
				}
				p, err := createdFrom(tc.ns, "create-"+strconv.Itoa(i), image, tc.labels, tc.annotations)
				if tc.refused {
					if !isPolicyDenial(err) {
						t.Fatalf("created, want refused by the policy (err %v); stored annotations %v, labels %v", err, p.Annotations, p.Labels)
					}
					if !strings.Contains(err.Error(), "podclass") {
						t.Errorf("the refusal does not say why: %v", err)
					}
					t.Logf("refused: %v", err)
					return
				}
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if tc.want != "" {
					a := p.Annotations
					if a[api.ClassAnnotation] != tc.want || a[api.StatusAnnotation] != api.StatusPending || a[api.ModelAnnotation] != "" || p.Labels[api.ClassLabel] != "" {
						t.Errorf("stored annotations %v, labels %v: want the webhook's %s guess and no class label", a, p.Labels, tc.want)
					}
				}
			})
		}
	})

	t.Run("a system pod without podclass keys is created", func(t *testing.T) {
		p := testPod("kube-system", "system-0", nil, nil, "registry.k8s.io/pause:3.10")
		if err := env.Client.Create(ctx, p); err != nil {
			t.Fatalf("refused: %v", err)
		}
	})

	annotated, err := created("tenant", "annotated", nil, nil)
	if err != nil || annotated.Annotations[api.ClassAnnotation] != "redis" {
		t.Fatalf("the webhook did not annotate the tenant's pod: %v %v", err, annotated.Annotations)
	}

	t.Run("through pods/status", func(t *testing.T) {
		tests := map[string]struct {
			edit    func(*corev1.Pod)
			refused bool
		}{
			"a tenant cannot change the class": {
				edit: func(p *corev1.Pod) { maps.Copy(p.Annotations, forgedResult()) }, refused: true,
			},
			"a tenant cannot set the class label": {
				edit: func(p *corev1.Pod) { p.Labels = map[string]string{api.ClassLabel: "mysql"} }, refused: true,
			},
			"a status update that keeps the results is allowed": {
				edit: func(p *corev1.Pod) { p.Status.Message = "probing" },
			},
		}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				cur := &corev1.Pod{}
				if err := tenant.Get(ctx, client.ObjectKeyFromObject(annotated), cur); err != nil {
					t.Fatal(err)
				}
				tc.edit(cur)
				err := tenant.Status().Update(ctx, cur)
				switch {
				case tc.refused && !isPolicyDenial(err):
					t.Errorf("status update not refused by the policy: %v (stored annotations %v)", err, cur.Annotations)
				case !tc.refused && err != nil:
					t.Errorf("status update refused: %v", err)
				}
			})
		}
	})

	t.Run("through a Binding", func(t *testing.T) {
		tests := map[string]struct {
			legacy  bool // the bindings resource instead of pods/binding
			meta    metav1.ObjectMeta
			refused bool
		}{
			"a Binding carrying a result annotation is refused": {
				meta: metav1.ObjectMeta{Annotations: forgedResult()}, refused: true,
			},
			"a legacy Binding carrying the class label is refused": {
				legacy: true, meta: metav1.ObjectMeta{Labels: map[string]string{api.ClassLabel: "mysql"}}, refused: true,
			},
			"a Binding without podclass keys binds": {
				meta: metav1.ObjectMeta{Annotations: map[string]string{"scheduler": "default"}},
			},
		}
		i := 0
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				i++
				p, err := created("tenant", "unbound-"+strconv.Itoa(i), nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				b := &corev1.Binding{ObjectMeta: tc.meta, Target: corev1.ObjectReference{Kind: "Node", Name: "node-1"}}
				b.Namespace, b.Name = p.Namespace, p.Name
				if tc.legacy {
					err = tenant.Create(ctx, b)
				} else {
					err = tenant.SubResource("binding").Create(ctx, p, b)
				}
				switch {
				case tc.refused && !isPolicyDenial(err):
					t.Errorf("binding not refused by the policy: %v", err)
				case !tc.refused && err != nil:
					t.Errorf("binding refused: %v", err)
				}
			})
		}
	})

	t.Run("the refiner", func(t *testing.T) {
		system := testPod("kube-system", "apiserver-proxy", nil, nil, "registry.k8s.io/pause:3.10")
		if err := env.Client.Create(ctx, system); err != nil {
			t.Fatal(err)
		}
		tests := map[string]struct {
			pod     *corev1.Pod
			patch   string
			refused bool
		}{
			"cannot change a system pod's image": {
				pod: system, refused: true, patch: `[{"op":"replace","path":"/spec/containers/0/image","value":"evil.example/backdoor:1"}]`,
			},
			"cannot add another label": {
				pod: annotated, refused: true, patch: `[{"op":"add","path":"/metadata/labels","value":{"team":"refiner"}}]`,
			},
			"cannot change another annotation": {
				pod: annotated, refused: true, patch: `[{"op":"add","path":"/metadata/annotations/kubectl.kubernetes.io~1restartedAt","value":"now"}]`,
			},
			"can write the results and the class label": {
				pod: annotated, patch: `[{"op":"test","path":"/metadata/annotations/podclass.io~1status","value":"pending"},` +
					`{"op":"add","path":"/metadata/annotations/podclass.io~1status","value":"classified"},` +
					`{"op":"add","path":"/metadata/annotations/podclass.io~1source","value":"metrics"},` +
					`{"op":"add","path":"/metadata/labels","value":{"podclass.io/class":"redis"}}]`,
			},
		}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: tc.pod.Namespace, Name: tc.pod.Name}}
				err := refiner.Patch(ctx, p, client.RawPatch(types.JSONPatchType, []byte(tc.patch)))
				switch {
				case tc.refused && !isPolicyDenial(err):
					t.Errorf("patch not refused by the policy: %v (stored %v, %v)", err, p.Spec.Containers, p.Labels)
				case !tc.refused && err != nil:
					t.Errorf("patch refused: %v", err)
				}
			})
		}
	})

	// Last: the webhook down (failurePolicy Ignore) must not open a way in.
	t.Run("while the webhook is down", func(t *testing.T) {
		stopWebhook()
		if _, err := created("tenant", "down-forged", nil, forgedResult()); !isPolicyDenial(err) {
			t.Errorf("a forged result was stored while the webhook was down: %v", err)
		}
		p, err := created("tenant", "down-plain", nil, nil)
		if err != nil {
			t.Fatalf("a plain pod was refused while the webhook was down: %v", err)
		}
		for k := range p.Annotations {
			if api.IsResult(k) {
				t.Errorf("the webhook is down, yet the pod carries %s", k)
			}
		}
	})
}

// waitForPolicy waits until the policy applies: policies start to apply a
// moment after they are created. It probes with an edit of a result key by
// a user who may edit pods, a new value each time (an edit that changes
// nothing is always allowed).
func waitForPolicy(t *testing.T, env *testenv.Env) {
	t.Helper()
	ctx := context.Background()
	env.Namespace(t, "policy-probe", true)
	p := testPod("policy-probe", "probe", nil, nil, "redis:7")
	if err := env.Client.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	probe := 0
	testenv.WaitFor(t, 20*time.Second, "the policy to apply", func() (bool, error) {
		probe++
		err := editPod(ctx, env.Client, p, func(p *corev1.Pod) { p.Annotations[api.ClassAnnotation] = "probe-" + strconv.Itoa(probe) })
		return isPolicyDenial(err), err
	})
}

// grantOperator lets user do in ns what operators often may: create, edit
// and bind pods and update their status.
func grantOperator(t *testing.T, env *testenv.Env, ns, user string) {
	t.Helper()
	ctx := context.Background()
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pod-operator"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "create", "update", "patch"}},
			{APIGroups: []string{""}, Resources: []string{"pods/status"}, Verbs: []string{"update", "patch"}},
			{APIGroups: []string{""}, Resources: []string{"pods/binding", "bindings"}, Verbs: []string{"create"}},
		},
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pod-operator"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: user}},
	}
	for _, o := range []client.Object{role, binding} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
}
