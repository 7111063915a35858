package classifier

import (
	"errors"
	"fmt"
)

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
	// set is the feature set this classifier decides with; fallback, when
	// set, decides pods whose window lacks part of it (see FeatureSet).
	set      FeatureSet
	fallback *Classifier
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
	set := manifest.FeatureSet
	if set == "" {
		set = SetProcess
	}
	if !set.Valid() {
		return nil, fmt.Errorf("classifier: unknown feature set %q", set)
	}
	c := &Classifier{manifest: manifest, model: m, impute: impute, ood: ood, thresholds: th, set: set,
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
	c.manifest.FeatureSet = set
	return c, nil
}

// Manifest describes the model: versions, schema, classes, training data,
// evaluation.
func (c *Classifier) Manifest() Manifest { return c.manifest }

// SetEvaluation records held-out evaluation results in the manifest.
func (c *Classifier) SetEvaluation(raw []byte) { c.manifest.Evaluation = append([]byte(nil), raw...) }

// Thresholds returns the decision thresholds.
func (c *Classifier) Thresholds() Thresholds { return c.thresholds }

// WithThresholds returns a copy deciding with th (the model is shared);
// the fallback's class and family thresholds stay its own, its margin and
// sample counts follow th.
func (c *Classifier) WithThresholds(th Thresholds) *Classifier {
	cp := *c
	cp.thresholds = th
	cp.manifest.Thresholds = th
	if c.fallback != nil {
		fth := c.fallback.thresholds
		fth.OODMargin, fth.MinSamples, fth.WindowSamples = th.OODMargin, th.MinSamples, th.WindowSamples
		cp.fallback = c.fallback.WithThresholds(fth)
	}
	return &cp
}

// WithFallback returns a copy of c that decides pods whose window lacks part
// of c's feature set with fb (a classifier of a smaller set).
func (c *Classifier) WithFallback(fb *Classifier) *Classifier {
	cp := *c
	cp.fallback = fb
	return &cp
}

// Classes returns the model's classes.
func (c *Classifier) Classes() []string { return c.model.Classes() }

// Family returns the configured family of a class ("" when none).
func (c *Classifier) Family(class string) string { return c.families[class] }
