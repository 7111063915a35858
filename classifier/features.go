// Package classifier tells what kind of service a pod runs from how it
// behaves: a window of metric samples becomes a fixed feature vector
// (features.go), a bagged forest of golearn decision trees scores it
// (model.go, forest.go), and the decision logic (classifier.go) turns the
// scores into an answer with a confidence — a class, a family when only the
// family is sure, or "unknown" when the model should abstain.
//
// The package knows nothing about images, names or namespaces: a model that
// used them would learn the image, not the behaviour. Families come in as
// configuration (a class → family map) so this package does not import the
// image rules.
package classifier

import (
	"math"
	"sort"

	"github.com/podclass/podclass/samples"
)

// FeatureSchemaName and FeatureSchemaVersion name the feature vector that
// Features computes. A model records them; loading a model built on another
// schema fails (see ErrSchemaMismatch). Bump the version whenever a feature is
// added, removed, reordered or its definition changes.
const (
	FeatureSchemaName    = "podclass-behaviour"
	FeatureSchemaVersion = "1"
)

// Feature indices. The order is part of the schema.
const (
	FCPUCoresMean = iota
	FCPUCoresP90
	FCPUCV
	FLogWorkingSet
	FLogMemoryUsage
	FRSSWorkingSetRatio
	FCacheShare
	FWorkingSetGrowth
	FLogPageFaultRate
	FLogMajorFaultRate
	FLogFaultsPerCPUSecond
	FLogRxRate
	FLogTxRate
	FLogTxRxRatio
	FLogNetPerCPUSecond
	FRxRateCV
	FTxRateCV
	FLogNetErrorRate
	FLogIOReadRate
	FLogIOWriteRate
	FIOReadShare
	FLogIOPerCPUSecond
	FLogRootfsUsed
	FLogLogsfsUsed
	FRootfsGrowth
	FLogsfsGrowth
	FLogWorkingSetPerCore
	NumFeatures
)

var featureNames = [NumFeatures]string{
	FCPUCoresMean:          "cpu_cores_mean",
	FCPUCoresP90:           "cpu_cores_p90",
	FCPUCV:                 "cpu_cv",
	FLogWorkingSet:         "log_working_set_bytes",
	FLogMemoryUsage:        "log_memory_usage_bytes",
	FRSSWorkingSetRatio:    "rss_working_set_ratio",
	FCacheShare:            "cache_share",
	FWorkingSetGrowth:      "working_set_growth_per_min",
	FLogPageFaultRate:      "log_page_fault_rate",
	FLogMajorFaultRate:     "log_major_fault_rate",
	FLogFaultsPerCPUSecond: "log_faults_per_cpu_second",
	FLogRxRate:             "log_rx_bytes_rate",
	FLogTxRate:             "log_tx_bytes_rate",
	FLogTxRxRatio:          "log_tx_rx_ratio",
	FLogNetPerCPUSecond:    "log_net_bytes_per_cpu_second",
	FRxRateCV:              "rx_rate_cv",
	FTxRateCV:              "tx_rate_cv",
	FLogNetErrorRate:       "log_net_error_rate",
	FLogIOReadRate:         "log_io_read_rate",
	FLogIOWriteRate:        "log_io_write_rate",
	FIOReadShare:           "io_read_share",
	FLogIOPerCPUSecond:     "log_io_bytes_per_cpu_second",
	FLogRootfsUsed:         "log_rootfs_used_bytes",
	FLogLogsfsUsed:         "log_logsfs_used_bytes",
	FRootfsGrowth:          "rootfs_growth_rate",
	FLogsfsGrowth:          "logsfs_growth_rate",
	FLogWorkingSetPerCore:  "log_working_set_per_core",
}

// FeatureNames returns the names of the schema's features, in vector order.
func FeatureNames() []string {
	out := make([]string, NumFeatures)
	copy(out, featureNames[:])
	return out
}

// FeatureSchema identifies a feature vector layout.
type FeatureSchema struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	Names   []string `json:"names"`
}

// CurrentSchema is the schema Features computes.
func CurrentSchema() FeatureSchema {
	return FeatureSchema{Name: FeatureSchemaName, Version: FeatureSchemaVersion, Names: FeatureNames()}
}

// minCores is the CPU floor used when dividing by CPU, so an idle pod does not
// divide by zero (a tenth of a millicore).
const minCores = 1e-4

// Features computes the behaviour feature vector of a window. The window must
// be time-ordered (samples.Window.Sort). A feature the window cannot support —
// the metric is missing, or there are too few samples for a rate — is NaN;
// the classifier imputes NaN with the training median of that feature (see
// docs/features.md). Features never looks at the pod's name or namespace.
func Features(w *samples.Window) []float64 {
	x := make([]float64, NumFeatures)
	FeaturesInto(x, w.Samples)
	return x
}

// FeaturesInto is Features writing into x (len NumFeatures) without
// allocating for windows of up to 64 samples.
func FeaturesInto(x []float64, s []samples.Sample) {
	nan := math.NaN()
	for i := range x[:NumFeatures] {
		x[i] = nan
	}
	if len(s) == 0 {
		return
	}
	var buf [64]float64
	scratch := buf[:0]
	if len(s) > len(buf) {
		scratch = make([]float64, 0, len(s))
	}

	// CPU: the nanocores gauge when present, else the rate of the cumulative
	// core-nanoseconds counter.
	cpu := gauge(scratch, s, func(p *samples.Sample) float64 { return p.CPUNanoCores / 1e9 })
	if len(cpu) == 0 {
		cpu = counterRates(scratch, s, func(p *samples.Sample) float64 { return p.CPUCoreNanoSeconds / 1e9 }).rates
	}
	cpuMean := nan
	if len(cpu) > 0 {
		cpuMean = mean(cpu)
		x[FCPUCoresMean] = cpuMean
		x[FCPUCV] = cv(cpu)
		x[FCPUCoresP90] = quantileInPlace(cpu, 0.9)
	}
	if r := counterRates(scratch, s, func(p *samples.Sample) float64 { return p.CPUCoreNanoSeconds / 1e9 }); r.ok() && math.IsNaN(cpuMean) {
		cpuMean = r.total()
		x[FCPUCoresMean] = cpuMean
	}
	cpuFloor := nan
	if !math.IsNaN(cpuMean) {
		cpuFloor = math.Max(cpuMean, minCores)
	}

	// Memory.
	ws := gauge(scratch, s, func(p *samples.Sample) float64 { return p.MemoryWorkingSet })
	wsMean := nan
	if len(ws) > 0 {
		wsMean = mean(ws)
		x[FLogWorkingSet] = log10p(wsMean)
		x[FLogWorkingSetPerCore] = log10p(wsMean / cpuFloor)
	}
	wsGrowth := gaugeSlope(s, func(p *samples.Sample) float64 { return p.MemoryWorkingSet })
	if !math.IsNaN(wsGrowth) && wsMean > 0 {
		x[FWorkingSetGrowth] = wsGrowth * 60 / wsMean
	}
	usage := meanOf(scratch, s, func(p *samples.Sample) float64 { return p.MemoryUsage })
	x[FLogMemoryUsage] = log10p(usage)
	rss := meanOf(scratch, s, func(p *samples.Sample) float64 { return p.MemoryRSS })
	if wsMean > 0 {
		x[FRSSWorkingSetRatio] = rss / wsMean
	}
	if usage > 0 && !math.IsNaN(rss) {
		x[FCacheShare] = clamp01(1 - rss/usage)
	}

	// Page faults.
	if r := counterRates(scratch, s, func(p *samples.Sample) float64 { return p.PageFaults }); r.ok() {
		x[FLogPageFaultRate] = log10p(r.total())
		if !math.IsNaN(cpuFloor) {
			x[FLogFaultsPerCPUSecond] = log10p(r.total() / cpuFloor)
		}
	}
	if r := counterRates(scratch, s, func(p *samples.Sample) float64 { return p.MajorPageFaults }); r.ok() {
		x[FLogMajorFaultRate] = log10p(r.total())
	}

	// Network.
	rx := counterRates(scratch, s, func(p *samples.Sample) float64 { return p.RxBytes })
	if rx.ok() {
		x[FLogRxRate] = log10p(rx.total())
		x[FRxRateCV] = cv(rx.rates)
	}
	tx := counterRates(scratch, s, func(p *samples.Sample) float64 { return p.TxBytes })
	if tx.ok() {
		x[FLogTxRate] = log10p(tx.total())
		x[FTxRateCV] = cv(tx.rates)
	}
	if rx.ok() && tx.ok() {
		x[FLogTxRxRatio] = math.Log10((tx.total() + 1) / (rx.total() + 1))
		if !math.IsNaN(cpuFloor) {
			x[FLogNetPerCPUSecond] = log10p((rx.total() + tx.total()) / cpuFloor)
		}
	}
	rxe := counterRates(scratch, s, func(p *samples.Sample) float64 { return p.RxErrors })
	txe := counterRates(scratch, s, func(p *samples.Sample) float64 { return p.TxErrors })
	switch {
	case rxe.ok() && txe.ok():
		x[FLogNetErrorRate] = log10p(rxe.total() + txe.total())
	case rxe.ok():
		x[FLogNetErrorRate] = log10p(rxe.total())
	case txe.ok():
		x[FLogNetErrorRate] = log10p(txe.total())
	}

	// Block IO.
	rd := counterRates(scratch, s, func(p *samples.Sample) float64 { return p.IOReadBytes })
	wr := counterRates(scratch, s, func(p *samples.Sample) float64 { return p.IOWriteBytes })
	if rd.ok() {
		x[FLogIOReadRate] = log10p(rd.total())
	}
	if wr.ok() {
		x[FLogIOWriteRate] = log10p(wr.total())
	}
	if rd.ok() && wr.ok() {
		r, w := rd.total(), wr.total()
		if r+w > 0 {
			x[FIOReadShare] = r / (r + w)
		} else {
			x[FIOReadShare] = 0.5
		}
		if !math.IsNaN(cpuFloor) {
			x[FLogIOPerCPUSecond] = log10p((r + w) / cpuFloor)
		}
	}

	// Filesystems.
	x[FLogRootfsUsed] = log10p(meanOf(scratch, s, func(p *samples.Sample) float64 { return p.RootfsUsed }))
	x[FLogLogsfsUsed] = log10p(meanOf(scratch, s, func(p *samples.Sample) float64 { return p.LogsfsUsed }))
	x[FRootfsGrowth] = signedLog10p(gaugeSlope(s, func(p *samples.Sample) float64 { return p.RootfsUsed }))
	x[FLogsfsGrowth] = signedLog10p(gaugeSlope(s, func(p *samples.Sample) float64 { return p.LogsfsUsed }))
}

// rates is the result of turning a cumulative counter into rates.
type rates struct {
	rates []float64 // per interval, units per second
	delta float64   // sum of the deltas
	dt    float64   // sum of the intervals, seconds
}

func (r rates) ok() bool       { return r.dt > 0 }
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
