// Package charts_test checks the podclass Helm chart: helm lint and template
// for each mode, every rendered object accepted by a real kube-apiserver
// (with cert-manager's CRDs), the chart's own webhook configuration
// annotating pods, and its admission policy guarding the results.
package charts_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/imagerules"
	"github.com/podclass/podclass/internal/harness/testenv"
)

const releaseNamespace = "podclass-system"

// modes are the value sets the chart is linted, rendered and installed with.
var modes = map[string][]string{
	"the default values":        nil,
	"cert-manager certificates": {"--set", "certs.mode=certManager"},
	"prometheus metrics and no trainer": {
		"--set", "metrics.source=prometheus", "--set", "trainer.enabled=false",
	},
	"an InfluxDB token kept in a Secret the chart creates": {"--set", "metrics.influxdb.token=s3cret"},
	"an existing InfluxDB Secret and no admission policy": {
		"--set", "metrics.influxdb.existingSecret=influx", "--set", "admissionPolicy.enabled=false",
	},
}

// lintOnly are value sets whose objects need CRDs the tests cannot install
// (the Prometheus Operator's): they are linted and rendered only.
var lintOnly = map[string][]string{
	"ServiceMonitors for both components": {"--set", "serviceMonitor.enabled=true"},
}

func TestHelmLintAndTemplate(t *testing.T) {
	all := maps.Clone(modes)
	maps.Copy(all, lintOnly)
	for name, args := range all {
		t.Run(name, func(t *testing.T) {
			lint := append([]string{"lint", "--strict", testenv.ChartDir(t), "--namespace", releaseNamespace}, args...)
			if out, err := testenv.RunHelm(t, lint...); err != nil {
				t.Fatalf("helm lint: %v\n%s", err, out)
			}
			objs := testenv.RenderChart(t, releaseNamespace, args...)
			if len(testenv.Find(objs, "MutatingWebhookConfiguration")) != 1 {
				t.Fatal("no MutatingWebhookConfiguration rendered")
			}
			for _, o := range objs {
				if strings.Contains(o.GetKind(), "Secret") && o.Object["data"] != nil && o.GetName() != "podclass-influxdb" {
					t.Errorf("Secret %s carries data from the chart", o.GetName())
				}
			}
		})
	}
}

// TestSchemaTakesNumbersFromHelmSet: helm --set turns 0.8 into a string;
// the schema accepts a numeric string for the trainer's numbers (the binary
// parses it) and refuses anything else, as it refuses a number out of range.
func TestSchemaTakesNumbersFromHelmSet(t *testing.T) {
	tests := map[string]struct {
		args []string
		ok   bool
	}{
		"--set oodMargin=0.8":        {[]string{"--set", "trainer.oodMargin=0.8"}, true},
		"--set-json oodMargin=0.8":   {[]string{"--set-json", "trainer.oodMargin=0.8"}, true},
		"--set minMacroF1=0.85":      {[]string{"--set", "trainer.minMacroF1=0.85"}, true},
		"--set minMacroF1=1":         {[]string{"--set", "trainer.minMacroF1=1"}, true},
		"--set oodMargin=abc":        {[]string{"--set", "trainer.oodMargin=abc"}, false},
		"--set oodMargin=-1":         {[]string{"--set", "trainer.oodMargin=-1"}, false},
		"--set-json oodMargin=0":     {[]string{"--set-json", "trainer.oodMargin=0"}, false},
		"--set minMacroF1=1.5":       {[]string{"--set", "trainer.minMacroF1=1.5"}, false},
		"--set-json minMacroF1=1.5":  {[]string{"--set-json", "trainer.minMacroF1=1.5"}, false},
		"--set foreignCalibration=1": {[]string{"--set", "trainer.foreignCalibration=1"}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"template", "podclass", testenv.ChartDir(t), "--namespace", releaseNamespace}, tc.args...)
			out, err := testenv.RunHelm(t, args...)
			if tc.ok && err != nil {
				t.Fatalf("refused: %v\n%s", err, out)
			}
			if !tc.ok && (err == nil || !strings.Contains(err.Error()+string(out), "schema")) {
				t.Fatalf("accepted (err %v)", err)
			}
		})
	}
}

func TestCertModesRenderTheirOwnObjects(t *testing.T) {
	tests := map[string]struct {
		args         []string
		wantKinds    []string
		notKinds     []string
		wantInjectCA bool
		wantArg      string
	}{
		"self-managed certificates are the default": {
			wantKinds: []string{"Secret", "Role"}, notKinds: []string{"Certificate", "Issuer"},
			wantArg: "--cert-mode=self-managed",
		},
		"cert-manager certificates use a CA chain and the CA injector": {
			args:      []string{"--set", "certs.mode=certManager"},
			wantKinds: []string{"Certificate", "Issuer"}, wantInjectCA: true, wantArg: "--cert-mode=file",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			objs := testenv.RenderChart(t, releaseNamespace, tc.args...)
			for _, k := range tc.wantKinds {
				if len(testenv.Find(objs, k)) == 0 {
					t.Errorf("no %s rendered", k)
				}
			}
			for _, k := range tc.notKinds {
				if n := len(testenv.Find(objs, k)); n > 0 {
					t.Errorf("%d %s rendered, want none", n, k)
				}
			}
			whc := testenv.Find(objs, "MutatingWebhookConfiguration")[0]
			inject := whc.GetAnnotations()["cert-manager.io/inject-ca-from"]
			if want := releaseNamespace + "/podclass-webhook"; tc.wantInjectCA && inject != want {
				t.Errorf("inject-ca-from = %q, want %q", inject, want)
			} else if !tc.wantInjectCA && inject != "" {
				t.Errorf("inject-ca-from = %q, want none", inject)
			}
			args := webhookArgs(t, objs)
			if !slices.Contains(args, tc.wantArg) {
				t.Errorf("webhook args %v lack %s", args, tc.wantArg)
			}
			for _, c := range testenv.Find(objs, "Certificate") {
				cert := &cmapi.Certificate{}
				testenv.Convert(t, c, cert)
				if !cert.Spec.IsCA && !slices.Contains(cert.Spec.DNSNames, "podclass-webhook."+releaseNamespace+".svc") {
					t.Errorf("serving Certificate %s is not for the Service: %v", cert.Name, cert.Spec.DNSNames)
				}
			}
		})
	}
}

// webhookArgs returns the webhook container's arguments.
func webhookArgs(t *testing.T, objs []*unstructured.Unstructured) []string {
	t.Helper()
	for _, d := range testenv.Find(objs, "Deployment") {
		if d.GetName() != "podclass-webhook" {
			continue
		}
		ctrs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
		args, _, _ := unstructured.NestedStringSlice(ctrs[0].(map[string]any), "args")
		return args
	}
	t.Fatal("no webhook Deployment rendered")
	return nil
}

func TestRenderedWebhookIsTheOneTheE2ETestsUse(t *testing.T) {
	objs := testenv.RenderChart(t, releaseNamespace)
	got := testenv.ChartWebhook(t, objs, "127.0.0.1:1", nil).Webhooks[0]
	want := testenv.PodWebhook(releaseNamespace).Webhooks[0]
	for name, eq := range map[string]bool{
		"rules":                   equality.Semantic.DeepEqual(withoutScope(got.Rules), want.Rules),
		"failurePolicy":           *got.FailurePolicy == *want.FailurePolicy,
		"sideEffects":             *got.SideEffects == *want.SideEffects,
		"timeoutSeconds":          *got.TimeoutSeconds == *want.TimeoutSeconds,
		"reinvocationPolicy":      *got.ReinvocationPolicy == *want.ReinvocationPolicy,
		"admissionReviewVersions": slices.Equal(got.AdmissionReviewVersions, want.AdmissionReviewVersions),
		"namespaceSelector":       equality.Semantic.DeepEqual(got.NamespaceSelector, want.NamespaceSelector),
		"objectSelector":          equality.Semantic.DeepEqual(got.ObjectSelector, want.ObjectSelector),
	} {
		if !eq {
			t.Errorf("chart and webhook.Configuration differ in %s", name)
		}
	}
	if len(got.MatchConditions) == 0 {
		t.Error("the chart's webhook has no matchConditions example")
	}
}

func withoutScope(rules []admissionregistrationv1.RuleWithOperations) []admissionregistrationv1.RuleWithOperations {
	out := slices.Clone(rules)
	for i := range out {
		out[i].Scope = nil
	}
	return out
}

func TestAdmissionPolicyGuardsEveryResultAnnotation(t *testing.T) {
	objs := testenv.RenderChart(t, releaseNamespace)
	vap := &admissionregistrationv1.ValidatingAdmissionPolicy{}
	for _, o := range testenv.Find(objs, "ValidatingAdmissionPolicy") {
		if o.GetName() == "podclass-protect-results" {
			testenv.Convert(t, o, vap)
		}
	}
	for _, v := range vap.Spec.Variables {
		if v.Name != "resultKeys" {
			continue
		}
		var keys []string
		if err := json.Unmarshal([]byte(v.Expression), &keys); err != nil {
			t.Fatalf("resultKeys is not a JSON list of strings: %v", err)
		}
		if !slices.Equal(keys, api.ResultAnnotations) {
			t.Errorf("policy guards %v, api.ResultAnnotations is %v", keys, api.ResultAnnotations)
		}
		return
	}
	t.Fatal("policy has no resultKeys variable")
}

func TestChartFilesMatchTheBinary(t *testing.T) {
	tests := map[string]struct {
		file string
		want []byte
	}{
		"the rules ConfigMap ships the built-in rules": {"rules.yaml", imagerules.DefaultYAML()},
		"the model ConfigMap ships the embedded model": {"model.json.gz", classifier.DefaultModelJSON()},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := os.ReadFile(filepath.Join(testenv.ChartDir(t), "files", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(tc.file, ".gz") {
				zr, err := gzip.NewReader(bytes.NewReader(got))
				if err != nil {
					t.Fatal(err)
				}
				if got, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("charts/podclass/files/%s differs from the binary's copy: run hack/sync-chart-files.sh", tc.file)
			}
		})
	}
}

func TestRenderedObjectsAreAcceptedByTheAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	env := testenv.Start(t, testenv.Options{CRDDirectoryPaths: []string{testenv.CertManagerCRDs(t)}})
	ctx := context.Background()
	i := 0
	for name, args := range modes {
		t.Run(name, func(t *testing.T) {
			// Each install gets its own namespace and names: cluster-scoped objects would clash.
			i++
			ns := releaseNamespace + "-" + string(rune('a'+i))
			env.Namespace(t, ns, false)
			args = append(slices.Clone(args), "--set", "fullnameOverride=pc-"+string(rune('a'+i)))
			objs := testenv.RenderChart(t, ns, args...)
			// The apiserver compiles the policy's CEL when it is created; envtest
			// runs no controller-manager, so status.typeChecking stays empty and
			// the expressions are exercised by the policy's own test instead.
			if err := env.CreateAll(ctx, ns, objs); err != nil {
				t.Fatal(err)
			}
		})
	}
}
