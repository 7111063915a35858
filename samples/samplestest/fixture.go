package samplestest

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/podclass/podclass/samples"
)

// The fixture is a few minutes of what telegraf writes for three pods:
// several containers per pod, both blkio tag styles, a counter reset, a
// network row that arrives late, rows outside Kubernetes and per-device blkio
// rows that must be ignored, and values some pods never report. Start is its
// first timestamp.
var Start = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

// Steps is how many intervals the fixture covers.
const Steps = 6

// The fixture's pods.
var (
	PodWeb     = samples.PodKey{Namespace: "shop", Name: "web-1"}
	PodDB      = samples.PodKey{Namespace: "shop", Name: "db-0"}
	PodStaging = samples.PodKey{Namespace: "staging", Name: "web-1"}
)

// Fixture is the lines and the windows they must give.
type Fixture struct {
	lines []string
	// Want is what a reader must make of the lines.
	Want map[samples.PodKey]*samples.Window
	// WantMain is what a reader told to leave the container named Sidecar
	// out (a ContainerFilter) must make of them: web-1's other container
	// only, and the pod's own network.
	WantMain map[samples.PodKey]*samples.Window
}

// Sidecar is the name of the fixture's helper container in PodWeb.
const Sidecar = "sidecar"

// KeepMain is the ContainerFilter that leaves Sidecar out.
func KeepMain(container string) bool { return container != Sidecar }

// LineProtocol is the fixture as a file.
func (f *Fixture) LineProtocol() string { return strings.Join(f.lines, "\n") + "\n" }

// Lines is how many lines the fixture has.
func (f *Fixture) Lines() int { return len(f.lines) }

// expect adds v to field fld of pod's sample at step i, the oracle's sum.
func (f *Fixture) expect(pod samples.PodKey, i int, fld samples.Field, v float64) {
	f.expectIn(f.Want, pod, i, fld, v)
	f.expectIn(f.WantMain, pod, i, fld, v)
}

// expectOf is expect for a value of one container: the sidecar's values are
// not in WantMain.
func (f *Fixture) expectOf(container string, pod samples.PodKey, i int, fld samples.Field, v float64) {
	f.expectIn(f.Want, pod, i, fld, v)
	if container != Sidecar {
		f.expectIn(f.WantMain, pod, i, fld, v)
	}
}

func (f *Fixture) expectIn(want map[samples.PodKey]*samples.Window, pod samples.PodKey, i int, fld samples.Field, v float64) {
	w := want[pod]
	if w == nil {
		w = &samples.Window{Pod: pod}
		for s := 0; s < Steps; s++ {
			w.Samples = append(w.Samples, samples.NewSample(Start.Add(time.Duration(s)*samples.DefaultInterval)))
		}
		want[pod] = w
	}
	s := &w.Samples[i]
	if old := s.Get(fld); math.IsNaN(old) {
		s.Set(fld, v)
	} else {
		s.Set(fld, old+v)
	}
}

func ts(i int, skew time.Duration) int64 {
	return Start.Add(time.Duration(i)*samples.DefaultInterval + skew).UnixNano()
}

// NewFixture builds the fixture.
func NewFixture() *Fixture {
	f := &Fixture{Want: map[samples.PodKey]*samples.Window{}, WantMain: map[samples.PodKey]*samples.Window{}}
	type ctr struct {
		pod  samples.PodKey
		name string
		c    float64
	}
	containers := []ctr{{PodWeb, "app", 1}, {PodWeb, Sidecar, 2}, {PodDB, "postgres", 3}, {PodStaging, "app", 4}}
	for i := 0; i < Steps; i++ {
		x := float64(i)
		for _, k := range containers {
			if k.pod == PodStaging && i >= 3 {
				continue // the staging pod went away
			}
			cores := k.c * 1e9 * (x + 1)
			if k.pod == PodWeb && k.name == "app" && i >= 3 {
				cores = 1e9 * (x - 2) // the container restarted: the counter reset
			}
			vals := []struct {
				name string
				fld  samples.Field
				v    float64
			}{
				{"cpu_usage_nanocores", samples.FieldCPUNanoCores, k.c*1e6 + x*1000},
				{"cpu_usage_core_nanoseconds", samples.FieldCPUCoreNanoSeconds, cores},
				{"memory_usage_bytes", samples.FieldMemoryUsage, k.c*1e8 + x},
				{"memory_working_set_bytes", samples.FieldMemoryWorkingSet, k.c * 9e7},
				{"memory_rss_bytes", samples.FieldMemoryRSS, k.c * 5e7},
				{"memory_page_faults", samples.FieldPageFaults, k.c*100 + x*10},
				{"memory_major_page_faults", samples.FieldMajorPageFaults, k.c * x},
				{"rootfs_used_bytes", samples.FieldRootfsUsed, k.c * 4096},
				{"logsfs_used_bytes", samples.FieldLogsfsUsed, k.c * 1024},
			}
			var fields []string
			for _, v := range vals {
				if k.pod == PodDB && v.fld == samples.FieldLogsfsUsed {
					continue // never reported: must stay NaN
				}
				fields = append(fields, fmt.Sprintf("%s=%.0fi", v.name, v.v))
				f.expectOf(k.name, k.pod, i, v.fld, v.v)
			}
			f.lines = append(f.lines, fmt.Sprintf("kubernetes_pod_container,container_name=%s,namespace=%s,node_name=n1,pod_name=%s %s %d",
				k.name, k.pod.Namespace, k.pod.Name, strings.Join(fields, ","), ts(i, 0)))
			// Process structure from telegraf's scrape of the kubelet's
			// cAdvisor, 1.2 s late; the staging pod's store has none.
			if k.pod != PodStaging {
				procs, threads, fds, socks := k.c, 10*k.c+x, 40*k.c, 5*k.c+x
				f.lines = append(f.lines, fmt.Sprintf("prometheus,container=%s,image=img,namespace=%s,pod=%s,url=https://n1:10250/metrics/cadvisor container_processes=%g,container_threads=%g,container_file_descriptors=%g,container_sockets=%g,container_threads_max=0 %d",
					k.name, k.pod.Namespace, k.pod.Name, procs, threads, fds, socks, ts(i, 1200*time.Millisecond)))
				f.expectOf(k.name, k.pod, i, samples.FieldProcesses, procs)
				f.expectOf(k.name, k.pod, i, samples.FieldThreads, threads)
				f.expectOf(k.name, k.pod, i, samples.FieldFileDescriptors, fds)
				f.expectOf(k.name, k.pod, i, samples.FieldSockets, socks)
			}
		}
		// Network, 700 ms late: aligned to the same interval.
		f.lines = append(f.lines, fmt.Sprintf("kubernetes_pod_network,namespace=shop,node_name=n1,pod_name=web-1 rx_bytes=%di,rx_errors=0i,tx_bytes=%di,tx_errors=%di %d",
			1000*(i+1), 2000*(i+1), i, ts(i, 700*time.Millisecond)))
		f.expect(PodWeb, i, samples.FieldRxBytes, float64(1000*(i+1)))
		f.expect(PodWeb, i, samples.FieldRxErrors, 0)
		f.expect(PodWeb, i, samples.FieldTxBytes, float64(2000*(i+1)))
		f.expect(PodWeb, i, samples.FieldTxErrors, x)
		// cAdvisor's pod-level cgroup (no container tag: telegraf drops the
		// empty label) and the pause container repeat the totals: ignored.
		f.lines = append(f.lines, fmt.Sprintf("prometheus,image=img,namespace=shop,pod=web-1 container_processes=100,container_threads=100,container_file_descriptors=100,container_sockets=100 %d", ts(i, 0)))
		f.lines = append(f.lines, fmt.Sprintf("prometheus,container=POD,namespace=shop,pod=web-1 container_processes=1,container_threads=1,container_file_descriptors=5,container_sockets=0 %d", ts(i, 0)))
		// Blkio, docker-label style, 300 ms late, per container.
		for _, k := range containers[:2] {
			r, w := k.c*1e6*(x+1), k.c*2e6*(x+1)
			f.lines = append(f.lines, fmt.Sprintf("docker_container_blkio,container_image=img,container_name=k8s_%s_web-1,device=total,io.kubernetes.container.name=%s,io.kubernetes.pod.name=web-1,io.kubernetes.pod.namespace=shop io_service_recursive_read=%.0fi,io_service_recursive_write=%.0fi %d",
				k.name, k.name, r, w, ts(i, 300*time.Millisecond)))
			f.lines = append(f.lines, fmt.Sprintf("docker_container_blkio,container_image=img,container_name=k8s_%s_web-1,device=8:0,io.kubernetes.container.name=%s,io.kubernetes.pod.name=web-1,io.kubernetes.pod.namespace=shop io_service_recursive_read=999i,io_service_recursive_write=999i %d",
				k.name, k.name, ts(i, 300*time.Millisecond)))
			f.expectOf(k.name, PodWeb, i, samples.FieldIOReadBytes, r)
			f.expectOf(k.name, PodWeb, i, samples.FieldIOWriteBytes, w)
		}
		// Blkio, pod_name style, for the database.
		f.lines = append(f.lines, fmt.Sprintf("docker_container_blkio,container_name=postgres,device=total,namespace=shop,pod_name=db-0 io_service_recursive_read=%di,io_service_recursive_write=%di %d",
			5000*(i+1), 7000*(i+1), ts(i, 0)))
		f.expect(PodDB, i, samples.FieldIOReadBytes, float64(5000*(i+1)))
		f.expect(PodDB, i, samples.FieldIOWriteBytes, float64(7000*(i+1)))
		// A container outside Kubernetes and a measurement we do not read.
		f.lines = append(f.lines, fmt.Sprintf("docker_container_blkio,container_name=registry,device=total io_service_recursive_read=1i,io_service_recursive_write=1i %d", ts(i, 0)))
		f.lines = append(f.lines, fmt.Sprintf("cpu,cpu=cpu-total,host=n1 usage_idle=97.5,usage_user=1.5 %d", ts(i, 0)))
	}
	// The staging pod only lived for three steps.
	f.Want[PodStaging].Samples = f.Want[PodStaging].Samples[:3]
	f.WantMain[PodStaging].Samples = f.WantMain[PodStaging].Samples[:3]
	return f
}

// Pods are the pods to ask for: the fixture's, plus one with no data.
func Pods() []samples.PodKey {
	return []samples.PodKey{PodWeb, PodDB, PodStaging, {Namespace: "shop", Name: "gone"}}
}

// Range is the time the fixture covers.
func Range() (time.Time, time.Time) {
	return Start, Start.Add(Steps * samples.DefaultInterval)
}

// AssertWindows compares windows value by value, NaN equal to NaN.
func AssertWindows(t testing.TB, got, want map[samples.PodKey]*samples.Window) {
	t.Helper()
	for k := range got {
		if want[k] == nil {
			t.Errorf("unexpected window for %v", k)
		}
	}
	for k, w := range want {
		g := got[k]
		if g == nil {
			t.Errorf("no window for %v", k)
			continue
		}
		if g.Pod != k {
			t.Errorf("window keyed %v names pod %v", k, g.Pod)
		}
		if len(g.Samples) != len(w.Samples) {
			t.Errorf("%v: %d samples, want %d", k, len(g.Samples), len(w.Samples))
			continue
		}
		for i := range w.Samples {
			gs, ws := g.Samples[i], w.Samples[i]
			if !gs.Time.Equal(ws.Time) {
				t.Errorf("%v sample %d: time %v, want %v", k, i, gs.Time, ws.Time)
			}
			for _, f := range samples.Fields() {
				a, b := gs.Get(f), ws.Get(f)
				if !(a == b || math.IsNaN(a) && math.IsNaN(b)) {
					t.Errorf("%v sample %d (%v): %v = %v, want %v", k, i, ws.Time.Format(time.TimeOnly), f, a, b)
				}
			}
		}
	}
}

// BenchData is telegraf output for pods × steps: two containers, network,
// and blkio (a total and a per-device row per container) per pod and step,
// plus an unrelated measurement, as a node's telegraf writes it.
func BenchData(pods, steps int) ([]byte, []samples.PodKey) {
	var b bytes.Buffer
	keys := make([]samples.PodKey, pods)
	for p := range keys {
		keys[p] = samples.PodKey{Namespace: fmt.Sprintf("team-%d", p%10), Name: fmt.Sprintf("app-%d-7d9f8c6b5-x%04d", p%37, p)}
	}
	for s := 0; s < steps; s++ {
		ts := Start.Add(time.Duration(s) * samples.DefaultInterval).UnixNano()
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
