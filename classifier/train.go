package classifier

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/podclass/podclass/classifier/crossval"
	"github.com/podclass/podclass/samples"
)

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
	// Load, when set, names the load the pod was recorded under, shared by
	// its recordings on other machines (a corpus scenario). The inner
	// threshold calibration holds out a load with every recording of it:
	// the thresholds are then chosen on loads the inner model never saw, as
	// a deployed model meets them, not on a twin recorded on another
	// machine, which made them far too trusting (docs/evaluation.md). It
	// holds out Groups whole too (calibrationItems). The bootstrap, the
	// out-of-distribution limits and the outer folds follow Group only.
	Load string
}

// calibrationItems are the examples as the inner threshold calibration
// deals them: examples sharing a Group or a Load are one unit, transitively
// (a machine's recordings of a scenario and the same load on the other
// machines; a batch of several loads and each load's other batches), so an
// inner fold never splits either.
func calibrationItems(examples []Example) []crossval.Item {
	parent := make([]int, len(examples))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	first := map[string]int{}
	join := func(i int, key string) {
		if j, ok := first[key]; ok {
			parent[find(i)] = find(j)
		} else {
			first[key] = i
		}
	}
	for i, e := range examples {
		join(i, e.GroupKey())
		if e.Load != "" {
			join(i, "load:"+e.Load)
		}
	}
	items := make([]crossval.Item, len(examples))
	for i, e := range examples {
		items[i] = e.Item()
		items[i].Group = examples[find(i)].GroupKey()
	}
	return items
}

// GroupKey is the unit of hold-out for e: its Group, or its pod.
func (e Example) GroupKey() string {
	if e.Group != "" {
		return "group:" + e.Group
	}
	return "pod:" + e.Pod.String()
}

// Item is e as cross-validation sees it.
func (e Example) Item() crossval.Item {
	return crossval.Item{Pod: e.Pod.String(), Group: e.Group, Class: e.Class}
}

// Items is Item of every example, in order.
func Items(examples []Example) []crossval.Item {
	out := make([]crossval.Item, len(examples))
	for i, e := range examples {
		out[i] = e.Item()
	}
	return out
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
	// Set trains one classifier of that feature set only. Empty trains the
	// model podclass ships: a process-set classifier on the pods whose
	// windows carry the process structure, falling back to a base-set
	// classifier trained on every pod (see FeatureSet).
	Set FeatureSet
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
// by an inner cross-validation grouped by load (see Example.Load and
// CalibrationConfig) → with CalibrationConfig.ForeignMargins, per-class
// limits tightened against simulated foreign services. Every choice uses
// the given examples only.
func Train(examples []Example, cfg TrainConfig) (*Classifier, error) {
	if cfg.Set != "" {
		return trainSet(examples, cfg)
	}
	// Each set is trained on the pods whose windows carry its groups, and
	// the richer set falls back to the poorer one: core (every pod) ← base
	// (the pods with page-fault counters) ← process (the pods with process
	// structure).
	var chain *Classifier
	for _, set := range []FeatureSet{SetCore, SetBase, SetProcess} {
		var sub []Example
		classes := map[string]bool{}
		for _, e := range examples {
			if e.Window != nil && windowHas(e.Window, set) {
				sub = append(sub, e)
				classes[e.Class] = true
			}
		}
		if len(classes) < 2 {
			continue
		}
		sc := cfg
		sc.Set = set
		c, err := trainSet(sub, sc)
		if err != nil {
			return nil, fmt.Errorf("%s feature set: %w", set, err)
		}
		if chain != nil {
			c = c.WithFallback(chain)
		}
		chain = c
	}
	if chain == nil {
		return nil, errors.New("classifier: fewer than two classes to train on")
	}
	chain.stampVersion()
	return chain, nil
}

// windowHas reports whether any sample of w has the counters the set's
// optional group is computed from.
func windowHas(w *samples.Window, set FeatureSet) bool {
	var v func(s *samples.Sample) float64
	switch set {
	case SetProcess:
		v = func(s *samples.Sample) float64 { return s.Processes }
	case SetBase:
		v = func(s *samples.Sample) float64 { return s.PageFaults }
	default:
		return true
	}
	for i := range w.Samples {
		if !math.IsNaN(v(&w.Samples[i])) {
			return true
		}
	}
	return false
}

// trainSet trains one classifier of cfg.Set.
func trainSet(examples []Example, cfg TrainConfig) (*Classifier, error) {
	c, err := fit(examples, cfg)
	if err != nil {
		return nil, err
	}
	if cal, ok := calibrate(examples, cfg); ok {
		if c.ood != nil {
			for i, name := range c.model.Classes() {
				if m, ok := cal.ClassMargins[name]; ok {
					c.ood.ScaleLimits(i, m)
				}
			}
		}
		c.thresholds.Class, c.thresholds.Family, c.thresholds.Separation = cal.Class, cal.Family, cal.Separation
		c.manifest.Thresholds = c.thresholds
		c.manifest.Calibration = cal
		c.stampVersion() // the limits changed
	}
	return c, nil
}

// fit trains without threshold calibration.
func fit(examples []Example, cfg TrainConfig) (*Classifier, error) {
	set := cfg.Set
	if set == "" {
		set = SetProcess
	}
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
			x := Features(w)
			if !set.Has(x) {
				continue
			}
			raw = append(raw, set.masked(x, x))
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
	man := Manifest{FormatVersion: FormatVersion, Training: summary, Forest: cfg.Forest, Created: now().UTC().Format(time.RFC3339), FeatureSet: set}
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
