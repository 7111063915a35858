package samples

import (
	"math"
	"sort"
	"time"
)

// DefaultInterval is telegraf's default collection interval, and the bucket
// width samples are aligned to unless a source is told otherwise.
const DefaultInterval = 10 * time.Second

// row is what every source hands the accumulator: the values one series (a
// container of a pod, or the pod's network) had at one time. Fields the row
// does not carry are NaN.
type Row struct {
	Series uint64
	Time   time.Time
	Values [NumFields]float64
}

// reset clears r for reuse.
func (r *Row) Reset() {
	r.Series = 0
	r.Time = time.Time{}
	for i := range r.Values {
		r.Values[i] = math.NaN()
	}
}

// accumulator turns rows into windows. Rows of different series that fall in
// the same interval bucket are summed into one sample: telegraf writes its
// measurements at the same rounded interval timestamps, and rounding to the
// nearest bucket absorbs the small skew between them (up to half an interval).
// A second row of the same series in one bucket replaces the first instead of
// being added, so data written more often than the interval is not doubled.
type Accumulator struct {
	interval time.Duration
	// fixed: only pods registered up front are kept (a Windows call), else
	// every pod seen is (loading a whole file).
	fixed bool
	// PodsOnly: remember which pods had rows, not their values (a Lister).
	PodsOnly bool
	pods     map[string]map[string]*AccPod // namespace → pod → state
}

type AccPod struct {
	key     PodKey
	seen    bool
	buckets map[int64]*bucket
	series  map[uint64]*seriesState
}

type bucket struct {
	sample Sample
	n      [NumFields]uint32 // how many series contributed to each value
}

type seriesState struct {
	bucket int64
	values [NumFields]float64
}

// MarkSeen records that the pod had rows, for a Lister that does not need
// their values.
func (p *AccPod) MarkSeen() { p.seen = true }

// NewAccumulator accepts only the given pods, or every pod if pods is nil.
// interval ≤ 0 keeps exact timestamps.
func NewAccumulator(interval time.Duration, pods []PodKey) *Accumulator {
	a := &Accumulator{interval: interval, pods: map[string]map[string]*AccPod{}}
	if pods != nil {
		a.fixed = true
		for _, k := range pods {
			a.pod(k.Namespace, k.Name)
		}
	}
	return a
}

// lookup finds the pod named by the byte slices without allocating, creating
// it unless the accumulator is fixed. It returns nil for a pod not wanted.
func (a *Accumulator) Lookup(ns, name []byte) *AccPod {
	if byName, ok := a.pods[string(ns)]; ok {
		if p, ok := byName[string(name)]; ok {
			return p
		}
	}
	if a.fixed {
		return nil
	}
	return a.pod(string(ns), string(name))
}

// find is lookup for strings.
func (a *Accumulator) Find(ns, name string) *AccPod {
	if p := a.pods[ns][name]; p != nil || a.fixed {
		return p
	}
	return a.pod(ns, name)
}

// pod finds the named pod, creating it if needed.
func (a *Accumulator) pod(ns, name string) *AccPod {
	byName := a.pods[ns]
	if byName == nil {
		byName = map[string]*AccPod{}
		a.pods[ns] = byName
	}
	p := byName[name]
	if p == nil {
		p = &AccPod{key: PodKey{Namespace: ns, Name: name}, buckets: map[int64]*bucket{}, series: map[uint64]*seriesState{}}
		byName[name] = p
	}
	return p
}

// bucketOf returns the bucket number of t: the nearest multiple of the interval.
func (a *Accumulator) bucketOf(t time.Time) int64 {
	ns := t.UnixNano()
	if a.interval <= 0 {
		return ns
	}
	iv := int64(a.interval)
	b := ns / iv
	rem := ns - b*iv
	if rem < 0 { // floor division for times before 1970
		b--
		rem += iv
	}
	if 2*rem >= iv {
		b++
	}
	return b
}

func (a *Accumulator) bucketTime(b int64) time.Time {
	if a.interval <= 0 {
		return time.Unix(0, b).UTC()
	}
	return time.Unix(0, b*int64(a.interval)).UTC()
}

// add folds r into pod p.
func (a *Accumulator) Add(p *AccPod, r *Row) {
	p.seen = true
	if a.PodsOnly {
		return
	}
	b := a.bucketOf(r.Time)
	bk := p.buckets[b]
	if bk == nil {
		bk = &bucket{sample: NewSample(a.bucketTime(b))}
		p.buckets[b] = bk
	}
	st := p.series[r.Series]
	if st == nil {
		st = &seriesState{bucket: math.MinInt64}
		p.series[r.Series] = st
	}
	if st.bucket == b {
		// The same series again in this bucket: take back what it gave.
		for f, v := range st.values {
			if math.IsNaN(v) {
				continue
			}
			p := bk.sample.ptr(Field(f))
			if bk.n[f]--; bk.n[f] == 0 {
				*p = math.NaN()
			} else {
				*p -= v
			}
		}
	}
	for f, v := range r.Values {
		if math.IsNaN(v) {
			continue
		}
		p := bk.sample.ptr(Field(f))
		if bk.n[f] == 0 {
			*p = v
		} else {
			*p += v
		}
		bk.n[f]++
	}
	st.bucket = b
	st.values = r.Values
}

// podKeys lists, sorted, the pods that had rows.
func (a *Accumulator) PodKeys() []PodKey {
	var out []PodKey
	for _, byName := range a.pods {
		for _, p := range byName {
			if p.seen {
				out = append(out, p.key)
			}
		}
	}
	sortPods(out)
	return out
}

// windows returns the time-ordered windows of every pod with samples.
func (a *Accumulator) Windows() map[PodKey]*Window {
	out := map[PodKey]*Window{}
	for _, byName := range a.pods {
		for _, p := range byName {
			if len(p.buckets) == 0 {
				continue
			}
			keys := make([]int64, 0, len(p.buckets))
			for b := range p.buckets {
				keys = append(keys, b)
			}
			sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
			w := &Window{Pod: p.key, Samples: make([]Sample, len(keys))}
			for i, b := range keys {
				w.Samples[i] = p.buckets[b].sample
			}
			out[p.key] = w
		}
	}
	return out
}

// SeriesHash identifies a series by its measurement and series tag values,
// FNV-1a so every source computes the same identity without allocating.
type SeriesHash uint64

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func NewSeriesHash(measurement string) SeriesHash {
	return SeriesHash(fnvOffset).AddString(measurement)
}

func (h SeriesHash) AddString(s string) SeriesHash {
	for i := 0; i < len(s); i++ {
		h = (h ^ SeriesHash(s[i])) * fnvPrime
	}
	return (h ^ 0xff) * fnvPrime // separator: ("ab","c") ≠ ("a","bc")
}

func (h SeriesHash) AddBytes(b []byte) SeriesHash {
	for _, c := range b {
		h = (h ^ SeriesHash(c)) * fnvPrime
	}
	return (h ^ 0xff) * fnvPrime
}
