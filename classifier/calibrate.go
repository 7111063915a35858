package classifier

import (
	"math"
	"math/rand"
	"sort"
)

// CalibrationConfig sets how Train chooses the class and family thresholds
// from the training pods alone, by an inner cross-validation grouped by pod:
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
	// anomaly model, worse than no answer.
	TargetPrecision float64 `json:"target_precision"`
	// MaxPods caps the pods the inner cross-validation uses (a stratified
	// subsample), bounding training cost on big corpora.
	MaxPods int `json:"max_pods"`
	// Min and Max bound the thresholds considered.
	Min float64 `json:"min"`
	Max float64 `json:"max"`
}

// DefaultCalibrationConfig is what Train uses unless told otherwise.
func DefaultCalibrationConfig() CalibrationConfig {
	return CalibrationConfig{Folds: 4, TargetPrecision: 0.95, MaxPods: 300, Min: 0.2, Max: 0.9}
}

// Calibration records how the thresholds were chosen.
type Calibration struct {
	Config          CalibrationConfig `json:"config"`
	Pods            int               `json:"pods"`
	Windows         int               `json:"windows"`
	Class           float64           `json:"class_threshold"`
	ClassPrecision  float64           `json:"class_precision"`
	ClassCoverage   float64           `json:"class_coverage"`
	Family          float64           `json:"family_threshold"`
	FamilyPrecision float64           `json:"family_precision"`
	FamilyCoverage  float64           `json:"family_coverage"`
}

type calPoint struct {
	p, fp           float64 // top class probability, top family probability
	right, famRight bool
}

// calibrate runs the inner cross-validation and returns the thresholds.
func calibrate(examples []Example, cfg TrainConfig) (*Calibration, bool) {
	cc := cfg.Calibration
	if cc.Folds < 2 {
		return nil, false
	}
	// Group by pod (one example is one pod, or its Group when set) per
	// class, subsample groups, deal folds: a group is never split.
	byClass := map[string][]string{}
	members := map[string][]int{}
	var classes []string
	for i, e := range examples {
		if e.Class == "" || e.Class == Unknown || e.Window == nil {
			continue
		}
		if _, ok := byClass[e.Class]; !ok {
			classes = append(classes, e.Class)
		}
		k := e.GroupKey()
		if _, ok := members[k]; !ok {
			byClass[e.Class] = append(byClass[e.Class], k)
		}
		members[k] = append(members[k], i)
	}
	sort.Strings(classes)
	total := 0
	for _, c := range classes {
		total += len(byClass[c])
	}
	rng := rand.New(rand.NewSource(cfg.Forest.Seed + 101))
	keep := 1.0
	if cc.MaxPods > 0 && total > cc.MaxPods {
		keep = float64(cc.MaxPods) / float64(total)
	}
	fold := map[int]int{}
	next := 0
	for _, c := range classes {
		idx := append([]string(nil), byClass[c]...)
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		n := int(math.Ceil(keep * float64(len(idx))))
		for _, k := range idx[:n] {
			for _, i := range members[k] {
				fold[i] = next % cc.Folds
			}
			next++
		}
	}
	inner := cfg
	inner.Calibration.Folds = 0
	var pts []calPoint
	pods := 0
	for f := 0; f < cc.Folds; f++ {
		var train, test []Example
		for i, k := range fold {
			if k == f {
				test = append(test, examples[i])
			} else {
				train = append(train, examples[i])
			}
		}
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
	cal.Class, cal.ClassPrecision, cal.ClassCoverage = pickThreshold(pts, cc, func(p calPoint) (float64, bool) { return p.p, p.right })
	// The family threshold is chosen on the windows the class threshold
	// rejects: those are the ones the family fallback answers.
	var rejected []calPoint
	for _, p := range pts {
		if p.p < cal.Class && p.fp > 0 {
			rejected = append(rejected, p)
		}
	}
	cal.Family, cal.FamilyPrecision, cal.FamilyCoverage = pickThreshold(rejected, cc, func(p calPoint) (float64, bool) { return p.fp, p.famRight })
	return cal, true
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
	pt := calPoint{p: probs[best], right: classes[best] == truth}
	truthFam := c.families[truth]
	bestFam, bestP := c.mostProbableFamily(probs)
	pt.fp = bestP
	pt.famRight = bestFam != "" && bestFam == truthFam
	return pt
}
