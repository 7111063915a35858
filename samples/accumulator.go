package metrics

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
type row struct {
	series uint64
	time   time.Time
	values [numFields]float64
}

// reset clears r for reuse.
func (r *row) reset() {
	r.series = 0
	r.time = time.Time{}
	for i := range r.values {
		r.values[i] = math.NaN()
	}
}

// accumulator turns rows into windows. Rows of different series that fall in
// the same interval bucket are summed into one sample: telegraf writes its
// measurements at the same rounded interval timestamps, and rounding to the
// nearest bucket absorbs the small skew between them (up to half an interval).
// A second row of the same series in one bucket replaces the first instead of
// being added, so data written more often than the interval is not doubled.
type accumulator struct {
	interval time.Duration
	// fixed: only pods registered up front are kept (a Windows call), else
	// every pod seen is (loading a whole file).
	fixed bool
	// podsOnly: remember which pods had rows, not their values (a Lister).
	podsOnly bool
	pods     map[string]map[string]*podAcc // namespace → pod → state
}

type podAcc struct {
	key     PodKey
	seen    bool
	buckets map[int64]*bucket
	series  map[uint64]*seriesState
}

type bucket struct {
	sample Sample
	n      [numFields]uint32 // how many series contributed to each value
}

type seriesState struct {
	bucket int64
	values [numFields]float64
}

// newAccumulator accepts only the given pods, or every pod if pods is nil.
// interval ≤ 0 keeps exact timestamps.
func newAccumulator(interval time.Duration, pods []PodKey) *accumulator {
	a := &accumulator{interval: interval, pods: map[string]map[string]*podAcc{}}
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
func (a *accumulator) lookup(ns, name []byte) *podAcc {
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
func (a *accumulator) find(ns, name string) *podAcc {
	if p := a.pods[ns][name]; p != nil || a.fixed {
		return p
	}
	return a.pod(ns, name)
}

// pod finds the named pod, creating it if needed.
func (a *accumulator) pod(ns, name string) *podAcc {
	byName := a.pods[ns]
	if byName == nil {
		byName = map[string]*podAcc{}
		a.pods[ns] = byName
	}
	p := byName[name]
	if p == nil {
		p = &podAcc{key: PodKey{Namespace: ns, Name: name}, buckets: map[int64]*bucket{}, series: map[uint64]*seriesState{}}
		byName[name] = p
	}
	return p
}

// bucketOf returns the bucket number of t: the nearest multiple of the interval.
func (a *accumulator) bucketOf(t time.Time) int64 {
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

func (a *accumulator) bucketTime(b int64) time.Time {
	if a.interval <= 0 {
		return time.Unix(0, b).UTC()
	}
	return time.Unix(0, b*int64(a.interval)).UTC()
}

// add folds r into pod p.
func (a *accumulator) add(p *podAcc, r *row) {
	p.seen = true
	if a.podsOnly {
		return
	}
	b := a.bucketOf(r.time)
	bk := p.buckets[b]
	if bk == nil {
		bk = &bucket{sample: NewSample(a.bucketTime(b))}
		p.buckets[b] = bk
	}
	st := p.series[r.series]
	if st == nil {
		st = &seriesState{bucket: math.MinInt64}
		p.series[r.series] = st
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
	for f, v := range r.values {
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
	st.values = r.values
}

// podKeys lists, sorted, the pods that had rows.
func (a *accumulator) podKeys() []PodKey {
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
func (a *accumulator) windows() map[PodKey]*Window {
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

// seriesHash identifies a series by its measurement and series tag values,
// FNV-1a so every source computes the same identity without allocating.
type seriesHash uint64

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func newSeriesHash(measurement string) seriesHash {
	return seriesHash(fnvOffset).addString(measurement)
}

func (h seriesHash) addString(s string) seriesHash {
	for i := 0; i < len(s); i++ {
		h = (h ^ seriesHash(s[i])) * fnvPrime
	}
	return (h ^ 0xff) * fnvPrime // separator: ("ab","c") ≠ ("a","bc")
}

func (h seriesHash) addBytes(b []byte) seriesHash {
	for _, c := range b {
		h = (h ^ seriesHash(c)) * fnvPrime
	}
	return (h ^ 0xff) * fnvPrime
}
