package classifier

import (
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"
)

// oodRows builds windows of one class recorded under several loads: the
// rates spread widely from load to load, and each load takes a few of them
// where no other load went, as a new load does; the process structure stays
// put (a master and workers, 1–22 threads per process).
func oodRows(rng *rand.Rand, loads, windows int) (raw [][]float64, y, groups []int) {
	for g := 0; g < loads; g++ {
		level := rng.Float64() * 4
		threads := 1 + rng.Float64()*21
		odd := map[int]float64{}
		for len(odd) < 3 {
			odd[rng.Intn(firstProcessFeature)] = 10 + rng.Float64()*10
		}
		for w := 0; w < windows; w++ {
			x := make([]float64, NumFeatures)
			for j := range x {
				x[j] = level + odd[j] + rng.NormFloat64()*0.3
			}
			x[FLogProcesses] = math.Log10(1 + 5)
			x[FThreadsPerProcess] = threads
			x[FLogThreads] = math.Log10(1 + 5*threads)
			x[FLogFDsPerProcess] = 1.1 + rng.NormFloat64()*0.02
			x[FLogSockets] = 1 + rng.NormFloat64()*0.05
			x[FSocketShare] = 0.2 + rng.NormFloat64()*0.01
			x[FProcessesCV], x[FSocketsCV] = 0, 0.05
			raw, y, groups = append(raw, x), append(y, 0), append(groups, g)
		}
	}
	return raw, y, groups
}

func TestStructureGuardRefusesAnotherProcessStructure(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	raw, y, groups := oodRows(rng, 12, 8)
	known := append([]float64(nil), raw[0]...)
	known[FThreadsPerProcess] = 12 // between the loads' thread counts
	// Rates in the class's range, but 108 threads per process in two
	// processes: another server's build, as varnish beside apache.
	other := builtOtherwise(raw[0])

	cases := []struct {
		name          string
		structure     bool
		x             []float64
		wantOut       bool
		wantStructure bool
	}{
		{"known structure, with the structure guard", true, known, false, false},
		{"other structure, with the structure guard", true, other, true, true},
		// The test of the feature: over all features the other structure
		// is diluted and passes.
		{"other structure, one guard over all features", false, other, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultOODConfig()
			if !tc.structure {
				cfg.Structure = nil
			}
			g := FitOOD(raw, y, groups, 1, cfg)
			if (g.Structure != nil) != tc.structure {
				t.Fatalf("structure guard fitted: %v, want %v", g.Structure != nil, tc.structure)
			}
			if err := g.validate(1, NumFeatures); err != nil {
				t.Fatal(err)
			}
			r, byStructure := g.Ratio(0, tc.x, 1)
			if (r > 1) != tc.wantOut || byStructure != tc.wantStructure {
				t.Errorf("ratio %.2f (structure decided: %v), want out of distribution %v, structure %v", r, byStructure, tc.wantOut, tc.wantStructure)
			}
		})
	}
}

func TestStructureGuardNeedsTheProcessMetrics(t *testing.T) {
	raw, y, groups := oodRows(rand.New(rand.NewSource(2)), 6, 4)
	for _, x := range raw {
		for j := firstProcessFeature; j < NumFeatures; j++ {
			x[j] = math.NaN()
		}
	}
	if g := FitOOD(raw, y, groups, 1, DefaultOODConfig()); g.Structure != nil {
		t.Error("a structure guard was fitted on rows without the process structure")
	}
}

func TestStructureGuardMayReadOnlyTheProcessStructure(t *testing.T) {
	raw, y, groups := oodRows(rand.New(rand.NewSource(3)), 6, 4)
	g := FitOOD(raw, y, groups, 1, DefaultOODConfig())
	g.Structure.Has[0][FCPUCoresMean] = true
	g.Structure.Lo[0][FCPUCoresMean], g.Structure.Hi[0][FCPUCoresMean], g.Structure.Scale[0][FCPUCoresMean] = 0, 1, 1
	if err := g.validate(1, NumFeatures); err == nil || !strings.Contains(err.Error(), "not process structure") {
		t.Errorf("validate = %v, want a structure guard reading a CPU feature refused", err)
	}
}

func TestScaleLimitsScalesBothGuards(t *testing.T) {
	raw, y, groups := oodRows(rand.New(rand.NewSource(4)), 6, 4)
	g := FitOOD(raw, y, groups, 1, DefaultOODConfig())
	lim, slim := g.Limit[0], g.Structure.Limit[0]
	g.ScaleLimits(0, 0.5)
	if g.Limit[0] != lim*0.5 || g.Structure.Limit[0] != slim*0.5 {
		t.Errorf("limits %v, %v after scaling by 0.5, want %v, %v", g.Limit[0], g.Structure.Limit[0], lim*0.5, slim*0.5)
	}
}

// twoClassGuard fits the guard on two classes of oodRows (apache and nginx
// where a test names them) and returns it with a window of the first.
func twoClassGuard() (*OODGuard, []float64) {
	rng := rand.New(rand.NewSource(5))
	raw, y, groups := oodRows(rng, 12, 8)
	r1, _, g1 := oodRows(rng, 12, 8)
	for i := range r1 {
		raw, y, groups = append(raw, r1[i]), append(y, 1), append(groups, 100+g1[i])
	}
	return FitOOD(raw, y, groups, 2, DefaultOODConfig()), raw[0]
}

// builtOtherwise is a copy of x with varnish's structure: 2 processes of 108
// threads each, where oodRows's classes run 1–22 threads per process.
func builtOtherwise(x []float64) []float64 {
	o := append([]float64(nil), x...)
	o[FLogProcesses], o[FThreadsPerProcess], o[FLogThreads] = math.Log10(1+2), 108, math.Log10(1+216)
	return o
}

func TestAnAnswerOutsideTheClassStructureSaysSo(t *testing.T) {
	guard, window := twoClassGuard()
	m := ModelFunc{Labels: []string{"apache", "nginx"}, Func: func([]float64) ([]float64, error) { return []float64{0.9, 0.1}, nil }}
	c, err := New(m, make([]float64, NumFeatures), guard, DefaultThresholds(), nil, Manifest{})
	if err != nil {
		t.Fatal(err)
	}
	known := append([]float64(nil), window...)
	if r := c.ClassifyFeatures(known, 6); r.Status != StatusClassified || r.Class != "apache" {
		t.Fatalf("a window of the class: %+v", r)
	}
	other := builtOtherwise(window)
	r := c.ClassifyFeatures(other, 6)
	if r.Status != StatusUnknown || r.Distance <= 1 || !strings.Contains(r.Reason, "process structure") {
		t.Errorf("another process structure: %+v, want unknown for the process structure", r)
	}
	// The explanation's evidence is the structure, not the rates.
	names := FeatureNames()
	f := c.farthest(0, other)
	if len(f) == 0 {
		t.Fatal("no farthest features")
	}
	for _, z := range f {
		if !slices.Contains(names[firstProcessFeature:], z.Feature) {
			t.Errorf("farthest features %+v: %s is no process-structure feature", f, z.Feature)
		}
	}
}

func TestTheGuardYieldsToAClearWinnerButTheStructureGateDoesNot(t *testing.T) {
	guard, window := twoClassGuard()
	// New rates, the class's structure: a known service under a new load.
	rates := append([]float64(nil), window...)
	for j := 0; j < firstProcessFeature; j++ {
		rates[j] += 40
	}
	// The rates of the class, another structure: a service built otherwise.
	shape := builtOtherwise(window)
	if whole, s := guard.Ratios(0, rates, 1); whole <= 1 || s > 1 {
		t.Fatalf("the new-rates window: ratios %.2f, %.2f; want only the guard over all features out", whole, s)
	}
	tests := map[string]struct {
		x          []float64
		top        float64 // apache's probability; nginx has the rest
		override   float64
		wantStatus Status
		wantReason string
	}{
		"nineteen times the runner-up: the guard yields":         {rates, 0.95, 10, StatusClassified, ""},
		"four times the runner-up: the guard refuses":            {rates, 0.8, 10, StatusUnknown, "out of distribution for apache (distance "},
		"without an override the guard refuses a clear winner":   {rates, 0.95, 0, StatusUnknown, "out of distribution for apache (distance "},
		"the structure gate refuses however clear the winner is": {shape, 0.95, 10, StatusUnknown, "(process structure: distance "},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m := ModelFunc{Labels: []string{"apache", "nginx"}, Func: func([]float64) ([]float64, error) { return []float64{tc.top, 1 - tc.top}, nil }}
			th := DefaultThresholds()
			th.OODOverride = tc.override
			c, err := New(m, make([]float64, NumFeatures), guard, th, nil, Manifest{})
			if err != nil {
				t.Fatal(err)
			}
			r := c.ClassifyFeatures(tc.x, 6)
			if r.Status != tc.wantStatus || (tc.wantStatus == StatusClassified && r.Class != "apache") {
				t.Fatalf("got %+v, want %s", r, tc.wantStatus)
			}
			if r.Distance <= 1 {
				t.Errorf("distance %.2f: the window is outside the class either way, and says so", r.Distance)
			}
			if !strings.Contains(r.Reason, tc.wantReason) {
				t.Errorf("reason %q, want it to contain %q", r.Reason, tc.wantReason)
			}
		})
	}
}

// TestCVScaleFloorKeepsOneExtraProcessOffTheCap checks the floor of the
// coefficient-of-variation features: a class whose process count never moved
// in training has an IQR of 0 for processes_cv, and without a floor one extra
// process in one sample of a minute (CV ≈ 0.3) lies at the z cap, so the
// farthest held-out load — the limit — is wherever that happened to a known
// pod, not what its structure says.
func TestCVScaleFloorKeepsOneExtraProcessOffTheCap(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	raw, y, groups := oodRows(rng, 10, 6)
	flicker := append([]float64(nil), raw[0]...)
	flicker[FProcessesCV] = 0.3
	cases := []struct {
		name    string
		floor   float64
		wantZ   float64
		wantCap bool
	}{
		{"no floor: at the cap", 0, 6, true},
		{"floor 0.1: three scales", 0.1, 3, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultOODConfig()
			cfg.Structure = nil
			cfg.CVScaleFloor = tc.floor
			g := FitOOD(raw, y, groups, 1, cfg)
			z := g.z(0, FProcessesCV, flicker[FProcessesCV])
			if math.Abs(z-tc.wantZ) > 1e-9 {
				t.Errorf("processes_cv z = %v, want %v", z, tc.wantZ)
			}
			if capped := z >= g.ZCap; capped != tc.wantCap {
				t.Errorf("capped = %v, want %v", capped, tc.wantCap)
			}
			if s := g.Scale[0][FLogProcesses]; tc.floor > 0 && s >= tc.floor {
				t.Errorf("log_processes scale %v: the floor is for CV features only", s)
			}
		})
	}
}
