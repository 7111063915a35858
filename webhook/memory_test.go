package webhook_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/podclass/podclass/internal/harness/freeport"
	"github.com/podclass/podclass/internal/harness/testcerts"
	"github.com/podclass/podclass/webhook"
)

// memoryLimit is the chart's memory limit of the webhook container.
const memoryLimit = 128 << 20

// TestWebhookMemoryIsBoundedUnderLargeConcurrentReviews is issue 12's
// attack on the real binary over TLS: any in-cluster client that reaches the
// webhook port sends sixteen concurrent 6 MB AdmissionReviews, round after
// round. The process must stay under the chart's 128 MiB limit (it reached
// 395 MB) and keep answering an ordinary admission meanwhile. The binary runs
// as in the chart's container, whose cgroup limit it turns into its soft
// memory limit; here GOMEMLIMIT says the same.
func TestWebhookMemoryIsBoundedUnderLargeConcurrentReviews(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the podclass binary")
	}
	if runtime.GOOS != "linux" {
		t.Skip("reads the peak RSS from /proc")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "podclass")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "./cmd/podclass")
	build.Dir = ".." // the module root: tests run in their package directory
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building podclass: %v\n%s", err, out)
	}
	pool, err := testcerts.Write(dir, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	port, err := freeport.Loopback()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "webhook", "--cert-mode", "file", "--cert-dir", dir, "--host", "127.0.0.1",
		"--port", strconv.Itoa(port), "--health-probe-bind-address", "0", "--metrics-bind-address", "0")
	cmd.Env = append(os.Environ(), "GOMEMLIMIT="+strconv.FormatFloat(memoryLimit*webhook.MemoryLimitFraction, 'f', 0, 64))
	cmd.Stderr = &bytes.Buffer{}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("webhook stderr (tail):\n%s", tail(cmd.Stderr.(*bytes.Buffer).String(), 2000))
		}
	}()

	url := "https://127.0.0.1:" + strconv.Itoa(port) + webhook.Path
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxConnsPerHost: 64}}
	small := review(t, "ordinary", 0)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if code, _ := post(client, url, small); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the webhook did not start answering")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Half too large to be read at all, half just under the limit: those
	// are read and answered, two at a time.
	tooLarge, large := review(t, "too-large", 6<<20), review(t, "large", webhook.DefaultMaxReviewBytes-64<<10)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var ordinary []time.Duration
	var ordinaryFailures int
	wg.Add(1)
	go func() { // an ordinary pod keeps being admitted through the flood
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			start := time.Now()
			code, _ := post(client, url, small)
			if code != http.StatusOK {
				ordinaryFailures++
			}
			ordinary = append(ordinary, time.Since(start))
		}
	}()
	var flood sync.WaitGroup
	var mu sync.Mutex
	answered := map[int]int{}
	for i := range 16 {
		flood.Add(1)
		go func() {
			defer flood.Done()
			body := large
			if i%2 == 0 {
				body = tooLarge
			}
			for range 4 {
				code, _ := post(client, url, body)
				mu.Lock()
				answered[code]++
				mu.Unlock()
			}
		}()
	}
	flood.Wait()
	close(stop)
	wg.Wait()

	peak := peakRSS(t, cmd.Process.Pid)
	t.Logf("peak RSS %d MiB after 64 reviews of 4-6 MB, 16 at a time (answers by HTTP status: %v); %d ordinary admissions, %d failed",
		peak>>20, answered, len(ordinary), ordinaryFailures)
	if answered[http.StatusOK] == 0 {
		t.Errorf("no large review under the limit was answered: %v", answered)
	}
	if peak >= memoryLimit {
		t.Errorf("peak RSS %d MiB, want under the chart's limit of %d MiB", peak>>20, memoryLimit>>20)
	}
	if ordinaryFailures > 0 {
		t.Errorf("%d of %d ordinary admissions failed during the flood", ordinaryFailures, len(ordinary))
	}
	for _, d := range ordinary {
		if d > 2*time.Second {
			t.Errorf("an ordinary admission took %s during the flood, past the apiserver's 2 s timeout", d)
			break
		}
	}
}

// review is an AdmissionReview of a pod CREATE whose pod carries padding
// bytes in an annotation.
func review(t *testing.T, uid string, padding int) []byte {
	pod := corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: uid},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "redis:7"}}},
	}
	if padding > 0 {
		pod.Annotations = map[string]string{"padding": strings.Repeat("x", padding)}
	}
	raw, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{UID: types.UID("u-" + uid), Operation: admissionv1.Create, Namespace: "shop", Name: uid,
			Kind:     metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			Resource: metav1.GroupVersionResource(schema.GroupVersionResource{Version: "v1", Resource: "pods"}),
			Object:   k8sruntime.RawExtension{Raw: raw}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func post(c *http.Client, url string, body []byte) (int, error) {
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	_, _ = out.ReadFrom(resp.Body)
	return resp.StatusCode, nil
}

// peakRSS reads the process's high-water resident set size (VmHWM).
func peakRSS(t *testing.T, pid int) int {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
			kb, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
