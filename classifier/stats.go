package classifier

import (
	"math"
	"sort"

	"github.com/podclass/podclass/samples"
)

// rates is the result of turning a cumulative counter into rates.
type rates struct {
	rates []float64 // per interval, units per second
	delta float64   // sum of the deltas
	dt    float64   // sum of the intervals, seconds
}

func (r rates) ok() bool { return r.dt > 0 }

func (r rates) total() float64 { return r.delta / r.dt }

// counterRates turns a cumulative counter into per-interval rates. Missing
// values (NaN) are skipped: the next present value pairs with the last present
// one and the rate uses the actual time between them, so a gap widens the
// interval instead of inventing a zero. A drop is a counter reset (a container
// restart): the post-reset value is the delta since the reset. Intervals with
// a non-positive time step are ignored.
func counterRates(buf []float64, s []samples.Sample, get func(*samples.Sample) float64) rates {
	out := rates{rates: buf[:0]}
	havePrev := false
	var pv float64
	var pt int64
	for i := range s {
		v := get(&s[i])
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		t := s[i].Time.UnixNano()
		if havePrev {
			dt := float64(t-pt) / 1e9
			if dt > 0 {
				d := v - pv
				if d < 0 {
					d = v // reset: counting restarted from zero
				}
				out.rates = append(out.rates, d/dt)
				out.delta += d
				out.dt += dt
			} else {
				continue // duplicate or out-of-order timestamp: keep the earlier point
			}
		}
		havePrev, pv, pt = true, v, t
	}
	return out
}

// gauge collects the present values of a gauge into buf. Callers share one
// scratch buffer: use the result before the next gauge/counterRates call.
func gauge(buf []float64, s []samples.Sample, get func(*samples.Sample) float64) []float64 {
	out := buf[:0]
	for i := range s {
		if v := get(&s[i]); !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, v)
		}
	}
	return out
}

func meanOf(buf []float64, s []samples.Sample, get func(*samples.Sample) float64) float64 {
	v := gauge(buf, s, get)
	if len(v) == 0 {
		return math.NaN()
	}
	return mean(v)
}

// gaugeSlope is the change of a gauge per second between its first and last
// present values (NaN with fewer than two).
func gaugeSlope(s []samples.Sample, get func(*samples.Sample) float64) float64 {
	first, last := -1, -1
	for i := range s {
		if v := get(&s[i]); !math.IsNaN(v) && !math.IsInf(v, 0) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 || last == first {
		return math.NaN()
	}
	dt := s[last].Time.Sub(s[first].Time).Seconds()
	if dt <= 0 {
		return math.NaN()
	}
	return (get(&s[last]) - get(&s[first])) / dt
}

func mean(v []float64) float64 {
	var sum float64
	for _, x := range v {
		sum += x
	}
	return sum / float64(len(v))
}

// cv is the coefficient of variation (population standard deviation over
// mean); 0 when the mean is 0, NaN with fewer than two values.
func cv(v []float64) float64 {
	if len(v) < 2 {
		return math.NaN()
	}
	m := mean(v)
	if m == 0 {
		return 0
	}
	var ss float64
	for _, x := range v {
		ss += (x - m) * (x - m)
	}
	return math.Sqrt(ss/float64(len(v))) / math.Abs(m)
}

// quantileInPlace sorts v and returns its q-quantile by linear interpolation.
func quantileInPlace(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	sort.Float64s(v)
	pos := q * float64(len(v)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	if lo == hi {
		return v[lo]
	}
	return v[lo] + (v[hi]-v[lo])*(pos-float64(lo))
}

func log10p(v float64) float64 {
	if math.IsNaN(v) {
		return v
	}
	if v < 0 {
		v = 0
	}
	return math.Log10(1 + v)
}

func signedLog10p(v float64) float64 {
	if math.IsNaN(v) {
		return v
	}
	if v < 0 {
		return -math.Log10(1 - v)
	}
	return math.Log10(1 + v)
}

func clamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }
