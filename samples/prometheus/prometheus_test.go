package prometheus_test

import (
	"math"
	"time"

	"github.com/podclass/podclass/internal/harness/promtest"
	"github.com/podclass/podclass/samples"
)

// cadvisor builds the series the kubelet's cAdvisor would export, and what a
// Source must make of them.
type cadvisor struct {
	series []promtest.Series
	want   map[samples.PodKey]*samples.Window
	// wantMain is want without the container named "sidecar".
	wantMain map[samples.PodKey]*samples.Window
}

var promStart = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

const promSteps = 6

func (c *cadvisor) add(metric string, labels map[string]string, value func(i int) float64) {
	s := promtest.Series{Metric: metric, Labels: labels}
	for i := 0; i < promSteps; i++ {
		s.Points = append(s.Points, promtest.Point{Time: promStart.Add(time.Duration(i) * 10 * time.Second), Value: value(i)})
	}
	c.series = append(c.series, s)
}

func (c *cadvisor) expect(pod samples.PodKey, f samples.Field, value func(i int) float64) {
	c.expectOf("", pod, f, value)
}

// expectOf is expect for a value of one container: the sidecar's values are
// not in wantMain.
func (c *cadvisor) expectOf(container string, pod samples.PodKey, f samples.Field, value func(i int) float64) {
	expectIn(c.want, pod, f, value)
	if container != "sidecar" {
		expectIn(c.wantMain, pod, f, value)
	}
}

func expectIn(want map[samples.PodKey]*samples.Window, pod samples.PodKey, f samples.Field, value func(i int) float64) {
	w := want[pod]
	if w == nil {
		w = &samples.Window{Pod: pod}
		for i := 0; i < promSteps; i++ {
			w.Samples = append(w.Samples, samples.NewSample(promStart.Add(time.Duration(i)*10*time.Second)))
		}
		want[pod] = w
	}
	for i := range w.Samples {
		old := w.Samples[i].Get(f)
		if math.IsNaN(old) {
			old = 0
		}
		w.Samples[i].Set(f, old+value(i))
	}
}

func labels(ns, pod, container string, more ...string) map[string]string {
	l := map[string]string{"namespace": ns, "pod": pod, "container": container, "job": "kubelet", "id": "/kubepods/" + pod + "/" + container}
	for i := 0; i+1 < len(more); i += 2 {
		l[more[i]] = more[i+1]
	}
	return l
}

func newCadvisor() *cadvisor {
	c := &cadvisor{want: map[samples.PodKey]*samples.Window{}, wantMain: map[samples.PodKey]*samples.Window{}}
	web := samples.PodKey{Namespace: "shop", Name: "web-1"}
	db := samples.PodKey{Namespace: "shop", Name: "db-0"}
	dotted := samples.PodKey{Namespace: "shop", Name: "api.v2-0"}
	for _, k := range []struct {
		pod       samples.PodKey
		container string
		c         float64
	}{{web, "app", 1}, {web, "sidecar", 2}, {db, "postgres", 3}, {dotted, "api", 4}} {
		cv := k.c
		l := labels(k.pod.Namespace, k.pod.Name, k.container)
		cpu := func(i int) float64 { return cv * float64(i+1) }
		if k.container == "app" {
			cpu = func(i int) float64 { // restarted at step 3: the counter reset
				if i >= 3 {
					return float64(i - 2)
				}
				return float64(i + 1)
			}
		}
		c.add("container_cpu_usage_seconds_total", l, cpu)
		c.expectOf(k.container, k.pod, samples.FieldCPUCoreNanoSeconds, func(i int) float64 { return cpu(i) * 1e9 })
		for _, m := range []struct {
			metric string
			f      samples.Field
			v      float64
		}{
			{"container_memory_working_set_bytes", samples.FieldMemoryWorkingSet, 9e7},
			{"container_memory_rss", samples.FieldMemoryRSS, 5e7},
			{"container_memory_usage_bytes", samples.FieldMemoryUsage, 1e8},
			{"container_processes", samples.FieldProcesses, 1},
			{"container_threads", samples.FieldThreads, 10},
			{"container_file_descriptors", samples.FieldFileDescriptors, 40},
			{"container_sockets", samples.FieldSockets, 5},
		} {
			v := m.v * cv
			c.add(m.metric, l, func(i int) float64 { return v + float64(i) })
			c.expectOf(k.container, k.pod, m.f, func(i int) float64 { return v + float64(i) })
		}
		c.add("container_fs_reads_bytes_total", labels(k.pod.Namespace, k.pod.Name, k.container, "device", "/dev/sda"), func(i int) float64 { return cv * 1e6 * float64(i+1) })
		c.add("container_fs_reads_bytes_total", labels(k.pod.Namespace, k.pod.Name, k.container, "device", "/dev/sdb"), func(i int) float64 { return cv * 10 })
		c.expectOf(k.container, k.pod, samples.FieldIOReadBytes, func(i int) float64 { return cv*1e6*float64(i+1) + cv*10 })
		c.add("container_fs_writes_bytes_total", labels(k.pod.Namespace, k.pod.Name, k.container, "device", "/dev/sda"), func(i int) float64 { return cv * 2e6 * float64(i+1) })
		c.expectOf(k.container, k.pod, samples.FieldIOWriteBytes, func(i int) float64 { return cv * 2e6 * float64(i+1) })
	}
	for _, pod := range []samples.PodKey{web, db, dotted} {
		// The pod cgroup ("") and the sandbox ("POD") repeat the containers'
		// totals: they must not be added again.
		for _, ctr := range []string{"", "POD"} {
			l := labels(pod.Namespace, pod.Name, ctr)
			c.add("container_memory_working_set_bytes", l, func(int) float64 { return 1e12 })
			c.add("container_cpu_usage_seconds_total", l, func(int) float64 { return 1e6 })
			c.add("container_threads", l, func(int) float64 { return 1e4 })
		}
	}
	// Network is reported per interface by the sandbox and the pod cgroup alike.
	for _, ctr := range []string{"", "POD"} {
		for _, ifc := range []struct {
			name string
			rx   float64
		}{{"eth0", 1000}, {"eth1", 10}} {
			rx := ifc.rx
			c.add("container_network_receive_bytes_total", labels("shop", "web-1", ctr, "interface", ifc.name), func(i int) float64 { return rx * float64(i+1) })
			c.add("container_network_transmit_bytes_total", labels("shop", "web-1", ctr, "interface", ifc.name), func(i int) float64 { return 2 * rx * float64(i+1) })
		}
	}
	c.expect(web, samples.FieldRxBytes, func(i int) float64 { return 1010 * float64(i+1) })
	c.expect(web, samples.FieldTxBytes, func(i int) float64 { return 2020 * float64(i+1) })
	// A pod the batch regex would match if "." were left unquoted, and one in
	// another namespace under a requested name.
	c.add("container_memory_rss", labels("shop", "apixv2-0", "api"), func(int) float64 { return 1 })
	c.add("container_memory_rss", labels("other", "web-1", "app"), func(int) float64 { return 1 })
	return c
}
