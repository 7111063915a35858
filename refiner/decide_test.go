package refiner

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/samples"
)

func TestDecideAndPatch(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	pending := waiting{Key: samples.PodKey{Namespace: "ns", Name: "p"}, UID: "uid-1", Annotated: true, HasLabels: true,
		Annotations: map[string]string{api.ClassAnnotation: "mysql", api.FamilyAnnotation: "database", api.StatusAnnotation: api.StatusPending, api.SourceAnnotation: api.SourceImage}}
	missed := waiting{Key: samples.PodKey{Namespace: "ns", Name: "q"}, UID: "uid-2", ResourceVersion: "42"}
	tests := map[string]struct {
		pod      waiting
		res      classifier.Result
		label    bool
		want     map[string]string
		wantOps  []string // "op path" in order, after the two tests
		preconds []string
	}{
		"a classified pending pod gets the behaviour's class": {
			pod: pending, res: classifier.Result{Status: classifier.StatusClassified, Class: "redis", Family: "cache", Confidence: 0.91},
			want:     map[string]string{api.ClassAnnotation: "redis", api.FamilyAnnotation: "cache", api.StatusAnnotation: "classified", api.SourceAnnotation: "metrics", api.ConfidenceAnnotation: "0.91", api.ModelAnnotation: "v1"},
			preconds: []string{"test /metadata/uid", "test /metadata/annotations/podclass.io~1status"},
		},
		"an abstention removes the image family": {
			pod: pending, res: classifier.Result{Status: classifier.StatusUnknown, Class: "unknown", Confidence: 0.3},
			want:    map[string]string{api.ClassAnnotation: "unknown", api.StatusAnnotation: "unknown", api.SourceAnnotation: "metrics"},
			wantOps: []string{"remove /metadata/annotations/podclass.io~1family"},
		},
		"an unclassified pod keeps its image guess": {
			pod: pending, res: classifier.Result{Status: classifier.StatusUnclassified},
			want: map[string]string{api.StatusAnnotation: "unclassified"},
		},
		"a backfilled pod is guarded by its resourceVersion and gets every key": {
			pod: missed, res: classifier.Result{Status: classifier.StatusClassified, Class: "nginx", Family: "web", Confidence: 0.8},
			want:     map[string]string{api.ClassAnnotation: "nginx", api.ImageClassAnnotation: "unknown", api.StatusAnnotation: "classified"},
			preconds: []string{"test /metadata/uid", "test /metadata/resourceVersion"},
			wantOps:  []string{"add /metadata/annotations"},
		},
		"a backfilled pod carrying forged keys has every result key written or removed": {
			pod: waiting{Key: samples.PodKey{Namespace: "ns", Name: "f"}, UID: "uid-3", ResourceVersion: "7", Annotations: map[string]string{
				api.ClassAnnotation: "mysql", api.SourceAnnotation: api.SourceMetrics, api.ConfidenceAnnotation: "0.99",
				api.FamilyAnnotation: "database", api.ContainerClassesAnnotation: "main=mysql", api.ModelAnnotation: "forged"}},
			res:  classifier.Result{Status: classifier.StatusUnclassified},
			want: map[string]string{api.ClassAnnotation: "unknown", api.SourceAnnotation: "image", api.ConfidenceAnnotation: "0.00", api.StatusAnnotation: "unclassified"},
			wantOps: []string{"remove /metadata/annotations/podclass.io~1family", "remove /metadata/annotations/podclass.io~1container-classes",
				"remove /metadata/annotations/podclass.io~1model", "add /metadata/annotations/podclass.io~1class"},
		},
		"the class label is written when asked": {
			pod: pending, label: true, res: classifier.Result{Status: classifier.StatusClassified, Class: "redis", Family: "cache", Confidence: 0.9},
			wantOps: []string{"add /metadata/labels/podclass.io~1class"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := decide(tc.pod, tc.res, "why", "v1", now, tc.label)
			for k, v := range tc.want {
				if d.Annotations[k] != v {
					t.Errorf("annotation %s = %q, want %q (all %v)", k, d.Annotations[k], v, d.Annotations)
				}
			}
			if tc.res.Status == classifier.StatusUnclassified && tc.pod.Annotated {
				if _, ok := d.Annotations[api.ClassAnnotation]; ok {
					t.Errorf("an unclassified decision overwrote the image class: %v", d.Annotations)
				}
			}
			raw, err := d.patch()
			if err != nil {
				t.Fatal(err)
			}
			var ops []struct{ Op, Path string }
			if err := json.Unmarshal(raw, &ops); err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for i, o := range ops {
				seen[o.Op+" "+o.Path] = true
				if o.Op == "test" && i > 1 {
					t.Errorf("a test operation after the changes: %s", raw)
				}
			}
			for _, want := range append(tc.preconds, tc.wantOps...) {
				if !seen[want] {
					t.Errorf("patch lacks %q: %s", want, raw)
				}
			}
		})
	}
}
