package classifier

import (
	"context"
	"fmt"
	"testing"

	"github.com/podclass/podclass/samples"
	"github.com/podclass/podclass/samples/lineprotocol"

	"github.com/podclass/podclass/classifier/classifiertest"
)

// BenchmarkClassify is the per-pod inference cost: a 6-sample window →
// features → imputation → forest → thresholds and OOD guard.
func BenchmarkClassify(b *testing.B) {
	c := benchModel(b)
	_, _, wins := classifiertest.Pods([]string{"db", "cache", "web"}, 4, 6, 9)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = c.Classify(wins[i%len(wins)])
	}
}

// BenchmarkPredictFeatures is the forest alone on a ready feature vector.
func BenchmarkPredictFeatures(b *testing.B) {
	c := benchModel(b)
	f := c.model.(*Forest)
	_, _, wins := classifiertest.Pods([]string{"web"}, 1, 6, 9)
	x := Features(wins[0])
	for i := range x {
		if x[i] != x[i] {
			x[i] = c.impute[i]
		}
	}
	dst := make([]float64, len(f.Classes()))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = f.PredictInto(dst, x)
	}
}

func benchModel(b *testing.B) *Classifier {
	b.Helper()
	ex := synthExamples(b, []string{"db", "cache", "web"}, 10, 60, 1)
	c, err := Train(ex, DefaultTrainConfig()) // the shipped 75 trees
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkTrain1MSamples trains the shipped configuration on one million
// samples: 1000 pods of 1000 samples (about 2.8 h of 10 s samples each).
// Training draws at most WindowsPerPod windows of WindowSamples consecutive
// samples from each pod (12 × 6, spread over the pod's life), so 72,000 of
// the million samples reach the forest, as 12,000 rows; the "samples-used"
// and "rows" metrics say so. What it measures is ingesting a million samples
// and fitting the capped rows — not fitting a million rows.
func BenchmarkTrain1MSamples(b *testing.B) {
	ex := synthExamples(b, []string{"db", "cache", "web", "foreign"}, 250, 1000, 1)
	n, rows, used := 0, 0, 0
	base := DefaultTrainConfig()
	for _, e := range ex {
		n += len(e.Window.Samples)
		for _, w := range SubWindows(e.Window, base.Thresholds.WindowSamples, base.WindowsPerPod) {
			rows++
			used += len(w.Samples)
		}
	}
	for _, foreign := range []bool{false, true} {
		cfg := DefaultTrainConfig()
		cfg.Calibration.ForeignMargins = foreign
		b.Run(fmt.Sprintf("foreign-calibration=%v", foreign), func(b *testing.B) {
			b.ReportMetric(float64(n), "samples")
			b.ReportMetric(float64(used), "samples-used")
			b.ReportMetric(float64(rows), "rows")
			for i := 0; i < b.N; i++ {
				if _, err := Train(ex, cfg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkClassifyCorpusWithDefaultModel classifies the corpus pods' first
// windows with the embedded default model (skipped without the corpus).
func BenchmarkClassifyCorpusWithDefaultModel(b *testing.B) {
	src, _, err := lineprotocol.LoadFile(context.Background(), "../testdata/corpus/metrics.lp", lineprotocol.Options{})
	if err != nil {
		b.Skip(err)
	}
	c, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	var wins []*samples.Window
	for _, w := range src.All() {
		wins = append(wins, c.Window(w))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = c.Classify(wins[i%len(wins)])
	}
}
