package samples

import (
	"errors"
	"fmt"
	"strings"
)

// Schema says where a store keeps pod behaviour: which measurements, which
// tags name the pod, and which fields feed which Sample values. The defaults
// are telegraf's (inputs.kubernetes and inputs.docker); a site that renamed
// things with telegraf processors changes the schema instead of the code.
type Schema struct {
	Measurements []MeasurementSchema
}

// MeasurementSchema describes one measurement.
type MeasurementSchema struct {
	// Name is the measurement, e.g. "kubernetes_pod_container".
	Name string
	// PodTags are the tag pairs that name the pod, tried in order: the first
	// pair with both tags present wins. docker_container_blkio needs two
	// because telegraf's docker input copies the container labels
	// (io.kubernetes.pod.name) while some setups rename them (pod_name).
	PodTags []PodTags
	// SeriesTags tell the rows of one pod apart, e.g. container_name. Rows of
	// different series at one timestamp are summed into the pod's sample; a
	// second row of the same series in one interval replaces the first.
	SeriesTags []string
	// ContainerTags name the container a row belongs to, tried in order: the
	// first present and non-empty wins. A ContainerFilter decides which
	// containers feed the pod's samples. A measurement without ContainerTags
	// is pod-level (the network) and always kept; a row of a per-container
	// measurement whose container tags are all missing or empty is the
	// pod-level total cAdvisor also reports, and is dropped so the containers
	// are not counted twice.
	ContainerTags []string
	// Require keeps only rows whose tags have these values, e.g. device=total.
	Require map[string]string
	// Fields maps field names to Sample values.
	Fields map[string]Field
}

// PodTags names the namespace and pod tags of a measurement.
type PodTags struct {
	Namespace string
	Pod       string
}

// DefaultSchema returns telegraf's schema.
func DefaultSchema() Schema {
	k8s := []PodTags{{Namespace: "namespace", Pod: "pod_name"}}
	return Schema{Measurements: []MeasurementSchema{
		{
			Name:          "kubernetes_pod_container",
			PodTags:       k8s,
			SeriesTags:    []string{"container_name"},
			ContainerTags: []string{"container_name"},
			Fields: map[string]Field{
				"cpu_usage_nanocores":        FieldCPUNanoCores,
				"cpu_usage_core_nanoseconds": FieldCPUCoreNanoSeconds,
				"memory_usage_bytes":         FieldMemoryUsage,
				"memory_working_set_bytes":   FieldMemoryWorkingSet,
				"memory_rss_bytes":           FieldMemoryRSS,
				"memory_page_faults":         FieldPageFaults,
				"memory_major_page_faults":   FieldMajorPageFaults,
				"rootfs_used_bytes":          FieldRootfsUsed,
				"logsfs_used_bytes":          FieldLogsfsUsed,
			},
		},
		{
			Name:    "kubernetes_pod_network",
			PodTags: k8s,
			Fields: map[string]Field{
				"rx_bytes":  FieldRxBytes,
				"rx_errors": FieldRxErrors,
				"tx_bytes":  FieldTxBytes,
				"tx_errors": FieldTxErrors,
			},
		},
		{
			Name: "docker_container_blkio",
			PodTags: []PodTags{
				{Namespace: "io.kubernetes.pod.namespace", Pod: "io.kubernetes.pod.name"},
				{Namespace: "namespace", Pod: "pod_name"},
			},
			SeriesTags: []string{"container_name", "io.kubernetes.container.name"},
			// The label is the Kubernetes container name; container_name is
			// Docker's (k8s_<container>_<pod>_…), which Keep understands too.
			ContainerTags: []string{"io.kubernetes.container.name", "container_name"},
			Require:       map[string]string{"device": "total"},
			Fields: map[string]Field{
				"io_service_recursive_read":  FieldIOReadBytes,
				"io_service_recursive_write": FieldIOWriteBytes,
			},
		},
		{
			// What telegraf's inputs.prometheus (metric_version = 2) writes
			// when it scrapes the kubelet's /metrics/cadvisor: one field per
			// metric, cAdvisor's labels as tags.
			Name:          "prometheus",
			PodTags:       []PodTags{{Namespace: "namespace", Pod: "pod"}},
			SeriesTags:    []string{"container"},
			ContainerTags: []string{"container"},
			Fields: map[string]Field{
				"container_processes":        FieldProcesses,
				"container_threads":          FieldThreads,
				"container_file_descriptors": FieldFileDescriptors,
				"container_sockets":          FieldSockets,
			},
		},
	}}
}

// ContainerFilter says which containers of a pod feed its samples: true
// keeps the container. The refiner and the trainer leave sidecars out with
// the image rules' sidecar names, so an istio-proxy's CPU and memory are not
// mixed into the service's. nil keeps every container.
type ContainerFilter func(container string) bool

// Keep reports whether rows of the named container feed the pod's sample.
// "" (cAdvisor's pod-level cgroup, the sum of the containers) and "POD" (the
// pause container) are never a container of the service.
func (f ContainerFilter) Keep(container string) bool {
	// dockershim's names: k8s_<container>_<pod>_<namespace>_<uid>_<attempt>.
	if rest, ok := strings.CutPrefix(container, "k8s_"); ok {
		if name, _, ok := strings.Cut(rest, "_"); ok {
			container = name
		}
	}
	if container == "" || container == "POD" {
		return false
	}
	return f == nil || f(container)
}

// KeepRow applies f to one row of m: get returns a tag's value ("" when the
// row lacks it). Rows of pod-level measurements are always kept.
func (f ContainerFilter) KeepRow(m *MeasurementSchema, get func(tag string) string) bool {
	if len(m.ContainerTags) == 0 {
		return true
	}
	for _, t := range m.ContainerTags {
		if v := get(t); v != "" {
			return f.Keep(v)
		}
	}
	return false
}

// Validate fails on a schema no source could read: a source calls it before
// its first query so a typo shows at start-up, not as silently empty windows.
func (s Schema) Validate() error {
	if len(s.Measurements) == 0 {
		return errors.New("schema: no measurements")
	}
	seen := map[string]bool{}
	owner := map[Field]string{}
	for i, m := range s.Measurements {
		if m.Name == "" {
			return fmt.Errorf("schema: measurement %d has no name", i)
		}
		if seen[m.Name] {
			return fmt.Errorf("schema: measurement %q listed twice", m.Name)
		}
		seen[m.Name] = true
		if len(m.PodTags) == 0 {
			return fmt.Errorf("schema: measurement %q has no pod tags", m.Name)
		}
		for _, pt := range m.PodTags {
			if pt.Namespace == "" || pt.Pod == "" {
				return fmt.Errorf("schema: measurement %q has an empty pod tag name", m.Name)
			}
		}
		if len(m.Fields) == 0 {
			return fmt.Errorf("schema: measurement %q has no fields", m.Name)
		}
		for name, f := range m.Fields {
			if name == "" {
				return fmt.Errorf("schema: measurement %q has an empty field name", m.Name)
			}
			if !f.Valid() {
				return fmt.Errorf("schema: field %s.%s maps to invalid %v", m.Name, name, f)
			}
			// Two columns feeding one value would be summed into nonsense.
			if o, dup := owner[f]; dup {
				return fmt.Errorf("schema: %v is fed by both %s and %s.%s", f, o, m.Name, name)
			}
			owner[f] = m.Name + "." + name
		}
	}
	return nil
}

// measurement returns the schema of the named measurement, or nil.
func (s Schema) Measurement(name string) *MeasurementSchema {
	for i := range s.Measurements {
		if s.Measurements[i].Name == name {
			return &s.Measurements[i]
		}
	}
	return nil
}

// podTagPairs lists the distinct pod tag pairs over all measurements, in order.
func (s Schema) PodTagPairs() []PodTags {
	var out []PodTags
	seen := map[PodTags]bool{}
	for _, m := range s.Measurements {
		for _, pt := range m.PodTags {
			if !seen[pt] {
				seen[pt] = true
				out = append(out, pt)
			}
		}
	}
	return out
}
