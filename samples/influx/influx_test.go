package influx_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podclass/podclass/internal/harness/influxtest"
	"github.com/podclass/podclass/samples"
	"github.com/podclass/podclass/samples/influx"
	"github.com/podclass/podclass/samples/lineprotocol"
	"github.com/podclass/podclass/samples/samplestest"
)

func newInfluxSource(t *testing.T, srv *influxtest.Server, cfg influx.Config) (*influx.Source, *samplestest.CountingTransport) {
	t.Helper()
	ct := &samplestest.CountingTransport{Suffix: "/api/v2/query", Next: http.DefaultTransport}
	cfg.URL = srv.URL
	if cfg.Bucket == "" {
		cfg.Bucket = srv.Bucket()
	}
	cfg.HTTPClient = &http.Client{Transport: ct, Timeout: time.Minute}
	src, err := influx.NewSource(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	return src, ct
}

func TestInfluxSourceAgainstInfluxDB(t *testing.T) {
	srv := influxtest.Start(t)
	f := samplestest.NewFixture()
	srv.Write(f.LineProtocol())
	start, end := samplestest.Range()

	for name, bucket := range map[string]string{
		"bucket names database and retention policy": srv.Database + "/autogen",
		"bucket names only the database":             srv.Database,
	} {
		t.Run(name, func(t *testing.T) {
			src, ct := newInfluxSource(t, srv, influx.Config{Bucket: bucket})
			got, err := src.Windows(context.Background(), samplestest.Pods(), start, end)
			if err != nil {
				t.Fatal(err)
			}
			samplestest.AssertWindows(t, got, f.Want)
			if n := ct.Queries(); n != 1 {
				t.Errorf("%d queries for %d pods, want 1", n, len(samplestest.Pods()))
			}
		})
	}

	t.Run("sidecars left out: the main container's own series and the pod's network", func(t *testing.T) {
		src, _ := newInfluxSource(t, srv, influx.Config{Containers: samplestest.KeepMain})
		got, err := src.Windows(context.Background(), samplestest.Pods(), start, end)
		if err != nil {
			t.Fatal(err)
		}
		samplestest.AssertWindows(t, got, f.WantMain)
	})

	t.Run("the same data read from the line-protocol file gives the same windows", func(t *testing.T) {
		src, _ := newInfluxSource(t, srv, influx.Config{})
		fromInflux, err := src.Windows(context.Background(), samplestest.Pods(), start, end)
		if err != nil {
			t.Fatal(err)
		}
		mem, _, err := lineprotocol.Read(context.Background(), strings.NewReader(f.LineProtocol()), lineprotocol.Options{})
		if err != nil {
			t.Fatal(err)
		}
		fromFile, _ := mem.Windows(context.Background(), samplestest.Pods(), start, end)
		samplestest.AssertWindows(t, fromInflux, fromFile)
	})

	t.Run("pods are listed from every measurement", func(t *testing.T) {
		src, _ := newInfluxSource(t, srv, influx.Config{})
		pods, err := src.Pods(context.Background(), start, end)
		if err != nil {
			t.Fatal(err)
		}
		want := "[shop/db-0 shop/web-1 staging/web-1]"
		if got := fmt.Sprint(pods); got != want {
			t.Errorf("Pods = %s, want %s", got, want)
		}
	})

	t.Run("a cancelled context stops the query", func(t *testing.T) {
		src, _ := newInfluxSource(t, srv, influx.Config{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := src.Windows(ctx, samplestest.Pods(), start, end); err == nil {
			t.Error("no error from a cancelled context")
		}
	})

	t.Run("a wrong bucket is an error naming the batch", func(t *testing.T) {
		src, _ := newInfluxSource(t, srv, influx.Config{Bucket: "nosuchdb/autogen"})
		_, err := src.Windows(context.Background(), samplestest.Pods(), start, end)
		if err == nil || !strings.Contains(err.Error(), "influx: batch 1 of 1") {
			t.Errorf("err = %v, want a wrapped batch error", err)
		}
	})
}

func TestInfluxSourceBatchesManyPods(t *testing.T) {
	srv := influxtest.Start(t)
	const pods = 1200
	var lp strings.Builder
	keys := make([]samples.PodKey, 0, pods)
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < pods; i++ {
		k := samples.PodKey{Namespace: fmt.Sprintf("ns-%d", i%7), Name: fmt.Sprintf("pod-%04d.x", i)}
		keys = append(keys, k)
		for s := 0; s < 3; s++ {
			fmt.Fprintf(&lp, "kubernetes_pod_container,container_name=c,namespace=%s,pod_name=%s cpu_usage_nanocores=%di %d\n",
				k.Namespace, k.Name, i, t0.Add(time.Duration(s)*10*time.Second).UnixNano())
		}
	}
	// A pod whose name differs only where an unquoted "." would match.
	fmt.Fprintf(&lp, "kubernetes_pod_container,container_name=c,namespace=ns-0,pod_name=pod-0000yx cpu_usage_nanocores=1i %d\n", t0.UnixNano())
	srv.Write(lp.String())

	src, ct := newInfluxSource(t, srv, influx.Config{BatchSize: 500})
	got, err := src.Windows(context.Background(), append(keys, keys[:10]...), t0, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if n := ct.Queries(); n != 3 {
		t.Errorf("%d queries for %d pods at batch size 500, want 3", n, pods)
	}
	if len(got) != pods {
		t.Errorf("%d windows, want %d", len(got), pods)
	}
	for i, k := range keys {
		w := got[k]
		if w == nil || len(w.Samples) != 3 || w.Samples[2].CPUNanoCores != float64(i) {
			t.Fatalf("window of %v = %+v, want 3 samples of %d nanocores", k, w, i)
		}
	}
}

func TestInfluxSourceSurvivesAnOutage(t *testing.T) {
	srv := influxtest.Start(t)
	f := samplestest.NewFixture()
	srv.Write(f.LineProtocol())
	start, end := samplestest.Range()
	src, _ := newInfluxSource(t, srv, influx.Config{Timeout: 5 * time.Second})

	srv.Stop()
	if _, err := src.Windows(context.Background(), samplestest.Pods(), start, end); err == nil {
		t.Fatal("no error while InfluxDB is down")
	}
	srv.Restart()
	got, err := src.Windows(context.Background(), samplestest.Pods(), start, end)
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	samplestest.AssertWindows(t, got, f.Want)
}

// delayTransport holds every response of the real server for delay while on
// is set (unless the request's context ends first): a slow InfluxDB.
type delayTransport struct {
	next  http.RoundTripper
	delay time.Duration
	on    *atomic.Bool
}

func (d delayTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := d.next.RoundTrip(r)
	if err != nil || !d.on.Load() {
		return resp, err
	}
	select {
	case <-time.After(d.delay):
		return resp, nil
	case <-r.Context().Done():
		resp.Body.Close()
		return nil, r.Context().Err()
	}
}

// TestInfluxSourceSlowInfluxDB: the real influxd answers, but later than the
// source's timeout. The read fails with an error naming InfluxDB once the
// timeout has passed (not when the answer finally comes), and returns the
// same windows as before once the store is fast again.
func TestInfluxSourceSlowInfluxDB(t *testing.T) {
	srv := influxtest.Start(t)
	f := samplestest.NewFixture()
	srv.Write(f.LineProtocol())
	start, end := samplestest.Range()
	var slow atomic.Bool
	src, err := influx.NewSource(influx.Config{URL: srv.URL, Bucket: srv.Bucket(), Timeout: time.Second,
		HTTPClient: &http.Client{Transport: delayTransport{next: http.DefaultTransport, delay: 10 * time.Second, on: &slow}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)

	slow.Store(true)
	began := time.Now()
	_, err = src.Windows(context.Background(), samplestest.Pods(), start, end)
	took := time.Since(began)
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "influx") {
		t.Fatalf("slow store: error %v, want one naming InfluxDB", err)
	}
	if took > 5*time.Second {
		t.Fatalf("slow store: the read took %s, past its 1 s timeout", took)
	}
	slow.Store(false)
	got, err := src.Windows(context.Background(), samplestest.Pods(), start, end)
	if err != nil {
		t.Fatalf("fast again: %v", err)
	}
	samplestest.AssertWindows(t, got, f.Want)
}
