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

// BenchmarkAdmissionHTTP is one admission through controller-runtime's HTTP
// handler (AdmissionReview decode, our handler, patch encode), without TLS.
func BenchmarkAdmissionHTTP(b *testing.B) {
	wh := &crwebhook.Admission{Handler: NewPodAnnotator(imagerules.Default())}
	body := []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","kind":{"version":"v1","kind":"Pod"},"resource":{"version":"v1","resource":"pods"},"operation":"CREATE","namespace":"shop","object":{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"db-","namespace":"shop","labels":{"app":"db"},"annotations":{"team":"shop"}},"spec":{"containers":[{"name":"istio-proxy","image":"docker.io/istio/proxyv2:1.22.0"},{"name":"db","image":"docker.io/bitnami/mysql:8.0.36","env":[{"name":"MYSQL_DATABASE","value":"shop"}]}]}}}}`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		wh.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}
