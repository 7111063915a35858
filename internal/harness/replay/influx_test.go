package replay

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/podclass/podclass/internal/harness/influxtest"
	"github.com/podclass/podclass/samples"
	"github.com/podclass/podclass/samples/influx"
	"github.com/podclass/podclass/samples/lineprotocol"
)

// TestReplayThroughInfluxDBKeepsTheRecording plays recorded windows into a
// real InfluxDB and reads them back through the refiner's source: the
// windows must come back sample for sample, or the refiner would see other
// behaviour online than the trainer saw offline.
func TestReplayThroughInfluxDBKeepsTheRecording(t *testing.T) {
	mem, _, err := lineprotocol.LoadFile(context.Background(), filepath.Join(corpusDir(), "metrics.lp"), lineprotocol.Options{})
	if err != nil {
		t.Fatalf("loading the corpus: %v", err)
	}
	srv := influxtest.Start(t)
	src, err := influx.NewSource(influx.Config{URL: srv.URL, Bucket: srv.Bucket()})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	start := time.Now().Add(-time.Hour).Truncate(time.Second).Add(2 * time.Second)
	want := map[samples.PodKey][]samples.Sample{}
	var keys []samples.PodKey
	i := 0
	for _, w := range mem.All() {
		if i == 5 {
			break
		}
		key := samples.PodKey{Namespace: "replay", Name: w.Pod.Name}
		n := min(len(w.Samples), 8)
		lp, err := Encode(samples.DefaultSchema(), key, w.Samples[:n], start)
		if err != nil {
			t.Fatal(err)
		}
		srv.Write(string(lp))
		want[key], keys = w.Samples[:n], append(keys, key)
		i++
	}
	got, err := src.Windows(context.Background(), keys, start.Add(-time.Second), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		g := got[k]
		if g == nil || len(g.Samples) != len(want[k]) {
			t.Errorf("%s: got %v samples, want %d", k, g, len(want[k]))
			continue
		}
		for j := range g.Samples {
			for _, f := range samples.Fields() {
				a, b := g.Samples[j].Get(f), want[k][j].Get(f)
				if math.IsNaN(a) != math.IsNaN(b) || (!math.IsNaN(a) && a != b) {
					t.Errorf("%s sample %d %s = %v, recorded %v", k, j, f, a, b)
				}
			}
			if d := g.Samples[j].Time.Sub(g.Samples[0].Time) - want[k][j].Time.Sub(want[k][0].Time); d.Abs() > time.Second {
				t.Errorf("%s sample %d is %s off the recorded spacing", k, j, d)
			}
		}
	}
}

// corpusDir is the committed corpus; PODCLASS_CORPUS_DIR points elsewhere.
func corpusDir() string {
	if d := os.Getenv("PODCLASS_CORPUS_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "testdata", "corpus")
}
