package influx

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/podclass/podclass/internal/harness/influxtest"
	"github.com/podclass/podclass/samples"
	"github.com/podclass/podclass/samples/samplestest"
)

// BenchmarkInfluxSourceWindows reads 10 minutes of 1,000 pods from a real
// InfluxDB: two queries at the default batch size of 500.
func BenchmarkInfluxSourceWindows(b *testing.B) {
	srv := influxtest.Start(b)
	data, keys := samplestest.BenchData(1000, 60)
	// Write in chunks of whole lines: one request of every point is slow to parse.
	for len(data) > 0 {
		n := min(len(data), 8<<20)
		if i := bytes.LastIndexByte(data[:n], '\n'); i >= 0 && n < len(data) {
			n = i + 1
		}
		srv.Write(string(data[:n]))
		data = data[n:]
	}
	src, err := NewSource(Config{URL: srv.URL, Bucket: srv.Bucket(), HTTPClient: &http.Client{Timeout: 5 * time.Minute}})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	start, end := samplestest.Start, samplestest.Start.Add(60*samples.DefaultInterval)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		got, err := src.Windows(context.Background(), keys, start, end)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != len(keys) || len(got[keys[0]].Samples) != 60 {
			b.Fatalf("%d windows", len(got))
		}
	}
	b.ReportMetric(float64(len(keys))*float64(b.N)/b.Elapsed().Seconds(), "pods/s")
}
