package replay

import (
	"math"
	"time"

	"github.com/podclass/podclass/samples"
	"github.com/podclass/podclass/samples/lineprotocol"
)

// Encode writes samples as telegraf line protocol for the pod `to`. Like
// telegraf (round_interval), it writes on the collection grid: the first
// sample at start rounded up to a multiple of samples.DefaultInterval, each
// later one on the grid point nearest its recorded offset, so jitter in the
// recording never puts two samples in one interval. Every
// measurement of schema is written (one container named "main"); NaN values
// are left out, as telegraf leaves out what the kubelet did not report.
func Encode(schema samples.Schema, to samples.PodKey, ss []samples.Sample, start time.Time) ([]byte, error) {
	if len(ss) == 0 {
		return nil, nil
	}
	const step = samples.DefaultInterval
	origin := start.Truncate(step)
	if origin.Before(start) {
		origin = origin.Add(step)
	}
	at := func(i int) time.Time {
		k := math.Round(float64(ss[i].Time.Sub(ss[0].Time)) / float64(step))
		return origin.Add(time.Duration(k) * step)
	}
	return lineprotocol.Writer{Schema: schema, Node: "node-1", Container: "main"}.Encode(to, ss, at)
}
