package trainer

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/podclass/podclass/metrics"
)

// Seed2021Epoch is the time the seed-2021 converter counts runningTimeSeconds
// from (the dataset has no absolute times; the recordings are from June 2021).
var Seed2021Epoch = time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)

// ReadSeed2021 converts the seed-2021 CSV recordings (lukonjun/
// container-anomaly-detection, see the dataset's README) into windows and a
// pod list. Pods are keyed by the podName/namespace hash codes ("ns-<hash>",
// "pod-<hash>"); the image columns are hashes and are dropped (behaviour
// only). A sample's time is Seed2021Epoch + runningTimeSeconds. When every row
// of a file has ioServiceRecursiveWrite == ioServiceRecursiveRead (the
// recorder's copy bug), the write counter is treated as missing for that file.
// Several files may be merged into one source: a pod in two files is one pod.
func ReadSeed2021(src map[metrics.PodKey]*metrics.Window, pods map[metrics.PodKey]*Pod, r io.Reader, name string) error {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%s: header: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	need := []string{"podName", "namespace", "memoryUsageBytes", "cpuUsageNanocores", "logsfsUsedBytes", "rootfsUsedBytes",
		"rx_bytes", "tx_bytes", "ioServiceRecursiveRead", "ioServiceRecursiveWrite", "runningTimeSeconds", "class"}
	for _, n := range need {
		if _, ok := col[n]; !ok {
			return fmt.Errorf("%s: not a seed-2021 file: no column %q", name, n)
		}
	}
	type row struct {
		key   metrics.PodKey
		class string
		s     metrics.Sample
	}
	var rows []row
	writeBug := true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		num := func(n string) (float64, error) {
			i := col[n]
			if i >= len(rec) {
				return math.NaN(), fmt.Errorf("%s line %d: missing %s", name, line, n)
			}
			v := strings.TrimSpace(rec[i])
			if v == "" || v == "?" {
				return math.NaN(), nil
			}
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0, fmt.Errorf("%s line %d: %s: %w", name, line, n, err)
			}
			return f, nil
		}
		vals := map[string]float64{}
		for _, n := range need[2:11] {
			v, err := num(n)
			if err != nil {
				return err
			}
			vals[n] = v
		}
		if math.IsNaN(vals["runningTimeSeconds"]) {
			return fmt.Errorf("%s line %d: no runningTimeSeconds", name, line)
		}
		if vals["ioServiceRecursiveWrite"] != vals["ioServiceRecursiveRead"] {
			writeBug = false
		}
		t := Seed2021Epoch.Add(time.Duration(vals["runningTimeSeconds"]) * time.Second)
		s := metrics.NewSample(t)
		s.MemoryUsage = vals["memoryUsageBytes"]
		s.CPUNanoCores = vals["cpuUsageNanocores"]
		s.LogsfsUsed = vals["logsfsUsedBytes"]
		s.RootfsUsed = vals["rootfsUsedBytes"]
		s.RxBytes = vals["rx_bytes"]
		s.TxBytes = vals["tx_bytes"]
		s.IOReadBytes = vals["ioServiceRecursiveRead"]
		s.IOWriteBytes = vals["ioServiceRecursiveWrite"]
		key := metrics.PodKey{Namespace: "ns-" + strings.TrimSpace(rec[col["namespace"]]), Name: "pod-" + strings.TrimSpace(rec[col["podName"]])}
		rows = append(rows, row{key: key, class: strings.ToLower(strings.TrimSpace(rec[col["class"]])), s: s})
	}
	if len(rows) == 0 {
		return fmt.Errorf("%s: no rows", name)
	}
	for _, r := range rows {
		if writeBug {
			r.s.IOWriteBytes = math.NaN()
		}
		w := src[r.key]
		if w == nil {
			w = &metrics.Window{Pod: r.key}
			src[r.key] = w
		}
		w.Samples = append(w.Samples, r.s)
		if p := pods[r.key]; p == nil {
			pods[r.key] = &Pod{Key: r.key, Class: r.class}
		} else if p.Class != r.class {
			return fmt.Errorf("%s: pod %s labelled both %s and %s", name, r.key, p.Class, r.class)
		}
	}
	for _, w := range src {
		w.Sort()
		// Drop duplicate timestamps (a pod in two overlapping files).
		out := w.Samples[:0]
		for i, s := range w.Samples {
			if i > 0 && s.Time.Equal(out[len(out)-1].Time) {
				continue
			}
			out = append(out, s)
		}
		w.Samples = out
	}
	return nil
}

// LoadSeed2021 reads and merges seed-2021 CSV files.
func LoadSeed2021(paths ...string) (*metrics.Memory, []Pod, error) {
	if len(paths) == 0 {
		return nil, nil, errors.New("seed2021: no files given")
	}
	src := map[metrics.PodKey]*metrics.Window{}
	podMap := map[metrics.PodKey]*Pod{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, nil, err
		}
		err = ReadSeed2021(src, podMap, f, p)
		f.Close()
		if err != nil {
			return nil, nil, err
		}
	}
	pods := make([]Pod, 0, len(podMap))
	for _, p := range podMap {
		pods = append(pods, *p)
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Key.String() < pods[j].Key.String() })
	return metrics.NewMemory(src), pods, nil
}

// WriteLineProtocol writes windows as InfluxDB line protocol in the telegraf
// schema podclass reads by default (kubernetes_pod_container,
// kubernetes_pod_network, docker_container_blkio with device=total), one
// container named after the pod. Missing (NaN) values are left out.
func WriteLineProtocol(w io.Writer, src map[metrics.PodKey]*metrics.Window) error {
	bw := bufio.NewWriter(w)
	keys := make([]metrics.PodKey, 0, len(src))
	for k := range src {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	esc := strings.NewReplacer(",", `\,`, " ", `\ `, "=", `\=`)
	for _, k := range keys {
		ns, pod := esc.Replace(k.Namespace), esc.Replace(k.Name)
		for _, s := range src[k].Samples {
			ts := s.Time.UnixNano()
			fields := func(kv ...any) string {
				var parts []string
				for i := 0; i < len(kv); i += 2 {
					v := kv[i+1].(float64)
					if math.IsNaN(v) || math.IsInf(v, 0) {
						continue
					}
					parts = append(parts, fmt.Sprintf("%s=%si", kv[i], strconv.FormatInt(int64(v), 10)))
				}
				return strings.Join(parts, ",")
			}
			if f := fields("cpu_usage_nanocores", s.CPUNanoCores, "cpu_usage_core_nanoseconds", s.CPUCoreNanoSeconds,
				"memory_usage_bytes", s.MemoryUsage, "memory_working_set_bytes", s.MemoryWorkingSet, "memory_rss_bytes", s.MemoryRSS,
				"memory_page_faults", s.PageFaults, "memory_major_page_faults", s.MajorPageFaults,
				"rootfs_used_bytes", s.RootfsUsed, "logsfs_used_bytes", s.LogsfsUsed); f != "" {
				fmt.Fprintf(bw, "kubernetes_pod_container,container_name=%s,namespace=%s,node_name=seed,pod_name=%s %s %d\n", pod, ns, pod, f, ts)
			}
			if f := fields("rx_bytes", s.RxBytes, "rx_errors", s.RxErrors, "tx_bytes", s.TxBytes, "tx_errors", s.TxErrors); f != "" {
				fmt.Fprintf(bw, "kubernetes_pod_network,namespace=%s,node_name=seed,pod_name=%s %s %d\n", ns, pod, f, ts)
			}
			if f := fields("io_service_recursive_read", s.IOReadBytes, "io_service_recursive_write", s.IOWriteBytes); f != "" {
				fmt.Fprintf(bw, "docker_container_blkio,device=total,io.kubernetes.container.name=%s,io.kubernetes.pod.name=%s,io.kubernetes.pod.namespace=%s %s %d\n", pod, pod, ns, f, ts)
			}
		}
	}
	return bw.Flush()
}

// WritePodsCSV writes a pods CSV (namespace,pod_name,image,class).
func WritePodsCSV(w io.Writer, pods []Pod) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"namespace", "pod_name", "image", "class"}); err != nil {
		return err
	}
	for _, p := range pods {
		if err := cw.Write([]string{p.Key.Namespace, p.Key.Name, p.Image, p.Class}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
