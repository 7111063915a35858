package webhook

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/podclass/podclass/imagerules"
)

// FuzzAdmissionReview feeds arbitrary bodies through the same HTTP handler
// the server registers: decoding, handling and encoding must never panic, and
// every answer that is an admission response allows the pod.
func FuzzAdmissionReview(f *testing.F) {
	seeds := []string{
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","kind":{"version":"v1","kind":"Pod"},"operation":"CREATE","object":{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"mysql:8"}]}}}}`,
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"2","kind":{"version":"v1","kind":"Pod"},"operation":"CREATE","object":{"metadata":{"annotations":{"podclass.io/class":"x"}},"spec":{"containers":[{"name":"c","image":"Bad Ref"}]}}}}`,
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"3","kind":{"group":"apps","version":"v1","kind":"Deployment"},"operation":"CREATE","object":{}}}`,
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"4","kind":{"version":"v1","kind":"Pod"},"operation":"CREATE"}}`,
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`,
		`{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"5"}}`,
		`[]`, `null`, ``, `{"request":{"object":"x"}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	wh := &crwebhook.Admission{Handler: NewPodAnnotator(imagerules.Default())}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(body)).WithContext(context.Background())
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		wh.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d for body %q", rec.Code, body)
		}
	})
}
