package refiner

import (
	"math"

	"github.com/podclass/podclass/samples"
)

// usableSamples counts the samples of w that carry at least one metric. A
// pod whose samples are all missing values has shown no behaviour: it is
// never ready, and at its timeout it is unclassified, never a class or
// unknown decided from imputed values.
func usableSamples(w *samples.Window) int {
	if w == nil {
		return 0
	}
	fields := samples.Fields()
	n := 0
	for i := range w.Samples {
		for _, f := range fields {
			if !math.IsNaN(w.Samples[i].Get(f)) {
				n++
				break
			}
		}
	}
	return n
}
