package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/internal/harness/freeport"
	"github.com/podclass/podclass/internal/harness/localcluster"
	"github.com/podclass/podclass/internal/harness/replay"
	"github.com/podclass/podclass/internal/harness/tools"
	"github.com/podclass/podclass/samples"
	"github.com/podclass/podclass/samples/lineprotocol"
	"github.com/podclass/podclass/webhook"
)

func main() {
	n := flag.Int("pods", 10000, "Pending pods to create (at most 20000).")
	qps := flag.Int("kube-api-qps", 200, "The refiner's --kube-api-qps.")
	bin := flag.String("podclass", "bin/podclass", "The podclass binary to run as the refiner.")
	corpus := flag.String("corpus", "testdata/corpus/metrics.lp", "Recorded samples to play.")
	deadline := flag.Duration("deadline", 15*time.Minute, "Give up after this long.")
	through := flag.Bool("through-webhook", false, "Create the pods through podclass's webhook (served in this process) and report the admission latency the apiserver measured.")
	flag.Parse()
	ctrl.SetLogger(logr.Discard())
	if *n <= 0 || *n > 20000 {
		fmt.Fprintln(os.Stderr, "bench-refiner: --pods must be in [1, 20000]")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *deadline)
	defer cancel()
	if err := run(ctx, *n, *qps, *bin, *corpus, *through); err != nil {
		fmt.Fprintln(os.Stderr, "bench-refiner:", err)
		os.Exit(1)
	}
}

func logf(start time.Time, format string, a ...any) {
	fmt.Printf("[%6.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, a...))
}

func run(ctx context.Context, n, qps int, bin, corpus string, through bool) error {
	start := time.Now()
	mem, _, err := lineprotocol.LoadFile(ctx, corpus, lineprotocol.Options{})
	if err != nil {
		return err
	}
	var recordings [][]samples.Sample
	for _, w := range mem.All() {
		if len(w.Samples) >= 6 {
			recordings = append(recordings, w.Samples[:6])
		}
	}
	if len(recordings) == 0 {
		return fmt.Errorf("no recording with 6 samples in %s", corpus)
	}

	lo := localcluster.Options{Influxd: tools.Influxd()}
	if through {
		lo.Webhooks = append(lo.Webhooks, localcluster.PodWebhook("podclass-system"))
	}
	cluster, err := localcluster.Start(lo)
	if err != nil {
		return err
	}
	defer cluster.Stop()
	cfg, influx := cluster.Config, cluster.Influx
	if through {
		webhook.TuneGC()
		stopWebhook, err := cluster.ServeWebhook()
		if err != nil {
			return err
		}
		defer stopWebhook()
	}
	cfg.QPS, cfg.Burst = 1000, 2000
	kube, err := client.New(cfg, client.Options{})
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "bench-refiner-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for ns, optIn := range map[string]bool{"podclass-system": false, "bench": true} {
		if err := cluster.Namespace(ctx, ns, optIn); err != nil {
			return err
		}
	}
	logf(start, "control plane and InfluxDB up")

	// Pods as the webhook leaves them: pending with an image guess.
	created := make([]time.Time, n)
	var wg sync.WaitGroup
	var next atomic.Int64
	var firstErr atomic.Value
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: fmt.Sprintf("pod-%05d", i),
					Annotations: map[string]string{api.StatusAnnotation: api.StatusPending, api.ClassAnnotation: "unknown", api.SourceAnnotation: api.SourceImage}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "ghcr.io/acme/app:1"}}}}
				if through {
					p.Annotations = nil // the webhook writes them
					p.Spec.Containers = []corev1.Container{{Name: "istio-proxy", Image: "istio/proxyv2:1.22"}, {Name: "main", Image: []string{"mysql:8", "redis:7", "nginx:1.27", "ghcr.io/acme/app:1"}[i%4]}}
				}
				if err := kube.Create(ctx, p); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				created[i] = p.CreationTimestamp.Time
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return fmt.Errorf("creating pods: %w", err)
	}
	logf(start, "created %d pods (%s)", n, time.Since(start).Round(time.Second))
	if through {
		if err := admissionLatency(ctx, cfg); err != nil {
			return err
		}
		if counts, err := statuses(ctx, kube); err != nil || counts[api.StatusPending] != n {
			return fmt.Errorf("the webhook marked %v of %d pods pending (%v)", counts, n, err)
		}
	}

	var lp strings.Builder
	last := time.Time{}
	for i := 0; i < n; i++ {
		b, err := replay.Encode(samples.DefaultSchema(), samples.PodKey{Namespace: "bench", Name: fmt.Sprintf("pod-%05d", i)}, recordings[i%len(recordings)], created[i].Add(2*time.Second))
		if err != nil {
			return err
		}
		lp.Write(b)
		if lp.Len() > 8<<20 {
			if err := influx.Write(lp.String()); err != nil {
				return err
			}
			lp.Reset()
		}
		if end := created[i].Add(75 * time.Second); end.After(last) {
			last = end
		}
	}
	if err := influx.Write(lp.String()); err != nil {
		return err
	}
	logf(start, "wrote %d samples; waiting until every pod's 6th sample is in the past (%s)", 6*n, time.Until(last).Round(time.Second))
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Until(last)):
	}
	fluxBefore, err := fluxQueries(influx.URL)
	if err != nil {
		return err
	}

	kubeconfig, err := writeKubeconfig(cluster.Env, cfg, dir)
	if err != nil {
		return err
	}
	metricsPort, err := freeport.Loopback()
	if err != nil {
		return err
	}
	logPath := filepath.Join(dir, "refiner.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.CommandContext(ctx, bin, "refiner", "--namespace", "podclass-system",
		"--influx-url", influx.URL, "--influx-database", influx.Bucket(), "--leader-elect=false", "--interval", "10s",
		"--kube-api-qps", strconv.Itoa(qps), "--kube-api-burst", strconv.Itoa(2*qps), "--workers", "16",
		"--health-probe-bind-address", "0", "--metrics-bind-address", "127.0.0.1:"+strconv.Itoa(metricsPort))
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	refinerStart := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	logf(start, "refiner started (pid %d)", cmd.Process.Pid)

	var decidedAt time.Duration
	peak := 0
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("not all pods decided: %w (refiner log: %s)", ctx.Err(), logPath)
		case <-time.After(2 * time.Second):
		}
		if rss := vmHWM(cmd.Process.Pid); rss > peak {
			peak = rss
		}
		counts, err := statuses(ctx, kube)
		if err != nil {
			return err
		}
		done := counts[api.StatusClassified] + counts[api.StatusUnknown] + counts[api.StatusUnclassified]
		logf(start, "decided %d/%d %v", done, n, counts)
		if done == n {
			decidedAt = time.Since(refinerStart)
			break
		}
	}
	fluxAfter, err := fluxQueries(influx.URL)
	if err != nil {
		return err
	}
	ticks, err := scrape(metricsPort, "podclass_refiner_metrics_query_duration_seconds_count")
	if err != nil {
		return err
	}
	qsum, _ := scrape(metricsPort, "podclass_refiner_metrics_query_duration_seconds_sum")
	if rss := vmHWM(cmd.Process.Pid); rss > peak {
		peak = rss
	}
	queries := fluxAfter - fluxBefore
	fmt.Printf("\nresult: %d pending pods decided in %s after the refiner started (metrics all present at its start)\n", n, decidedAt.Round(time.Second))
	fmt.Printf("  ticks with a metrics read: %.0f, Flux queries: %d (%.2f per tick per batch of up to 500 pods), metrics read time per tick: %.1fs\n",
		ticks, queries, float64(queries)/ticks/math.Ceil(float64(n)/500), qsum/ticks)
	fmt.Printf("  refiner peak RSS (VmHWM): %d MiB\n", peak/1024)
	return nil
}

func statuses(ctx context.Context, kube client.Client) (map[string]int, error) {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("PodList"))
	if err := kube.List(ctx, list, client.InNamespace("bench")); err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, p := range list.Items {
		out[p.Annotations[api.StatusAnnotation]]++
	}
	return out, nil
}

// fluxQueries reads InfluxDB's own count of Flux queries served.
func fluxQueries(base string) (int, error) {
	resp, err := http.Get(base + "/debug/vars")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var vars map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&vars); err != nil {
		return 0, err
	}
	total := 0
	for k, raw := range vars {
		if !strings.HasPrefix(k, "httpd") {
			continue
		}
		var s struct {
			Values map[string]float64 `json:"values"`
		}
		if json.Unmarshal(raw, &s) == nil {
			total += int(s.Values["fluxQueryReq"])
		}
	}
	return total, nil
}

func scrape(port int, name string) (float64, error) {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			return strconv.ParseFloat(f[1], 64)
		}
	}
	return 0, fmt.Errorf("metric %s not found", name)
}

// vmHWM is a process's peak resident set in KiB.
func vmHWM(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			v, _ := strconv.Atoi(strings.Fields(line)[1])
			return v
		}
	}
	return 0
}

func writeKubeconfig(env *envtest.Environment, cfg *rest.Config, dir string) (string, error) {
	u, err := env.AddUser(envtest.User{Name: "refiner", Groups: []string{"system:masters"}}, cfg)
	if err != nil {
		return "", err
	}
	b, err := u.KubeConfig()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "kubeconfig")
	return path, os.WriteFile(path, b, 0o600)
}

// admissionLatency prints what the apiserver measured for our webhook:
// apiserver_admission_webhook_admission_duration_seconds{name="pods.podclass.io"}.
func admissionLatency(ctx context.Context, cfg *rest.Config) error {
	rc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	resp, err := rc.Get(strings.TrimSuffix(cfg.Host, "/") + "/metrics")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var buckets []struct{ le, n float64 }
	var count, sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_admission_webhook_admission_duration_seconds") || !strings.Contains(line, `name="`+webhook.WebhookName+`"`) || !strings.Contains(line, `rejected="false"`) {
			continue
		}
		f := strings.Fields(line)
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		switch {
		case strings.Contains(line, "_bucket{"):
			i := strings.Index(line, `le="`) + 4
			le, _ := strconv.ParseFloat(line[i:i+strings.IndexByte(line[i:], '"')], 64)
			if strings.Contains(line, `le="+Inf"`) {
				le = math.Inf(1)
			}
			buckets = append(buckets, struct{ le, n float64 }{le, v})
		case strings.Contains(line, "_count"):
			count = v
		case strings.Contains(line, "_sum"):
			sum = v
		}
	}
	if count == 0 {
		return fmt.Errorf("the apiserver recorded no admission for %s", webhook.WebhookName)
	}
	q := func(p float64) string {
		for _, b := range buckets {
			if b.n >= p*count {
				return fmt.Sprintf("<= %gs", b.le)
			}
		}
		return "?"
	}
	fmt.Printf("  apiserver-measured admission latency of %s: %0.f calls, mean %.2f ms, p50 %s, p99 %s (histogram buckets)\n",
		webhook.WebhookName, count, 1000*sum/count, q(0.5), q(0.99))
	return nil
}
