package refiner_test

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/internal/harness/testenv"
)

// TestRefinerDistrustsResultsItDidNotWrite stores forged results the way a
// tenant could where the chart's admission policy is not installed (it
// needs Kubernetes 1.30, and may be turned off): the refiner must neither
// keep a decision it did not make nor launder a forgery into its own.
func TestRefinerDistrustsResultsItDidNotWrite(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.startRefiner(false)
	// The forged class is one no recording of the test is decided as.
	forged := map[string]string{api.ClassAnnotation: "forged", api.SourceAnnotation: api.SourceMetrics,
		api.ConfidenceAnnotation: "0.99", api.FamilyAnnotation: "database"}
	var class string
	for c := range f.rec {
		class = c
		break
	}
	createForged := func(t *testing.T, ns, name string, annotations map[string]string) *corev1.Pod {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: annotations},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: images[class]}}},
		}
		if err := f.env.Client.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		return p
	}

	t.Run("a pod that opts in later with a decision it never made is decided afresh", func(t *testing.T) {
		f.t = t
		f.env.Namespace(t, "forged-late", false)
		a := maps.Clone(forged)
		a[api.StatusAnnotation], a[api.ModelAnnotation] = api.StatusClassified, "forged-model"
		p := createForged(t, "forged-late", "opted-in-later", a)
		f.play(p, f.rec[class][0])
		f.ageTo(p, 70*time.Second)
		f.optIn("forged-late")
		var got map[string]string
		want := f.model.Manifest().ModelVersion
		ok := false
		deadline := time.Now().Add(20 * time.Second)
		for !ok && time.Now().Before(deadline) {
			got = f.annotations(p)
			ok = got[api.ModelAnnotation] == want
			time.Sleep(50 * time.Millisecond)
		}
		if !ok || got[api.StatusAnnotation] != api.StatusClassified || got[api.ClassAnnotation] != f.rec[class][0].want {
			t.Fatalf("annotations %v; want the pod decided afresh as %s by model %s", got, f.rec[class][0].want, want)
		}
		testenv.WaitFor(t, 10*time.Second, "a Classified event saying a forged result was replaced", func() (bool, error) {
			for _, e := range f.events("forged-late", p.Name, "Classified") {
				if strings.Contains(e.Note, "replaced a result podclass did not write") {
					return true, nil
				}
			}
			return false, nil
		})
	})

	t.Run("a backfilled pod without metrics has every result key written by podclass", func(t *testing.T) {
		f.t = t
		f.env.Namespace(t, "forged-silent", false)
		a := maps.Clone(forged)
		a[api.ContainerClassesAnnotation] = "main=forged"
		p := createForged(t, "forged-silent", "laundered", a)
		f.optIn("forged-silent")
		f.ageTo(p, testTimeout+time.Second)
		got := f.waitStatus(p, api.StatusUnclassified)
		want := map[string]string{api.ClassAnnotation: api.ClassUnknown, api.StatusAnnotation: api.StatusUnclassified,
			api.SourceAnnotation: api.SourceImage, api.ConfidenceAnnotation: "0.00", api.ImageClassAnnotation: api.ClassUnknown}
		for _, k := range api.ResultAnnotations {
			if k == api.ClassifiedAtAnnotation || k == api.ExplanationAnnotation {
				if got[k] == "" {
					t.Errorf("%s missing: %v", k, got)
				}
				continue
			}
			if got[k] != want[k] {
				t.Errorf("%s = %q, want %q (all %v)", k, got[k], want[k], got)
			}
		}
	})
}
