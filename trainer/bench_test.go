package trainer

import (
	"path/filepath"
	"testing"

	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/imagerules"
)

// BenchmarkTrainFinalModelOnCorpus fits the shipped configuration's final
// model on every known pod of the recorded corpus: both feature sets'
// forests, their out-of-distribution guards and the inner cross-validated
// threshold calibration — what `podclass train` does after its evaluation.
// The evaluation before it (the outer folds and leave-one-class-out, one
// such fit per fold) is not part of this figure. Reading and assembling the
// corpus is outside the timer.
//
//	go test ./trainer -run '^$' -bench TrainFinalModelOnCorpus -benchtime 1x
func BenchmarkTrainFinalModelOnCorpus(b *testing.B) {
	ds := loadRecorded(b, filepath.Join("..", "testdata", "corpus"))
	cfg := DefaultEvalConfig()
	cfg.Train.Families = imagerules.Default().Families()
	examples, err := ds.EvalExamples("machine", &cfg)
	if err != nil {
		b.Fatal(err)
	}
	examples = knownOnly(examples, cfg.Foreign)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := classifier.Train(examples, cfg.Train); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(examples)), "pods")
}
