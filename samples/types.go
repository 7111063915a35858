package samples

import (
	"context"
	"math"
	"sort"
	"time"
)

// PodKey names a pod. Pods are identified by namespace and name only: the
// metrics stores do not know UIDs.
type PodKey struct {
	Namespace string
	Name      string
}

func (k PodKey) String() string { return k.Namespace + "/" + k.Name }

// Sample is one scrape of one pod, summed over the containers a source keeps
// (all of them, or the main ones when a ContainerFilter leaves sidecars out);
// network values are the pod's own, since a pod's containers share its
// network namespace. Gauges are
// instantaneous values; counters are cumulative and may reset (a container
// restart) — the classifier turns them into rates. A value the store did not
// have is NaN, never zero, so a missing metric is not mistaken for an idle one.
type Sample struct {
	Time time.Time

	// Gauges.
	CPUNanoCores     float64 // cpu_usage_nanocores
	MemoryUsage      float64 // memory_usage_bytes
	MemoryWorkingSet float64 // memory_working_set_bytes
	MemoryRSS        float64 // memory_rss_bytes
	RootfsUsed       float64 // rootfs_used_bytes
	LogsfsUsed       float64 // logsfs_used_bytes

	// Process structure, as the kubelet's cAdvisor exports it per container
	// (container_processes, container_threads, container_file_descriptors,
	// container_sockets): how the server is built, which barely moves with
	// load or hardware.
	Processes       float64
	Threads         float64
	FileDescriptors float64
	Sockets         float64

	// Cumulative counters.
	CPUCoreNanoSeconds float64 // cpu_usage_core_nanoseconds
	PageFaults         float64 // memory_page_faults
	MajorPageFaults    float64 // memory_major_page_faults
	RxBytes            float64 // rx_bytes
	TxBytes            float64 // tx_bytes
	RxErrors           float64 // rx_errors
	TxErrors           float64 // tx_errors
	IOReadBytes        float64 // io_service_recursive_read
	IOWriteBytes       float64 // io_service_recursive_write
}

// NewSample returns a sample at t with every value missing.
func NewSample(t time.Time) Sample {
	n := math.NaN()
	return Sample{Time: t,
		CPUNanoCores: n, MemoryUsage: n, MemoryWorkingSet: n, MemoryRSS: n, RootfsUsed: n, LogsfsUsed: n,
		Processes: n, Threads: n, FileDescriptors: n, Sockets: n,
		CPUCoreNanoSeconds: n, PageFaults: n, MajorPageFaults: n, RxBytes: n, TxBytes: n,
		RxErrors: n, TxErrors: n, IOReadBytes: n, IOWriteBytes: n}
}

// Window is the time-ordered samples of one pod.
type Window struct {
	Pod     PodKey
	Samples []Sample
}

// Sort orders the samples by time.
func (w *Window) Sort() {
	sort.SliceStable(w.Samples, func(i, j int) bool { return w.Samples[i].Time.Before(w.Samples[j].Time) })
}

// Span is the time between the first and the last sample.
func (w *Window) Span() time.Duration {
	if len(w.Samples) < 2 {
		return 0
	}
	return w.Samples[len(w.Samples)-1].Time.Sub(w.Samples[0].Time)
}

// Source reads windows of samples for many pods in one call. Pods with no
// samples in [start, end) are absent from the result. Implementations batch
// internally; callers may pass thousands of pods.
type Source interface {
	Windows(ctx context.Context, pods []PodKey, start, end time.Time) (map[PodKey]*Window, error)
}

// Lister enumerates the pods a store holds samples for in [start, end); the
// trainer and the offline CLI use it when no pod list is given.
type Lister interface {
	Pods(ctx context.Context, start, end time.Time) ([]PodKey, error)
}
