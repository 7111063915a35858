package replay

import (
	"bytes"
	"context"
	"math"
	"testing"
	"time"

	"github.com/podclass/podclass/samples"
	"github.com/podclass/podclass/samples/lineprotocol"
)

func TestEncodeRoundTripsThroughTheLineProtocolReader(t *testing.T) {
	t0 := time.Date(2021, 6, 4, 10, 0, 0, 0, time.UTC)
	var ss []samples.Sample
	for i := 0; i < 4; i++ {
		s := samples.NewSample(t0.Add(time.Duration(i) * 10 * time.Second))
		s.CPUNanoCores = float64(1e6 * (i + 1))
		s.CPUCoreNanoSeconds = float64(1e9 * i)
		s.MemoryWorkingSet = 5e7
		s.RxBytes, s.TxBytes = float64(1000*i), float64(9000*i)
		s.IOWriteBytes = float64(4096 * i)
		ss = append(ss, s)
	}
	to := samples.PodKey{Namespace: "shop", Name: "db-0"}
	start := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	ss[2].Time = ss[2].Time.Add(4 * time.Second) // jitter: stays on its own grid point
	lp, err := Encode(samples.DefaultSchema(), to, ss, start)
	if err != nil {
		t.Fatal(err)
	}
	mem, _, err := lineprotocol.Read(context.Background(), bytes.NewReader(lp), lineprotocol.Options{})
	if err != nil {
		t.Fatalf("reading back: %v\n%s", err, lp)
	}
	w := mem.All()[to]
	if w == nil || len(w.Samples) != len(ss) {
		t.Fatalf("read back %v, want %d samples of %s\n%s", w, len(ss), to, lp)
	}
	for i, got := range w.Samples {
		want := ss[i]
		if !got.Time.Equal(start.Add(time.Duration(i) * 10 * time.Second)) {
			t.Errorf("sample %d at %s, want shifted to %s", i, got.Time, start.Add(time.Duration(i)*10*time.Second))
		}
		for _, f := range samples.Fields() {
			g, wv := got.Get(f), want.Get(f)
			if math.IsNaN(g) != math.IsNaN(wv) || (!math.IsNaN(g) && g != wv) {
				t.Errorf("sample %d %s = %v, want %v", i, f, g, wv)
			}
		}
	}
}
