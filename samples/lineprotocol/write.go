package lineprotocol

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	lp "github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/podclass/podclass/samples"
)

// Writer encodes samples as the line protocol telegraf writes, in the
// measurements of a Schema, so Read (or a real InfluxDB) gives the same
// windows back. Every value is written as an integer (telegraf's kubernetes
// and docker inputs report integers); a NaN (missing) value is left out, as
// telegraf leaves out what the kubelet did not report, and a line with no
// value is not written; nor is an infinite one.
type Writer struct {
	// Schema names the measurements, tags and fields; the zero value means
	// samples.DefaultSchema. Each measurement is written with its first pod
	// tag pair.
	Schema samples.Schema
	// Node is the node_name tag of every line; empty leaves it out.
	Node string
	// Container is the value of every series tag (container_name, …): the
	// pod is written as one container. Empty names it after the pod.
	Container string
}

// Encode returns the lines of one pod's samples, sample i at time at(i),
// measurement by measurement.
func (w Writer) Encode(pod samples.PodKey, ss []samples.Sample, at func(i int) time.Time) ([]byte, error) {
	var enc lp.Encoder
	enc.SetPrecision(lp.Nanosecond)
	if err := w.encode(&enc, pod, ss, at); err != nil {
		return nil, err
	}
	return enc.Bytes(), nil
}

// WriteWindows writes every window, pods in name order, each sample at its
// own time.
func (w Writer) WriteWindows(out io.Writer, windows map[samples.PodKey]*samples.Window) error {
	keys := slices.SortedFunc(maps.Keys(windows), func(a, b samples.PodKey) int {
		return strings.Compare(a.String(), b.String())
	})
	var enc lp.Encoder
	enc.SetPrecision(lp.Nanosecond)
	for _, k := range keys {
		ss := windows[k].Samples
		if err := w.encode(&enc, k, ss, func(i int) time.Time { return ss[i].Time }); err != nil {
			return err
		}
		if _, err := out.Write(enc.Bytes()); err != nil {
			return err
		}
		enc.Reset()
	}
	return nil
}

func (w Writer) encode(enc *lp.Encoder, pod samples.PodKey, ss []samples.Sample, at func(i int) time.Time) error {
	schema := w.Schema
	if len(schema.Measurements) == 0 {
		schema = samples.DefaultSchema()
	}
	container := w.Container
	if container == "" {
		container = pod.Name
	}
	for _, m := range schema.Measurements {
		if len(m.PodTags) == 0 {
			return fmt.Errorf("measurement %s has no pod tags", m.Name)
		}
		tags := map[string]string{m.PodTags[0].Namespace: pod.Namespace, m.PodTags[0].Pod: pod.Name}
		if w.Node != "" {
			tags["node_name"] = w.Node
		}
		for _, t := range m.SeriesTags {
			tags[t] = container
		}
		for k, v := range m.Require {
			tags[k] = v
		}
		tagKeys := slices.Sorted(maps.Keys(tags))
		fieldKeys := slices.Sorted(maps.Keys(m.Fields))
		for i := range ss {
			s := &ss[i]
			if !slices.ContainsFunc(fieldKeys, func(f string) bool { return present(s.Get(m.Fields[f])) }) {
				continue
			}
			enc.StartLine(m.Name)
			for _, k := range tagKeys {
				enc.AddTag(k, tags[k])
			}
			for _, f := range fieldKeys {
				if v := s.Get(m.Fields[f]); present(v) {
					enc.AddField(f, lp.IntValue(int64(math.Round(v))))
				}
			}
			enc.EndLine(at(i))
		}
	}
	if err := enc.Err(); err != nil {
		return fmt.Errorf("encoding line protocol for %s: %w", pod, err)
	}
	return nil
}

func present(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
