package lineprotocol

import (
	"bytes"
	"context"
	"testing"

	"github.com/podclass/podclass/samples/samplestest"
)

// BenchmarkLineProtocolRead loads a 100-pod hour (360 steps at 10 s) of
// telegraf output into memory, as the offline trainer does.
func BenchmarkLineProtocolRead(b *testing.B) {
	data, keys := samplestest.BenchData(100, 360)
	lines := bytes.Count(data, []byte("\n"))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m, stats, err := Read(context.Background(), bytes.NewReader(data), Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(m.All()) != len(keys) || stats.BadLines != 0 {
			b.Fatalf("%d pods, %+v", len(m.All()), stats)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
