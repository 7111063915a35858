package refiner

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/internal/harness/testenv"
	"github.com/podclass/podclass/samples"
)

// sourceFunc adapts a function to samples.Source.
type sourceFunc func(ctx context.Context, pods []samples.PodKey, start, end time.Time) (map[samples.PodKey]*samples.Window, error)

func (f sourceFunc) Windows(ctx context.Context, pods []samples.PodKey, start, end time.Time) (map[samples.PodKey]*samples.Window, error) {
	return f(ctx, pods, start, end)
}

// webhookGuess is what the webhook writes on a redis pod.
func webhookGuess() map[string]string {
	return map[string]string{api.ClassAnnotation: "redis", api.FamilyAnnotation: "cache", api.StatusAnnotation: api.StatusPending,
		api.SourceAnnotation: api.SourceImage, api.ConfidenceAnnotation: "0.95", api.ImageClassAnnotation: "redis"}
}

// TestAPodIsNeverWedged reproduces issue 12's wedged pods on the real
// apiserver: a decision the apiserver refuses as invalid (422) was taken for
// a failed guard, so the pod was re-read, re-tracked and stayed pending
// forever while patch_errors_total did not move; and a window whose samples
// carry no metric at all was decided from imputed values.
func TestAPodIsNeverWedged(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := context.Background()
	env.Namespace(t, "shop", true)
	createPod := func(t *testing.T, name string) *corev1.Pod {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, Annotations: webhookGuess()},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "redis:7"}}},
		}
		if err := env.Client.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	status := func(t *testing.T, p *corev1.Pod) string {
		got := &corev1.Pod{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(p), got); err != nil {
			t.Fatal(err)
		}
		return got.Annotations[api.StatusAnnotation]
	}

	t.Run("a patch refused as invalid is a patch error, and the pod is given up with an Event", func(t *testing.T) {
		p := createPod(t, "invalid")
		rec := events.NewFakeRecorder(10)
		r, pods := New(DefaultOptions(), env.Client, nil, nil, rec)
		r.Live = env.Client
		req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(p)}
		before := patchErrorCount(t)
		for i := 1; i <= maxPatchFailures; i++ {
			if _, err := pods.Reconcile(ctx, req); err != nil {
				t.Fatal(err)
			}
			ws := r.tracker.snapshot()
			if len(ws) != 1 {
				t.Fatalf("attempt %d: %d pods tracked, want the pod", i, len(ws))
			}
			// A 300 KB model version: the pod's annotations would exceed 256 KiB.
			d := decide(ws[0], classifier.Result{Status: classifier.StatusClassified, Class: "redis", Confidence: 0.9}, "", strings.Repeat("v", 300<<10), time.Now(), false)
			if decided, failed := r.apply(ctx, []decision{d}, time.Now()); decided != 0 || failed != 1 {
				t.Fatalf("attempt %d: decided %d, failed %d; want one failure", i, decided, failed)
			}
			if n := patchErrorCount(t) - before; n != float64(i) {
				t.Fatalf("attempt %d: %v patch errors counted, want %d", i, n, i)
			}
		}
		if _, err := pods.Reconcile(ctx, req); err != nil {
			t.Fatal(err)
		}
		if n := r.tracker.len(); n != 0 {
			t.Errorf("after %d failed patches the pod is still tracked", maxPatchFailures)
		}
		select {
		case e := <-rec.Events:
			if !strings.Contains(e, "Warning ClassificationFailed") {
				t.Errorf("event %q, want a ClassificationFailed warning", e)
			}
		default:
			t.Errorf("no event says the pod was given up")
		}
		if s := status(t, p); s != api.StatusPending {
			t.Errorf("status %q after refused patches, want pending (nothing written)", s)
		}
	})

	t.Run("a window with no usable metric is unclassified, never decided", func(t *testing.T) {
		// A model as permissive as validation allows: it would name anything.
		var f map[string]any
		if err := json.Unmarshal(classifier.DefaultModelJSON(), &f); err != nil {
			t.Fatal(err)
		}
		th := f["manifest"].(map[string]any)["thresholds"].(map[string]any)
		th["class"], th["family"], th["ood_margin"], th["min_samples"] = 0.01, 0.01, 100.0, 1.0
		raw, _ := json.Marshal(f)
		model, err := classifier.Load(raw)
		if err != nil {
			t.Fatal(err)
		}
		p := createPod(t, "blank")
		src := sourceFunc(func(_ context.Context, keys []samples.PodKey, _, _ time.Time) (map[samples.PodKey]*samples.Window, error) {
			out := map[samples.PodKey]*samples.Window{}
			for _, k := range keys {
				w := &samples.Window{Pod: k}
				for i := range 6 {
					w.Samples = append(w.Samples, samples.NewSample(p.CreationTimestamp.Add(time.Duration(2+10*i)*time.Second)))
				}
				out[k] = w
			}
			return out, nil
		})
		o := DefaultOptions()
		r, pods := New(o, env.Client, src, NewModelHolder(model), events.NewFakeRecorder(10))
		r.Live = env.Client
		clock := clocktesting.NewFakeClock(p.CreationTimestamp.Add(70 * time.Second))
		r.Clock = clock
		if _, err := pods.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(p)}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if s := status(t, p); s != api.StatusPending {
			t.Fatalf("a pod whose samples carry no metric was decided %q before its timeout", s)
		}
		clock.SetTime(p.CreationTimestamp.Add(o.Timeout + time.Second))
		if _, err := r.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if s := status(t, p); s != api.StatusUnclassified {
			t.Errorf("status %q after the timeout, want unclassified", s)
		}
	})
}
