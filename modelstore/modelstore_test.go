package modelstore

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/classifier/classifiertest"
)

const ns, name = "podclass-system", "podclass-model"

func configMap(data map[string]string, binary map[string][]byte) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data, BinaryData: binary}
}

// trained returns a small model trained on synthetic pods, and its file.
func trained(t *testing.T) (*classifier.Classifier, []byte) {
	t.Helper()
	keys, labels, wins := classifiertest.Pods([]string{"db", "cache", "web"}, 4, 8, 1)
	var examples []classifier.Example
	for i := range keys {
		examples = append(examples, classifier.Example{Pod: keys[i], Class: labels[i], Window: wins[i]})
	}
	cfg := classifier.DefaultTrainConfig()
	cfg.Forest.Trees = 5
	m, err := classifier.Train(examples, cfg)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return m, raw
}

func TestTheGateSeesTheModelTheRefinerServes(t *testing.T) {
	want, def := trained(t)
	tests := map[string]struct {
		cm      *corev1.ConfigMap
		wantNil bool
	}{
		"a model under data is seen":                      {cm: configMap(map[string]string{Key: string(def)}, nil)},
		"a model under binaryData is seen (it is served)": {cm: configMap(nil, map[string][]byte{Key: def})},
		"a ConfigMap without the key holds no model":      {cm: configMap(map[string]string{"other": "x"}, nil), wantNil: true},
		"no ConfigMap holds no model":                     {wantNil: true},
	}
	for tn, tc := range tests {
		t.Run(tn, func(t *testing.T) {
			b := fake.NewClientBuilder()
			if tc.cm != nil {
				b = b.WithObjects(tc.cm)
				// What the refiner would serve from this ConfigMap.
				served, _ := Data(tc.cm)
				if tc.wantNil != (served == nil) {
					t.Fatalf("refiner serves %d bytes", len(served))
				}
			}
			c := b.Build()
			got, err := Current(context.Background(), c, ns, name)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantNil {
				if got != nil {
					t.Fatalf("gate compares with %s, want none", got.Manifest().ModelVersion)
				}
				return
			}
			if got == nil || got.Manifest().ModelVersion != want.Manifest().ModelVersion {
				t.Fatalf("gate compares with %v, want %s", got, want.Manifest().ModelVersion)
			}
			// The gate's reference, as `podclass train --publish-configmap` picks it.
			ref, err := Reference(context.Background(), "", func() (client.Reader, error) { return c, nil }, ns, name, io.Discard)
			if err != nil || ref == nil || ref.Manifest().ModelVersion != want.Manifest().ModelVersion {
				t.Fatalf("reference %v, %v", ref, err)
			}
		})
	}
}

func TestPublishOverABinaryDataModelMovesItToPrevious(t *testing.T) {
	m, def := trained(t)
	c := fake.NewClientBuilder().WithObjects(configMap(nil, map[string][]byte{Key: def})).Build()
	m.SetEvaluation(json.RawMessage(`{"macro_f1": 1}`)) // another model file than the stored one
	if err := Publish(context.Background(), c, ns, name, m); err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, cm); err != nil {
		t.Fatal(err)
	}
	if _, dup := cm.BinaryData[Key]; dup {
		t.Error("the model key is left under binaryData too (the apiserver refuses a key in both)")
	}
	if prev, err := value(cm, PreviousKey, PreviousGzipKey); err != nil || string(prev) != string(def) {
		t.Errorf("the replaced binaryData model is not kept as the previous model: %v", err)
	}
	if got, err := Decode(cm); err != nil || got.Manifest().ModelVersion != m.Manifest().ModelVersion {
		t.Errorf("decoded %v, %v", got, err)
	}
	if cm.Annotations[VersionAnnotation] != m.Manifest().ModelVersion {
		t.Errorf("version annotation %q", cm.Annotations[VersionAnnotation])
	}
}

func TestDataReadsOneModelInOneFormat(t *testing.T) {
	bomb := Compress(make([]byte, MaxModelBytes+1))
	tests := map[string]struct {
		cm      *corev1.ConfigMap
		want    string
		wantErr string
	}{
		"plain JSON under data (the chart's shipped model)": {cm: configMap(map[string]string{Key: "{}"}, nil), want: "{}"},
		"plain JSON under binaryData":                       {cm: configMap(nil, map[string][]byte{Key: []byte("{}")}), want: "{}"},
		"gzip under binaryData (what Publish writes)":       {cm: configMap(nil, map[string][]byte{GzipKey: Compress([]byte("{}"))}), want: "{}"},
		"no model":                          {cm: configMap(map[string]string{"other": "x"}, nil), wantErr: "missing"},
		"a model in two places is refused":  {cm: configMap(map[string]string{Key: "{}"}, map[string][]byte{GzipKey: Compress([]byte("[]"))}), wantErr: "keep one"},
		"gzip under data is refused":        {cm: configMap(map[string]string{GzipKey: "{}"}, nil), wantErr: "must be under binaryData"},
		"a .gz key that is not gzip":        {cm: configMap(nil, map[string][]byte{GzipKey: []byte("{}")}), wantErr: "not gzip"},
		"a model that decompresses too far": {cm: configMap(nil, map[string][]byte{GzipKey: bomb}), wantErr: "more than"},
	}
	for tn, tc := range tests {
		t.Run(tn, func(t *testing.T) {
			got, err := Data(tc.cm)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
