package trainer

import (
	"fmt"
	"sort"

	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/classifier/crossval"
)

// Fold is one train/test split, as indices into the examples (one example is
// one pod).
type Fold = crossval.Fold

// GroupedFolds splits pods into k folds, stratified by class: each class's
// pods are shuffled and dealt round-robin, so every fold gets a share of every
// class that has at least k pods. A pod — all its windows — is in exactly one
// test fold. Pods appearing twice (same key) are kept together. It returns an
// error when k < 2 or there are fewer pods than folds. Examples with a Group
// (e.g. the load scenario they were recorded under) are held out together:
// the unit dealt to folds is then the group, not the pod. The dealing is
// crossval's, the same the classifier's calibration uses.
func GroupedFolds(examples []classifier.Example, k int, seed int64) ([]Fold, error) {
	folds, err := crossval.GroupedFolds(classifier.Items(examples), k, seed)
	if err != nil {
		return nil, fmt.Errorf("trainer: %w", err)
	}
	return folds, nil
}

// CheckDisjoint returns an error if any pod (or group, when examples carry
// one) has examples on both sides of a fold — the leak that scored the
// predecessor 100%.
func CheckDisjoint(examples []classifier.Example, f Fold) error {
	if err := crossval.CheckDisjoint(classifier.Items(examples), f); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	return nil
}

// HoldoutFolds makes one fold per distinct value of keys (keys[i] is example
// i's hold-out unit, e.g. the machine it was recorded on): each fold tests
// one unit's examples and trains on all the others. It fails with fewer than
// two units or an example without one.
func HoldoutFolds(keys []string) ([]Fold, error) {
	index := map[string]int{}
	var units []string
	for i, k := range keys {
		if k == "" {
			return nil, fmt.Errorf("trainer: example %d has no hold-out unit", i)
		}
		if _, ok := index[k]; !ok {
			index[k] = 0
			units = append(units, k)
		}
	}
	if len(units) < 2 {
		return nil, fmt.Errorf("trainer: holding out by unit needs at least 2 units, have %d", len(units))
	}
	sort.Strings(units)
	for i, u := range units {
		index[u] = i
	}
	folds := make([]Fold, len(units))
	for i, k := range keys {
		for f := range folds {
			if f == index[k] {
				folds[f].Test = append(folds[f].Test, i)
			} else {
				folds[f].Train = append(folds[f].Train, i)
			}
		}
	}
	return folds, nil
}
