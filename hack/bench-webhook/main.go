package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/podclass/podclass/imagerules"
	"github.com/podclass/podclass/internal/harness/freeport"
	"github.com/podclass/podclass/internal/harness/testcerts"
	"github.com/podclass/podclass/webhook"
)

func main() {
	rate := flag.Int("rate", 2000, "Requests per second.")
	duration := flag.Duration("duration", 60*time.Second, "How long to send at --rate (bounded: at most 10m).")
	conns := flag.Int("connections", 8, "Concurrent keep-alive TLS connections (as an apiserver keeps).")
	findMax := flag.Bool("find-max", false, "Step the rate up until p99 exceeds --p99 and report the highest rate under it.")
	p99 := flag.Duration("p99", 10*time.Millisecond, "p99 target for --find-max.")
	step := flag.Duration("step-duration", 10*time.Second, "Duration of each --find-max step.")
	flag.Parse()
	ctrl.SetLogger(logr.Discard())
	webhook.TuneGC() // as `podclass webhook` does
	if *duration > 10*time.Minute || *duration <= 0 || *rate <= 0 || *conns <= 0 {
		fmt.Fprintln(os.Stderr, "bench-webhook: --rate, --connections must be positive and --duration in (0, 10m]")
		os.Exit(2)
	}
	if err := run(*rate, *duration, *conns, *findMax, *p99, *step); err != nil {
		fmt.Fprintln(os.Stderr, "bench-webhook:", err)
		os.Exit(1)
	}
}

func run(rate int, duration time.Duration, conns int, findMax bool, p99 time.Duration, step time.Duration) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, err := os.MkdirTemp("", "bench-webhook-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	pool, err := testcerts.Write(dir, "127.0.0.1")
	if err != nil {
		return err
	}
	port, err := freeport.Loopback()
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		done <- webhook.Run(ctx, webhook.Options{Host: "127.0.0.1", Port: port, CertDir: dir, CertName: "tls.crt", KeyName: "tls.key", ProbeAddr: "0", MetricsAddr: "0"},
			webhook.NewPodAnnotator(imagerules.Default()), nil)
	}()
	url := "https://127.0.0.1:" + strconv.Itoa(port) + webhook.Path
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, ForceAttemptHTTP2: false,
	}}
	if err := waitUp(client, url); err != nil {
		return err
	}
	body, err := review()
	if err != nil {
		return err
	}
	fmt.Printf("webhook %s, %d connections, GOMAXPROCS-bound server in this process\n", url, conns)
	if !findMax {
		r := load(client, url, body, rate, duration, conns)
		r.print(rate, duration)
	} else {
		best := 0
		for r := 1000; r <= 50000; r += 1000 {
			res := load(client, url, body, r, step, conns)
			res.print(r, step)
			if res.errors > 0 || res.pct(0.99) > p99 {
				break
			}
			best = r
		}
		fmt.Printf("highest rate with p99 < %s and no errors: %d req/s\n", p99, best)
	}
	cancel()
	return <-done
}

type result struct {
	lat    []time.Duration // from when the request was due
	rtt    []time.Duration // from when it was sent
	lag    []time.Duration // from due to sent: the generator's own delay
	errors int64
	sent   int64
}

func (r *result) pct(q float64) time.Duration { return pct(r.lat, q) }

func pct(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(q*float64(len(d))))]
}

func (r *result) print(rate int, d time.Duration) {
	fmt.Printf("rate %6d/s for %s: sent %d ok %d errors %d  p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n",
		rate, d, r.sent, len(r.lat), r.errors, r.pct(0.5), r.pct(0.9), r.pct(0.99), r.pct(0.999), r.pct(1))
	fmt.Printf("   round trip from send: p50 %s  p99 %s  max %s; generator lag (due to send): p50 %s  p99 %s\n",
		pct(r.rtt, 0.5), pct(r.rtt, 0.99), pct(r.rtt, 1), pct(r.lag, 0.5), pct(r.lag, 0.99))
}

// load sends rate requests per second for d, each due at its own instant.
// Worker w sends requests w, w+W, w+2W, … each at its due time, so no
// dispatcher sits between the schedule and the send; a worker still busy
// when its next request falls due sends it late, and that lateness counts.
func load(client *http.Client, url string, body []byte, rate int, d time.Duration, conns int) *result {
	total := int(float64(rate) * d.Seconds())
	interval := time.Second / time.Duration(rate)
	workers := conns * 16
	res := &result{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs, sent atomic.Int64
	start := time.Now().Add(50 * time.Millisecond)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var local, rtt, lag []time.Duration
			for i := w; i < total; i += workers {
				at := start.Add(time.Duration(i) * interval)
				if wait := time.Until(at); wait > 0 {
					time.Sleep(wait)
				}
				sent.Add(1)
				t0 := time.Now()
				if err := post(client, url, body); err != nil {
					errs.Add(1)
					continue
				}
				end := time.Now()
				local, rtt, lag = append(local, end.Sub(at)), append(rtt, end.Sub(t0)), append(lag, t0.Sub(at))
			}
			mu.Lock()
			res.lat, res.rtt, res.lag = append(res.lat, local...), append(res.rtt, rtt...), append(res.lag, lag...)
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	for _, d := range [][]time.Duration{res.lat, res.rtt, res.lag} {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	}
	res.errors, res.sent = errs.Load(), sent.Load()
	return res
}

func post(client *http.Client, url string, body []byte) error {
	resp, err := client.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out admissionv1.AdmissionReview
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK || out.Response == nil || !out.Response.Allowed || len(out.Response.Patch) == 0 {
		return errors.New("unexpected answer")
	}
	return nil
}

// review is a realistic AdmissionReview: a two-container pod with a sidecar.
func review() ([]byte, error) {
	pod := corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{GenerateName: "shop-db-", Namespace: "shop", Labels: map[string]string{"app": "shop-db"}, Annotations: map[string]string{"team": "shop"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "istio-proxy", Image: "docker.io/istio/proxyv2:1.22.0"},
			{Name: "db", Image: "docker.io/bitnami/mysql:8.0.36", Env: []corev1.EnvVar{{Name: "MYSQL_DATABASE", Value: "shop"}}},
		}},
	}
	raw, err := json.Marshal(pod)
	if err != nil {
		return nil, err
	}
	return json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{UID: "bench", Operation: admissionv1.Create, Namespace: "shop",
			Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}, Resource: metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
			Object: runtime.RawExtension{Raw: raw}},
	})
}

func waitUp(client *http.Client, url string) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("webhook at %s did not come up", url)
}
