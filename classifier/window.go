package classifier

import (
	"math"

	"github.com/podclass/podclass/samples"
)

// Window cuts w to the samples the classifier reads: the first
// WindowSamples samples, in time order.
func (c *Classifier) Window(w *samples.Window) *samples.Window {
	if !sortedByTime(w.Samples) {
		cp := &samples.Window{Pod: w.Pod, Samples: append([]samples.Sample(nil), w.Samples...)}
		cp.Sort()
		w = cp
	}
	return FirstN(w, c.thresholds.WindowSamples)
}

func sortedByTime(s []samples.Sample) bool {
	for i := 1; i < len(s); i++ {
		if s[i].Time.Before(s[i-1].Time) {
			return false
		}
	}
	return true
}

// FirstN returns a window holding the first n samples of w (all of them when
// w is shorter). The refiner sees a pod soon after it starts, so both
// training and evaluation score the beginning of a pod's life.
func FirstN(w *samples.Window, n int) *samples.Window {
	if n <= 0 || n >= len(w.Samples) {
		return &samples.Window{Pod: w.Pod, Samples: w.Samples}
	}
	return &samples.Window{Pod: w.Pod, Samples: w.Samples[:n]}
}

// SubWindows returns up to max windows of n consecutive samples from w for
// training (data augmentation): the first n samples always, then windows at
// evenly spaced offsets across the rest of the pod's life. A pod shorter than
// n samples yields one window with all its samples.
func SubWindows(w *samples.Window, n, max int) []*samples.Window {
	if n <= 0 || len(w.Samples) <= n || max <= 1 {
		return []*samples.Window{FirstN(w, n)}
	}
	last := len(w.Samples) - n // last valid offset
	count := max
	if last+1 < count {
		count = last + 1
	}
	out := make([]*samples.Window, 0, count)
	prev := -1
	for i := 0; i < count; i++ {
		off := 0
		if count > 1 {
			off = int(math.Round(float64(i) * float64(last) / float64(count-1)))
		}
		if off == prev {
			continue
		}
		prev = off
		out = append(out, &samples.Window{Pod: w.Pod, Samples: w.Samples[off : off+n]})
	}
	return out
}
