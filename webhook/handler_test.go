package webhook

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/imagerules"
)

func podRequest(t testing.TB, pod *corev1.Pod, op admissionv1.Operation) admission.Request {
	t.Helper()
	raw, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	return admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID: "uid", Operation: op, Namespace: pod.Namespace, Name: pod.Name,
		Kind:     metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
		Resource: metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
		Object:   runtime.RawExtension{Raw: raw},
	}}
}

func newPod(annotations map[string]string, labels map[string]string, containers ...corev1.Container) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", Annotations: annotations, Labels: labels},
		Spec:       corev1.PodSpec{Containers: containers},
	}
}

func c(name, image string) corev1.Container { return corev1.Container{Name: name, Image: image} }

// applied applies the response's patch to the request's pod and returns the
// resulting annotations, as the apiserver would store them.
func applied(t *testing.T, req admission.Request, resp admission.Response) map[string]string {
	t.Helper()
	if len(resp.Patches) == 0 {
		var p corev1.Pod
		if err := json.Unmarshal(req.Object.Raw, &p); err != nil {
			t.Fatal(err)
		}
		return p.Annotations
	}
	ops, err := json.Marshal(resp.Patches)
	if err != nil {
		t.Fatal(err)
	}
	patch, err := jsonpatch.DecodePatch(ops)
	if err != nil {
		t.Fatalf("patch does not decode: %v\n%s", err, ops)
	}
	out, err := patch.Apply(req.Object.Raw)
	if err != nil {
		t.Fatalf("patch does not apply: %v\n%s", err, ops)
	}
	var p corev1.Pod
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Labels[api.ClassLabel]; ok && req.Operation == admissionv1.Create {
		t.Errorf("a forged %s label survived the patch", api.ClassLabel)
	}
	return p.Annotations
}

func TestHandle(t *testing.T) {
	h := NewPodAnnotator(imagerules.Default())
	tests := map[string]struct {
		pod     *corev1.Pod
		op      admissionv1.Operation
		want    map[string]string // annotations after the patch (nil: untouched)
		absent  []string
		warning string
	}{
		"a mysql pod without annotations gets them all": {
			pod: newPod(nil, nil, c("db", "bitnami/mysql:8")),
			want: map[string]string{api.ClassAnnotation: "mysql", api.FamilyAnnotation: "database", api.StatusAnnotation: "pending",
				api.SourceAnnotation: "image", api.ConfidenceAnnotation: "0.95", api.ImageClassAnnotation: "mysql"},
		},
		"existing annotations of others are kept": {
			pod:  newPod(map[string]string{"team": "shop"}, nil, c("web", "nginx:1.27")),
			want: map[string]string{"team": "shop", api.ClassAnnotation: "nginx", api.StatusAnnotation: "pending"},
		},
		"forged results are overwritten or removed": {
			pod: newPod(map[string]string{api.ClassAnnotation: "postgresql", api.StatusAnnotation: "classified",
				api.ModelAnnotation: "v999", api.ConfidenceAnnotation: "1"}, nil, c("cache", "redis:7")),
			want:   map[string]string{api.ClassAnnotation: "redis", api.StatusAnnotation: "pending", api.ConfidenceAnnotation: "0.95"},
			absent: []string{api.ModelAnnotation},
		},
		"an unknown image is unknown and pending": {
			pod:    newPod(nil, nil, c("api", "ghcr.io/acme/billing:3")),
			want:   map[string]string{api.ClassAnnotation: "unknown", api.StatusAnnotation: "pending", api.ConfidenceAnnotation: "0.00"},
			absent: []string{api.FamilyAnnotation},
		},
		"a sidecar does not decide the class": {
			pod:  newPod(nil, nil, c("istio-proxy", "istio/proxyv2:1.22"), c("app", "postgres:16")),
			want: map[string]string{api.ClassAnnotation: "postgresql"},
		},
		"main containers that differ are listed per container": {
			pod:  newPod(nil, nil, c("app", "ghcr.io/acme/shop:1"), c("cache", "memcached:1.6")),
			want: map[string]string{api.ClassAnnotation: "memcached", api.ContainerClassesAnnotation: "app=unknown,cache=memcached"},
		},
		"a hint names an unknown image's class, marked as a hint": {
			pod:  newPod(map[string]string{api.HintAnnotation: "redis"}, nil, c("kv", "ghcr.io/acme/kv:1")),
			want: map[string]string{api.ClassAnnotation: "redis", api.SourceAnnotation: "hint", api.ConfidenceAnnotation: "0.50", api.ImageClassAnnotation: "unknown"},
		},
		"declared ports name an unknown image's class, marked as ports": {
			pod: newPod(nil, nil, corev1.Container{Name: "kv", Image: "ghcr.io/acme/kv:1", Ports: []corev1.ContainerPort{{ContainerPort: 6379}}}),
			want: map[string]string{api.ClassAnnotation: "redis", api.FamilyAnnotation: "cache", api.SourceAnnotation: "ports",
				api.ConfidenceAnnotation: "0.60", api.ImageClassAnnotation: "unknown"},
		},
		"declared ports do not override a known image": {
			pod:  newPod(nil, nil, corev1.Container{Name: "db", Image: "mysql:8", Ports: []corev1.ContainerPort{{ContainerPort: 6379}}}),
			want: map[string]string{api.ClassAnnotation: "mysql", api.SourceAnnotation: "image", api.ConfidenceAnnotation: "0.95"},
		},
		"a sidecar's ports never decide": {
			pod: newPod(nil, nil, c("app", "ghcr.io/acme/app:1"),
				corev1.Container{Name: "mysqld-exporter", Image: "prom/mysqld-exporter:v0.15", Ports: []corev1.ContainerPort{{ContainerPort: 3306}}}),
			want: map[string]string{api.ClassAnnotation: "unknown", api.SourceAnnotation: "image"},
		},
		"declared ports win over a hint": {
			pod:  newPod(map[string]string{api.HintAnnotation: "mysql"}, nil, corev1.Container{Name: "q", Image: "ghcr.io/acme/q:1", Ports: []corev1.ContainerPort{{ContainerPort: 5672}}}),
			want: map[string]string{api.ClassAnnotation: "rabbitmq", api.SourceAnnotation: "ports"},
		},
		"a hint does not override a known image": {
			pod:  newPod(map[string]string{api.HintAnnotation: "redis"}, nil, c("db", "mysql:8")),
			want: map[string]string{api.ClassAnnotation: "mysql", api.SourceAnnotation: "image"},
		},
		"a hint naming no class is ignored": {
			pod:  newPod(map[string]string{api.HintAnnotation: "nonsense"}, nil, c("x", "ghcr.io/acme/x:1")),
			want: map[string]string{api.ClassAnnotation: "unknown", api.SourceAnnotation: "image"},
		},
		"an invalid image is allowed with a warning": {
			pod:     newPod(nil, nil, c("bad", "Not A Valid Ref")),
			want:    map[string]string{api.ClassAnnotation: "unknown", api.StatusAnnotation: "pending"},
			warning: "container \"bad\"",
		},
		"a forged class label is removed": {
			pod:  newPod(nil, map[string]string{api.ClassLabel: "mysql", "app": "x"}, c("app", "ghcr.io/acme/x:1")),
			want: map[string]string{api.ClassAnnotation: "unknown"},
		},
		"an opted-out pod is untouched": {
			pod:  newPod(map[string]string{"a": "b"}, map[string]string{api.EnabledLabel: "false"}, c("db", "mysql:8")),
			want: map[string]string{"a": "b"},
		},
		"an update is not mutated": {
			pod:  newPod(map[string]string{"a": "b"}, nil, c("db", "mysql:8")),
			op:   admissionv1.Update,
			want: map[string]string{"a": "b"},
		},
		"an annotation key with a tilde and slash is escaped": {
			pod:  newPod(map[string]string{"example.com/a~b": "x", api.Prefix + "status": "forged"}, nil, c("db", "mysql:8")),
			want: map[string]string{"example.com/a~b": "x", api.StatusAnnotation: "pending"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			op := tc.op
			if op == "" {
				op = admissionv1.Create
			}
			req := podRequest(t, tc.pod, op)
			resp := h.Handle(context.Background(), req)
			if !resp.Allowed {
				t.Fatalf("pod was not allowed: %+v", resp.Result)
			}
			got := applied(t, req, resp)
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("annotation %s = %q, want %q (all: %v)", k, got[k], v, got)
				}
			}
			for _, k := range tc.absent {
				if _, ok := got[k]; ok {
					t.Errorf("annotation %s is present, want absent (all: %v)", k, got)
				}
			}
			if tc.warning != "" && !strings.Contains(strings.Join(resp.Warnings, "\n"), tc.warning) {
				t.Errorf("warnings %q do not mention %q", resp.Warnings, tc.warning)
			}
		})
	}
}

func TestHandleMalformedObjectIsAllowedWithWarning(t *testing.T) {
	h := NewPodAnnotator(imagerules.Default())
	tests := map[string]string{
		"not JSON":                    "{{{",
		"containers of a wrong type":  `{"metadata":{},"spec":{"containers":"nginx"}}`,
		"annotations of a wrong type": `{"metadata":{"annotations":[1,2]}}`,
	}
	for name, raw := range tests {
		t.Run(name, func(t *testing.T) {
			req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
				UID: "u", Operation: admissionv1.Create, Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
				Object: runtime.RawExtension{Raw: []byte(raw)},
			}}
			resp := h.Handle(context.Background(), req)
			if !resp.Allowed || len(resp.Patches) != 0 || len(resp.Warnings) == 0 {
				t.Errorf("got allowed=%v patches=%d warnings=%q; want allowed, no patch, a warning", resp.Allowed, len(resp.Patches), resp.Warnings)
			}
		})
	}
}

func TestHandleIgnoresOtherKinds(t *testing.T) {
	h := NewPodAnnotator(imagerules.Default())
	req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID: "u", Operation: admissionv1.Create, Kind: metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"},
		Object: runtime.RawExtension{Raw: []byte(`{"spec":{"template":{}}}`)},
	}}
	if resp := h.Handle(context.Background(), req); !resp.Allowed || len(resp.Patches) != 0 {
		t.Errorf("a Deployment got allowed=%v with %d patches; want allowed and untouched", resp.Allowed, len(resp.Patches))
	}
}

func BenchmarkHandle(b *testing.B) {
	h := NewPodAnnotator(imagerules.Default())
	pod := newPod(map[string]string{"team": "shop"}, map[string]string{"app": "db"}, c("istio-proxy", "istio/proxyv2:1.22"), c("db", "docker.io/bitnami/mysql:8.0.36"))
	pod.Spec.Containers[1].Env = []corev1.EnvVar{{Name: "MYSQL_ROOT_PASSWORD", Value: "x"}, {Name: "MYSQL_DATABASE", Value: "shop"}}
	req := podRequest(b, pod, admissionv1.Create)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if resp := h.Handle(ctx, req); !resp.Allowed {
			b.Fatal("not allowed")
		}
	}
}
