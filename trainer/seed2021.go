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

	"github.com/podclass/podclass/samples"
	"github.com/podclass/podclass/samples/lineprotocol"
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
func ReadSeed2021(src map[samples.PodKey]*samples.Window, pods map[samples.PodKey]*Pod, r io.Reader, name string) error {
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
		key   samples.PodKey
		class string
		s     samples.Sample
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
		s := samples.NewSample(t)
		s.MemoryUsage = vals["memoryUsageBytes"]
		s.CPUNanoCores = vals["cpuUsageNanocores"]
		s.LogsfsUsed = vals["logsfsUsedBytes"]
		s.RootfsUsed = vals["rootfsUsedBytes"]
		s.RxBytes = vals["rx_bytes"]
		s.TxBytes = vals["tx_bytes"]
		s.IOReadBytes = vals["ioServiceRecursiveRead"]
		s.IOWriteBytes = vals["ioServiceRecursiveWrite"]
		key := samples.PodKey{Namespace: "ns-" + strings.TrimSpace(rec[col["namespace"]]), Name: "pod-" + strings.TrimSpace(rec[col["podName"]])}
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
			w = &samples.Window{Pod: r.key}
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
func LoadSeed2021(paths ...string) (*samples.Memory, []Pod, error) {
	if len(paths) == 0 {
		return nil, nil, errors.New("seed2021: no files given")
	}
	src := map[samples.PodKey]*samples.Window{}
	podMap := map[samples.PodKey]*Pod{}
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
	return samples.NewMemory(src), pods, nil
}

// WriteLineProtocol writes windows as InfluxDB line protocol in the telegraf
// schema podclass reads by default (kubernetes_pod_container,
// kubernetes_pod_network, docker_container_blkio with device=total), one
// container named after the pod, on node "seed". Missing (NaN) values are
// left out.
func WriteLineProtocol(w io.Writer, src map[samples.PodKey]*samples.Window) error {
	return lineprotocol.Writer{Node: "seed"}.WriteWindows(w, src)
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
