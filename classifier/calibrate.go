package classifier

import (
	"math"
	"math/rand"
	"sort"

	"github.com/podclass/podclass/classifier/crossval"
)

// CalibrationConfig sets how Train chooses the class and family thresholds
// from the training pods alone, by an inner cross-validation that keeps each
// Example.Load and each Example.Group together (a pod alone when it has
// neither):
// the held-out windows' probabilities give, for every candidate threshold,
// the precision of the answers it would let through; the smallest threshold
// whose precision reaches TargetPrecision wins. The outer evaluation never
// sees its test pods here, so choosing thresholds this way does not leak.
type CalibrationConfig struct {
	// Folds of the inner grouped cross-validation; below 2 disables
	// calibration and keeps the configured thresholds.
	Folds int `json:"folds"`
	// TargetPrecision is the precision answers above the threshold must
	// reach on the inner held-out windows: a wrong class sends the wrong
	// anomaly model, worse than no answer. The default, 0.98, is the
	// precision podclass promises of a classified answer.
	TargetPrecision float64 `json:"target_precision"`
	// MaxPods caps the pods the inner cross-validation uses (a stratified
	// subsample), bounding training cost on big corpora.
	MaxPods int `json:"max_pods"`
	// Min and Max bound the thresholds considered.
	Min float64 `json:"min"`
	Max float64 `json:"max"`
	// Separation calibrates Thresholds.Separation (top over runner-up
	// probability, grid 1–MaxSeparation) instead of the top probability,
	// which then stays at Min: an answer needs a clear winner, not a high
	// share of a dozen classes' votes. Off by default: leave-machine-out on
	// the corpus it answers more known pods but refuses fewer foreign ones
	// (docs/evaluation.md).
	Separation    bool    `json:"separation,omitempty"`
	MaxSeparation float64 `json:"max_separation,omitempty"`
	// ForeignMargins also tightens each class's out-of-distribution limit
	// against simulated foreign services: every training class is left out
	// of an inner model in turn and its pods classified (inner
	// leave-one-class-out); per class, the margin in [MinMargin, 1] that
	// minimises accepted foreign windows plus right known windows lost
	// (inner cross-validation, equal weight) multiplies the class's limit.
	// Off by default: on the corpus it refuses 77% of foreign pods instead
	// of 34%, at pod accuracy 0.85 instead of 0.98 (docs/evaluation.md).
	// It fits one more inner model per class.
	ForeignMargins bool `json:"foreign_margins,omitempty"`
	// MinMargin is the lowest margin ForeignMargins may choose, in (0, 1];
	// outside that range no limit is tightened.
	MinMargin float64 `json:"min_margin,omitempty"`
}

// DefaultCalibrationConfig is what Train uses unless told otherwise.
func DefaultCalibrationConfig() CalibrationConfig {
	return CalibrationConfig{Folds: 4, TargetPrecision: 0.98, MaxPods: 300, Min: 0.2, Max: 0.9, MinMargin: 0.2,
		MaxSeparation: 10}
}

// Calibration records how the thresholds were chosen.
type Calibration struct {
	Config          CalibrationConfig `json:"config"`
	Pods            int               `json:"pods"`
	Windows         int               `json:"windows"`
	Class           float64           `json:"class_threshold"`
	ClassPrecision  float64           `json:"class_precision"`
	ClassCoverage   float64           `json:"class_coverage"`
	Separation      float64           `json:"separation_threshold,omitempty"`
	Family          float64           `json:"family_threshold"`
	FamilyPrecision float64           `json:"family_precision"`
	FamilyCoverage  float64           `json:"family_coverage"`
	// ClassMargins are the per-class limit multipliers ForeignMargins chose.
	ClassMargins map[string]float64 `json:"class_margins,omitempty"`
	// ForeignWindows counts the simulated foreign windows they were chosen on.
	ForeignWindows int `json:"foreign_windows,omitempty"`
}

type calPoint struct {
	p, fp           float64 // top class probability, top family probability
	sep             float64 // top class probability over the runner-up's
	right, famRight bool
	pred            string  // most probable class
	ratio           float64 // distance to pred over its limit (margin 1)
}

// calibrate runs the inner cross-validation and returns the thresholds.
func calibrate(examples []Example, cfg TrainConfig) (*Calibration, bool) {
	cc := cfg.Calibration
	if cc.Folds < 2 {
		return nil, false
	}
	eligible, assigned, folds, classes := calibrationFolds(examples, cc, cfg.Forest.Seed+101)
	inner := cfg
	inner.Calibration.Folds = 0
	var pts []calPoint
	pods := 0
	for _, f := range folds {
		train, test := pick(examples, eligible, f.Train), pick(examples, eligible, f.Test)
		sort.Slice(train, func(a, b int) bool { return train[a].Pod.String() < train[b].Pod.String() })
		sort.Slice(test, func(a, b int) bool { return test[a].Pod.String() < test[b].Pod.String() })
		m, err := fit(train, inner)
		if err != nil || len(test) == 0 {
			continue
		}
		for _, e := range test {
			pods++
			for _, w := range SubWindows(e.Window, m.thresholds.WindowSamples, cfg.WindowsPerPod) {
				if len(w.Samples) < m.thresholds.MinSamples {
					continue
				}
				pts = append(pts, m.calPoint(Features(w), e.Class))
			}
		}
	}
	if len(pts) == 0 {
		return nil, false
	}
	cal := &Calibration{Config: cc, Pods: pods, Windows: len(pts)}
	accepted := func(p calPoint) bool { return p.p >= cal.Class }
	if cc.Separation {
		grid := cc
		grid.Min, grid.Max = 1, cc.MaxSeparation
		if grid.Max <= 1 {
			grid.Max = 10
		}
		cal.Class = cc.Min
		cal.Separation, cal.ClassPrecision, cal.ClassCoverage = pickThreshold(pts, grid, func(p calPoint) (float64, bool) {
			if p.p < cc.Min {
				return 0, false
			}
			return p.sep, p.right
		})
		accepted = func(p calPoint) bool { return p.p >= cal.Class && p.sep >= cal.Separation }
	} else {
		cal.Class, cal.ClassPrecision, cal.ClassCoverage = pickThreshold(pts, cc, func(p calPoint) (float64, bool) { return p.p, p.right })
	}
	var rejected []calPoint
	for _, p := range pts {
		if !accepted(p) && p.fp > 0 {
			rejected = append(rejected, p)
		}
	}
	cal.Family, cal.FamilyPrecision, cal.FamilyCoverage = familyThreshold(rejected, cc, cal.Class)
	if cc.ForeignMargins && len(classes) >= 3 {
		var inSet []Example
		for k, f := range assigned {
			if f >= 0 {
				inSet = append(inSet, examples[eligible[k]])
			}
		}
		sort.Slice(inSet, func(a, b int) bool { return inSet[a].Pod.String() < inSet[b].Pod.String() })
		foreign := foreignPoints(inSet, inner, cfg.WindowsPerPod)
		cal.ForeignWindows = len(foreign)
		cal.ClassMargins = pickMargins(pts, foreign, classes, cal.Class, cc)
	}
	return cal, true
}

// calibrationFolds deals the labelled examples into cc.Folds folds by load
// and group (examples sharing either stay together, see calibrationItems;
// a pod alone when it has neither), stratified by class, after subsampling
// whole units down to cc.MaxPods: a unit is never split. It returns the
// dealt examples' indices, each one's fold (-1: left out by the subsample),
// the folds over those positions, and the sorted classes.
func calibrationFolds(examples []Example, cc CalibrationConfig, seed int64) (eligible, assigned []int, folds []crossval.Fold, classes []string) {
	var dealt []Example
	classSet := map[string]bool{}
	for i, e := range examples {
		if e.Class == "" || e.Class == Unknown || e.Window == nil {
			continue
		}
		eligible = append(eligible, i)
		dealt = append(dealt, e)
		if !classSet[e.Class] {
			classSet[e.Class] = true
			classes = append(classes, e.Class)
		}
	}
	sort.Strings(classes)
	items := calibrationItems(dealt)
	total := crossval.Groups(items)
	keep := 1.0
	if cc.MaxPods > 0 && total > cc.MaxPods {
		keep = float64(cc.MaxPods) / float64(total)
	}
	assigned, _ = crossval.Assign(items, cc.Folds, keep, rand.New(rand.NewSource(seed)))
	return eligible, assigned, crossval.Split(assigned, cc.Folds), classes
}

// foreignPoints leaves each class out of an inner model in turn and scores
// the left-out class's windows: what a service the model never saw looks
// like to it.
func foreignPoints(examples []Example, inner TrainConfig, windowsPerPod int) []calPoint {
	var pts []calPoint
	_, splits := crossval.LeaveOneClassOut(Items(examples))
	for _, f := range splits {
		m, err := fit(pick(examples, nil, f.Train), inner)
		if err != nil {
			continue
		}
		for _, e := range pick(examples, nil, f.Test) {
			for _, w := range SubWindows(e.Window, m.thresholds.WindowSamples, windowsPerPod) {
				if len(w.Samples) >= m.thresholds.MinSamples {
					pts = append(pts, m.calPoint(Features(w), e.Class))
				}
			}
		}
	}
	return pts
}

// pick returns the examples at idx, through index map when it is non-nil.
func pick(examples []Example, index []int, idx []int) []Example {
	out := make([]Example, 0, len(idx))
	for _, i := range idx {
		if index != nil {
			i = index[i]
		}
		out = append(out, examples[i])
	}
	return out
}

// pickMargins chooses, per class, the margin on a 0.05 grid in
// [MinMargin, 1] that minimises foreign windows the class would accept plus
// right known windows it would lose (both at class threshold thr); ties go
// to the larger margin. A class no foreign window resembles keeps 1.
func pickMargins(known, foreign []calPoint, classes []string, thr float64, cc CalibrationConfig) map[string]float64 {
	out := make(map[string]float64, len(classes))
	lo := cc.MinMargin
	if lo <= 0 || lo > 1 {
		lo = 1
	}
	for _, c := range classes {
		best, bestCost := 1.0, math.MaxInt
		for step := 0; ; step++ {
			m := 1 - 0.05*float64(step)
			if m < lo-1e-9 {
				break
			}
			cost := 0
			for _, p := range foreign {
				if p.pred == c && p.p >= thr && p.ratio <= m {
					cost++
				}
			}
			for _, p := range known {
				if p.pred == c && p.right && p.p >= thr && p.ratio > m && p.ratio <= 1 {
					cost++
				}
			}
			if cost < bestCost {
				best, bestCost = math.Round(m*100)/100, cost
			}
		}
		out[c] = best
	}
	return out
}

// pickThreshold returns the smallest threshold on the grid [Min, Max] (step
// 0.01) whose answers reach the target precision, with that precision and the
// share of points answered; Max when none does.
func pickThreshold(pts []calPoint, cc CalibrationConfig, get func(calPoint) (float64, bool)) (thr, precision, coverage float64) {
	if len(pts) == 0 {
		return cc.Max, 0, 0
	}
	for step := 0; ; step++ {
		t := cc.Min + float64(step)*0.01
		if t > cc.Max+1e-9 {
			break
		}
		n, right := 0, 0
		for _, p := range pts {
			if v, ok := get(p); v >= t {
				n++
				if ok {
					right++
				}
			}
		}
		if n > 0 && float64(right)/float64(n) >= cc.TargetPrecision {
			return math.Round(t*100) / 100, float64(right) / float64(n), float64(n) / float64(len(pts))
		}
	}
	return cc.Max, 0, 0
}

// familyThreshold chooses the family threshold on the windows the class
// threshold rejects — those are the ones the family fallback answers — and
// never below the class threshold. Those windows are the ones the forest is
// least sure of, where a change of machine hurts most, and a family's
// probability is a sum over its classes: on the corpus's own shapes a family
// answer at a lower bar was right (pooled over loads that are easy to place
// in a family, such as idle servers), on another machine it was not
// (docs/evaluation.md). So the fallback never answers on less evidence than
// a class answer needs.
func familyThreshold(rejected []calPoint, cc CalibrationConfig, class float64) (thr, precision, coverage float64) {
	cc.Min = math.Max(cc.Min, class)
	return pickThreshold(rejected, cc, func(p calPoint) (float64, bool) { return p.fp, p.famRight })
}

// calPoint scores one raw feature vector for calibration.
func (c *Classifier) calPoint(raw []float64, truth string) calPoint {
	var probs []float64
	_, err := c.decide(raw, c.thresholds.MinSamples, &probs)
	if err != nil || len(probs) == 0 {
		return calPoint{}
	}
	classes := c.model.Classes()
	best := 0
	for i, p := range probs {
		if p > probs[best] {
			best = i
		}
	}
	pt := calPoint{p: probs[best], sep: separation(probs, best), right: classes[best] == truth, pred: classes[best]}
	if c.ood != nil {
		pt.ratio, _ = c.ood.Ratio(best, raw, 1)
	}
	truthFam := c.families[truth]
	bestFam, bestP := c.mostProbableFamily(probs)
	pt.fp = bestP
	pt.famRight = bestFam != "" && bestFam == truthFam
	return pt
}
