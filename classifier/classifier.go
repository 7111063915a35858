package classifier

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

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
}

// DefaultThresholds are chosen a priori, not tuned on evaluation folds.
// Train replaces Class and Family by thresholds calibrated on the training
// pods (see CalibrationConfig) unless calibration is disabled.
func DefaultThresholds() Thresholds {
	return Thresholds{Class: 0.55, Family: 0.6, MinSamples: 3, WindowSamples: 6, OODMargin: 1}
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
	Reason   string  `json:"reason,omitempty"`
}

// Classifier turns windows into answers: features → imputation → model
// probabilities → thresholds, family fallback and out-of-distribution guard.
// It is safe for concurrent use once built.
type Classifier struct {
	manifest   Manifest
	model      Model
	impute     []float64
	ood        *OODGuard
	thresholds Thresholds
	families   map[string]string // class → family
	famMembers map[string][]int  // family → class indices (families with ≥ 2 classes)
	classIndex map[string]int
}

// New assembles a classifier from its parts; Train and Load call it.
func New(m Model, impute []float64, ood *OODGuard, th Thresholds, families map[string]string, manifest Manifest) (*Classifier, error) {
	if m == nil {
		return nil, errors.New("classifier: nil model")
	}
	if len(impute) != NumFeatures {
		return nil, fmt.Errorf("classifier: %d imputation values, want %d", len(impute), NumFeatures)
	}
	classes := m.Classes()
	if len(classes) == 0 {
		return nil, errors.New("classifier: model has no classes")
	}
	if ood != nil {
		if err := ood.validate(len(classes), NumFeatures); err != nil {
			return nil, err
		}
	}
	if th.WindowSamples <= 0 {
		th.WindowSamples = DefaultThresholds().WindowSamples
	}
	if th.MinSamples <= 0 {
		th.MinSamples = 2
	}
	if th.OODMargin <= 0 {
		th.OODMargin = 1
	}
	c := &Classifier{manifest: manifest, model: m, impute: impute, ood: ood, thresholds: th,
		families: map[string]string{}, famMembers: map[string][]int{}, classIndex: map[string]int{}}
	for i, cl := range classes {
		c.classIndex[cl] = i
		if f := families[cl]; f != "" {
			c.families[cl] = f
			c.famMembers[f] = append(c.famMembers[f], i)
		}
	}
	for f, m := range c.famMembers {
		if len(m) < 2 {
			delete(c.famMembers, f)
		}
	}
	c.manifest.Classes = append([]string(nil), classes...)
	c.manifest.Families = c.families
	c.manifest.Thresholds = th
	c.manifest.FeatureSchema = CurrentSchema()
	return c, nil
}

// Manifest describes the model: versions, schema, classes, training data,
// evaluation.
func (c *Classifier) Manifest() Manifest { return c.manifest }

// SetEvaluation records held-out evaluation results in the manifest.
func (c *Classifier) SetEvaluation(raw []byte) { c.manifest.Evaluation = append([]byte(nil), raw...) }

// Thresholds returns the decision thresholds.
func (c *Classifier) Thresholds() Thresholds { return c.thresholds }

// WithThresholds returns a copy deciding with th (the model is shared).
func (c *Classifier) WithThresholds(th Thresholds) *Classifier {
	cp := *c
	cp.thresholds = th
	cp.manifest.Thresholds = th
	return &cp
}

// Classes returns the model's classes.
func (c *Classifier) Classes() []string { return c.model.Classes() }

// Family returns the configured family of a class ("" when none).
func (c *Classifier) Family(class string) string { return c.families[class] }

// Window cuts w to the samples the classifier reads: the first
// WindowSamples samples, in time order.
func (c *Classifier) Window(w *samples.Window) *samples.Window {
	if !sortedByTime(w.Samples) {
		cp := &samples.Window{Pod: w.Pod, Samples: append([]samples.Sample(nil), w.Samples...)}
		cp.Sort()
		w = cp
	}
	return FirstN(w, c.thresholds.WindowSamples)
}

func sortedByTime(s []samples.Sample) bool {
	for i := 1; i < len(s); i++ {
		if s[i].Time.Before(s[i-1].Time) {
			return false
		}
	}
	return true
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
// from a window of the given number of samples.
func (c *Classifier) ClassifyFeatures(raw []float64, samples int) Result {
	r, _ := c.decide(raw, samples, nil)
	return r
}

// decide is the decision logic; probs, when non-nil, receives the class
// probabilities.
func (c *Classifier) decide(raw []float64, samples int, probsOut *[]float64) (Result, error) {
	res := Result{Class: Unknown, Status: StatusUnclassified, Samples: samples}
	if samples < c.thresholds.MinSamples {
		res.Reason = fmt.Sprintf("%d samples, need %d", samples, c.thresholds.MinSamples)
		return res, nil
	}
	if len(raw) != NumFeatures {
		res.Reason = fmt.Sprintf("%d features, want %d", len(raw), NumFeatures)
		return res, errors.New(res.Reason)
	}
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
	if ip, ok := c.model.(intoPredictor); ok {
		err = ip.PredictInto(probs, x)
	} else {
		var p []float64
		p, err = c.model.Predict(x)
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
	dist := c.distanceRatio(best, raw)
	res.Distance = dist

	if probs[best] >= c.thresholds.Class && dist <= 1 {
		res.Status, res.Level = StatusClassified, LevelClass
		res.Class, res.Family = classes[best], c.families[classes[best]]
		return res, nil
	}

	// Family fallback: the most probable family with at least two classes.
	bestFam, bestFamP := c.mostProbableFamily(probs)
	if bestFam != "" && bestFamP >= c.thresholds.Family {
		famDist := math.Inf(1)
		for _, m := range c.famMembers[bestFam] {
			famDist = math.Min(famDist, c.distanceRatio(m, raw))
		}
		if famDist <= 1 {
			res.Status, res.Level = StatusClassified, LevelFamily
			res.Class, res.Family = bestFam, bestFam
			res.Confidence, res.Distance = bestFamP, famDist
			return res, nil
		}
	}
	if dist > 1 {
		res.Reason = fmt.Sprintf("out of distribution for %s (distance %.2f of limit)", classes[best], dist)
	} else {
		res.Reason = fmt.Sprintf("low confidence: %s %.2f < %.2f", classes[best], probs[best], c.thresholds.Class)
	}
	return res, nil
}

func (c *Classifier) distanceRatio(class int, raw []float64) float64 {
	if c.ood == nil {
		return 0
	}
	lim := c.ood.Limit[class] * c.thresholds.OODMargin
	d := c.ood.Distance(class, raw)
	if lim <= 0 {
		if d == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return d / lim
}

// Explanation is why a pod got its answer.
type Explanation struct {
	Result        Result             `json:"result"`
	Features      map[string]float64 `json:"features"`
	Imputed       []string           `json:"imputed,omitempty"`
	Probabilities map[string]float64 `json:"probabilities"`
	// Path is the decision path of the tree that gave the predicted class the
	// highest probability.
	Path *TreePath `json:"path,omitempty"`
	// Farthest lists the features farthest from the predicted class's
	// training pods (robust z-scores), the out-of-distribution evidence.
	Farthest []FeatureZ `json:"farthest,omitempty"`
}

// FeatureZ is one feature's robust z-score against a class.
type FeatureZ struct {
	Feature string  `json:"feature"`
	Z       float64 `json:"z"`
}

// String is a one-line summary for an annotation or a log line.
func (e Explanation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s p=%.2f d=%.2f", e.Result.Status, e.Result.Class, e.Result.Confidence, e.Result.Distance)
	if e.Result.Predicted != "" && e.Result.Predicted != e.Result.Class {
		fmt.Fprintf(&b, " (predicted %s)", e.Result.Predicted)
	}
	if e.Path != nil {
		b.WriteString(": ")
		for i, s := range e.Path.Steps {
			if i > 0 {
				b.WriteString(" → ")
			}
			fmt.Fprintf(&b, "%s=%.3g%s%.3g", s.Feature, s.Value, s.Op, s.Threshold)
		}
	}
	if len(e.Farthest) > 0 {
		fmt.Fprintf(&b, "; farthest %s z=%.1f", e.Farthest[0].Feature, e.Farthest[0].Z)
	}
	return b.String()
}

// Explain classifies w and returns the evidence: features, probabilities, the
// decision path of the most confident tree and the features farthest from the
// predicted class.
func (c *Classifier) Explain(w *samples.Window) Explanation {
	w = c.Window(w)
	raw := Features(w)
	var probs []float64
	res, _ := c.decide(raw, len(w.Samples), &probs)
	e := Explanation{Result: res, Features: map[string]float64{}, Probabilities: map[string]float64{}}
	names := FeatureNames()
	x := make([]float64, NumFeatures)
	for i, v := range raw {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			e.Imputed = append(e.Imputed, names[i])
			v = c.impute[i]
		} else {
			e.Features[names[i]] = v
		}
		x[i] = v
	}
	classes := c.model.Classes()
	for i, p := range probs {
		e.Probabilities[classes[i]] = p
	}
	pred, ok := c.classIndex[res.Predicted]
	if !ok {
		return e
	}
	if f, ok := c.model.(*Forest); ok && f.NumTrees() > 0 {
		bestT, bestP := 0, -1.0
		for t := 0; t < f.NumTrees(); t++ {
			p := f.Path(t, x, names)
			if v := p.LeafProbs[res.Predicted]; v > bestP {
				bestT, bestP = t, v
			}
		}
		p := f.Path(bestT, x, names)
		e.Path = &p
	}
	if c.ood != nil {
		for j := 0; j < NumFeatures; j++ {
			if z := c.ood.z(pred, j, raw[j]); !math.IsNaN(z) {
				e.Farthest = append(e.Farthest, FeatureZ{Feature: names[j], Z: z})
			}
		}
		sort.Slice(e.Farthest, func(a, b int) bool { return math.Abs(e.Farthest[a].Z) > math.Abs(e.Farthest[b].Z) })
		if len(e.Farthest) > 3 {
			e.Farthest = e.Farthest[:3]
		}
	}
	return e
}

// Example is one labelled pod for training.
type Example struct {
	Pod    samples.PodKey
	Class  string
	Window *samples.Window // time-ordered, all the pod's samples
	// Group, when set, names a set of pods that must stay together: the
	// bootstrap, the out-of-distribution calibration, the inner threshold
	// calibration and the trainer's folds then hold out whole groups (e.g.
	// all pods recorded under one load scenario). Empty means the pod alone.
	Group string
}

// GroupKey is the unit of hold-out for e: its Group, or its pod.
func (e Example) GroupKey() string {
	if e.Group != "" {
		return "group:" + e.Group
	}
	return "pod:" + e.Pod.String()
}

// TrainConfig sets how Train builds a classifier.
type TrainConfig struct {
	Forest     ForestConfig
	Thresholds Thresholds
	// WindowsPerPod caps the training sub-windows drawn from each pod (data
	// augmentation; the first window always included). It also bounds
	// training cost: rows ≤ pods × WindowsPerPod whatever the sample count.
	WindowsPerPod int
	// Families maps class → family (from the image rules; configurable).
	Families map[string]string
	OOD      OODConfig
	// Calibration chooses the class and family thresholds by inner
	// grouped cross-validation on the training pods.
	Calibration CalibrationConfig
	// Now stamps the model version; nil means time.Now.
	Now func() time.Time
}

// DefaultTrainConfig returns the configuration podclass ships with.
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{Forest: DefaultForestConfig(), Thresholds: DefaultThresholds(), WindowsPerPod: 12, OOD: DefaultOODConfig(),
		Calibration: DefaultCalibrationConfig()}
}

// Train fits a classifier on labelled pods: sub-windows of WindowSamples
// samples per pod → features → median imputation → bagged golearn trees
// (bootstrap by pod) → out-of-distribution limits calibrated by
// leave-one-pod-out within each class → class and family thresholds chosen
// by an inner cross-validation grouped by pod (see CalibrationConfig) → with
// CalibrationConfig.ForeignMargins, per-class limits tightened against
// simulated foreign services. Every choice uses the given examples only.
func Train(examples []Example, cfg TrainConfig) (*Classifier, error) {
	c, err := fit(examples, cfg)
	if err != nil {
		return nil, err
	}
	if cal, ok := calibrate(examples, cfg); ok {
		if c.ood != nil {
			for i, name := range c.model.Classes() {
				if m, ok := cal.ClassMargins[name]; ok {
					c.ood.Limit[i] *= m
				}
			}
		}
		c.thresholds.Class, c.thresholds.Family = cal.Class, cal.Family
		c.manifest.Thresholds = c.thresholds
		c.manifest.Calibration = cal
		c.stampVersion() // the limits changed
	}
	return c, nil
}

// fit trains without threshold calibration.
func fit(examples []Example, cfg TrainConfig) (*Classifier, error) {
	th := cfg.Thresholds
	if th.WindowSamples <= 0 {
		th = DefaultThresholds()
	}
	if cfg.WindowsPerPod <= 0 {
		cfg.WindowsPerPod = 1
	}
	classSet := map[string]bool{}
	for _, e := range examples {
		if e.Class == "" || e.Class == Unknown {
			continue
		}
		classSet[e.Class] = true
	}
	classes := make([]string, 0, len(classSet))
	for c := range classSet {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	ci := map[string]int{}
	for i, c := range classes {
		ci[c] = i
	}
	var raw [][]float64
	var y, groups []int
	groupIndex := map[string]int{}
	summary := TrainingSummary{PerClass: map[string]ClassSummary{}}
	for _, e := range examples {
		idx, ok := ci[e.Class]
		if !ok || e.Window == nil {
			continue
		}
		gk := e.GroupKey()
		gi, ok := groupIndex[gk]
		if !ok {
			gi = len(groupIndex)
			groupIndex[gk] = gi
		}
		wins := SubWindows(e.Window, th.WindowSamples, cfg.WindowsPerPod)
		used := 0
		for _, w := range wins {
			if len(w.Samples) < th.MinSamples {
				continue
			}
			raw = append(raw, Features(w))
			y = append(y, idx)
			groups = append(groups, gi)
			used++
		}
		if used == 0 {
			continue
		}
		cs := summary.PerClass[e.Class]
		cs.Pods++
		cs.Samples += len(e.Window.Samples)
		cs.Windows += used
		summary.PerClass[e.Class] = cs
		summary.Pods++
		summary.Samples += len(e.Window.Samples)
		summary.Windows += used
	}
	present := 0
	for _, c := range classes {
		if summary.PerClass[c].Pods > 0 {
			present++
		}
	}
	if present < 2 {
		return nil, fmt.Errorf("classifier: need labelled pods with at least %d samples from 2 classes, have %d class(es)", th.MinSamples, present)
	}
	impute := medians(raw)
	X := make([][]float64, len(raw))
	for i, r := range raw {
		X[i] = make([]float64, NumFeatures)
		for j, v := range r {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				v = impute[j]
			}
			X[i][j] = v
		}
	}
	forest, err := FitForest(&TrainingSet{X: X, Y: y, Groups: groups, Classes: classes, Names: FeatureNames()}, cfg.Forest)
	if err != nil {
		return nil, err
	}
	ood := FitOOD(raw, y, groups, len(classes), cfg.OOD)
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	man := Manifest{FormatVersion: FormatVersion, Training: summary, Forest: cfg.Forest, Created: now().UTC().Format(time.RFC3339)}
	c, err := New(forest, impute, ood, th, cfg.Families, man)
	if err != nil {
		return nil, err
	}
	c.stampVersion()
	return c, nil
}

// medians returns each column's median over its finite values (0 when none).
func medians(rows [][]float64) []float64 {
	out := make([]float64, NumFeatures)
	col := make([]float64, 0, len(rows))
	for j := 0; j < NumFeatures; j++ {
		col = col[:0]
		for _, r := range rows {
			if v := r[j]; !math.IsNaN(v) && !math.IsInf(v, 0) {
				col = append(col, v)
			}
		}
		if len(col) > 0 {
			out[j] = quantileInPlace(col, 0.5)
		}
	}
	return out
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
