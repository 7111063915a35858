package trainer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/podclass/podclass/classifier"
)

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
	// Operating is the held-out answers as their users see them: precision
	// of classified, coverage, family and unknown answers, and foreign
	// pods refused. BaseSet is the same with every pod decided by the base
	// feature set alone (a store without process metrics), CoreSet by the
	// core set alone (a store without process metrics and page faults).
	Operating Operating  `json:"operating"`
	BaseSet   *Operating `json:"base_set,omitempty"`
	CoreSet   *Operating `json:"core_set,omitempty"`
	// External is the model trained on every known pod tested on a second
	// dataset (another machine's recordings), when one was given.
	External *External `json:"external,omitempty"`
	// FeatureSetsUsed counts the held-out pods decided by each feature set.
	FeatureSetsUsed map[string]int  `json:"feature_sets_used,omitempty"`
	Predictions     []PodPrediction `json:"predictions,omitempty"`
	// SetPredictions are the held-out known pods decided again by each
	// smaller feature set alone (BaseSet's and CoreSet's answers), pod by pod.
	SetPredictions map[classifier.FeatureSet][]PodPrediction `json:"set_predictions,omitempty"`
	// ForeignPredictions are the real foreign pods' answers, each from the
	// fold that held it out (Operating.ForeignAnswers counts them), so a
	// comparison can be made on the same foreign pods when the corpus grows.
	ForeignPredictions []PodPrediction `json:"foreign_predictions,omitempty"`
}

// External scores a model on a dataset it never saw.
type External struct {
	Metrics   string     `json:"metrics"`
	Pods      int        `json:"pods"`
	Operating Operating  `json:"operating"`
	BaseSet   *Operating `json:"base_set,omitempty"`
	CoreSet   *Operating `json:"core_set,omitempty"`
	// Predictions are the test pods' answers, when asked for.
	Predictions []PodPrediction `json:"predictions,omitempty"`
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

// Report file names written by WriteReport.
const (
	ReportJSON         = "evaluation.json"
	ReportConfusionPNG = "confusion.png"
	ReportLearningPNG  = "learning_curve.png"
	ReportWindowPNG    = "window_curve.png"
	ReportTradeoffPNG  = "foreign_tradeoff.png"
)

// WriteReport writes the evaluation JSON and its plots into dir (created if
// needed): a confusion-matrix heat map (colour = share of the true class's
// pods, number = pods), the learning curve, the window-length curve and the
// foreign-service trade-off over out-of-distribution margins.
func WriteReport(dir string, rep *Report) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	raw, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return nil, err
	}
	files := []string{filepath.Join(dir, ReportJSON)}
	if err := os.WriteFile(files[0], append(raw, '\n'), 0o644); err != nil {
		return nil, err
	}
	if len(rep.Confusion.Rows) > 0 {
		p := filepath.Join(dir, ReportConfusionPNG)
		if err := plotConfusion(rep.Confusion, p); err != nil {
			return nil, fmt.Errorf("confusion plot: %w", err)
		}
		files = append(files, p)
	}
	if len(rep.LearningCurve) > 0 {
		p := filepath.Join(dir, ReportLearningPNG)
		xs := make([]float64, len(rep.LearningCurve))
		for i, c := range rep.LearningCurve {
			xs[i] = c.TrainPods
		}
		if err := plotCurve(p, "Learning curve (held-out, grouped by pod)", "training pods per fold", xs, rep.LearningCurve); err != nil {
			return nil, fmt.Errorf("learning curve plot: %w", err)
		}
		files = append(files, p)
	}
	if len(rep.WindowCurve) > 0 {
		p := filepath.Join(dir, ReportWindowPNG)
		xs := make([]float64, len(rep.WindowCurve))
		for i, c := range rep.WindowCurve {
			xs[i] = float64(c.WindowSamples)
		}
		if err := plotCurve(p, "Accuracy vs window length (first N samples of each pod)", "samples per pod (10 s each)", xs, rep.WindowCurve); err != nil {
			return nil, fmt.Errorf("window curve plot: %w", err)
		}
		files = append(files, p)
	}
	if len(rep.ForeignTradeoff) > 0 {
		p := filepath.Join(dir, ReportTradeoffPNG)
		if err := plotTradeoff(p, rep.ForeignTradeoff); err != nil {
			return nil, fmt.Errorf("trade-off plot: %w", err)
		}
		files = append(files, p)
	}
	return files, nil
}
