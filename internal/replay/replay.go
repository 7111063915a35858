// Package replay turns recorded pod windows back into the line protocol
// telegraf writes, under new pod names and shifted to new times, so tests and
// the demo can play real recorded behaviour into a real InfluxDB as if the
// pods they create were producing it.
package replay

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/podclass/podclass/metrics"
)

// Encode writes samples as telegraf line protocol for the pod `to`. Like
// telegraf (round_interval), it writes on the collection grid: the first
// sample at start rounded up to a multiple of metrics.DefaultInterval, each
// later one on the grid point nearest its recorded offset, so jitter in the
// recording never puts two samples in one interval. Every
// measurement of schema is written (one container named "main"); NaN values
// are left out, as telegraf leaves out what the kubelet did not report.
func Encode(schema metrics.Schema, to metrics.PodKey, samples []metrics.Sample, start time.Time) ([]byte, error) {
	if len(samples) == 0 {
		return nil, nil
	}
	const step = metrics.DefaultInterval
	origin := start.Truncate(step)
	if origin.Before(start) {
		origin = origin.Add(step)
	}
	at := func(s *metrics.Sample) time.Time {
		k := math.Round(float64(s.Time.Sub(samples[0].Time)) / float64(step))
		return origin.Add(time.Duration(k) * step)
	}
	var enc lineprotocol.Encoder
	enc.SetPrecision(lineprotocol.Nanosecond)
	for _, m := range schema.Measurements {
		if len(m.PodTags) == 0 {
			return nil, fmt.Errorf("measurement %s has no pod tags", m.Name)
		}
		tags := map[string]string{m.PodTags[0].Namespace: to.Namespace, m.PodTags[0].Pod: to.Name, "node_name": "node-1"}
		for _, t := range m.SeriesTags {
			tags[t] = "main"
		}
		for k, v := range m.Require {
			tags[k] = v
		}
		tagKeys := sortedKeys(tags)
		fieldKeys := make([]string, 0, len(m.Fields))
		for f := range m.Fields {
			fieldKeys = append(fieldKeys, f)
		}
		sort.Strings(fieldKeys)
		for i := range samples {
			s := &samples[i]
			n := 0
			for _, f := range fieldKeys {
				if !math.IsNaN(s.Get(m.Fields[f])) {
					n++
				}
			}
			if n == 0 {
				continue
			}
			enc.StartLine(m.Name)
			for _, k := range tagKeys {
				enc.AddTag(k, tags[k])
			}
			for _, f := range fieldKeys {
				v := s.Get(m.Fields[f])
				if math.IsNaN(v) {
					continue
				}
				enc.AddField(f, lineprotocol.IntValue(int64(math.Round(v))))
			}
			enc.EndLine(at(s))
		}
	}
	if err := enc.Err(); err != nil {
		return nil, fmt.Errorf("encoding line protocol for %s: %w", to, err)
	}
	return enc.Bytes(), nil
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
