package trainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/podclass/podclass/classifier"
)

// ErrQualityGate is returned (wrapped) when a candidate model is refused.
var ErrQualityGate = errors.New("quality gate refused the model")

// Gate decides whether a candidate model may be published.
type Gate struct {
	// MinMacroF1 is the smallest held-out macro-F1 accepted.
	MinMacroF1 float64
	// Current is the model in service (nil: none). The candidate must not
	// score below its recorded held-out macro-F1 by more than Tolerance.
	Current *classifier.Classifier
	// Tolerance is the allowed drop below the current model's macro-F1.
	Tolerance float64
	// Reference, when set, are real recorded pods shipped with podclass
	// (ReferencePods): the candidate must answer them about as well as
	// Current does (CheckReference), so a model taught wrong by poisoned
	// labels cannot pass on its own held-out score.
	Reference []classifier.Example
	// ReferenceTolerance is the allowed drop of the reference macro recall.
	ReferenceTolerance float64
}

// DefaultMinMacroF1 and DefaultTolerance are the gate podclass ships with.
const (
	DefaultMinMacroF1 = 0.9
	DefaultTolerance  = 0.02
)

// RecordedMacroF1 returns the held-out macro-F1 stored in a model's manifest.
func RecordedMacroF1(c *classifier.Classifier) (float64, bool) {
	ev := c.Manifest().Evaluation
	if len(ev) == 0 {
		return 0, false
	}
	var v struct {
		MacroF1 *float64 `json:"macro_f1"`
	}
	if err := json.Unmarshal(ev, &v); err != nil || v.MacroF1 == nil {
		return 0, false
	}
	return *v.MacroF1, true
}

// Check returns nil when rep passes, else an error wrapping ErrQualityGate
// that says which bar it missed. Held-out scores of different data sets are
// compared as recorded: the current model's number comes from its own
// pod-grouped evaluation when it was trained.
func (g Gate) Check(rep *Report) error {
	if rep == nil {
		return fmt.Errorf("%w: no evaluation", ErrQualityGate)
	}
	if rep.MacroF1 < g.MinMacroF1 {
		return fmt.Errorf("%w: held-out macro-F1 %.3f is below the minimum %.3f", ErrQualityGate, rep.MacroF1, g.MinMacroF1)
	}
	if g.Current != nil {
		if cur, ok := RecordedMacroF1(g.Current); ok && rep.MacroF1 < cur-g.Tolerance {
			return fmt.Errorf("%w: held-out macro-F1 %.3f is below the current model %s (%.3f) by more than %.3f",
				ErrQualityGate, rep.MacroF1, g.Current.Manifest().ModelVersion, cur, g.Tolerance)
		}
	}
	return nil
}

// TrainOptions configures Train.
type TrainOptions struct {
	Eval EvalConfig
	Gate Gate
	// Screen, when set, leaves out the image-labelled pods Dataset.Screen
	// drops (one namespace's excess share of a class, pods far from their
	// class) before anything is evaluated or trained.
	Screen *ScreenConfig
	// ReportDir, when set, receives the evaluation JSON and plots (also when
	// the gate refuses the model, so the refusal can be inspected).
	ReportDir string
	Progress  io.Writer
}

// TrainResult is what Train produced.
type TrainResult struct {
	Model       *classifier.Classifier
	Report      *Report
	ReportFiles []string
	// Screened are the pods Screen left out.
	Screened []Dropped
}

// Train evaluates the labelled pods by pod-grouped cross-validation (or
// grouped by opt.Eval.GroupBy, a pods CSV column), writes
// the report, applies the quality gate and, if it passes, fits the final
// model on every labelled pod with the evaluation recorded in its manifest.
// When the gate refuses, the result still carries the report and the error
// wraps ErrQualityGate; Model is nil.
func Train(ds *Dataset, opt TrainOptions) (*TrainResult, error) {
	opt.Eval.Progress = opt.Progress
	var screened []Dropped
	if opt.Screen != nil {
		screened = ds.Screen(*opt.Screen, opt.Progress)
	}
	examples, err := ds.EvalExamples(opt.Eval.GroupBy, &opt.Eval)
	if err != nil {
		return nil, err
	}
	rep, err := Evaluate(examples, opt.Eval)
	if err != nil {
		return nil, err
	}
	res := &TrainResult{Report: rep, Screened: screened}
	if opt.ReportDir != "" {
		files, err := WriteReport(opt.ReportDir, rep)
		if err != nil {
			return res, fmt.Errorf("trainer: writing report: %w", err)
		}
		res.ReportFiles = files
		progressf(opt.Progress, "report written to %s\n", opt.ReportDir)
	}
	if err := opt.Gate.Check(rep); err != nil {
		return res, err
	}
	examples = knownOnly(examples, opt.Eval.Foreign)
	progressf(opt.Progress, "quality gate passed (macro-F1 %.3f); training the final model on %d pods\n", rep.MacroF1, len(examples))
	model, err := classifier.Train(examples, opt.Eval.Train)
	if err != nil {
		return res, err
	}
	summary := *rep
	summary.Predictions, summary.SetPredictions, summary.ForeignPredictions = nil, nil, nil
	raw, err := json.Marshal(summary)
	if err != nil {
		return res, err
	}
	model.SetEvaluation(raw)
	if err := opt.Gate.CheckReference(model, opt.Progress); err != nil {
		return res, err
	}
	res.Model = model
	return res, nil
}
