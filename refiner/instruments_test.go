package refiner

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/modelstore"
	"github.com/podclass/podclass/samples"
)

// TestTickExportsBacklogAndDuration: every tick, failed ones too, sets the
// backlog and the age of its oldest pod and is timed; an empty backlog has
// age 0. The alerts on a stuck backlog and the tick-duration panel read them.
func TestTickExportsBacklogAndDuration(t *testing.T) {
	model, err := classifier.Default()
	if err != nil {
		t.Fatal(err)
	}
	down := sourceFunc(func(context.Context, []samples.PodKey, time.Time, time.Time) (map[samples.PodKey]*samples.Window, error) {
		return nil, errors.New("metrics store unreachable")
	})
	r, _ := New(DefaultOptions(), fake.NewClientBuilder().Build(), down, NewModelHolder(model), nil)
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	r.Clock = clocktesting.NewFakeClock(now)
	for name, age := range map[string]time.Duration{"old": 7 * time.Minute, "new": time.Minute} {
		r.tracker.track(waiting{Key: samples.PodKey{Namespace: "ns", Name: name}, UID: types.UID("u-" + name), Created: now.Add(-age), Annotated: true,
			Annotations: map[string]string{api.StatusAnnotation: api.StatusPending}})
	}

	ticks, errs := gatheredValue(t, "podclass_refiner_tick_duration_seconds"), gatheredValue(t, "podclass_refiner_metrics_query_errors_total")
	if _, err := r.Tick(context.Background()); err == nil {
		t.Fatal("a tick whose metrics read failed returned no error")
	}
	if v := gatheredValue(t, "podclass_refiner_pending_pods"); v != 2 {
		t.Errorf("podclass_refiner_pending_pods = %v, want 2", v)
	}
	if v := gatheredValue(t, "podclass_refiner_oldest_pending_pod_age_seconds"); v != (7 * time.Minute).Seconds() {
		t.Errorf("podclass_refiner_oldest_pending_pod_age_seconds = %v, want %v", v, (7 * time.Minute).Seconds())
	}
	if d := gatheredValue(t, "podclass_refiner_tick_duration_seconds") - ticks; d != 1 {
		t.Errorf("a failed tick was timed %v times, want 1", d)
	}
	if d := gatheredValue(t, "podclass_refiner_metrics_query_errors_total") - errs; d != 1 {
		t.Errorf("a failed tick counted %v query errors, want 1", d)
	}

	r.tracker.forget(samples.PodKey{Namespace: "ns", Name: "old"})
	r.tracker.forget(samples.PodKey{Namespace: "ns", Name: "new"})
	if _, err := r.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v := gatheredValue(t, "podclass_refiner_oldest_pending_pod_age_seconds"); v != 0 {
		t.Errorf("podclass_refiner_oldest_pending_pod_age_seconds = %v with no pod waiting, want 0", v)
	}
	if d := gatheredValue(t, "podclass_refiner_tick_duration_seconds") - ticks; d != 2 {
		t.Errorf("two ticks were timed %v times", d)
	}
}

// TestModelRejectedFollowsTheConfigMap: the gauge holds 1 while the model
// ConfigMap holds a model the refiner refused, so the alert lasts as long as
// the problem (the counter of rejections alone would be missed when a
// replica refuses it before its first scrape), and 0 again once a good model
// is in the ConfigMap.
func TestModelRejectedFollowsTheConfigMap(t *testing.T) {
	def, err := classifier.Default()
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "podclass-system", Name: "podclass-model"},
		BinaryData: map[string][]byte{modelstore.GzipKey: modelstore.Compress([]byte(`{"not":"a model"}`))}}
	c := fake.NewClientBuilder().WithObjects(cm).Build()
	l := &ModelLoader{Client: c, Holder: NewModelHolder(def), Namespace: cm.Namespace, Name: cm.Name,
		Load: func(b []byte) (Model, error) { return classifier.Load(b) }}
	reconcile := func() {
		t.Helper()
		if _, err := l.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(cm)}); err != nil {
			t.Fatal(err)
		}
	}

	rejections := gatheredValue(t, "podclass_refiner_model_rejections_total")
	reconcile()
	if v := gatheredValue(t, "podclass_refiner_model_rejected"); v != 1 {
		t.Errorf("podclass_refiner_model_rejected = %v with a corrupt model in the ConfigMap, want 1", v)
	}
	if d := gatheredValue(t, "podclass_refiner_model_rejections_total") - rejections; d != 1 {
		t.Errorf("%v rejections counted, want 1", d)
	}
	if v := l.Holder.Version(); v != def.Manifest().ModelVersion {
		t.Errorf("model in use %q after a rejection, want the previous %q", v, def.Manifest().ModelVersion)
	}

	cm.BinaryData[modelstore.GzipKey] = modelstore.Compress(classifier.DefaultModelJSON())
	if err := c.Update(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
	reconcile()
	if v := gatheredValue(t, "podclass_refiner_model_rejected"); v != 0 {
		t.Errorf("podclass_refiner_model_rejected = %v once the ConfigMap holds a good model, want 0", v)
	}
}

// gatheredValue reads an unlabelled metric from controller-runtime's
// registry, as /metrics serves it: a gauge's or counter's value, a
// histogram's sample count.
func gatheredValue(t *testing.T, name string) float64 {
	t.Helper()
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		if len(f.GetMetric()) != 1 {
			t.Fatalf("%s has %d series, want 1", name, len(f.GetMetric()))
		}
		m := f.GetMetric()[0]
		switch {
		case m.GetHistogram() != nil:
			return float64(m.GetHistogram().GetSampleCount())
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue()
		default:
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("%s is not registered on controller-runtime's metrics registry", name)
	return 0
}
