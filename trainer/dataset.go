package trainer

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/imagerules"
	"github.com/podclass/podclass/samples"
)

// Labeler turns an image reference into a training label; ok is false when
// the image does not say unambiguously what the pod runs.
type Labeler interface {
	Label(image string) (class string, ok bool)
}

// LabelerFunc adapts a function to Labeler.
type LabelerFunc func(image string) (string, bool)

var _ Labeler = LabelerFunc(nil)

// Label calls f.
func (f LabelerFunc) Label(image string) (string, bool) { return f(image) }

// DefaultMinRuleConfidence is the smallest image-rule confidence accepted as a
// label: a rule that names the image's repository or last path component.
// Hints (0.5) are never labels.
const DefaultMinRuleConfidence = imagerules.ConfidenceName

// RulesLabeler labels a pod by its image when the rules match it with at
// least minConfidence; unparsable images and "unknown" are unlabelled.
func RulesLabeler(r *imagerules.Rules, minConfidence float64) Labeler {
	return LabelerFunc(func(image string) (string, bool) {
		if image == "" {
			return "", false
		}
		m, err := r.Match(image)
		if err != nil || m.Class == "" || m.Class == classifier.Unknown || m.Confidence < minConfidence {
			return "", false
		}
		return m.Class, true
	})
}

// Label sources recorded per pod.
const (
	LabelFromColumn = "class-column"
	LabelFromImage  = "image-rule"
)

// PodData is one pod with its samples and label.
type PodData struct {
	Pod
	Label       string // "" when unlabelled
	LabelSource string
	Window      *samples.Window
}

// Dataset is the assembled pods.
type Dataset struct {
	Labelled   []PodData
	Unlabelled []PodData
	// NoMetrics lists pods of the pod list with no samples in the range.
	NoMetrics []samples.PodKey
	Samples   int
}

// LoadColumn is the pods CSV column naming the load a pod was recorded
// under; the same value in one class on several machines is one load, which
// the inner threshold calibration holds out whole (classifier.Example.Load).
const LoadColumn = "scenario"

// Examples returns the labelled pods as classifier training examples, each
// with its load (LoadColumn, qualified by the class) when the pods CSV has one.
func (d *Dataset) Examples() []classifier.Example {
	out := make([]classifier.Example, 0, len(d.Labelled))
	for _, p := range d.Labelled {
		e := classifier.Example{Pod: p.Key, Class: p.Label, Window: p.Window}
		if v := strings.TrimSpace(p.Columns[LoadColumn]); v != "" {
			e.Load = p.Label + "/" + v
		}
		out = append(out, e)
	}
	return out
}

// ExamplesGroupedBy returns the labelled pods as examples whose Group is the
// pods CSV column named column, qualified by the class (the same scenario name
// in two classes is two groups): cross-validation then holds out all pods of
// a group together. "" or "pod" groups by pod (Examples). A labelled pod
// without a value in the column is an error.
func (d *Dataset) ExamplesGroupedBy(column string) ([]classifier.Example, error) {
	column = strings.ToLower(strings.TrimSpace(column))
	ex := d.Examples()
	if column == "" || column == "pod" {
		return ex, nil
	}
	for i, p := range d.Labelled {
		v := p.Columns[column]
		if v == "" {
			return nil, fmt.Errorf("trainer: group by %q: pod %s has no value in that pods CSV column", column, p.Key)
		}
		ex[i].Group = p.Label + "/" + v
	}
	return ex, nil
}

// ForeignClasses returns the classes of labelled pods whose pods CSV
// column "known" is false: real services kept outside the model to measure
// foreign → unknown. Their pods are never trained on.
func (d *Dataset) ForeignClasses() map[string]bool {
	out := map[string]bool{}
	for _, p := range d.Labelled {
		if v := strings.ToLower(strings.TrimSpace(p.Columns["known"])); v == "false" || v == "no" || v == "0" {
			out[p.Label] = true
		}
	}
	return out
}

// Column returns the labelled pods' values of a pods CSV column, in the
// order of Examples; "" where a pod has none.
func (d *Dataset) Column(column string) []string {
	column = strings.ToLower(strings.TrimSpace(column))
	out := make([]string, len(d.Labelled))
	for i, p := range d.Labelled {
		out[i] = p.Columns[column]
	}
	return out
}

// HoldoutColumn is the pods CSV column whose values are held out whole, one
// fold per value: grouping by "machine" trains on one machine's pods and
// tests on another's.
const HoldoutColumn = "machine"

// EvalExamples returns the examples for an evaluation grouped by groupBy and
// completes cfg with what the pods CSV says: foreign classes (the "known"
// column) and, for groupBy "machine", one fold per machine, each machine's
// scenario a group when the CSV has that column.
func (d *Dataset) EvalExamples(groupBy string, cfg *EvalConfig) ([]classifier.Example, error) {
	cfg.Foreign = d.ForeignClasses()
	if strings.ToLower(strings.TrimSpace(groupBy)) != HoldoutColumn {
		return d.ExamplesGroupedBy(groupBy)
	}
	cfg.Holdout = d.Column(HoldoutColumn)
	for i, v := range cfg.Holdout {
		if v == "" {
			return nil, fmt.Errorf("trainer: group by %q: pod %s has no value in that pods CSV column", HoldoutColumn, d.Labelled[i].Key)
		}
	}
	ex := d.Examples()
	// A machine's recordings of one scenario stay together in the
	// bootstrap and the out-of-distribution limits; the same scenario on
	// another machine is another group (the folds keep machines apart
	// anyway), but the same load, which the inner calibration holds out
	// with it (Examples).
	if scen := d.Column(LoadColumn); len(scen) > 0 && !slices.Contains(scen, "") {
		for i := range ex {
			ex[i].Group = ex[i].Class + "/" + scen[i] + "@" + cfg.Holdout[i]
		}
	}
	return ex, nil
}

// Classes returns the sorted labels present.
func (d *Dataset) Classes() []string {
	set := map[string]bool{}
	for _, p := range d.Labelled {
		set[p.Label] = true
	}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// AssembleOptions configures Assemble.
type AssembleOptions struct {
	// Start and End bound the samples read; zero values leave that side open
	// (file and memory sources; a database source may need a real range).
	Start, End time.Time
	// Labeler labels pods without an explicit class; nil means only the
	// class column labels.
	Labeler Labeler
	// BatchSize is how many pods one Source call asks for.
	BatchSize int
	// Progress receives progress lines (stderr in the CLI); nil discards.
	Progress io.Writer
}

// Assemble reads the pods' samples from src in batches and labels them: the
// explicit class column first, else the labeler if it is sure, else the pod is
// unlabelled (kept for classification, excluded from training).
func Assemble(ctx context.Context, src samples.Source, pods []Pod, opt AssembleOptions) (*Dataset, error) {
	if opt.BatchSize <= 0 {
		opt.BatchSize = 500
	}
	start, end := opt.Start, opt.End
	progress := opt.Progress
	if progress == nil {
		progress = io.Discard
	}
	ds := &Dataset{}
	for i := 0; i < len(pods); i += opt.BatchSize {
		batch := pods[i:min(i+opt.BatchSize, len(pods))]
		keys := make([]samples.PodKey, len(batch))
		for j, p := range batch {
			keys[j] = p.Key
		}
		wins, err := src.Windows(ctx, keys, start, end)
		if err != nil {
			return nil, fmt.Errorf("trainer: reading metrics for pods %d-%d: %w", i, i+len(batch), err)
		}
		for _, p := range batch {
			w := wins[p.Key]
			if w == nil || len(w.Samples) == 0 {
				ds.NoMetrics = append(ds.NoMetrics, p.Key)
				continue
			}
			w.Sort()
			ds.Samples += len(w.Samples)
			pd := PodData{Pod: p, Window: w}
			switch {
			case p.Class != "" && p.Class != classifier.Unknown:
				pd.Label, pd.LabelSource = p.Class, LabelFromColumn
			case opt.Labeler != nil:
				if c, ok := opt.Labeler.Label(p.Image); ok {
					pd.Label, pd.LabelSource = c, LabelFromImage
				}
			}
			if pd.Label == "" {
				ds.Unlabelled = append(ds.Unlabelled, pd)
			} else {
				ds.Labelled = append(ds.Labelled, pd)
			}
		}
		fmt.Fprintf(progress, "read %d/%d pods, %d samples\n", min(i+opt.BatchSize, len(pods)), len(pods), ds.Samples)
	}
	fmt.Fprintf(progress, "dataset: %d labelled pods, %d unlabelled, %d without metrics, %d samples\n",
		len(ds.Labelled), len(ds.Unlabelled), len(ds.NoMetrics), ds.Samples)
	return ds, nil
}
