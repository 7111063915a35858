package trainer

import (
	"errors"
	"fmt"
	"io"
	"math/rand"

	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/classifier/crossval"
	"golang.org/x/sync/errgroup"
)

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
	// Foreign names classes that are never trained: their pods (real
	// services outside the model, known=false in the pods CSV) are only
	// classified, in the fold that holds them out, and scored as foreign.
	Foreign map[string]bool
	// Holdout, when set, gives each example's hold-out unit (e.g. the
	// machine it was recorded on) and makes one fold per distinct value:
	// train on the other units, test on this one. Examples' Group still
	// groups the inner calibration. Folds is then ignored.
	Holdout []string
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
	var folds []Fold
	var err error
	if cfg.Holdout != nil {
		folds, err = HoldoutFolds(cfg.Holdout)
	} else {
		folds, err = GroupedFolds(examples, cfg.Folds, cfg.Seed)
	}
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
	cv, err := crossValidate(examples, folds, cfg.Train, cfg.Workers, cfg.Progress, "", margins, cfg.Foreign)
	if err != nil {
		return nil, err
	}
	preds, byMargin, windows := cv.preds, cv.byMargin, cv.wins
	rep := score(preds, cfg.Train.Families)
	rep.Operating = operating(preds, cv.foreign, cfg.Train.Families, "")
	sets := cv.sets.scores(cfg.Train.Families)
	rep.BaseSet, rep.CoreSet = sets[classifier.SetBase], sets[classifier.SetCore]
	rep.FeatureSetsUsed = map[string]int{}
	for _, p := range preds {
		rep.FeatureSetsUsed[string(p.Result.FeatureSet)]++
	}
	rep.Folds = len(folds)
	rep.GroupBy, rep.Groups = groupBy, len(groupSet)
	rep.WindowSamples = cfg.Train.Thresholds.WindowSamples
	rep.Thresholds = cfg.Train.Thresholds
	rep.Predictions = preds
	rep.SetPredictions = cv.sets.known
	rep.ForeignPredictions = cv.foreign
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
		r, err := crossValidate(examples, folds, tc, cfg.Workers, cfg.Progress, fmt.Sprintf("window %d: ", L), nil, cfg.Foreign)
		if err != nil {
			return nil, err
		}
		s := score(r.preds, cfg.Train.Families)
		rep.WindowCurve = append(rep.WindowCurve, CurvePoint{WindowSamples: L, PodAccuracy: s.PodAccuracy, MacroF1: s.MacroF1, Abstained: s.Abstained})
	}

	items := classifier.Items(examples)
	for _, frac := range cfg.LearningFractions {
		rng := rand.New(rand.NewSource(cfg.Seed + 7))
		sub := make([]Fold, len(folds))
		var total float64
		for i, f := range folds {
			sub[i] = Fold{Test: f.Test, Train: crossval.SubsampleByClass(items, f.Train, frac, rng)}
			total += float64(len(sub[i].Train))
		}
		r, err := crossValidate(examples, sub, cfg.Train, cfg.Workers, cfg.Progress, fmt.Sprintf("learning %.0f%%: ", frac*100), nil, cfg.Foreign)
		if err != nil {
			return nil, err
		}
		s := score(r.preds, cfg.Train.Families)
		rep.LearningCurve = append(rep.LearningCurve, CurvePoint{TrainPods: total / float64(len(sub)), PodAccuracy: s.PodAccuracy, MacroF1: s.MacroF1, Abstained: s.Abstained})
	}

	if cfg.LeaveOneClassOut {
		var foreign []float64
		rep.LeaveOneClassOut, rep.ForeignUnknown, foreign, err = leaveOneClassOut(knownOnly(examples, cfg.Foreign), cfg.Train, cfg.Workers, cfg.Progress, margins)
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

// cvResult is what crossValidate returns: the known test pods' answers
// (preds), the same under each out-of-distribution margin (byMargin[i] for
// margins[i]), wins[f] = {correct, total} over all held-out sub-windows of
// fold f, the foreign pods' answers, and both again decided with each
// smaller feature set alone.
type cvResult struct {
	preds, foreign []PodPrediction
	sets           *setAnswers
	byMargin       [][]PodPrediction
	wins           [][2]int
}

// crossValidate trains one model per fold on the fold's known pods and
// classifies the fold's test pods, known and foreign.
func crossValidate(examples []classifier.Example, folds []Fold, tc classifier.TrainConfig, workers int, progress io.Writer, label string, margins []float64, foreign map[string]bool) (*cvResult, error) {
	type out struct {
		cvResult
		win [2]int
		err error
	}
	results := make([]out, len(folds))
	var g errgroup.Group
	g.SetLimit(max(workers, 1))
	for fi := range folds {
		g.Go(func() error {
			f := folds[fi]
			if err := CheckDisjoint(examples, f); err != nil {
				results[fi].err = err
				return nil
			}
			train := make([]classifier.Example, 0, len(f.Train))
			for _, i := range f.Train {
				if !foreign[examples[i].Class] {
					train = append(train, examples[i])
				}
			}
			model, err := classifier.Train(train, tc)
			if err != nil {
				results[fi].err = fmt.Errorf("fold %d: %w", fi, err)
				return nil
			}
			var o out
			o.sets = newSetAnswers(model)
			variants := withMargins(model, margins)
			o.byMargin = make([][]PodPrediction, len(margins))
			for _, i := range f.Test {
				e := examples[i]
				pred := func(r classifier.Result) PodPrediction {
					return PodPrediction{Namespace: e.Pod.Namespace, Pod: e.Pod.Name, Truth: e.Class, Fold: fi, Result: r}
				}
				o.sets.add(e.Window, foreign[e.Class], pred)
				if foreign[e.Class] {
					o.foreign = append(o.foreign, pred(model.Classify(e.Window)))
					continue
				}
				o.preds = append(o.preds, pred(model.Classify(e.Window)))
				for mi, v := range variants {
					o.byMargin[mi] = append(o.byMargin[mi], pred(v.Classify(e.Window)))
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
			progressf(progress, "%sfold %d/%d: trained on %d pods, tested %d pods\n", label, fi+1, len(folds), len(train), len(f.Test))
			return nil
		})
	}
	_ = g.Wait() // each fold's error is in results, returned in fold order below
	res := &cvResult{wins: make([][2]int, len(folds)), byMargin: make([][]PodPrediction, len(margins)),
		sets: newSetAnswers(nil)}
	for i, r := range results {
		if r.err != nil {
			return nil, r.err
		}
		res.preds = append(res.preds, r.preds...)
		res.foreign = append(res.foreign, r.foreign...)
		res.sets.merge(r.sets)
		for mi := range margins {
			res.byMargin[mi] = append(res.byMargin[mi], r.byMargin[mi]...)
		}
		res.wins[i] = r.win
	}
	return res, nil
}

// knownOnly drops the examples of foreign classes.
func knownOnly(examples []classifier.Example, foreign map[string]bool) []classifier.Example {
	if len(foreign) == 0 {
		return examples
	}
	out := make([]classifier.Example, 0, len(examples))
	for _, e := range examples {
		if !foreign[e.Class] {
			out = append(out, e)
		}
	}
	return out
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

// leaveOneClassOut trains without each class in turn and classifies that
// class's pods: a foreign service should be answered unknown. The rate is
// over all left-out pods; it also returns the rate of left-out pods answered
// unknown under each of margins. Fewer than three classes leave nothing to
// score.
func leaveOneClassOut(examples []classifier.Example, tc classifier.TrainConfig, workers int, progress io.Writer, margins []float64) ([]ForeignScore, float64, []float64, error) {
	classes, splits := crossval.LeaveOneClassOut(classifier.Items(examples))
	if len(classes) < 3 {
		return nil, 0, make([]float64, len(margins)), nil
	}
	out := make([]ForeignScore, len(classes))
	errs := make([]error, len(classes))
	unknownAt := make([][]int, len(classes)) // [class][margin]
	var g errgroup.Group
	g.SetLimit(max(workers, 1))
	for ci, c := range classes {
		g.Go(func() error {
			train := make([]classifier.Example, 0, len(splits[ci].Train))
			for _, i := range splits[ci].Train {
				train = append(train, examples[i])
			}
			model, err := classifier.Train(train, tc)
			if err != nil {
				errs[ci] = fmt.Errorf("leave out %s: %w", c, err)
				return nil
			}
			fs := ForeignScore{Class: c, Answers: map[string]int{}}
			unknown := 0
			variants := withMargins(model, margins)
			unknownAt[ci] = make([]int, len(margins))
			for _, i := range splits[ci].Test {
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
			return nil
		})
	}
	_ = g.Wait() // each class's error is in errs, returned in class order below
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
