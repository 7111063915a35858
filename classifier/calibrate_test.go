package classifier

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/podclass/podclass/classifier/classifiertest"
	"github.com/podclass/podclass/samples"
)

func TestPickThreshold(t *testing.T) {
	cc := CalibrationConfig{TargetPrecision: 0.9, Min: 0.2, Max: 0.9}
	mk := func(pairs ...any) []calPoint {
		var out []calPoint
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, calPoint{p: pairs[i].(float64), right: pairs[i+1].(bool)})
		}
		return out
	}
	get := func(p calPoint) (float64, bool) { return p.p, p.right }
	tests := map[string]struct {
		pts  []calPoint
		want float64
	}{
		"all right answers keep the lowest threshold": {pts: mk(0.3, true, 0.5, true, 0.8, true), want: 0.2},
		"wrong low-confidence answers raise the threshold": {
			pts: mk(0.25, false, 0.35, false, 0.6, true, 0.7, true, 0.9, true), want: 0.36,
		},
		"no threshold reaching the target falls back to the maximum": {pts: mk(0.5, false, 0.95, false), want: 0.9},
		"no points falls back to the maximum":                        {pts: nil, want: 0.9},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, _, _ := pickThreshold(tc.pts, cc, get)
			if got != tc.want {
				t.Fatalf("threshold %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFamilyThresholdIsNeverBelowTheClassThreshold(t *testing.T) {
	cc := CalibrationConfig{TargetPrecision: 0.9, Min: 0.2, Max: 0.9}
	fam := func(fps ...float64) []calPoint {
		var out []calPoint
		for _, fp := range fps {
			out = append(out, calPoint{fp: fp, famRight: true})
		}
		return out
	}
	tests := map[string]struct {
		pts         []calPoint
		class, want float64
	}{
		"right family answers alone would allow the lowest bar":      {pts: fam(0.3, 0.4, 0.5), class: 0.45, want: 0.45},
		"a class threshold at the minimum leaves the grid as it was": {pts: fam(0.3, 0.4), class: 0.2, want: 0.2},
		"wrong answers above the class threshold still raise it": {
			pts: append(fam(0.5, 0.7, 0.8, 0.85), calPoint{fp: 0.605}), class: 0.4, want: 0.61,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, prec, _ := familyThreshold(tc.pts, cc, tc.class)
			if math.Abs(got-tc.want) > 1e-9 || prec < cc.TargetPrecision {
				t.Fatalf("family threshold %v (precision %v), want %v", got, prec, tc.want)
			}
		})
	}
}

func TestTrainingRecordsItsCalibration(t *testing.T) {
	c := trainSynth(t)
	cal := c.Manifest().Calibration
	if cal == nil || cal.Pods != 18 || cal.Windows == 0 {
		t.Fatalf("calibration %+v", cal)
	}
	th := c.Thresholds()
	if th.Class != cal.Class || th.Family != cal.Family || th.Class < 0.2 || th.Class > 0.9 || th.Family < th.Class {
		t.Fatalf("thresholds %+v, calibration %+v", th, cal)
	}
}

func TestPickMargins(t *testing.T) {
	cc := CalibrationConfig{MinMargin: 0.2}
	known := func(class string, ratio float64) calPoint {
		return calPoint{pred: class, p: 0.9, right: true, ratio: ratio}
	}
	foreign := func(class string, ratio float64) calPoint { return calPoint{pred: class, p: 0.9, ratio: ratio} }
	tests := map[string]struct {
		known, foreign []calPoint
		want           float64
	}{
		"no foreign window resembles the class: the calibrated limit stays": {
			known: []calPoint{known("a", 0.3), known("a", 0.8)}, want: 1,
		},
		"foreign windows beyond every known one: the margin drops below them": {
			known:   []calPoint{known("a", 0.2), known("a", 0.3)},
			foreign: []calPoint{foreign("a", 0.5), foreign("a", 0.6)}, want: 0.45,
		},
		"losing two right answers to refuse one foreign window is not worth it": {
			known:   []calPoint{known("a", 0.6), known("a", 0.7)},
			foreign: []calPoint{foreign("a", 0.5)}, want: 1,
		},
		"foreign windows predicted as another class do not count": {
			known:   []calPoint{known("a", 0.3)},
			foreign: []calPoint{foreign("b", 0.5), foreign("b", 0.6)}, want: 1,
		},
		"foreign windows under the class threshold are refused anyway": {
			known:   []calPoint{known("a", 0.3)},
			foreign: []calPoint{{pred: "a", p: 0.1, ratio: 0.5}}, want: 1,
		},
		"foreign windows closer than the minimum margin cannot be refused: the limit stays": {
			known:   []calPoint{known("a", 0.05)},
			foreign: []calPoint{foreign("a", 0.1), foreign("a", 0.15)}, want: 1,
		},
		"never below the minimum margin": {
			known:   []calPoint{known("a", 0.05)},
			foreign: []calPoint{foreign("a", 0.1), foreign("a", 0.25)}, want: 0.2,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := pickMargins(tc.known, tc.foreign, []string{"a", "b"}, 0.5, cc)
			if got["a"] != tc.want {
				t.Fatalf("margin of a %v, want %v (all: %v)", got["a"], tc.want, got)
			}
		})
	}
}

// TestForeignCalibrationTightensLimits trains the same model with and
// without ForeignMargins: the forest and thresholds agree, each class's
// limit is the calibrated one times the margin the manifest records, and a
// synthetic service left out of training is refused at least as often.
func TestForeignCalibrationTightensLimits(t *testing.T) {
	cfg := DefaultTrainConfig()
	cfg.Forest.Trees = 10
	cfg.Families = map[string]string{"db": "data", "cache": "data", "web": "frontend"}
	// replica looks like db: left out of an inner model, its windows land
	// on db, so db's limit should tighten.
	ex := synthExamples(t, []string{"db", "replica", "cache", "web"}, 6, 30, 1)
	plain, err := Train(ex, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Calibration.ForeignMargins = true
	strict, err := Train(ex, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cal := strict.Manifest().Calibration
	if cal == nil || len(cal.ClassMargins) != 4 || cal.ForeignWindows == 0 {
		t.Fatalf("calibration %+v", cal)
	}
	if cal.ClassMargins["db"] >= 1 && cal.ClassMargins["replica"] >= 1 {
		t.Errorf("margins %v: neither look-alike's limit tightened", cal.ClassMargins)
	}
	if plain.Thresholds() != strict.Thresholds() {
		t.Fatalf("thresholds differ: %+v vs %+v", plain.Thresholds(), strict.Thresholds())
	}
	for i, class := range strict.Classes() {
		m := cal.ClassMargins[class]
		if m < 0.2 || m > 1 {
			t.Errorf("%s: margin %v outside [0.2, 1]", class, m)
		}
		if got, want := strict.ood.Limit[i], plain.ood.Limit[i]*m; math.Abs(got-want) > 1e-12 {
			t.Errorf("%s: limit %v, want %v × %v", class, got, plain.ood.Limit[i], m)
		}
	}
	for _, m := range cal.ClassMargins {
		if m != 1 && plain.Manifest().ModelVersion == strict.Manifest().ModelVersion {
			t.Fatal("the limits changed but the model version did not")
		}
	}
	refused := func(c *Classifier) int {
		n := 0
		for _, e := range synthExamples(t, []string{"foreign"}, 6, 6, 5) {
			if c.Classify(e.Window).Status != StatusClassified {
				n++
			}
		}
		return n
	}
	if refused(strict) < refused(plain) {
		t.Errorf("foreign pods refused: %d with foreign calibration, %d without", refused(strict), refused(plain))
	}
}

// twinExamples records each class under six loads on two machines: the two
// recordings of a load are twins (same profile and load, other noise), as
// a corpus scenario recorded on two machine shapes is. With interleave, the
// classes take turns on one ladder of twelve load levels instead.
func twinExamples(t *testing.T, profiles map[string]classifiertest.Profile, classes []string, withLoad, interleave bool) []Example {
	t.Helper()
	rng := rand.New(rand.NewSource(7))
	var out []Example
	for ci, c := range classes {
		for l := 0; l < 6; l++ {
			load := 0.3 * math.Pow(10, float64(l)/5)
			if interleave {
				load = 0.3 * math.Pow(10, float64(2*l+ci)/5)
			}
			for _, machine := range []string{"a", "b"} {
				key := samples.PodKey{Namespace: machine, Name: fmt.Sprintf("%s-%d", c, l)}
				e := Example{Pod: key, Class: c, Window: classifiertest.Window(key, profiles[c], 30, load, rng),
					Group: fmt.Sprintf("%s/%d@%s", c, l, machine)}
				if withLoad {
					e.Load = fmt.Sprintf("%s/%d", c, l)
				}
				out = append(out, e)
			}
		}
	}
	return out
}

func TestCalibrationHoldsOutEveryRecordingOfALoad(t *testing.T) {
	cc := CalibrationConfig{Folds: 3}
	for _, withLoad := range []bool{true, false} {
		ex := twinExamples(t, classifiertest.Profiles, []string{"db", "cache", "web"}, withLoad, false)
		eligible, assigned, folds, classes := calibrationFolds(ex, cc, 1)
		if len(eligible) != len(ex) || len(folds) != 3 || len(classes) != 3 {
			t.Fatalf("%d of %d examples dealt into %d folds, classes %v", len(eligible), len(ex), len(folds), classes)
		}
		split := 0
		for k := 0; k+1 < len(eligible); k += 2 { // twins are adjacent
			if assigned[k] != assigned[k+1] {
				split++
			}
		}
		switch {
		case withLoad && split > 0:
			t.Fatalf("%d loads have a recording on each side of a fold", split)
		case !withLoad && split == 0:
			t.Fatal("without loads every twin landed in one fold: the test cannot tell loads from machine groups")
		}
	}
}

func TestCalibrationUnitsJoinGroupsAndLoads(t *testing.T) {
	ex := func(name, group, load string) Example {
		return Example{Pod: samples.PodKey{Namespace: "ns", Name: name}, Class: "db", Group: group, Load: load}
	}
	tests := map[string]struct {
		examples []Example
		units    []int // the unit of each example, numbered by first appearance
	}{
		"a load recorded on two machines is one unit": {
			[]Example{ex("a", "s1@m1", "s1"), ex("b", "s1@m2", "s1"), ex("c", "s2@m1", "s2")}, []int{0, 0, 1}},
		"a batch of two loads joins each load's other batches": {
			[]Example{ex("a", "b1", "l1"), ex("b", "b1", "l2"), ex("c", "b2", "l2"), ex("d", "b3", "l3")}, []int{0, 0, 0, 1}},
		"without groups and loads every pod is its own unit": {
			[]Example{ex("a", "", ""), ex("b", "", ""), ex("c", "g", "")}, []int{0, 1, 2}},
		"pods of one load without groups are one unit": {
			[]Example{ex("a", "", "l1"), ex("b", "", "l1"), ex("c", "", "l2")}, []int{0, 0, 1}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			items := calibrationItems(tc.examples)
			unit := map[string]int{}
			for i, it := range items {
				u, ok := unit[it.Group]
				if !ok {
					u = len(unit)
					unit[it.Group] = u
				}
				if u != tc.units[i] || it.Pod != tc.examples[i].Pod.String() || it.Class != "db" {
					t.Fatalf("example %d: unit %d (%+v), want %d", i, u, it, tc.units[i])
				}
			}
		})
	}
}

// TestThresholdsAreChosenOnUnseenLoads: two classes that behave alike and
// differ only by the loads they were recorded under (interleaved), each load
// recorded on two machines. A pod held out while its twin from the other
// machine is trained on looks easy; held out with every recording of its
// load, as a deployed model meets a new load, its neighbours are the other
// class's. The calibration must see that: with no precision target it keeps
// the lowest threshold and reports the precision of every inner answer.
func TestThresholdsAreChosenOnUnseenLoads(t *testing.T) {
	profiles := map[string]classifiertest.Profile{"db": classifiertest.Profiles["db"], "twin": classifiertest.Profiles["db"]}
	cfg := DefaultTrainConfig()
	cfg.Forest.Trees = 20
	cfg.Calibration.Folds = 3
	cfg.Calibration.TargetPrecision = 0
	precision := map[bool]float64{}
	for _, withLoad := range []bool{false, true} {
		c, err := Train(twinExamples(t, profiles, []string{"db", "twin"}, withLoad, true), cfg)
		if err != nil {
			t.Fatal(err)
		}
		cal := c.Manifest().Calibration
		if cal.Class != cfg.Calibration.Min || cal.ClassCoverage != 1 {
			t.Fatalf("without a precision target the threshold is %.2f (coverage %.3f), want %.2f for every answer", cal.Class, cal.ClassCoverage, cfg.Calibration.Min)
		}
		precision[withLoad] = cal.ClassPrecision
		t.Logf("loads held out whole: %v: inner precision %.3f", withLoad, cal.ClassPrecision)
	}
	if precision[true] > 0.5 || precision[false] < precision[true]+0.2 {
		t.Fatalf("inner precision %.3f with loads held out whole, %.3f with twins trained on: want the twins to flatter it and the unseen loads to show the confusion",
			precision[true], precision[false])
	}
}
