package trainer

import "github.com/podclass/podclass/classifier"

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
// Operating, with the model's own choice of feature set per pod and, when the
// model has one, with the base set alone. Examples of classes the model does
// not know, or named in foreign, are scored as foreign pods.
func ScoreModel(model *classifier.Classifier, examples []classifier.Example, foreign map[string]bool, families map[string]string) (Operating, *Operating, []PodPrediction) {
	classes := map[string]bool{}
	for _, c := range model.Classes() {
		classes[c] = true
	}
	base := model.Variant(classifier.SetBase)
	var known, alien, bKnown, bAlien []PodPrediction
	for _, e := range examples {
		pred := func(r classifier.Result) PodPrediction {
			return PodPrediction{Namespace: e.Pod.Namespace, Pod: e.Pod.Name, Truth: e.Class, Fold: -1, Result: r}
		}
		isForeign := foreign[e.Class] || !classes[e.Class]
		p := pred(model.Classify(e.Window))
		var b PodPrediction
		if base != nil {
			b = pred(base.Classify(e.Window))
		}
		if isForeign {
			alien = append(alien, p)
			bAlien = append(bAlien, b)
		} else {
			known = append(known, p)
			bKnown = append(bKnown, b)
		}
	}
	op := operating(known, alien, families, "")
	var bop *Operating
	if base != nil && base != model {
		o := operating(bKnown, bAlien, families, string(classifier.SetBase))
		bop = &o
	}
	return op, bop, append(known, alien...)
}
