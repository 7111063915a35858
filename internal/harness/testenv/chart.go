package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// CertManagerModule is the Go module whose CRDs the chart's cert-manager
// objects are validated against; go.mod pins its version.
const CertManagerModule = "github.com/cert-manager/cert-manager"

// Helm returns the helm binary hack/tools.sh built, from $PODCLASS_HELM, and
// fails the test with the command that builds it when it is missing.
func Helm(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("renders the chart with helm; skipped with -short")
	}
	p := os.Getenv("PODCLASS_HELM")
	if p == "" {
		t.Fatal(`PODCLASS_HELM is not set: run eval "$(hack/tools.sh env)" after hack/tools.sh helm (make test does both)`)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("helm missing at PODCLASS_HELM=%s: run hack/tools.sh helm", p)
	}
	return p
}

// RepoRoot is the module's root directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the repository")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..") // internal/harness/testenv
}

// ChartDir is charts/podclass.
func ChartDir(t testing.TB) string { return filepath.Join(RepoRoot(t), "charts", "podclass") }

// RunHelm runs helm with args and returns its stdout; stderr goes into the
// failure message.
func RunHelm(t testing.TB, args ...string) ([]byte, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(Helm(t), args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("helm %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// RenderChart runs `helm template` on the chart as release "podclass" in
// namespace with the given --set/--values arguments, and returns the objects.
func RenderChart(t testing.TB, namespace string, args ...string) []*unstructured.Unstructured {
	t.Helper()
	out, err := RunHelm(t, append([]string{"template", "podclass", ChartDir(t), "--namespace", namespace}, args...)...)
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	objs, err := DecodeObjects(out)
	if err != nil {
		t.Fatalf("decoding helm template output: %v", err)
	}
	return objs
}

// DecodeObjects splits a multi-document YAML stream into objects, skipping
// empty documents.
func DecodeObjects(stream []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(stream), 4096)
	var objs []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, err
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
}

// Find returns the rendered objects of kind.
func Find(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// Convert turns a rendered object into a typed one, failing on fields the
// type does not know.
func Convert(t testing.TB, u *unstructured.Unstructured, into any) {
	t.Helper()
	if err := k8sruntime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, into, true); err != nil {
		t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
	}
}

// ChartWebhook returns the chart's MutatingWebhookConfiguration with its
// Service clientConfig turned into a URL at host:port (where the test serves
// the webhook) and caBundle set to ca (nil leaves it empty).
func ChartWebhook(t testing.TB, objs []*unstructured.Unstructured, hostPort string, ca []byte) *admissionregistrationv1.MutatingWebhookConfiguration {
	t.Helper()
	found := Find(objs, "MutatingWebhookConfiguration")
	if len(found) != 1 {
		t.Fatalf("chart renders %d MutatingWebhookConfigurations, want 1", len(found))
	}
	whc := &admissionregistrationv1.MutatingWebhookConfiguration{}
	Convert(t, found[0], whc)
	for i := range whc.Webhooks {
		cc := &whc.Webhooks[i].ClientConfig
		if cc.Service == nil || cc.Service.Path == nil {
			t.Fatalf("webhook %s has no service path", whc.Webhooks[i].Name)
		}
		url := "https://" + hostPort + *cc.Service.Path
		cc.Service, cc.URL, cc.CABundle = nil, &url, ca
	}
	return whc
}

// CertManagerCRDs returns the directory of cert-manager's CRDs in the module
// cache. The module is a test dependency, so `go test` has downloaded it.
func CertManagerCRDs(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", CertManagerModule).Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Fatalf("locating %s in the module cache (go list -m): %v", CertManagerModule, err)
	}
	crds := filepath.Join(dir, "deploy", "crds")
	if _, err := os.Stat(crds); err != nil {
		t.Fatalf("cert-manager CRDs: %v", err)
	}
	return crds
}

// CreateAll creates objs in order with strict field validation, so the
// apiserver refuses any field it does not know. Namespaced objects without a
// namespace go into namespace.
func (e *Env) CreateAll(ctx context.Context, namespace string, objs []*unstructured.Unstructured) error {
	for _, o := range objs {
		o = o.DeepCopy()
		namespaced, err := e.Client.IsObjectNamespaced(o)
		if err != nil {
			return fmt.Errorf("%s %s: %w", o.GetKind(), o.GetName(), err)
		}
		if namespaced && o.GetNamespace() == "" {
			o.SetNamespace(namespace)
		}
		if err := e.Client.Create(ctx, o, client.FieldValidation("Strict")); err != nil {
			return fmt.Errorf("creating %s %s: %w", o.GetKind(), o.GetName(), err)
		}
	}
	return nil
}
