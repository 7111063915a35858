package samples

import (
	"context"
	"sort"
	"time"
)

// Memory is a Source and Lister over windows already in memory: what
// LoadLineProtocolFile returns so offline training reads a file once and then
// slices it per pod and per time range as often as it likes.
type Memory struct {
	windows map[PodKey]*Window
	pods    []PodKey
}

var (
	_ Source = (*Memory)(nil)
	_ Lister = (*Memory)(nil)
)

// NewMemory serves the given windows; they are sorted by time, and must not
// be changed afterwards.
func NewMemory(windows map[PodKey]*Window) *Memory {
	m := &Memory{windows: windows}
	for k, w := range windows {
		w.Sort()
		m.pods = append(m.pods, k)
	}
	sortPods(m.pods)
	return m
}

// All returns every window, keyed by pod. The windows are shared: read only.
func (m *Memory) All() map[PodKey]*Window { return m.windows }

// Windows returns copies of the samples in [start, end); a zero start or end
// leaves that side of the range open.
func (m *Memory) Windows(ctx context.Context, pods []PodKey, start, end time.Time) (map[PodKey]*Window, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := map[PodKey]*Window{}
	for _, k := range pods {
		w, ok := m.windows[k]
		if !ok {
			continue
		}
		if s := slice(w.Samples, start, end); len(s) > 0 {
			out[k] = &Window{Pod: k, Samples: append([]Sample(nil), s...)}
		}
	}
	return out, nil
}

// Pods lists, sorted, the pods with samples in [start, end); zero times leave
// the range open.
func (m *Memory) Pods(ctx context.Context, start, end time.Time) ([]PodKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []PodKey
	for _, k := range m.pods {
		if len(slice(m.windows[k].Samples, start, end)) > 0 {
			out = append(out, k)
		}
	}
	return out, nil
}

// slice returns the time-sorted samples in [start, end).
func slice(s []Sample, start, end time.Time) []Sample {
	lo, hi := 0, len(s)
	if !start.IsZero() {
		lo = sort.Search(len(s), func(i int) bool { return !s[i].Time.Before(start) })
	}
	if !end.IsZero() {
		hi = sort.Search(len(s), func(i int) bool { return !s[i].Time.Before(end) })
	}
	if lo >= hi {
		return nil
	}
	return s[lo:hi]
}

func sortPods(p []PodKey) {
	sort.Slice(p, func(i, j int) bool {
		if p[i].Namespace != p[j].Namespace {
			return p[i].Namespace < p[j].Namespace
		}
		return p[i].Name < p[j].Name
	})
}
