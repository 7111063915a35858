package refiner

import (
	"context"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/samples"
)

// testFailed is the apiserver's answer to a JSON patch whose `test` fails.
var testFailed = apierrors.NewGenericServerResponse(http.StatusUnprocessableEntity, "", schema.GroupResource{}, "",
	"testing value /metadata/annotations/podclass.io~1status failed: test failed", 0, false)

// TestWriteOutcomes drives one decision's patch into each answer the API
// server can give: the tracker keeps the pod only when a retry can help.
func TestWriteOutcomes(t *testing.T) {
	key := samples.PodKey{Namespace: "ns", Name: "p"}
	gr := schema.GroupResource{Resource: "pods"}
	tests := map[string]struct {
		err      error
		live     map[string]string // the pod's annotations as the API server has them
		kept     bool
		failures int
	}{
		"a patch that lands forgets the pod":                         {err: nil},
		"a pod deleted meanwhile is forgotten":                       {err: apierrors.NewNotFound(gr, "p")},
		"a failed guard on a pod another replica decided forgets it": {err: testFailed, live: map[string]string{api.StatusAnnotation: api.StatusClassified}},
		"a patch refused as invalid keeps the pod, counted":          {err: apierrors.NewInvalid(schema.GroupKind{Kind: "Pod"}, "p", nil), live: map[string]string{api.StatusAnnotation: api.StatusPending}, kept: true, failures: 1},
		"a conflict on a pod that still waits keeps it, refreshed":   {err: apierrors.NewConflict(gr, "p", nil), live: map[string]string{api.StatusAnnotation: api.StatusPending}, kept: true},
		"a failed guard on a pod deleted meanwhile forgets it":       {err: apierrors.NewConflict(gr, "p", nil)},
		"an unavailable API server keeps the pod for the next tick":  {err: apierrors.NewServiceUnavailable("restarting"), kept: true, failures: 1},
		"a timeout keeps the pod for the next tick":                  {err: apierrors.NewTimeoutError("slow", 1), kept: true, failures: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			patches := 0
			c := fake.NewClientBuilder().WithInterceptorFuncs(interceptor.Funcs{
				Patch: func(ctx context.Context, _ client.WithWatch, obj client.Object, _ client.Patch, _ ...client.PatchOption) error {
					patches++
					return tc.err
				},
			}).Build()
			r, _ := New(DefaultOptions(), c, nil, nil, nil)
			live := []client.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns", Labels: map[string]string{api.EnabledLabel: "true"}}}}
			if tc.live != nil {
				pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", UID: "u", Annotations: tc.live}}
				if tc.live[api.StatusAnnotation] != api.StatusPending {
					pod.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: FieldOwner, Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1", FieldsType: "FieldsV1",
						FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:annotations":{"f:podclass.io/status":{}}}}`)}}}
				}
				live = append(live, pod)
			}
			r.Live = fake.NewClientBuilder().WithObjects(live...).WithReturnManagedFields().Build()
			w := waiting{Key: key, UID: "u", Created: time.Now().Add(-time.Minute), Annotated: true,
				Annotations: map[string]string{api.StatusAnnotation: api.StatusPending}}
			r.tracker.track(w)
			d := decide(w, classifier.Result{Status: classifier.StatusClassified, Class: "redis", Confidence: 0.9}, "", "v1", time.Now(), false)
			decided, failed := r.apply(context.Background(), []decision{d}, time.Now())
			if patches != 1 {
				t.Fatalf("%d patches sent, want 1", patches)
			}
			if kept := r.tracker.len() == 1; kept != tc.kept {
				t.Errorf("pod still tracked = %v, want %v", kept, tc.kept)
			}
			if failed != tc.failures || decided+failed != 1 {
				t.Errorf("decided %d, failed %d; want %d failures of 1", decided, failed, tc.failures)
			}
		})
	}
}

// TestTickCutShort cancels a tick's context — the replica lost its lease or
// is shutting down — before or during its patches: no patch is sent after
// the cancellation, one cut short is no patch error, and the pod stays
// pending for the next leader.
func TestTickCutShort(t *testing.T) {
	tests := map[string]struct {
		cancelDuringPatch bool
		sent, failed      int
	}{
		"cancelled before the patches sends none":           {},
		"a patch cut short by the cancellation is no error": {cancelDuringPatch: true, sent: 1, failed: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sent := 0
			c := fake.NewClientBuilder().WithInterceptorFuncs(interceptor.Funcs{
				Patch: func(ctx context.Context, _ client.WithWatch, _ client.Object, _ client.Patch, _ ...client.PatchOption) error {
					sent++
					cancel()
					return ctx.Err()
				},
			}).Build()
			r, _ := New(DefaultOptions(), c, nil, nil, nil)
			w := waiting{Key: samples.PodKey{Namespace: "ns", Name: "p"}, UID: "u", Created: time.Now().Add(-time.Minute), Annotated: true,
				Annotations: map[string]string{api.StatusAnnotation: api.StatusPending}}
			r.tracker.track(w)
			d := decide(w, classifier.Result{Status: classifier.StatusClassified, Class: "redis", Confidence: 0.9}, "", "v1", time.Now(), false)
			if !tc.cancelDuringPatch {
				cancel()
			}
			errorsBefore := patchErrorCount(t)
			decided, failed := r.apply(ctx, []decision{d}, time.Now())
			if sent != tc.sent || decided != 0 || failed != tc.failed {
				t.Errorf("%d patches sent, %d decided, %d failed; want %d sent, 0 decided, %d failed", sent, decided, failed, tc.sent, tc.failed)
			}
			if n := patchErrorCount(t) - errorsBefore; n != 0 {
				t.Errorf("%v patch errors counted for a cancelled tick", n)
			}
			if r.tracker.len() != 1 {
				t.Errorf("the pod was forgotten; it must stay pending for the next leader")
			}
		})
	}
}

// patchErrorCount reads podclass_refiner_patch_errors_total.
func patchErrorCount(t *testing.T) float64 {
	t.Helper()
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "podclass_refiner_patch_errors_total" {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("podclass_refiner_patch_errors_total is not registered")
	return 0
}
