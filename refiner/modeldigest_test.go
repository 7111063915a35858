package refiner

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/internal/harness/testenv"
	"github.com/podclass/podclass/modelstore"
)

// TestTheRefinerServesOnlyModelsTheTrainerPublished: whoever can edit the
// model ConfigMap (a namespace admin) could serve any model that passes
// validation. With RequireDigest the refiner serves the chart's shipped
// default or a model whose SHA-256 matches the digest annotation only the
// trainer may write (the chart's policy, TestOnlyTheTrainerWritesTheModelDigest).
func TestTheRefinerServesOnlyModelsTheTrainerPublished(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := context.Background()
	const ns, name = "podclass-system", "podclass-model"
	env.Namespace(t, ns, false)
	def, err := classifier.Default()
	if err != nil {
		t.Fatal(err)
	}
	versioned := func(t *testing.T, v string) []byte {
		old := def.Manifest().ModelVersion
		s := strings.Replace(string(classifier.DefaultModelJSON()), `"model_version": "`+old+`"`, `"model_version": "`+v+`"`, 1)
		if s == string(classifier.DefaultModelJSON()) {
			s = strings.Replace(s, `"model_version":"`+old+`"`, `"model_version":"`+v+`"`, 1)
		}
		if s == string(classifier.DefaultModelJSON()) {
			t.Fatalf("could not rewrite the model version %q", old)
		}
		return []byte(s)
	}
	holder := NewModelHolder(def)
	l := &ModelLoader{Client: env.Client, Holder: holder, Recorder: events.NewFakeRecorder(100), Namespace: ns, Name: name,
		Load: func(b []byte) (Model, error) { return classifier.Load(b) }, RequireDigest: true}
	reconcile := func(t *testing.T) {
		t.Helper()
		if _, err := l.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: name}}); err != nil {
			t.Fatal(err)
		}
	}
	configMap := func(t *testing.T) *corev1.ConfigMap {
		t.Helper()
		cm := &corev1.ConfigMap{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, cm); err != nil {
			t.Fatal(err)
		}
		return cm
	}
	steps := []struct {
		name string
		do   func(t *testing.T)
		want string // the version in use after it
	}{
		{"the chart's default model, shipped without a digest, is served", func(t *testing.T) {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
				BinaryData: map[string][]byte{modelstore.GzipKey: modelstore.Compress(classifier.DefaultModelJSON())}} // as the chart renders it
			if err := env.Client.Create(ctx, cm); err != nil {
				t.Fatal(err)
			}
		}, def.Manifest().ModelVersion},
		{"a model the trainer published is served", func(t *testing.T) {
			m, err := classifier.Load(versioned(t, "trained-1"))
			if err != nil {
				t.Fatal(err)
			}
			// The first publication, over the chart's default model.
			if err := modelstore.Publish(ctx, env.Client, ns, name, m); err != nil {
				t.Fatal(err)
			}
		}, "trained-1"},
		{"a model edited in the ConfigMap after the trainer published is refused", func(t *testing.T) {
			cm := configMap(t)
			cm.BinaryData[modelstore.GzipKey] = modelstore.Compress(versioned(t, "tampered-2"))
			if err := env.Client.Update(ctx, cm); err != nil {
				t.Fatal(err)
			}
		}, "trained-1"},
		{"a model written without a digest is refused", func(t *testing.T) {
			cm := configMap(t)
			delete(cm.Annotations, modelstore.DigestAnnotation)
			cm.BinaryData[modelstore.GzipKey] = modelstore.Compress(versioned(t, "tampered-3"))
			if err := env.Client.Update(ctx, cm); err != nil {
				t.Fatal(err)
			}
		}, "trained-1"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.do(t)
			reconcile(t)
			if v := holder.Version(); v != s.want {
				t.Errorf("model in use %q, want %q", v, s.want)
			}
		})
	}
}
