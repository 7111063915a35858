package trainer

import (
	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/samples"
)

// Operating is what a user of the answers sees: how often a `classified`
// answer is right, how many known pods get their exact class, and how the
// rest were answered. It is computed for the shipped decision and, side by
// side, for the base feature set alone (the store without process metrics).
type Operating struct {
	// FeatureSet is "" for the model's own choice per pod (the richest set
	// each window carries), or the one set every pod was decided with.
	FeatureSet string `json:"feature_set,omitempty"`
	// KnownPods are pods of classes the model was trained on.
	KnownPods int `json:"known_pods"`
	// Coverage is the share of known pods answered `classified` with their
	// exact class.
	Coverage float64 `json:"coverage"`
	// ClassifiedPrecision is the share of `classified` answers (class or
	// family) that are right: the exact class, or the true class's family.
	ClassifiedPrecision float64 `json:"classified_precision"`
	// Classified counts `classified` answers on known pods; Wrong those
	// that were not right.
	Classified int `json:"classified"`
	Wrong      int `json:"wrong"`
	// FamilyAnswers counts known pods answered with a family.
	FamilyAnswers int `json:"family_answers"`
	// UnknownOnKnown is the share of known pods answered `unknown` or
	// `unclassified`.
	UnknownOnKnown float64 `json:"unknown_on_known"`
	// ForeignPods are real pods of services outside the model's classes
	// (known=false in the pods CSV); ForeignUnknown is the share of them
	// not answered `classified`.
	ForeignPods    int            `json:"foreign_pods"`
	ForeignUnknown float64        `json:"foreign_unknown,omitempty"`
	ForeignAnswers map[string]int `json:"foreign_answers,omitempty"`
}

// right reports whether a classified answer is right for truth: the exact
// class, or (family answers) the true class's family.
func right(r classifier.Result, truth string, families map[string]string) bool {
	if r.Level == classifier.LevelFamily {
		f := families[truth]
		return f != "" && r.Class == f
	}
	return r.Class == truth
}

// operating scores known and foreign pods' answers.
func operating(known, foreign []PodPrediction, families map[string]string, set string) Operating {
	o := Operating{FeatureSet: set, KnownPods: len(known), ForeignPods: len(foreign)}
	exact, unknown, rightN := 0, 0, 0
	for _, p := range known {
		r := p.Result
		if r.Status != classifier.StatusClassified {
			unknown++
			continue
		}
		o.Classified++
		if r.Level == classifier.LevelFamily {
			o.FamilyAnswers++
		}
		if right(r, p.Truth, families) {
			rightN++
			if r.Level != classifier.LevelFamily {
				exact++
			}
		} else {
			o.Wrong++
		}
	}
	if len(known) > 0 {
		o.Coverage = float64(exact) / float64(len(known))
		o.UnknownOnKnown = float64(unknown) / float64(len(known))
	}
	if o.Classified > 0 {
		o.ClassifiedPrecision = float64(rightN) / float64(o.Classified)
	}
	if len(foreign) > 0 {
		o.ForeignAnswers = map[string]int{}
		refused := 0
		for _, p := range foreign {
			o.ForeignAnswers[p.Result.Class]++
			if p.Result.Status != classifier.StatusClassified {
				refused++
			}
		}
		o.ForeignUnknown = float64(refused) / float64(len(foreign))
	}
	return o
}

// ScoreModel classifies every example with model and scores the answers as
// Operating, with the model's own choice of feature set per pod and, for each
// smaller set the model falls back to, with that set alone (SetScores).
// Examples of classes the model does not know, or named in foreign, are
// scored as foreign pods.
func ScoreModel(model *classifier.Classifier, examples []classifier.Example, foreign map[string]bool, families map[string]string) (Operating, SetScores, []PodPrediction) {
	classes := map[string]bool{}
	for _, c := range model.Classes() {
		classes[c] = true
	}
	var known, alien []PodPrediction
	sets := newSetAnswers(model)
	for _, e := range examples {
		pred := func(r classifier.Result) PodPrediction {
			return PodPrediction{Namespace: e.Pod.Namespace, Pod: e.Pod.Name, Truth: e.Class, Fold: -1, Result: r}
		}
		isForeign := foreign[e.Class] || !classes[e.Class]
		p := pred(model.Classify(e.Window))
		if isForeign {
			alien = append(alien, p)
		} else {
			known = append(known, p)
		}
		sets.add(e.Window, isForeign, pred)
	}
	return operating(known, alien, families, ""), sets.scores(families), append(known, alien...)
}

// SetScores are Operating figures per smaller feature set.
type SetScores map[classifier.FeatureSet]*Operating

// setAnswers collects, for each fallback set of a model, the answers of that
// set alone.
type setAnswers struct {
	variants map[classifier.FeatureSet]*classifier.Classifier
	known    map[classifier.FeatureSet][]PodPrediction
	foreign  map[classifier.FeatureSet][]PodPrediction
}

// newSetAnswers collects model's fallback sets; a nil model collects none
// itself and only gathers others' answers (merge).
func newSetAnswers(model *classifier.Classifier) *setAnswers {
	a := &setAnswers{variants: map[classifier.FeatureSet]*classifier.Classifier{},
		known: map[classifier.FeatureSet][]PodPrediction{}, foreign: map[classifier.FeatureSet][]PodPrediction{}}
	if model != nil {
		for _, s := range model.FeatureSets()[1:] {
			a.variants[s] = model.Variant(s)
		}
	}
	return a
}

func (a *setAnswers) add(w *samples.Window, foreign bool, pred func(classifier.Result) PodPrediction) {
	for s, v := range a.variants {
		p := pred(v.Classify(w))
		if foreign {
			a.foreign[s] = append(a.foreign[s], p)
		} else {
			a.known[s] = append(a.known[s], p)
		}
	}
}

// merge appends b's answers to a's (folds' models share their sets).
func (a *setAnswers) merge(b *setAnswers) {
	for s, p := range b.known {
		a.known[s] = append(a.known[s], p...)
	}
	for s, p := range b.foreign {
		a.foreign[s] = append(a.foreign[s], p...)
	}
}

func (a *setAnswers) scores(families map[string]string) SetScores {
	out := SetScores{}
	for s, k := range a.known {
		o := operating(k, a.foreign[s], families, string(s))
		out[s] = &o
	}
	return out
}
