package trainer

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/podclass/podclass/samples"
)

// Pod is one row of PODS.csv: the stand-in for the Kubernetes API's pod list.
type Pod struct {
	Key   samples.PodKey
	Image string
	// Class is the explicit label from the optional class column ("" when
	// absent or empty).
	Class string
	// Columns holds the row's other columns by lower-case header name
	// (e.g. "scenario", "batch"); nil when there are none.
	Columns map[string]string
}

// maxPodsFileBytes bounds what ReadPodsFile accepts.
const maxPodsFileBytes = 256 << 20

// ReadPods parses a pods CSV: a header naming at least namespace, pod_name
// and image (any order, case-insensitive, surrounding spaces and a UTF-8 BOM
// ignored), optionally class; other columns are ignored. Blank lines and lines
// starting with # are skipped. Every error names the line.
func ReadPods(r io.Reader) ([]Pod, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("pods csv: empty file, want a header with namespace,pod_name,image")
	}
	if err != nil {
		return nil, fmt.Errorf("pods csv: header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if h == "" {
			continue
		}
		if _, dup := col[h]; dup {
			return nil, fmt.Errorf("pods csv: header names column %q twice", h)
		}
		col[h] = i
	}
	var missing []string
	for _, want := range []string{"namespace", "pod_name", "image"} {
		if _, ok := col[want]; !ok {
			missing = append(missing, want)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("pods csv: header lacks column(s) %s (have %s)", strings.Join(missing, ","), strings.Join(header, ","))
	}
	classCol, hasClass := col["class"]
	var pods []Pod
	seen := map[samples.PodKey]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("pods csv: %w", err) // a csv.ParseError names the line
		}
		line, _ := cr.FieldPos(0)
		get := func(i int) string {
			if i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		p := Pod{Key: samples.PodKey{Namespace: get(col["namespace"]), Name: get(col["pod_name"])}, Image: get(col["image"])}
		if p.Key.Namespace == "" || p.Key.Name == "" {
			if len(rec) == 1 && get(0) == "" {
				continue
			}
			return nil, fmt.Errorf("pods csv line %d: namespace and pod_name must not be empty", line)
		}
		if hasClass {
			p.Class = strings.ToLower(get(classCol))
		}
		for h, i := range col {
			switch h {
			case "namespace", "pod_name", "image", "class":
				continue
			}
			if p.Columns == nil {
				p.Columns = map[string]string{}
			}
			p.Columns[h] = get(i)
		}
		if prev, dup := seen[p.Key]; dup {
			return nil, fmt.Errorf("pods csv line %d: pod %s already listed on line %d", line, p.Key, prev)
		}
		seen[p.Key] = line
		pods = append(pods, p)
	}
	if len(pods) == 0 {
		return nil, errors.New("pods csv: no pods after the header")
	}
	return pods, nil
}

// ReadPodsFile reads a pods CSV from disk.
func ReadPodsFile(path string) ([]Pod, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pods, err := ReadPods(io.LimitReader(f, maxPodsFileBytes))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pods, nil
}
