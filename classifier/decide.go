package classifier

import (
	"errors"
	"fmt"
	"math"

	"github.com/podclass/podclass/samples"
)

// Unknown is the class (and the status) of an abstention.
const Unknown = "unknown"

// Status is the outcome of classifying one pod; the refiner writes it to
// podclass.io/status.
type Status string

const (
	// StatusClassified means Class holds an answer: a class, or a family
	// name when Level is LevelFamily.
	StatusClassified Status = "classified"
	// StatusUnknown means the model abstained: the behaviour is not confidently
	// any known class (low confidence) or looks like none of them (out of
	// distribution). Class is "unknown".
	StatusUnknown Status = "unknown"
	// StatusUnclassified means there was not enough data to decide (fewer
	// than Thresholds.MinSamples samples). Class is "unknown"; try later.
	StatusUnclassified Status = "unclassified"
)

// Level says how specific a classified answer is.
type Level string

const (
	LevelClass  Level = "class"
	LevelFamily Level = "family"
)

// Thresholds are the decision thresholds a model ships with.
type Thresholds struct {
	// Class is the smallest top-class probability answered as that class.
	Class float64 `json:"class"`
	// Family is the smallest family probability (the sum of the
	// probabilities of the family's classes) answered as the family when
	// no single class is sure enough.
	Family float64 `json:"family"`
	// MinSamples is the fewest samples a window needs; fewer → unclassified.
	MinSamples int `json:"min_samples"`
	// WindowSamples is how many samples from the start of a pod's life the
	// model reads (and was trained on). Longer windows are cut to it.
	WindowSamples int `json:"window_samples"`
	// OODMargin multiplies every class's calibrated distance limit; raise it
	// to abstain less on unfamiliar load, lower it to abstain more.
	OODMargin float64 `json:"ood_margin"`
	// Separation is the smallest ratio of the top class's probability to
	// the runner-up's answered as that class; 0 leaves it out. With a dozen
	// classes the forest spreads its votes, so the top probability of a
	// right answer is often modest while the runner-up's is far below it:
	// the ratio tells a clear winner from a tie better than the top
	// probability alone (docs/evaluation.md).
	Separation float64 `json:"separation,omitempty"`
	// OODOverride is the separation (the top class's probability over the
	// runner-up's) at or above which the out-of-distribution guard over all
	// features no longer vetoes a class answer; 0 never. Known pods under a
	// load or on a machine shape the model never saw lie a little outside
	// their class's box on a few rates while every tree still names their
	// class; foreign services the guard refuses split the trees' votes
	// (docs/evaluation.md: no guard-refused foreign pod reached 4). The
	// process-structure gate is never overridden: a service built otherwise
	// than the class is refused however sure the trees are.
	OODOverride float64 `json:"ood_override,omitempty"`
}

// DefaultThresholds are chosen a priori, not tuned on evaluation folds.
// Train replaces Class and Family by thresholds calibrated on the training
// pods (see CalibrationConfig) unless calibration is disabled.
func DefaultThresholds() Thresholds {
	return Thresholds{Class: 0.55, Family: 0.6, MinSamples: 3, WindowSamples: 6, OODMargin: 1, OODOverride: 10}
}

// Result is the answer for one pod.
//
// Semantics:
//   - Status classified, Level class: Class is a class name, Family its family
//     (or "" when the class has none), Confidence the class probability.
//   - Status classified, Level family: no class reached Thresholds.Class, but
//     the classes of one family together reached Thresholds.Family. Class
//     and Family are both the family name (e.g. "web"), Confidence the family
//     probability. Only families with at least two classes in the model take
//     part.
//   - Status unknown: Class is "unknown", Family "", Confidence the
//     probability of the most probable (rejected) class, Predicted that class,
//     Reason why it was rejected.
//   - Status unclassified: too few samples; Class "unknown", Confidence 0.
type Result struct {
	Class      string  `json:"class"`
	Family     string  `json:"family,omitempty"`
	Level      Level   `json:"level,omitempty"`
	Confidence float64 `json:"confidence"`
	Status     Status  `json:"status"`
	Samples    int     `json:"samples"`
	// Predicted is the most probable class, whatever the status (for
	// evaluation and logs; not an answer).
	Predicted string `json:"predicted,omitempty"`
	// Distance is the out-of-distribution distance to the answered (or
	// predicted) class divided by its limit: above 1 is out of distribution.
	Distance float64 `json:"distance"`
	// Separation is the most probable class's probability over the
	// runner-up's (see Thresholds.Separation).
	Separation float64 `json:"separation,omitempty"`
	Reason     string  `json:"reason,omitempty"`
	// FeatureSet names the features that decided (see FeatureSet).
	FeatureSet FeatureSet `json:"feature_set,omitempty"`
}

// Classify answers for one pod from its window (cut to the first
// WindowSamples samples).
func (c *Classifier) Classify(w *samples.Window) Result {
	w = c.Window(w)
	var x [NumFeatures]float64
	FeaturesInto(x[:], w.Samples)
	return c.ClassifyFeatures(x[:], len(w.Samples))
}

// ClassifyFeatures answers for a raw feature vector (NaN = missing) computed
// from a window of the given number of samples, with the richest feature set
// the vector carries.
func (c *Classifier) ClassifyFeatures(raw []float64, samples int) Result {
	r, _ := c.variantFor(raw).decide(raw, samples, nil)
	return r
}

// decide is the decision logic; probs, when non-nil, receives the class
// probabilities.
func (c *Classifier) decide(raw []float64, samples int, probsOut *[]float64) (Result, error) {
	res := Result{Class: Unknown, Status: StatusUnclassified, Samples: samples, FeatureSet: c.set}
	if samples < c.thresholds.MinSamples {
		res.Reason = fmt.Sprintf("%d samples, need %d", samples, c.thresholds.MinSamples)
		return res, nil
	}
	if len(raw) != NumFeatures {
		res.Reason = fmt.Sprintf("%d features, want %d", len(raw), NumFeatures)
		return res, errors.New(res.Reason)
	}
	if !c.set.Has(raw) {
		// Never answer from a whole group of imputed values.
		res.Reason = fmt.Sprintf("the window has no %s-set metrics and the model no smaller feature set", c.set)
		return res, nil
	}
	var mb [NumFeatures]float64
	raw = c.set.masked(mb[:], raw)
	var xb [NumFeatures]float64
	x := xb[:]
	for i, v := range raw {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			v = c.impute[i]
		}
		x[i] = v
	}
	k := len(c.model.Classes())
	var pb [32]float64
	probs := pb[:0]
	if k <= len(pb) {
		probs = pb[:k]
	} else {
		probs = make([]float64, k)
	}
	var err error
	if f, ok := c.model.(*Forest); ok {
		// The concrete call lets x and probs stay on the stack; through
		// the Model interface they escape (two allocations per pod).
		err = f.PredictInto(probs, x)
	} else {
		var p []float64
		p, err = c.model.Predict(append([]float64(nil), x...))
		if err == nil && len(p) != k {
			err = fmt.Errorf("model returned %d probabilities for %d classes", len(p), k)
		}
		if err == nil {
			copy(probs, p)
		}
	}
	if err != nil {
		res.Status = StatusUnknown
		res.Reason = "model error: " + err.Error()
		return res, err
	}
	if probsOut != nil {
		*probsOut = append((*probsOut)[:0], probs...)
	}
	classes := c.model.Classes()
	best := 0
	for i, p := range probs {
		if p > probs[best] {
			best = i
		}
	}
	res.Predicted = classes[best]
	res.Confidence = probs[best]
	res.Status = StatusUnknown
	whole, shape := c.distanceRatios(best, raw)
	dist, byStructure := max(whole, shape), shape > whole
	res.Distance = dist

	sep := separation(probs, best)
	res.Separation = sep
	yields := c.thresholds.OODOverride > 0 && sep >= c.thresholds.OODOverride
	inside := shape <= 1 && (whole <= 1 || yields)
	if probs[best] >= c.thresholds.Class && (c.thresholds.Separation <= 0 || sep >= c.thresholds.Separation) && inside {
		res.Status, res.Level = StatusClassified, LevelClass
		res.Class, res.Family = classes[best], c.families[classes[best]]
		return res, nil
	}

	// Family fallback: the most probable family with at least two classes.
	bestFam, bestFamP := c.mostProbableFamily(probs)
	if bestFam != "" && bestFamP >= c.thresholds.Family {
		famDist := math.Inf(1)
		for _, m := range c.famMembers[bestFam] {
			d, _ := c.distanceRatio(m, raw)
			famDist = math.Min(famDist, d)
		}
		if famDist <= 1 {
			res.Status, res.Level = StatusClassified, LevelFamily
			res.Class, res.Family = bestFam, bestFam
			res.Confidence, res.Distance = bestFamP, famDist
			return res, nil
		}
	}
	if shape > 1 && (byStructure || yields) {
		res.Reason = fmt.Sprintf("out of distribution for %s (process structure: distance %.2f of limit)", classes[best], shape)
	} else if dist > 1 {
		res.Reason = fmt.Sprintf("out of distribution for %s (distance %.2f of limit)", classes[best], dist)
	} else if probs[best] >= c.thresholds.Class {
		res.Reason = fmt.Sprintf("no clear winner: %s %.2f is %.2f× the runner-up, need %.2f×", classes[best], probs[best], sep, c.thresholds.Separation)
	} else {
		res.Reason = fmt.Sprintf("low confidence: %s %.2f < %.2f", classes[best], probs[best], c.thresholds.Class)
	}
	return res, nil
}

// separation is probs[best] over the largest other probability (capped at
// 1000 when the others are all 0).
func separation(probs []float64, best int) float64 {
	second := 0.0
	for i, p := range probs {
		if i != best && p > second {
			second = p
		}
	}
	if second <= probs[best]/1000 {
		return 1000
	}
	return probs[best] / second
}

// distanceRatio is raw's out-of-distribution ratio for class (OODGuard.Ratio
// at the model's margin); structure says the structure guard decided it.
func (c *Classifier) distanceRatio(class int, raw []float64) (ratio float64, structure bool) {
	if c.ood == nil {
		return 0, false
	}
	return c.ood.Ratio(class, raw, c.thresholds.OODMargin)
}

// distanceRatios are raw's out-of-distribution ratios for class at the
// model's margin, of the guard over all features and of the process
// structure's (0 without one).
func (c *Classifier) distanceRatios(class int, raw []float64) (whole, structure float64) {
	if c.ood == nil {
		return 0, 0
	}
	return c.ood.Ratios(class, raw, c.thresholds.OODMargin)
}

// mostProbableFamily returns the family (of at least two classes) whose
// classes' probabilities sum highest, ties broken by name so answers are
// stable; "" when no family qualifies.
func (c *Classifier) mostProbableFamily(probs []float64) (string, float64) {
	best, bestP := "", 0.0
	for f, members := range c.famMembers {
		var p float64
		for _, m := range members {
			p += probs[m]
		}
		if p > bestP || (p == bestP && f < best) {
			best, bestP = f, p
		}
	}
	return best, bestP
}
