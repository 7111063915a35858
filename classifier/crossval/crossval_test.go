package crossval

import (
	"math/rand"
	"testing"
)

func TestGroupedFoldsKeepGroupsTogetherAndStratify(t *testing.T) {
	var items []Item
	for _, c := range []string{"a", "b"} {
		for p := 0; p < 6; p++ {
			for w := 0; w < 2; w++ { // a pod listed twice stays in one fold
				items = append(items, Item{Pod: c + string(rune('0'+p)), Class: c})
			}
		}
	}
	folds, err := GroupedFolds(items, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	for fi, f := range folds {
		if err := CheckDisjoint(items, f); err != nil {
			t.Fatal(err)
		}
		byClass := map[string]int{}
		for _, i := range f.Test {
			byClass[items[i].Class]++
		}
		if byClass["a"] != 4 || byClass["b"] != 4 {
			t.Errorf("fold %d tests %v, want 2 pods (4 items) of each class", fi, byClass)
		}
	}
	if _, err := GroupedFolds(items, 13, 1); err == nil {
		t.Error("12 pods filled 13 folds")
	}
}

func TestAssignSubsamplesWholeGroups(t *testing.T) {
	items := []Item{{Pod: "p1", Group: "g", Class: "a"}, {Pod: "p2", Group: "g", Class: "a"}, {Pod: "p3", Class: "a"}, {Pod: "p4", Class: "a"}}
	fold, groups := Assign(items, 2, 0.5, rand.New(rand.NewSource(1)))
	if groups != 3 {
		t.Fatalf("%d groups, want 3", groups)
	}
	if fold[0] != fold[1] {
		t.Errorf("one group dealt to folds %d and %d", fold[0], fold[1])
	}
	kept := 0
	for _, f := range fold {
		if f >= 0 {
			kept++
		}
	}
	if kept < 2 || kept > 3 {
		t.Errorf("kept %d items, want ceil(0.5·3) = 2 groups", kept)
	}
}

func TestLeaveOneClassOut(t *testing.T) {
	items := []Item{{Pod: "1", Class: "b"}, {Pod: "2", Class: "a"}, {Pod: "3", Class: "b"}}
	classes, folds := LeaveOneClassOut(items)
	if len(classes) != 2 || classes[0] != "a" || len(folds[1].Test) != 2 || len(folds[1].Train) != 1 {
		t.Errorf("classes %v folds %v", classes, folds)
	}
}
