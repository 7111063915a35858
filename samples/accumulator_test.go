package samples

import (
	"math"
	"testing"
	"time"
)

func TestAccumulator(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	nan := math.NaN()
	type in struct {
		pod    PodKey
		series uint64
		at     time.Duration
		field  Field
		value  float64
	}
	a := PodKey{Namespace: "ns", Name: "a"}
	b := PodKey{Namespace: "ns", Name: "b"}
	// want: per pod, per sample: time offset and the value of the one field
	// the case is about (the others must be NaN).
	type out struct {
		at    time.Duration
		value float64
	}
	tests := map[string]struct {
		interval time.Duration
		field    Field
		rows     []in
		want     map[PodKey][]out
	}{
		"rows of two containers at one timestamp are summed": {
			interval: 10 * time.Second, field: FieldMemoryRSS,
			rows: []in{{a, 1, 0, FieldMemoryRSS, 5}, {a, 2, 0, FieldMemoryRSS, 7}},
			want: map[PodKey][]out{a: {{0, 12}}},
		},
		"a row a little late or early lands in the nearest interval": {
			interval: 10 * time.Second, field: FieldRxBytes,
			rows: []in{
				{a, 1, 700 * time.Millisecond, FieldRxBytes, 1},
				{a, 2, 9800 * time.Millisecond, FieldRxBytes, 2},
				{a, 3, 10*time.Second - 4999*time.Millisecond, FieldRxBytes, 4},
			},
			want: map[PodKey][]out{a: {{0, 1}, {10 * time.Second, 6}}},
		},
		"a second row of one series in one interval replaces the first": {
			interval: 10 * time.Second, field: FieldCPUNanoCores,
			rows: []in{{a, 1, 0, FieldCPUNanoCores, 5}, {a, 2, 0, FieldCPUNanoCores, 1}, {a, 1, 2 * time.Second, FieldCPUNanoCores, 8}},
			want: map[PodKey][]out{a: {{0, 9}}},
		},
		"a replaced row that was the only one leaves the new value, not a sum": {
			interval: 10 * time.Second, field: FieldCPUNanoCores,
			rows: []in{{a, 1, 0, FieldCPUNanoCores, 5}, {a, 1, time.Second, FieldCPUNanoCores, 3}},
			want: map[PodKey][]out{a: {{0, 3}}},
		},
		"a field no row carried stays NaN": {
			interval: 10 * time.Second, field: FieldTxBytes,
			rows: []in{{a, 1, 0, FieldRxBytes, 5}},
			want: map[PodKey][]out{a: {{0, nan}}},
		},
		"a zero is kept as zero, not taken for missing": {
			interval: 10 * time.Second, field: FieldTxErrors,
			rows: []in{{a, 1, 0, FieldTxErrors, 0}},
			want: map[PodKey][]out{a: {{0, 0}}},
		},
		"rows of different pods stay apart": {
			interval: 10 * time.Second, field: FieldMemoryUsage,
			rows: []in{{a, 1, 0, FieldMemoryUsage, 1}, {b, 1, 0, FieldMemoryUsage, 2}},
			want: map[PodKey][]out{a: {{0, 1}}, b: {{0, 2}}},
		},
		"samples come out in time order whatever order rows came in": {
			interval: 10 * time.Second, field: FieldMemoryUsage,
			rows: []in{{a, 1, 20 * time.Second, FieldMemoryUsage, 3}, {a, 1, 0, FieldMemoryUsage, 1}, {a, 1, 10 * time.Second, FieldMemoryUsage, 2}},
			want: map[PodKey][]out{a: {{0, 1}, {10 * time.Second, 2}, {20 * time.Second, 3}}},
		},
		"a negative interval keeps exact timestamps": {
			interval: -1, field: FieldMemoryUsage,
			rows: []in{{a, 1, 700 * time.Millisecond, FieldMemoryUsage, 1}, {a, 2, 0, FieldMemoryUsage, 2}},
			want: map[PodKey][]out{a: {{0, 2}, {700 * time.Millisecond, 1}}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			acc := NewAccumulator(tc.interval, nil)
			for _, r := range tc.rows {
				var rw Row
				rw.Reset()
				rw.Series, rw.Time = r.series, t0.Add(r.at)
				rw.Values[r.field] = r.value
				acc.Add(acc.Find(r.pod.Namespace, r.pod.Name), &rw)
			}
			carried := map[Field]bool{}
			for _, r := range tc.rows {
				carried[r.field] = true
			}
			got := acc.Windows()
			if len(got) != len(tc.want) {
				t.Fatalf("%d windows, want %d", len(got), len(tc.want))
			}
			for pod, want := range tc.want {
				w := got[pod]
				if w == nil || len(w.Samples) != len(want) {
					t.Fatalf("%v: got %+v, want %d samples", pod, w, len(want))
				}
				for i, o := range want {
					s := w.Samples[i]
					if !s.Time.Equal(t0.Add(o.at)) {
						t.Errorf("%v sample %d at %v, want %v", pod, i, s.Time, t0.Add(o.at))
					}
					for _, f := range Fields() {
						if carried[f] && f != tc.field {
							continue // another case's business
						}
						v, wantV := s.Get(f), nan
						if f == tc.field {
							wantV = o.value
						}
						if !(v == wantV || math.IsNaN(v) && math.IsNaN(wantV)) {
							t.Errorf("%v sample %d: %v = %v, want %v", pod, i, f, v, wantV)
						}
					}
				}
			}
		})
	}
}

func TestAccumulatorWithFixedPodsIgnoresOthers(t *testing.T) {
	acc := NewAccumulator(DefaultInterval, []PodKey{{"ns", "a"}})
	if acc.Find("ns", "b") != nil || acc.Lookup([]byte("ns"), []byte("b")) != nil {
		t.Fatal("a pod not asked for was accepted")
	}
	if acc.Find("ns", "a") == nil {
		t.Fatal("the pod asked for was refused")
	}
}

func TestBucketOfRoundsBeforeTheEpochToo(t *testing.T) {
	acc := NewAccumulator(10*time.Second, nil)
	tests := map[string]struct {
		at   time.Time
		want int64
	}{
		"just under half an interval rounds down": {time.Unix(4, 999999999), 0},
		"half an interval rounds up":              {time.Unix(5, 0), 1},
		"before 1970 still rounds to the nearest": {time.Unix(-4, 0), 0},
		"before 1970, past the half, goes back":   {time.Unix(-6, 0), -1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := acc.bucketOf(tc.at); got != tc.want {
				t.Errorf("bucketOf(%v) = %d, want %d", tc.at, got, tc.want)
			}
		})
	}
}

func TestSampleFieldAccessorsCoverEveryField(t *testing.T) {
	s := NewSample(time.Time{})
	for _, f := range Fields() {
		if !math.IsNaN(s.Get(f)) {
			t.Errorf("%v of a new sample is %v, want NaN", f, s.Get(f))
		}
		s.Set(f, float64(f)+1)
	}
	seen := map[float64]bool{}
	for _, f := range Fields() {
		if v := s.Get(f); v != float64(f)+1 || seen[v] {
			t.Errorf("%v reads %v after Set(%v)", f, v, float64(f)+1)
		}
		seen[s.Get(f)] = true
	}
	if !math.IsNaN(s.Get(Field(99))) {
		t.Error("an invalid field reads a value")
	}
}
