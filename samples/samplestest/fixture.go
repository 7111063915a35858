package metrics

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// The fixture is a few minutes of what telegraf writes for three pods:
// several containers per pod, both blkio tag styles, a counter reset, a
// network row that arrives late, rows outside Kubernetes and per-device blkio
// rows that must be ignored, and values some pods never report.
var fixtureStart = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

const fixtureSteps = 6

var (
	podWeb     = PodKey{Namespace: "shop", Name: "web-1"}
	podDB      = PodKey{Namespace: "shop", Name: "db-0"}
	podStaging = PodKey{Namespace: "staging", Name: "web-1"}
)

type fixture struct {
	lines []string
	want  map[PodKey]*Window
}

func (f *fixture) lineProtocol() string { return strings.Join(f.lines, "\n") + "\n" }

// expect adds v to field fld of pod's sample at step i, the oracle's sum.
func (f *fixture) expect(pod PodKey, i int, fld Field, v float64) {
	w := f.want[pod]
	if w == nil {
		w = &Window{Pod: pod}
		for s := 0; s < fixtureSteps; s++ {
			w.Samples = append(w.Samples, NewSample(fixtureStart.Add(time.Duration(s)*DefaultInterval)))
		}
		f.want[pod] = w
	}
	s := &w.Samples[i]
	if old := s.Get(fld); math.IsNaN(old) {
		s.Set(fld, v)
	} else {
		s.Set(fld, old+v)
	}
}

func ts(i int, skew time.Duration) int64 {
	return fixtureStart.Add(time.Duration(i)*DefaultInterval + skew).UnixNano()
}

func newFixture() *fixture {
	f := &fixture{want: map[PodKey]*Window{}}
	type ctr struct {
		pod  PodKey
		name string
		c    float64
	}
	containers := []ctr{{podWeb, "app", 1}, {podWeb, "sidecar", 2}, {podDB, "postgres", 3}, {podStaging, "app", 4}}
	for i := 0; i < fixtureSteps; i++ {
		x := float64(i)
		for _, k := range containers {
			if k.pod == podStaging && i >= 3 {
				continue // the staging pod went away
			}
			cores := k.c * 1e9 * (x + 1)
			if k.pod == podWeb && k.name == "app" && i >= 3 {
				cores = 1e9 * (x - 2) // the container restarted: the counter reset
			}
			vals := []struct {
				name string
				fld  Field
				v    float64
			}{
				{"cpu_usage_nanocores", FieldCPUNanoCores, k.c*1e6 + x*1000},
				{"cpu_usage_core_nanoseconds", FieldCPUCoreNanoSeconds, cores},
				{"memory_usage_bytes", FieldMemoryUsage, k.c*1e8 + x},
				{"memory_working_set_bytes", FieldMemoryWorkingSet, k.c * 9e7},
				{"memory_rss_bytes", FieldMemoryRSS, k.c * 5e7},
				{"memory_page_faults", FieldPageFaults, k.c*100 + x*10},
				{"memory_major_page_faults", FieldMajorPageFaults, k.c * x},
				{"rootfs_used_bytes", FieldRootfsUsed, k.c * 4096},
				{"logsfs_used_bytes", FieldLogsfsUsed, k.c * 1024},
			}
			var fields []string
			for _, v := range vals {
				if k.pod == podDB && v.fld == FieldLogsfsUsed {
					continue // never reported: must stay NaN
				}
				fields = append(fields, fmt.Sprintf("%s=%.0fi", v.name, v.v))
				f.expect(k.pod, i, v.fld, v.v)
			}
			f.lines = append(f.lines, fmt.Sprintf("kubernetes_pod_container,container_name=%s,namespace=%s,node_name=n1,pod_name=%s %s %d",
				k.name, k.pod.Namespace, k.pod.Name, strings.Join(fields, ","), ts(i, 0)))
		}
		// Network, 700 ms late: aligned to the same interval.
		f.lines = append(f.lines, fmt.Sprintf("kubernetes_pod_network,namespace=shop,node_name=n1,pod_name=web-1 rx_bytes=%di,rx_errors=0i,tx_bytes=%di,tx_errors=%di %d",
			1000*(i+1), 2000*(i+1), i, ts(i, 700*time.Millisecond)))
		f.expect(podWeb, i, FieldRxBytes, float64(1000*(i+1)))
		f.expect(podWeb, i, FieldRxErrors, 0)
		f.expect(podWeb, i, FieldTxBytes, float64(2000*(i+1)))
		f.expect(podWeb, i, FieldTxErrors, x)
		// Blkio, docker-label style, 300 ms late, per container.
		for _, k := range containers[:2] {
			r, w := k.c*1e6*(x+1), k.c*2e6*(x+1)
			f.lines = append(f.lines, fmt.Sprintf("docker_container_blkio,container_image=img,container_name=k8s_%s_web-1,device=total,io.kubernetes.container.name=%s,io.kubernetes.pod.name=web-1,io.kubernetes.pod.namespace=shop io_service_recursive_read=%.0fi,io_service_recursive_write=%.0fi %d",
				k.name, k.name, r, w, ts(i, 300*time.Millisecond)))
			f.lines = append(f.lines, fmt.Sprintf("docker_container_blkio,container_image=img,container_name=k8s_%s_web-1,device=8:0,io.kubernetes.container.name=%s,io.kubernetes.pod.name=web-1,io.kubernetes.pod.namespace=shop io_service_recursive_read=999i,io_service_recursive_write=999i %d",
				k.name, k.name, ts(i, 300*time.Millisecond)))
			f.expect(podWeb, i, FieldIOReadBytes, r)
			f.expect(podWeb, i, FieldIOWriteBytes, w)
		}
		// Blkio, pod_name style, for the database.
		f.lines = append(f.lines, fmt.Sprintf("docker_container_blkio,container_name=postgres,device=total,namespace=shop,pod_name=db-0 io_service_recursive_read=%di,io_service_recursive_write=%di %d",
			5000*(i+1), 7000*(i+1), ts(i, 0)))
		f.expect(podDB, i, FieldIOReadBytes, float64(5000*(i+1)))
		f.expect(podDB, i, FieldIOWriteBytes, float64(7000*(i+1)))
		// A container outside Kubernetes and a measurement we do not read.
		f.lines = append(f.lines, fmt.Sprintf("docker_container_blkio,container_name=registry,device=total io_service_recursive_read=1i,io_service_recursive_write=1i %d", ts(i, 0)))
		f.lines = append(f.lines, fmt.Sprintf("cpu,cpu=cpu-total,host=n1 usage_idle=97.5,usage_user=1.5 %d", ts(i, 0)))
	}
	// The staging pod only lived for three steps.
	f.want[podStaging].Samples = f.want[podStaging].Samples[:3]
	return f
}

// fixturePods are the pods to ask for: the fixture's, plus one with no data.
func fixturePods() []PodKey {
	return []PodKey{podWeb, podDB, podStaging, {Namespace: "shop", Name: "gone"}}
}

func fixtureRange() (time.Time, time.Time) {
	return fixtureStart, fixtureStart.Add(fixtureSteps * DefaultInterval)
}

// assertWindows compares windows value by value, NaN equal to NaN.
func assertWindows(t *testing.T, got, want map[PodKey]*Window) {
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
			for _, f := range Fields() {
				a, b := gs.Get(f), ws.Get(f)
				if !(a == b || math.IsNaN(a) && math.IsNaN(b)) {
					t.Errorf("%v sample %d (%v): %v = %v, want %v", k, i, ws.Time.Format(time.TimeOnly), f, a, b)
				}
			}
		}
	}
}
