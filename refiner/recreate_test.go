package refiner

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/samples"
)

// TestAPodRecreatedUnderTheSameNameIsDecidedAfresh: a StatefulSet's pod
// deleted and created again keeps its name but is a new pod — new UID, new
// creation time, new behaviour. The refiner must decide the new incarnation
// from its own samples only, guard the patch with the new UID, and never
// carry over what it knew of the old one: its decision, its pending record,
// its refused patches.
func TestAPodRecreatedUnderTheSameNameIsDecidedAfresh(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	t1 := t0.Add(2 * time.Minute) // the second incarnation's creation
	key := samples.PodKey{Namespace: "shop", Name: "db-0"}
	// The store holds both incarnations' samples under the one name: the
	// first behaved like class "old" (CPU 1), the second like "new" (CPU 2).
	w := &samples.Window{Pod: key}
	for i := 1; i <= 6; i++ {
		for _, inc := range []struct {
			at  time.Time
			cpu float64
		}{{t0, 1}, {t1, 2}} {
			s := samples.NewSample(inc.at.Add(time.Duration(i) * 10 * time.Second))
			s.CPUNanoCores = inc.cpu
			w.Samples = append(w.Samples, s)
		}
	}
	src := samples.NewMemory(map[samples.PodKey]*samples.Window{key: w})

	tests := map[string]struct {
		// firstDecided: the first incarnation was decided before it was
		// replaced; otherwise it was still waiting.
		firstDecided bool
		// firstGivenUp: every patch of the first incarnation was refused.
		firstGivenUp bool
	}{
		"recreated after its decision":                {firstDecided: true},
		"recreated while it waited":                   {},
		"recreated after its every patch was refused": {firstGivenUp: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{api.EnabledLabel: "true"}}}
			var patches []patchBody
			// An older pod without metrics waits through both ticks, so each
			// tick's query reaches back before the new incarnation was created.
			silent := samples.PodKey{Namespace: "shop", Name: "silent-0"}
			c := fake.NewClientBuilder().WithObjects(ns, pendingPod(key, "uid-1", t0), pendingPod(silent, "uid-s", t0.Add(-time.Second))).WithInterceptorFuncs(interceptor.Funcs{
				Patch: func(_ context.Context, _ client.WithWatch, obj client.Object, p client.Patch, _ ...client.PatchOption) error {
					data, err := p.Data(obj)
					if err != nil {
						return err
					}
					patches = append(patches, decodePatch(t, data))
					return nil
				},
			}).Build()
			model := &recordingModel{}
			o := DefaultOptions()
			r, pods := New(o, c, src, NewModelHolder(model), nil)
			clock := clocktesting.NewFakeClock(t0.Add(70 * time.Second))
			r.Clock = clock
			reconcile := func(k samples.PodKey) {
				t.Helper()
				if _, err := pods.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: k.Namespace, Name: k.Name}}); err != nil {
					t.Fatal(err)
				}
			}
			reconcile(silent)
			reconcile(key)

			switch {
			case tc.firstDecided:
				if _, err := r.Tick(ctx); err != nil {
					t.Fatal(err)
				}
				if len(patches) != 1 || patches[0].uid != "uid-1" || model.cpu(0) != 1 {
					t.Fatalf("the first incarnation: patches %+v, model saw CPU %v; want one patch for uid-1 from its CPU-1 samples", patches, model.seen)
				}
			case tc.firstGivenUp:
				for range maxPatchFailures {
					r.tracker.refused(key, "uid-1")
				}
				if r.Waiting() != 1 {
					t.Fatal("the first incarnation was not given up")
				}
			}

			// The StatefulSet controller deletes and creates db-0 again.
			if err := c.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}); err != nil {
				t.Fatal(err)
			}
			if err := c.Create(ctx, pendingPod(key, "uid-2", t1)); err != nil {
				t.Fatal(err)
			}
			reconcile(key)
			if r.Waiting() != 2 {
				t.Fatalf("%d pods waiting after db-0 was recreated, want the new incarnation and silent-0", r.Waiting())
			}
			before := len(patches)
			clock.SetTime(t1.Add(70 * time.Second))
			if _, err := r.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			if got := patches[before:]; len(got) != 1 || got[0].uid != "uid-2" {
				t.Fatalf("patches for the new incarnation %+v, want exactly one guarded by uid-2", got)
			}
			last := model.seen[len(model.seen)-1]
			for _, s := range last {
				if s.CPUNanoCores != 2 || s.Time.Before(t1) {
					t.Errorf("the new incarnation was decided from a sample at %s with CPU %v: its predecessor's behaviour", s.Time, s.CPUNanoCores)
				}
			}
			if len(last) != 6 {
				t.Errorf("the new incarnation was decided from %d samples, want its own 6", len(last))
			}
			if got := patches[len(patches)-1].annotations[api.ClassAnnotation]; got != "new" {
				t.Errorf("the new incarnation was decided %q, want \"new\" (its own behaviour)", got)
			}
			if r.Waiting() != 1 {
				t.Errorf("%d pods waiting after the decision, want silent-0 only", r.Waiting())
			}
		})
	}
}

// pendingPod is a pod as the webhook left it: pending, guessed from its image.
func pendingPod(key samples.PodKey, uid types.UID, created time.Time) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Namespace: key.Namespace, Name: key.Name, UID: uid, CreationTimestamp: metav1.NewTime(created),
		Labels: map[string]string{"app": "db"},
		Annotations: map[string]string{api.StatusAnnotation: api.StatusPending, api.ClassAnnotation: "mysql",
			api.ImageClassAnnotation: "mysql", api.SourceAnnotation: api.SourceImage, api.ConfidenceAnnotation: "0.95"},
	}}
}

// recordingModel decides "old" from samples with CPU 1 and "new" from CPU 2,
// and keeps every window it was asked about.
type recordingModel struct{ seen [][]samples.Sample }

func (m *recordingModel) Explain(w *samples.Window) classifier.Explanation {
	m.seen = append(m.seen, w.Samples)
	class := "old"
	if m.cpu(len(m.seen)-1) == 2 {
		class = "new"
	}
	return classifier.Explanation{Result: classifier.Result{Status: classifier.StatusClassified, Class: class, Confidence: 0.9}}
}

// cpu is the CPU of the first sample of the i-th window seen.
func (m *recordingModel) cpu(i int) float64 {
	if i >= len(m.seen) || len(m.seen[i]) == 0 {
		return -1
	}
	return m.seen[i][0].CPUNanoCores
}

func (m *recordingModel) Thresholds() classifier.Thresholds {
	return classifier.Thresholds{MinSamples: 3, WindowSamples: 6}
}

func (m *recordingModel) Manifest() classifier.Manifest {
	return classifier.Manifest{ModelVersion: "test"}
}

// patchBody is what a refiner patch tests and writes.
type patchBody struct {
	uid         string
	annotations map[string]string
}

func decodePatch(t *testing.T, data []byte) patchBody {
	t.Helper()
	var ops []struct {
		Op    string `json:"op"`
		Path  string `json:"path"`
		Value any    `json:"value"`
	}
	if err := json.Unmarshal(data, &ops); err != nil {
		t.Fatalf("patch %s: %v", data, err)
	}
	b := patchBody{annotations: map[string]string{}}
	for _, op := range ops {
		switch {
		case op.Op == "test" && op.Path == "/metadata/uid":
			b.uid = fmt.Sprint(op.Value)
		case op.Op == "add":
			for k := range api.ResultAnnotations {
				if op.Path == api.AnnotationPath(api.ResultAnnotations[k]) {
					b.annotations[api.ResultAnnotations[k]] = fmt.Sprint(op.Value)
				}
			}
		}
	}
	return b
}
