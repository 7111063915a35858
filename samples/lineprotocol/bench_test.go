package metrics

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/podclass/podclass/metrics/influxtest"
)

// benchData is telegraf output for pods × steps: two containers, network,
// and blkio (a total and a per-device row per container) per pod and step,
// plus an unrelated measurement, as a node's telegraf writes it.
func benchData(pods, steps int) ([]byte, []PodKey) {
	var b bytes.Buffer
	keys := make([]PodKey, pods)
	for p := range keys {
		keys[p] = PodKey{Namespace: fmt.Sprintf("team-%d", p%10), Name: fmt.Sprintf("app-%d-7d9f8c6b5-x%04d", p%37, p)}
	}
	for s := 0; s < steps; s++ {
		ts := fixtureStart.Add(time.Duration(s) * DefaultInterval).UnixNano()
		fmt.Fprintf(&b, "cpu,cpu=cpu-total,host=node-1 usage_idle=97.5,usage_user=1.5,usage_system=1 %d\n", ts)
		for p, k := range keys {
			for c, ctr := range []string{"app", "istio-proxy"} {
				fmt.Fprintf(&b, "kubernetes_pod_container,container_name=%s,host=node-1,namespace=%s,node_name=node-1,pod_name=%s cpu_usage_core_nanoseconds=%di,cpu_usage_nanocores=%di,logsfs_available_bytes=1000000000i,logsfs_capacity_bytes=2000000000i,logsfs_used_bytes=%di,memory_major_page_faults=%di,memory_page_faults=%di,memory_rss_bytes=%di,memory_usage_bytes=%di,memory_working_set_bytes=%di,rootfs_available_bytes=1000000000i,rootfs_capacity_bytes=2000000000i,rootfs_used_bytes=%di %d\n",
					ctr, k.Namespace, k.Name, int64(s+1)*1e9*int64(c+1), 1e6*(p+c+1), 4096*(c+1), c, 100*s+c, 5e7*(c+1), 1e8*(c+1)+s, 9e7*(c+1), 8192*(c+1), ts)
				fmt.Fprintf(&b, "docker_container_blkio,container_image=registry.example/app,container_name=k8s_%s_%s,container_status=running,container_version=1.2.3,device=total,engine_host=node-1,io.kubernetes.container.name=%s,io.kubernetes.pod.name=%s,io.kubernetes.pod.namespace=%s,server_version=24.0.7 io_service_recursive_read=%di,io_service_recursive_write=%di %d\n",
					ctr, k.Name, ctr, k.Name, k.Namespace, 1e6*(s+1), 2e6*(s+1), ts)
				fmt.Fprintf(&b, "docker_container_blkio,container_image=registry.example/app,container_name=k8s_%s_%s,container_status=running,container_version=1.2.3,device=8:0,engine_host=node-1,io.kubernetes.container.name=%s,io.kubernetes.pod.name=%s,io.kubernetes.pod.namespace=%s,server_version=24.0.7 io_service_recursive_read=%di,io_service_recursive_write=%di %d\n",
					ctr, k.Name, ctr, k.Name, k.Namespace, 1e6*(s+1), 2e6*(s+1), ts)
			}
			fmt.Fprintf(&b, "kubernetes_pod_network,host=node-1,namespace=%s,node_name=node-1,pod_name=%s rx_bytes=%di,rx_errors=0i,tx_bytes=%di,tx_errors=0i %d\n",
				k.Namespace, k.Name, 1000*(s+1), 2000*(s+1), ts)
		}
	}
	return b.Bytes(), keys
}

// BenchmarkLineProtocolRead loads a 100-pod hour (360 steps at 10 s) of
// telegraf output into memory, as the offline trainer does.
func BenchmarkLineProtocolRead(b *testing.B) {
	data, keys := benchData(100, 360)
	lines := bytes.Count(data, []byte("\n"))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m, stats, err := ReadLineProtocol(context.Background(), bytes.NewReader(data), LineProtocolOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if len(m.All()) != len(keys) || stats.BadLines != 0 {
			b.Fatalf("%d pods, %+v", len(m.All()), stats)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkInfluxSourceWindows reads 10 minutes of 1,000 pods from a real
// InfluxDB: two queries at the default batch size of 500.
func BenchmarkInfluxSourceWindows(b *testing.B) {
	srv := influxtest.Start(b)
	data, keys := benchData(1000, 60)
	// Write in chunks of whole lines: one request of every point is slow to parse.
	for len(data) > 0 {
		n := min(len(data), 8<<20)
		if i := bytes.LastIndexByte(data[:n], '\n'); i >= 0 && n < len(data) {
			n = i + 1
		}
		srv.Write(string(data[:n]))
		data = data[n:]
	}
	src, err := NewInfluxSource(InfluxConfig{URL: srv.URL, Bucket: srv.Bucket(), HTTPClient: &http.Client{Timeout: 5 * time.Minute}})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	start, end := fixtureStart, fixtureStart.Add(60*DefaultInterval)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		got, err := src.Windows(context.Background(), keys, start, end)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != len(keys) || len(got[keys[0]].Samples) != 60 {
			b.Fatalf("%d windows", len(got))
		}
	}
	b.ReportMetric(float64(len(keys))*float64(b.N)/b.Elapsed().Seconds(), "pods/s")
}
