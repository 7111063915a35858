package trainer

import (
	"sort"

	"github.com/podclass/podclass/classifier"
)

// wrongAnswers counts pods answered with a class other than theirs or a
// family other than their class's.
func wrongAnswers(preds []PodPrediction, families map[string]string) int {
	n := 0
	for _, p := range preds {
		r := p.Result
		if r.Status != classifier.StatusClassified {
			continue
		}
		if r.Level == classifier.LevelFamily {
			if r.Class != families[p.Truth] {
				n++
			}
		} else if r.Class != p.Truth {
			n++
		}
	}
	return n
}

// score computes accuracy, per-class scores, the confusion matrix and
// family-level accuracy. An abstention or a family answer is a miss at class
// level (it counts against recall, not against any class's precision).
func score(preds []PodPrediction, families map[string]string) *Report {
	rep := &Report{Pods: len(preds), PerClass: map[string]ClassScore{}}
	truthSet, answerSet := map[string]bool{}, map[string]bool{}
	tp, fp, fn, support := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	var correct, raw, famRight int
	for _, p := range preds {
		truthSet[p.Truth] = true
		answerSet[p.Result.Class] = true
		support[p.Truth]++
		r := p.Result
		if r.Predicted == p.Truth {
			raw++
		}
		switch {
		case r.Status != classifier.StatusClassified:
			rep.Abstained++
			fn[p.Truth]++
		case r.Level == classifier.LevelFamily:
			rep.FamilyAnswers++
			fn[p.Truth]++
			if tf := families[p.Truth]; tf != "" && tf == r.Class {
				famRight++
			}
		case r.Class == p.Truth:
			correct++
			famRight++
			tp[p.Truth]++
		default:
			fn[p.Truth]++
			fp[r.Class]++
			if tf := families[p.Truth]; tf != "" && tf == families[r.Class] {
				famRight++
			}
		}
	}
	var classes []string
	for c := range truthSet {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	rep.Classes = len(classes)
	var f1sum float64
	for _, c := range classes {
		s := ClassScore{Support: support[c]}
		if tp[c]+fp[c] > 0 {
			s.Precision = float64(tp[c]) / float64(tp[c]+fp[c])
		}
		if tp[c]+fn[c] > 0 {
			s.Recall = float64(tp[c]) / float64(tp[c]+fn[c])
		}
		if s.Precision+s.Recall > 0 {
			s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
		}
		rep.PerClass[c] = s
		f1sum += s.F1
	}
	if len(classes) > 0 {
		rep.MacroF1 = f1sum / float64(len(classes))
	}
	if n := len(preds); n > 0 {
		rep.PodAccuracy = float64(correct) / float64(n)
		rep.RawPodAccuracy = float64(raw) / float64(n)
		rep.FamilyAccuracy = float64(famRight) / float64(n)
		rep.AbstainedRate = float64(rep.Abstained) / float64(n)
	}
	// Confusion: columns are the classes, then other answers (families), then unknown.
	cols := append([]string(nil), classes...)
	var extra []string
	for a := range answerSet {
		if !truthSet[a] && a != classifier.Unknown {
			extra = append(extra, a)
		}
	}
	sort.Strings(extra)
	cols = append(cols, extra...)
	cols = append(cols, classifier.Unknown)
	ci := map[string]int{}
	for i, c := range cols {
		ci[c] = i
	}
	m := make([][]int, len(classes))
	ri := map[string]int{}
	for i, c := range classes {
		ri[c] = i
		m[i] = make([]int, len(cols))
	}
	for _, p := range preds {
		m[ri[p.Truth]][ci[p.Result.Class]]++
	}
	rep.Confusion = Confusion{Labels: cols, Rows: classes, Columns: cols, Matrix: m}
	return rep
}
