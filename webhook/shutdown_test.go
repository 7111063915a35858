package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/podclass/podclass/internal/harness/freeport"
	"github.com/podclass/podclass/internal/harness/testcerts"
)

// TestRunDrainsInFlightAdmissionsOnShutdown cancels Run while an admission
// is being answered: the answer must still reach the caller (the apiserver
// would otherwise see a broken connection for a pod it is creating).
func TestRunDrainsInFlightAdmissionsOnShutdown(t *testing.T) {
	dir := t.TempDir()
	pool, err := testcerts.Write(dir, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	port, err := freeport.Loopback()
	if err != nil {
		t.Fatal(err)
	}

	entered := make(chan struct{})
	slow := admission.HandlerFunc(func(ctx context.Context, req admission.Request) admission.Response {
		close(entered)
		time.Sleep(500 * time.Millisecond) // an admission still being answered at shutdown
		return admission.Allowed("late but answered")
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Host: "127.0.0.1", Port: port, CertDir: dir, CertName: "tls.crt", KeyName: "tls.key", ProbeAddr: "0", MetricsAddr: "0"}, slow, nil)
	}()
	url := "https://127.0.0.1:" + strconv.Itoa(port) + Path
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	body, _ := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request:  &admissionv1.AdmissionRequest{UID: "drain", Operation: admissionv1.Create},
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port), &tls.Config{InsecureSkipVerify: true})
		if err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	type result struct {
		review admissionv1.AdmissionReview
		err    error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		var r admissionv1.AdmissionReview
		got <- result{review: r, err: json.NewDecoder(resp.Body).Decode(&r)}
	}()
	<-entered
	cancel() // shutdown while the admission is in flight
	r := <-got
	if r.err != nil {
		t.Fatalf("the in-flight admission was cut off by shutdown: %v", r.err)
	}
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}
