package plugin

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/podclass/podclass/api"
)

// testNow is the clock every unit test's ages are counted from.
var testNow = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// podMeta is the metadata of a pod created ago before testNow.
func podMeta(ns, name string, ago time.Duration, labels, annotations map[string]string) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels, Annotations: annotations,
			UID: types.UID("uid-" + ns + "-" + name), CreationTimestamp: metav1.NewTime(testNow.Add(-ago))},
	}
}

// guess is what the webhook writes.
func guess(class, family, source, confidence, imageClass string) map[string]string {
	a := map[string]string{api.ClassAnnotation: class, api.StatusAnnotation: api.StatusPending, api.SourceAnnotation: source,
		api.ConfidenceAnnotation: confidence, api.ImageClassAnnotation: imageClass}
	if family != "" {
		a[api.FamilyAnnotation] = family
	}
	return a
}

// decision is what the refiner writes over the webhook's guess g, ago
// before testNow; an unclassified pod keeps the guess.
func decision(g map[string]string, status, class, family, confidence string, ago time.Duration, explanation string) map[string]string {
	a := map[string]string{}
	for k, v := range g {
		a[k] = v
	}
	a[api.StatusAnnotation] = status
	a[api.ClassifiedAtAnnotation] = testNow.Add(-ago).Format(time.RFC3339)
	a[api.ExplanationAnnotation] = explanation
	if status == api.StatusUnclassified {
		// The guess stays: class, family, source and confidence.
		return a
	}
	delete(a, api.FamilyAnnotation)
	a[api.ClassAnnotation], a[api.SourceAnnotation] = class, api.SourceMetrics
	a[api.ConfidenceAnnotation], a[api.ModelAnnotation] = confidence, "20261129T110621Z-9e6881858b01"
	if family != "" {
		a[api.FamilyAnnotation] = family
	}
	return a
}

// fixturePods are the pods the unit tests list: every status, every source.
func fixturePods() []runtime.Object {
	return []runtime.Object{
		podMeta("shop", "db", 7*time.Minute, map[string]string{"app": "db"},
			decision(guess("mysql", "database", "image", "0.95", "mysql"), "classified", "mysql", "database", "0.93", 5*time.Minute+3*time.Second,
				"classified mysql p=0.93 d=0.41 [process features]: log_processes=2.3<=3.1 → threads_per_process=12>4.5; farthest log_sockets z=2.1")),
		podMeta("shop", "cache", 30*time.Second, map[string]string{"app": "cache"}, guess("redis", "cache", "image", "0.95", "redis")),
		podMeta("shop", "ledger", 20*time.Minute, map[string]string{"app": "ledger"},
			decision(guess("redis", "cache", "ports", "0.60", "unknown"), "classified", "nginx", "web", "0.81", 18*time.Minute,
				"classified nginx p=0.81 d=0.52 [base features]: log_rx_bytes_rate=5.1>4.2")),
		podMeta("shop", "batch", 3*time.Hour, nil, nil),
		podMeta("backoffice", "web", 72*time.Hour, map[string]string{"app": "web"},
			decision(guess("unknown", "", "image", "0.00", "unknown"), "unknown", "unknown", "", "0.41", 48*time.Hour,
				"unknown unknown p=0.41 d=1.70 [process features] (predicted nginx); farthest log_rx_bytes_rate z=9.3")),
		podMeta("backoffice", "report", 15*time.Minute, nil,
			decision(guess("postgresql", "database", "ports", "0.60", "unknown"), "unclassified", "postgresql", "database", "0.60", 5*time.Minute,
				"no usable metrics within 10m0s")),
	}
}

// fakeClients serves objects: pod metadata to the metadata client, pods
// and Events to the core client.
func fakeClients(t *testing.T, metas []runtime.Object, core ...runtime.Object) clients {
	t.Helper()
	scheme := metadatafake.NewTestScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	return clients{metadata: metadatafake.NewSimpleMetadataClient(scheme, metas...), core: fake.NewClientset(core...).CoreV1()}
}

// kubeconfig writes a kubeconfig whose current context works in namespace
// (its server is never contacted: the clients are fakes).
func kubeconfig(t *testing.T, namespace string) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:1"}
	cfg.AuthInfos["test"] = &clientcmdapi.AuthInfo{Token: "unused"}
	cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "test", Namespace: namespace}
	cfg.CurrentContext = "test"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// run runs the plugin with args against c, in a kubeconfig whose context
// works in namespace shop, at testNow.
func run(t *testing.T, c clients, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	o := &options{
		configFlags: genericclioptions.NewConfigFlags(false),
		IOStreams:   genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		now:         func() time.Time { return testNow },
		clients:     func() (clients, error) { return c, nil },
	}
	cmd := newCommand(o)
	cmd.SetArgs(append([]string{"--kubeconfig", kubeconfig(t, "shop")}, args...))
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// lines trims a table literal: the leading newline, and each line's tabs of indentation.
func lines(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimPrefix(s, "\n"), "\n") {
		b.WriteString(strings.TrimLeft(l, "\t"))
		b.WriteString("\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}
