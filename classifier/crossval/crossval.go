package crossval

import (
	"fmt"
	"math"
	"math/rand"
	"sort"
)

// Item is one example as cross-validation sees it.
type Item struct {
	// Pod names the pod, for messages and the disjointness check.
	Pod string
	// Group is the unit of hold-out: examples with one Group are dealt
	// together. Empty means the pod.
	Group string
	// Class is the label folds are stratified by.
	Class string
}

func (it Item) key() string {
	if it.Group != "" {
		return "group:" + it.Group
	}
	return "pod:" + it.Pod
}

// Groups counts the distinct groups of items.
func Groups(items []Item) int {
	seen := map[string]bool{}
	for _, it := range items {
		seen[it.key()] = true
	}
	return len(seen)
}

// Fold is one train/test split, as indices into the items.
type Fold struct {
	Train []int
	Test  []int
}

// Assign deals the groups of items to k folds, stratified by class: each
// class's groups (a group's class is its first item's) are shuffled with rng
// and dealt round-robin, continuing where the previous class stopped so the
// folds stay balanced. keep in (0, 1) keeps only ceil(keep·n) of each class's
// n groups (the first after the shuffle); the others get fold -1. It returns
// each item's test fold and the number of groups.
func Assign(items []Item, k int, keep float64, rng *rand.Rand) (fold []int, groups int) {
	groupOf := map[string]int{}
	var members [][]int
	var groupClass []string
	for i, it := range items {
		g, ok := groupOf[it.key()]
		if !ok {
			g = len(members)
			groupOf[it.key()] = g
			members = append(members, nil)
			groupClass = append(groupClass, it.Class)
		}
		members[g] = append(members[g], i)
	}
	byClass := map[string][]int{}
	var classes []string
	for g, c := range groupClass {
		if _, ok := byClass[c]; !ok {
			classes = append(classes, c)
		}
		byClass[c] = append(byClass[c], g)
	}
	sort.Strings(classes)
	if keep <= 0 || keep > 1 {
		keep = 1
	}
	fold = make([]int, len(items))
	for i := range fold {
		fold[i] = -1
	}
	next := 0
	for _, c := range classes {
		gs := byClass[c]
		rng.Shuffle(len(gs), func(i, j int) { gs[i], gs[j] = gs[j], gs[i] })
		n := int(math.Ceil(keep * float64(len(gs))))
		for _, g := range gs[:n] {
			for _, i := range members[g] {
				fold[i] = next % k
			}
			next++
		}
	}
	return fold, len(members)
}

// Split turns an assignment into k folds, indices in ascending order; items
// with fold -1 are on neither side.
func Split(fold []int, k int) []Fold {
	folds := make([]Fold, k)
	for i, f := range fold {
		if f < 0 {
			continue
		}
		for j := range folds {
			if j == f {
				folds[j].Test = append(folds[j].Test, i)
			} else {
				folds[j].Train = append(folds[j].Train, i)
			}
		}
	}
	return folds
}

// GroupedFolds splits items into k folds (Assign, then Split) and checks each
// is disjoint. It fails when k < 2 or there are fewer groups than folds.
func GroupedFolds(items []Item, k int, seed int64) ([]Fold, error) {
	if k < 2 {
		return nil, fmt.Errorf("need at least 2 folds, got %d", k)
	}
	fold, groups := Assign(items, k, 1, rand.New(rand.NewSource(seed)))
	if groups < k {
		return nil, fmt.Errorf("%d pods (groups) cannot fill %d folds", groups, k)
	}
	folds := Split(fold, k)
	for _, f := range folds {
		if err := CheckDisjoint(items, f); err != nil {
			return nil, err
		}
	}
	return folds, nil
}

// CheckDisjoint returns an error if any pod (or group, when items carry one)
// has items on both sides of a fold — the leak that scored the predecessor
// 100%.
func CheckDisjoint(items []Item, f Fold) error {
	train := map[string]bool{}
	trainGroup := map[string]bool{}
	for _, i := range f.Train {
		train[items[i].Pod] = true
		trainGroup[items[i].key()] = true
	}
	for _, i := range f.Test {
		if train[items[i].Pod] {
			return fmt.Errorf("pod %s is in both the training and the test set of a fold", items[i].Pod)
		}
		if trainGroup[items[i].key()] {
			return fmt.Errorf("group %s (pod %s) is in both the training and the test set of a fold", items[i].Group, items[i].Pod)
		}
	}
	return nil
}

// LeaveOneClassOut returns, for each class in sorted order, the split that
// trains on every other class and tests on that one.
func LeaveOneClassOut(items []Item) (classes []string, folds []Fold) {
	byClass := map[string]bool{}
	for _, it := range items {
		if !byClass[it.Class] {
			byClass[it.Class] = true
			classes = append(classes, it.Class)
		}
	}
	sort.Strings(classes)
	folds = make([]Fold, len(classes))
	for ci, c := range classes {
		for i, it := range items {
			if it.Class == c {
				folds[ci].Test = append(folds[ci].Test, i)
			} else {
				folds[ci].Train = append(folds[ci].Train, i)
			}
		}
	}
	return classes, folds
}

// SubsampleByClass keeps frac of the indices train of each class (at least
// two per class where available, so every class can still be learnt),
// shuffled with rng; the result is in ascending order.
func SubsampleByClass(items []Item, train []int, frac float64, rng *rand.Rand) []int {
	if frac >= 1 {
		return train
	}
	by := map[string][]int{}
	var classes []string
	for _, i := range train {
		c := items[i].Class
		if _, ok := by[c]; !ok {
			classes = append(classes, c)
		}
		by[c] = append(by[c], i)
	}
	sort.Strings(classes)
	var out []int
	for _, c := range classes {
		idx := by[c]
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		n := int(math.Round(frac * float64(len(idx))))
		n = max(n, min(2, len(idx)))
		out = append(out, idx[:n]...)
	}
	sort.Ints(out)
	return out
}
