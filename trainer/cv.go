package trainer

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	"sort"
	"sync"

	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/samples"
)

// Fold is one train/test split, as indices into the examples (one example is
// one pod).
type Fold struct {
	Train []int
	Test  []int
}

// GroupedFolds splits pods into k folds, stratified by class: each class's
// pods are shuffled and dealt round-robin, so every fold gets a share of every
// class that has at least k pods. A pod — all its windows — is in exactly one
// test fold. Pods appearing twice (same key) are kept together. It returns an
// error when k < 2 or there are fewer pods than folds. Examples with a Group
// (e.g. the load scenario they were recorded under) are held out together:
// the unit dealt to folds is then the group, not the pod.
func GroupedFolds(examples []classifier.Example, k int, seed int64) ([]Fold, error) {
	if k < 2 {
		return nil, fmt.Errorf("trainer: need at least 2 folds, got %d", k)
	}
	// Group example indices by pod key (or by Group when set).
	groupOf := map[string]int{}
	var groups [][]int
	var groupClass []string
	for i, e := range examples {
		g, ok := groupOf[e.GroupKey()]
		if !ok {
			g = len(groups)
			groupOf[e.GroupKey()] = g
			groups = append(groups, nil)
			groupClass = append(groupClass, e.Class)
		}
		groups[g] = append(groups[g], i)
	}
	if len(groups) < k {
		return nil, fmt.Errorf("trainer: %d pods (groups) cannot fill %d folds", len(groups), k)
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
	rng := rand.New(rand.NewSource(seed))
	foldOf := make([]int, len(groups))
	next := 0 // continue dealing where the previous class stopped, to balance fold sizes
	for _, c := range classes {
		gs := byClass[c]
		rng.Shuffle(len(gs), func(i, j int) { gs[i], gs[j] = gs[j], gs[i] })
		for _, g := range gs {
			foldOf[g] = next % k
			next++
		}
	}
	folds := make([]Fold, k)
	for g, members := range groups {
		for f := range folds {
			if f == foldOf[g] {
				folds[f].Test = append(folds[f].Test, members...)
			} else {
				folds[f].Train = append(folds[f].Train, members...)
			}
		}
	}
	for f := range folds {
		sort.Ints(folds[f].Train)
		sort.Ints(folds[f].Test)
		if err := CheckDisjoint(examples, folds[f]); err != nil {
			return nil, err
		}
	}
	return folds, nil
}

// CheckDisjoint returns an error if any pod (or group, when examples carry
// one) has examples on both sides of a fold — the leak that scored the
// predecessor 100%.
func CheckDisjoint(examples []classifier.Example, f Fold) error {
	train := map[samples.PodKey]bool{}
	trainGroup := map[string]bool{}
	for _, i := range f.Train {
		train[examples[i].Pod] = true
		trainGroup[examples[i].GroupKey()] = true
	}
	for _, i := range f.Test {
		if train[examples[i].Pod] {
			return fmt.Errorf("trainer: pod %s is in both the training and the test set of a fold", examples[i].Pod)
		}
		if trainGroup[examples[i].GroupKey()] {
			return fmt.Errorf("trainer: group %s (pod %s) is in both the training and the test set of a fold", examples[i].Group, examples[i].Pod)
		}
	}
	return nil
}

// EvalConfig configures Evaluate.
type EvalConfig struct {
	Folds int
	Seed  int64
	Train classifier.TrainConfig
	// WindowLengths are the window sizes (samples) of the window-length
	// curve; empty skips the curve.
	WindowLengths []int
	// LearningFractions are the fractions of each fold's training pods of
	// the learning curve; empty skips the curve.
	LearningFractions []float64
	// LeaveOneClassOut measures the foreign-service guard: train without one
	// class, classify its pods.
	LeaveOneClassOut bool
	// OODMargins are the out-of-distribution margins of the trade-off curve
	// (needs LeaveOneClassOut): the models trained for the cross-validation
	// and for leave-one-class-out decide again with each margin instead of
	// their own, giving known-pod accuracy against foreign pods answered
	// unknown. Empty skips the curve.
	OODMargins []float64
	// GroupBy names what the examples' Group holds (for the report);
	// "" or "pod" when examples carry no Group.
	GroupBy string
	// Workers trains folds in parallel (default 2).
	Workers  int
	Progress io.Writer
}

// DefaultEvalConfig is what `podclass eval` and `podclass train` run.
func DefaultEvalConfig() EvalConfig {
	return EvalConfig{Folds: 5, Seed: 1, Train: classifier.DefaultTrainConfig(),
		WindowLengths: []int{3, 6, 9, 12, 18, 30}, LearningFractions: []float64{0.2, 0.4, 0.6, 0.8, 1},
		LeaveOneClassOut: true, OODMargins: []float64{0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1, 1.25, 1.5}, Workers: 2}
}

// PodPrediction is the held-out answer for one pod.
type PodPrediction struct {
	Namespace string            `json:"namespace"`
	Pod       string            `json:"pod"`
	Truth     string            `json:"truth"`
	Fold      int               `json:"fold"`
	Result    classifier.Result `json:"result"`
}

// Report is the evaluation JSON.
type Report struct {
	Pods    int `json:"pods"`
	Classes int `json:"classes"`
	Folds   int `json:"folds"`
	// GroupBy is what the folds hold out together: "pod", or a pods CSV
	// column (e.g. "scenario") when EvalConfig.GroupBy says so.
	GroupBy       string  `json:"group_by,omitempty"`
	Groups        int     `json:"groups,omitempty"`
	WindowSamples int     `json:"window_samples"`
	PodAccuracy   float64 `json:"pod_accuracy"`
	// SampleAccuracy is the accuracy over every held-out window (up to
	// WindowsPerPod sub-windows of WindowSamples samples per test pod), each
	// classified on its own.
	SampleAccuracy float64 `json:"sample_accuracy"`
	TestWindows    int     `json:"test_windows"`
	MacroF1        float64 `json:"macro_f1"`
	// RawPodAccuracy is the accuracy of the most probable class, ignoring
	// abstention and family fallback.
	RawPodAccuracy float64               `json:"raw_pod_accuracy"`
	PerClass       map[string]ClassScore `json:"per_class"`
	Confusion      Confusion             `json:"confusion"`
	Abstained      int                   `json:"abstained"`
	AbstainedRate  float64               `json:"abstained_rate"`
	FamilyAnswers  int                   `json:"family_answers"`
	// FamilyAccuracy counts a pod right when its answer's family is the true
	// class's family (class-level answers included); abstentions are wrong.
	FamilyAccuracy   float64        `json:"family_accuracy"`
	WindowCurve      []CurvePoint   `json:"window_curve,omitempty"`
	LearningCurve    []CurvePoint   `json:"learning_curve,omitempty"`
	LeaveOneClassOut []ForeignScore `json:"leave_one_class_out,omitempty"`
	ForeignUnknown   float64        `json:"foreign_unknown_rate,omitempty"`
	// ForeignTradeoff is what each out-of-distribution margin would give:
	// the operating curve between answering known services and refusing
	// foreign ones.
	ForeignTradeoff []TradeoffPoint       `json:"foreign_tradeoff,omitempty"`
	Thresholds      classifier.Thresholds `json:"thresholds"`
	Predictions     []PodPrediction       `json:"predictions,omitempty"`
}

// ClassScore is one class's precision, recall, F1 and support (pods).
type ClassScore struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`
}

// Confusion is the pod confusion matrix: rows are true classes (Labels[:len
// rows]), columns are answers (classes, family answers, "unknown").
type Confusion struct {
	Labels  []string `json:"labels"`
	Rows    []string `json:"rows"`
	Columns []string `json:"columns"`
	Matrix  [][]int  `json:"matrix"`
}

// CurvePoint is one point of the window-length or learning curve.
type CurvePoint struct {
	WindowSamples int     `json:"window_samples,omitempty"`
	TrainPods     float64 `json:"train_pods,omitempty"`
	PodAccuracy   float64 `json:"pod_accuracy"`
	MacroF1       float64 `json:"macro_f1"`
	Abstained     int     `json:"abstained"`
}

// TradeoffPoint is the held-out result with one out-of-distribution margin
// (classifier.Thresholds.OODMargin; below 1 is stricter than calibrated).
type TradeoffPoint struct {
	OODMargin   float64 `json:"ood_margin"`
	PodAccuracy float64 `json:"pod_accuracy"`
	MacroF1     float64 `json:"macro_f1"`
	Abstained   int     `json:"abstained"`
	// Wrong counts known pods answered with a wrong class, or a family
	// that is not theirs: the answers that would send a wrong model.
	Wrong int `json:"wrong"`
	// ForeignUnknown is the share of left-out classes' pods answered unknown.
	ForeignUnknown float64 `json:"foreign_unknown_rate"`
}

// ForeignScore is how a class left out of training was answered.
type ForeignScore struct {
	Class       string         `json:"class"`
	Pods        int            `json:"pods"`
	UnknownRate float64        `json:"unknown_rate"`
	FamilyRight int            `json:"family_right"`
	Answers     map[string]int `json:"answers"`
}

func progressf(w io.Writer, format string, a ...any) {
	if w != nil {
		fmt.Fprintf(w, format, a...)
	}
}

// Evaluate cross-validates grouped by pod and computes the report, curves
// and leave-one-class-out scores.
func Evaluate(examples []classifier.Example, cfg EvalConfig) (*Report, error) {
	if len(examples) == 0 {
		return nil, errors.New("trainer: no labelled pods to evaluate")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	folds, err := GroupedFolds(examples, cfg.Folds, cfg.Seed)
	if err != nil {
		return nil, err
	}
	groupBy := cfg.GroupBy
	if groupBy == "" {
		groupBy = "pod"
	}
	groupSet := map[string]bool{}
	for _, e := range examples {
		groupSet[e.GroupKey()] = true
	}
	progressf(cfg.Progress, "evaluating %d pods (%d groups) in %d folds grouped by %s\n", len(examples), len(groupSet), len(folds), groupBy)
	var margins []float64
	if cfg.LeaveOneClassOut {
		margins = cfg.OODMargins
	}
	preds, byMargin, windows, err := crossValidate(examples, folds, cfg.Train, cfg.Workers, cfg.Progress, "", margins)
	if err != nil {
		return nil, err
	}
	rep := score(preds, cfg.Train.Families)
	rep.Folds = len(folds)
	rep.GroupBy, rep.Groups = groupBy, len(groupSet)
	rep.WindowSamples = cfg.Train.Thresholds.WindowSamples
	rep.Thresholds = cfg.Train.Thresholds
	rep.Predictions = preds
	var wc, wn int
	for _, w := range windows {
		wc += w[0]
		wn += w[1]
	}
	rep.TestWindows = wn
	if wn > 0 {
		rep.SampleAccuracy = float64(wc) / float64(wn)
	}

	for _, L := range cfg.WindowLengths {
		tc := cfg.Train
		tc.Thresholds.WindowSamples = L
		if tc.Thresholds.MinSamples > L {
			tc.Thresholds.MinSamples = L
		}
		p, _, _, err := crossValidate(examples, folds, tc, cfg.Workers, cfg.Progress, fmt.Sprintf("window %d: ", L), nil)
		if err != nil {
			return nil, err
		}
		s := score(p, cfg.Train.Families)
		rep.WindowCurve = append(rep.WindowCurve, CurvePoint{WindowSamples: L, PodAccuracy: s.PodAccuracy, MacroF1: s.MacroF1, Abstained: s.Abstained})
	}

	for _, frac := range cfg.LearningFractions {
		rng := rand.New(rand.NewSource(cfg.Seed + 7))
		sub := make([]Fold, len(folds))
		var total float64
		for i, f := range folds {
			sub[i] = Fold{Test: f.Test, Train: subsampleByClass(examples, f.Train, frac, rng)}
			total += float64(len(sub[i].Train))
		}
		p, _, _, err := crossValidate(examples, sub, cfg.Train, cfg.Workers, cfg.Progress, fmt.Sprintf("learning %.0f%%: ", frac*100), nil)
		if err != nil {
			return nil, err
		}
		s := score(p, cfg.Train.Families)
		rep.LearningCurve = append(rep.LearningCurve, CurvePoint{TrainPods: total / float64(len(sub)), PodAccuracy: s.PodAccuracy, MacroF1: s.MacroF1, Abstained: s.Abstained})
	}

	if cfg.LeaveOneClassOut {
		var foreign []float64
		rep.LeaveOneClassOut, rep.ForeignUnknown, foreign, err = leaveOneClassOut(examples, cfg.Train, cfg.Workers, cfg.Progress, margins)
		if err != nil {
			return nil, err
		}
		for i, m := range margins {
			if rep.LeaveOneClassOut == nil {
				break // fewer than 3 classes: no foreign pods to score
			}
			s := score(byMargin[i], cfg.Train.Families)
			rep.ForeignTradeoff = append(rep.ForeignTradeoff, TradeoffPoint{OODMargin: m, PodAccuracy: s.PodAccuracy, MacroF1: s.MacroF1,
				Abstained: s.Abstained, Wrong: wrongAnswers(byMargin[i], cfg.Train.Families), ForeignUnknown: foreign[i]})
		}
	}
	return rep, nil
}

// subsampleByClass keeps frac of the training pods of each class (at least
// two per class where available, so every class can still be learnt).
func subsampleByClass(examples []classifier.Example, train []int, frac float64, rng *rand.Rand) []int {
	if frac >= 1 {
		return train
	}
	by := map[string][]int{}
	var classes []string
	for _, i := range train {
		c := examples[i].Class
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

// crossValidate trains one model per fold and classifies each held-out pod's
// first window; windows[f] = {correct, total} over all held-out sub-windows.
// crossValidate trains one model per fold and classifies the fold's test
// pods; with margins it also returns the test pods' answers under each
// out-of-distribution margin (byMargin[i] for margins[i]).
func crossValidate(examples []classifier.Example, folds []Fold, tc classifier.TrainConfig, workers int, progress io.Writer, label string, margins []float64) (preds []PodPrediction, byMargin [][]PodPrediction, wins [][2]int, err error) {
	type out struct {
		preds    []PodPrediction
		byMargin [][]PodPrediction
		win      [2]int
		err      error
	}
	results := make([]out, len(folds))
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers)
	for fi := range folds {
		wg.Add(1)
		go func(fi int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			f := folds[fi]
			if err := CheckDisjoint(examples, f); err != nil {
				results[fi].err = err
				return
			}
			train := make([]classifier.Example, 0, len(f.Train))
			for _, i := range f.Train {
				train = append(train, examples[i])
			}
			model, err := classifier.Train(train, tc)
			if err != nil {
				results[fi].err = fmt.Errorf("fold %d: %w", fi, err)
				return
			}
			var o out
			variants := withMargins(model, margins)
			o.byMargin = make([][]PodPrediction, len(margins))
			for _, i := range f.Test {
				e := examples[i]
				r := model.Classify(e.Window)
				o.preds = append(o.preds, PodPrediction{Namespace: e.Pod.Namespace, Pod: e.Pod.Name, Truth: e.Class, Fold: fi, Result: r})
				for mi, v := range variants {
					o.byMargin[mi] = append(o.byMargin[mi], PodPrediction{Namespace: e.Pod.Namespace, Pod: e.Pod.Name, Truth: e.Class, Fold: fi, Result: v.Classify(e.Window)})
				}
				for _, w := range classifier.SubWindows(e.Window, model.Thresholds().WindowSamples, tc.WindowsPerPod) {
					r := model.Classify(w)
					o.win[1]++
					if r.Status == classifier.StatusClassified && r.Class == e.Class {
						o.win[0]++
					}
				}
			}
			results[fi] = o
			progressf(progress, "%sfold %d/%d: trained on %d pods, tested %d pods\n", label, fi+1, len(folds), len(f.Train), len(f.Test))
		}(fi)
	}
	wg.Wait()
	wins = make([][2]int, len(folds))
	byMargin = make([][]PodPrediction, len(margins))
	for i, r := range results {
		if r.err != nil {
			return nil, nil, nil, r.err
		}
		preds = append(preds, r.preds...)
		for mi := range margins {
			byMargin[mi] = append(byMargin[mi], r.byMargin[mi]...)
		}
		wins[i] = r.win
	}
	return preds, byMargin, wins, nil
}

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

// withMargins returns copies of model deciding with each margin.
func withMargins(model *classifier.Classifier, margins []float64) []*classifier.Classifier {
	out := make([]*classifier.Classifier, len(margins))
	for i, m := range margins {
		th := model.Thresholds()
		th.OODMargin = m
		out[i] = model.WithThresholds(th)
	}
	return out
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

// LeaveOneClassOut trains without each class in turn and classifies that
// class's pods: a foreign service should be answered unknown. The rate is
// over all left-out pods.
func LeaveOneClassOut(examples []classifier.Example, tc classifier.TrainConfig, workers int, progress io.Writer) ([]ForeignScore, float64, error) {
	scores, rate, _, err := leaveOneClassOut(examples, tc, workers, progress, nil)
	return scores, rate, err
}

// leaveOneClassOut is LeaveOneClassOut that also returns the rate of
// left-out pods answered unknown under each of margins.
func leaveOneClassOut(examples []classifier.Example, tc classifier.TrainConfig, workers int, progress io.Writer, margins []float64) ([]ForeignScore, float64, []float64, error) {
	byClass := map[string][]int{}
	var classes []string
	for i, e := range examples {
		if _, ok := byClass[e.Class]; !ok {
			classes = append(classes, e.Class)
		}
		byClass[e.Class] = append(byClass[e.Class], i)
	}
	sort.Strings(classes)
	if len(classes) < 3 {
		return nil, 0, make([]float64, len(margins)), nil
	}
	out := make([]ForeignScore, len(classes))
	errs := make([]error, len(classes))
	unknownAt := make([][]int, len(classes)) // [class][margin]
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(workers, 1))
	for ci, c := range classes {
		wg.Add(1)
		go func(ci int, c string) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var train []classifier.Example
			for _, e := range examples {
				if e.Class != c {
					train = append(train, e)
				}
			}
			model, err := classifier.Train(train, tc)
			if err != nil {
				errs[ci] = fmt.Errorf("leave out %s: %w", c, err)
				return
			}
			fs := ForeignScore{Class: c, Answers: map[string]int{}}
			unknown := 0
			variants := withMargins(model, margins)
			unknownAt[ci] = make([]int, len(margins))
			for _, i := range byClass[c] {
				for mi, v := range variants {
					if v.Classify(examples[i].Window).Status != classifier.StatusClassified {
						unknownAt[ci][mi]++
					}
				}
				r := model.Classify(examples[i].Window)
				fs.Pods++
				fs.Answers[r.Class]++
				if r.Status != classifier.StatusClassified {
					unknown++
				} else if f := tc.Families[c]; f != "" && (r.Class == f || tc.Families[r.Class] == f) {
					fs.FamilyRight++
				}
			}
			fs.UnknownRate = float64(unknown) / float64(fs.Pods)
			out[ci] = fs
			progressf(progress, "leave-one-class-out %s: %d/%d pods unknown\n", c, unknown, fs.Pods)
		}(ci, c)
	}
	wg.Wait()
	var unk, n float64
	atMargin := make([]float64, len(margins))
	for i, e := range errs {
		if e != nil {
			return nil, 0, nil, e
		}
		unk += out[i].UnknownRate * float64(out[i].Pods)
		n += float64(out[i].Pods)
		for mi := range margins {
			atMargin[mi] += float64(unknownAt[i][mi])
		}
	}
	for mi := range atMargin {
		atMargin[mi] /= n
	}
	return out, unk / n, atMargin, nil
}
