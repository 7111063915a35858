package modelstore

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/internal/harness/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// fullSize returns the embedded default model (the chart ships it; 0.8 MB)
// with another version, as a trainer run over the default would publish.
func fullSize(t *testing.T, version string) *classifier.Classifier {
	t.Helper()
	m, err := classifier.Default()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	doc["manifest"].(map[string]any)["model_version"] = version
	if raw, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	if m, err = classifier.Load(raw); err != nil {
		t.Fatal(err)
	}
	if m.Manifest().ModelVersion != version {
		t.Fatalf("version %q, want %q", m.Manifest().ModelVersion, version)
	}
	return m
}

// TestPublishAFullSizeModelOverAFullSizeModel: the trainer's first run over
// the chart's shipped model used to fail — the new model and
// previous-model.json together exceed the apiserver's 1 MiB ConfigMap limit
// (the model JSON is 2.9 MB since corpus v2, so the chart ships it
// compressed too). Through the real apiserver: the chart's ConfigMap, then
// two publications, each keeping the model it replaced.
func TestPublishAFullSizeModelOverAFullSizeModel(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := context.Background()
	env.Namespace(t, ns, false)
	def, err := classifier.Default()
	if err != nil {
		t.Fatal(err)
	}
	shipped := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		BinaryData: map[string][]byte{GzipKey: Compress(classifier.DefaultModelJSON())}} // as the chart renders it
	if err := env.Client.Create(ctx, shipped); err != nil {
		t.Fatal(err)
	}
	prev := def.Manifest().ModelVersion
	for _, v := range []string{"trained-1", "trained-2"} {
		m := fullSize(t, v)
		if err := Publish(ctx, env.Client, ns, name, m); err != nil {
			t.Fatalf("publishing %s over %s: %v", v, prev, err)
		}
		cm := &corev1.ConfigMap{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, cm); err != nil {
			t.Fatal(err)
		}
		got, err := Decode(cm)
		if err != nil || got.Manifest().ModelVersion != v {
			t.Fatalf("after publishing %s the ConfigMap holds %v, %v", v, got, err)
		}
		if cm.Annotations[VersionAnnotation] != v {
			t.Errorf("version annotation %q, want %q", cm.Annotations[VersionAnnotation], v)
		}
		if p, err := DecodePrevious(cm); err != nil || p.Manifest().ModelVersion != prev {
			t.Errorf("previous model %v, %v; want %s", p, err, prev)
		}
		prev = v
	}
}
