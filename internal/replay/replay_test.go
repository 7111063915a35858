package replay

import (
	"bytes"
	"context"
	"math"
	"testing"
	"time"

	"github.com/podclass/podclass/metrics"
)

func TestEncodeRoundTripsThroughTheLineProtocolReader(t *testing.T) {
	t0 := time.Date(2021, 6, 4, 10, 0, 0, 0, time.UTC)
	var samples []metrics.Sample
	for i := 0; i < 4; i++ {
		s := metrics.NewSample(t0.Add(time.Duration(i) * 10 * time.Second))
		s.CPUNanoCores = float64(1e6 * (i + 1))
		s.CPUCoreNanoSeconds = float64(1e9 * i)
		s.MemoryWorkingSet = 5e7
		s.RxBytes, s.TxBytes = float64(1000*i), float64(9000*i)
		s.IOWriteBytes = float64(4096 * i)
		samples = append(samples, s)
	}
	to := metrics.PodKey{Namespace: "shop", Name: "db-0"}
	start := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	samples[2].Time = samples[2].Time.Add(4 * time.Second) // jitter: stays on its own grid point
	lp, err := Encode(metrics.DefaultSchema(), to, samples, start)
	if err != nil {
		t.Fatal(err)
	}
	mem, _, err := metrics.ReadLineProtocol(context.Background(), bytes.NewReader(lp), metrics.LineProtocolOptions{})
	if err != nil {
		t.Fatalf("reading back: %v\n%s", err, lp)
	}
	w := mem.All()[to]
	if w == nil || len(w.Samples) != len(samples) {
		t.Fatalf("read back %v, want %d samples of %s\n%s", w, len(samples), to, lp)
	}
	for i, got := range w.Samples {
		want := samples[i]
		if !got.Time.Equal(start.Add(time.Duration(i) * 10 * time.Second)) {
			t.Errorf("sample %d at %s, want shifted to %s", i, got.Time, start.Add(time.Duration(i)*10*time.Second))
		}
		for _, f := range metrics.Fields() {
			g, wv := got.Get(f), want.Get(f)
			if math.IsNaN(g) != math.IsNaN(wv) || (!math.IsNaN(g) && g != wv) {
				t.Errorf("sample %d %s = %v, want %v", i, f, g, wv)
			}
		}
	}
}
