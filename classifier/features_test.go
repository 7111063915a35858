package classifier

import (
	"math"
	"testing"
	"time"

	"github.com/podclass/podclass/samples"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// series builds a window whose samples have the given times (seconds) and
// rx byte counter values (NaN = missing).
func rxSeries(secs []float64, rx []float64) *samples.Window {
	w := &samples.Window{Pod: samples.PodKey{Namespace: "ns", Name: "p"}}
	for i, s := range secs {
		smp := samples.NewSample(t0.Add(time.Duration(s * float64(time.Second))))
		smp.RxBytes = rx[i]
		smp.TxBytes = 0
		w.Samples = append(w.Samples, smp)
	}
	return w
}

func TestCounterRates(t *testing.T) {
	nan := math.NaN()
	tests := map[string]struct {
		secs []float64
		vals []float64
		want float64 // bytes/s overall
		ok   bool
	}{
		"a steady counter gives its slope": {
			secs: []float64{0, 10, 20, 30}, vals: []float64{0, 1000, 2000, 3000}, want: 100, ok: true,
		},
		"a reset counts the post-reset value as the delta": {
			// 0→1000 (+1000), reset to 200 (+200), 200→1200 (+1000): 2200 over 30 s.
			secs: []float64{0, 10, 20, 30}, vals: []float64{0, 1000, 200, 1200}, want: 2200.0 / 30, ok: true,
		},
		"a missing value widens the interval instead of inventing a zero": {
			secs: []float64{0, 10, 20, 30}, vals: []float64{0, nan, 2000, 3000}, want: 100, ok: true,
		},
		"a gap in time uses the actual interval": {
			secs: []float64{0, 10, 50}, vals: []float64{0, 1000, 5000}, want: 100, ok: true,
		},
		"duplicate timestamps are ignored": {
			secs: []float64{0, 10, 10, 20}, vals: []float64{0, 1000, 999999, 2000}, want: 100, ok: true,
		},
		"a single present value has no rate": {
			secs: []float64{0, 10}, vals: []float64{nan, 5}, ok: false,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := rxSeries(tc.secs, tc.vals)
			r := counterRates(nil, w.Samples, func(s *samples.Sample) float64 { return s.RxBytes })
			if r.ok() != tc.ok {
				t.Fatalf("ok = %v, want %v", r.ok(), tc.ok)
			}
			if tc.ok && math.Abs(r.total()-tc.want) > 1e-9 {
				t.Fatalf("rate = %v, want %v", r.total(), tc.want)
			}
			x := Features(w)
			if tc.ok {
				if got, want := x[FLogRxRate], math.Log10(1+tc.want); math.Abs(got-want) > 1e-9 {
					t.Fatalf("log_rx_bytes_rate = %v, want %v", got, want)
				}
			} else if !math.IsNaN(x[FLogRxRate]) {
				t.Fatalf("log_rx_bytes_rate = %v, want NaN", x[FLogRxRate])
			}
		})
	}
}

func TestFeatures(t *testing.T) {
	mk := func(n int, f func(i int, s *samples.Sample)) *samples.Window {
		w := &samples.Window{}
		for i := 0; i < n; i++ {
			s := samples.NewSample(t0.Add(time.Duration(i) * 10 * time.Second))
			f(i, &s)
			w.Samples = append(w.Samples, s)
		}
		return w
	}
	tests := map[string]struct {
		w     *samples.Window
		check func(t *testing.T, x []float64)
	}{
		"an empty window is all missing": {
			w: &samples.Window{},
			check: func(t *testing.T, x []float64) {
				for i, v := range x {
					if !math.IsNaN(v) {
						t.Errorf("%s = %v, want NaN", featureNames[i], v)
					}
				}
			},
		},
		"cpu falls back to the cumulative counter when the gauge is missing": {
			w: mk(4, func(i int, s *samples.Sample) { s.CPUCoreNanoSeconds = float64(i) * 5e9 }), // 0.5 cores
			check: func(t *testing.T, x []float64) {
				if math.Abs(x[FCPUCoresMean]-0.5) > 1e-9 {
					t.Errorf("cpu_cores_mean = %v, want 0.5", x[FCPUCoresMean])
				}
			},
		},
		"a cpu counter reset does not produce a negative rate": {
			w: mk(4, func(i int, s *samples.Sample) { s.CPUCoreNanoSeconds = []float64{0, 5e9, 1e9, 6e9}[i] }),
			check: func(t *testing.T, x []float64) {
				// +5e9, reset +1e9, +5e9 over 30 s = 0.3667 cores.
				if math.Abs(x[FCPUCoresMean]-11.0/30) > 1e-9 {
					t.Errorf("cpu_cores_mean = %v, want %v", x[FCPUCoresMean], 11.0/30)
				}
			},
		},
		"ratios are load independent": {
			w: mk(6, func(i int, s *samples.Sample) {
				s.CPUNanoCores = 2e9
				s.RxBytes, s.TxBytes = float64(i)*1000, float64(i)*10000
				s.MemoryWorkingSet, s.MemoryRSS, s.MemoryUsage = 100, 80, 200
				s.IOReadBytes, s.IOWriteBytes = float64(i)*300, float64(i)*100
			}),
			check: func(t *testing.T, x []float64) {
				if got := x[FLogTxRxRatio]; math.Abs(got-math.Log10(1001.0/101)) > 1e-9 {
					t.Errorf("log_tx_rx_ratio = %v", got)
				}
				if got := x[FRSSWorkingSetRatio]; math.Abs(got-0.8) > 1e-9 {
					t.Errorf("rss_working_set_ratio = %v", got)
				}
				if got := x[FCacheShare]; math.Abs(got-0.6) > 1e-9 {
					t.Errorf("cache_share = %v", got)
				}
				if got := x[FIOReadShare]; math.Abs(got-0.75) > 1e-9 {
					t.Errorf("io_read_share = %v", got)
				}
				if got := x[FCPUCV]; got != 0 {
					t.Errorf("cpu_cv = %v, want 0", got)
				}
			},
		},
		"no io at all has an even read share": {
			w: mk(3, func(i int, s *samples.Sample) { s.IOReadBytes, s.IOWriteBytes = 7, 7 }),
			check: func(t *testing.T, x []float64) {
				if x[FIOReadShare] != 0.5 {
					t.Errorf("io_read_share = %v, want 0.5", x[FIOReadShare])
				}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			x := Features(tc.w)
			if len(x) != NumFeatures {
				t.Fatalf("len = %d", len(x))
			}
			tc.check(t, x)
		})
	}
}

func TestFeatureNamesAreUniqueAndComplete(t *testing.T) {
	seen := map[string]bool{}
	for i, n := range FeatureNames() {
		if n == "" || seen[n] {
			t.Fatalf("feature %d name %q empty or duplicate", i, n)
		}
		seen[n] = true
	}
}

func TestSubWindowsStartWithTheFirstSamples(t *testing.T) {
	w := rxSeries([]float64{0, 10, 20, 30, 40, 50, 60, 70, 80, 90}, make([]float64, 10))
	subs := SubWindows(w, 4, 3)
	if len(subs) != 3 {
		t.Fatalf("got %d sub-windows, want 3", len(subs))
	}
	if !subs[0].Samples[0].Time.Equal(t0) || len(subs[0].Samples) != 4 {
		t.Fatalf("first sub-window does not start at the pod's first sample")
	}
	if got := subs[2].Samples[3].Time; !got.Equal(t0.Add(90 * time.Second)) {
		t.Fatalf("last sub-window ends at %v", got)
	}
	if got := FirstN(w, 6); len(got.Samples) != 6 || !got.Samples[0].Time.Equal(t0) {
		t.Fatalf("FirstN is not the first six samples")
	}
}
