package app

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/imagerules"
	"github.com/podclass/podclass/metrics"
	"github.com/podclass/podclass/trainer"
)

// datasetFlags are the inputs train and eval share.
type datasetFlags struct {
	MetricsFile   string
	PodsFile      string
	RulesFile     string
	Folds         int
	WindowSamples int
	ReportDir     string
}

func (d *datasetFlags) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&d.MetricsFile, "metrics", d.MetricsFile, "InfluxDB line-protocol file with the pods' samples (telegraf schema; .gz accepted).")
	f.StringVar(&d.PodsFile, "pods", d.PodsFile, "Pods CSV: header with namespace,pod_name,image and optionally class; extra columns are ignored.")
	f.StringVar(&d.RulesFile, "rules", d.RulesFile, "Image rules file (YAML) used for labels and families; the built-in rules when empty.")
	f.IntVar(&d.Folds, "folds", d.Folds, "Cross-validation folds, grouped by pod.")
	f.IntVar(&d.WindowSamples, "window", d.WindowSamples, "Samples from the start of each pod the model reads (10 s each).")
	f.StringVar(&d.ReportDir, "report", d.ReportDir, "Directory to write the evaluation JSON and PNG plots into.")
}

func (d *datasetFlags) validate() error {
	if d.MetricsFile == "" {
		return errors.New("--metrics is required")
	}
	if d.PodsFile == "" {
		return errors.New("--pods is required")
	}
	if d.Folds < 2 {
		return fmt.Errorf("--folds %d: need at least 2", d.Folds)
	}
	if d.WindowSamples < 2 {
		return fmt.Errorf("--window %d: need at least 2 samples", d.WindowSamples)
	}
	return nil
}

func (d *datasetFlags) rules() (*imagerules.Rules, error) {
	if d.RulesFile == "" {
		return imagerules.Default(), nil
	}
	return imagerules.LoadFile(d.RulesFile)
}

// load reads the pods CSV and the line-protocol file and assembles the
// labelled dataset; progress goes to stderr.
func (d *datasetFlags) load(cmd *cobra.Command, stderr io.Writer) (*trainer.Dataset, trainer.EvalConfig, error) {
	cfg := trainer.DefaultEvalConfig()
	rules, err := d.rules()
	if err != nil {
		return nil, cfg, err
	}
	pods, err := trainer.ReadPodsFile(d.PodsFile)
	if err != nil {
		return nil, cfg, err
	}
	fmt.Fprintf(stderr, "pods: %d listed in %s\n", len(pods), d.PodsFile)
	src, stats, err := metrics.LoadLineProtocolFile(cmd.Context(), d.MetricsFile, metrics.LineProtocolOptions{})
	if err != nil {
		return nil, cfg, err
	}
	fmt.Fprintf(stderr, "metrics: %d lines, %d points read from %s\n", stats.Lines, stats.Points, d.MetricsFile)
	ds, err := trainer.Assemble(cmd.Context(), src, pods, trainer.AssembleOptions{
		Labeler:  trainer.RulesLabeler(rules, trainer.DefaultMinRuleConfidence),
		Progress: stderr,
	})
	if err != nil {
		return nil, cfg, err
	}
	cfg.Folds = d.Folds
	cfg.Train.Families = rules.Families()
	cfg.Train.Thresholds.WindowSamples = d.WindowSamples
	cfg.Progress = stderr
	return ds, cfg, nil
}

type trainFlags struct {
	datasetFlags
	Out        string
	MinMacroF1 float64
	Tolerance  float64
	Current    string
}

func newTrainCommand() *cobra.Command {
	o := trainFlags{datasetFlags: datasetFlags{Folds: 5, WindowSamples: classifier.DefaultThresholds().WindowSamples},
		MinMacroF1: trainer.DefaultMinMacroF1, Tolerance: trainer.DefaultTolerance}
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a model from labelled pods, evaluate it by pod hold-out and publish it if it passes the quality gate",
		Args:  cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if o.Out == "" {
				return errors.New("--out is required")
			}
			if o.MinMacroF1 < 0 || o.MinMacroF1 > 1 {
				return fmt.Errorf("--min-macro-f1 %v is not in [0,1]", o.MinMacroF1)
			}
			return o.validate()
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			stderr := cmd.ErrOrStderr()
			ds, cfg, err := o.load(cmd, stderr)
			if err != nil {
				return err
			}
			gate := trainer.Gate{MinMacroF1: o.MinMacroF1, Tolerance: o.Tolerance}
			switch o.Current {
			case "none":
			case "":
				if cur, err := classifier.Default(); err == nil {
					gate.Current = cur
				} else {
					fmt.Fprintf(stderr, "not comparing with the embedded default model: %v\n", err)
				}
			default:
				cur, err := classifier.LoadFile(o.Current)
				if err != nil {
					return fmt.Errorf("--current: %w", err)
				}
				gate.Current = cur
			}
			res, err := trainer.Train(ds, trainer.TrainOptions{Eval: cfg, Gate: gate, ReportDir: o.ReportDir, Progress: stderr})
			if err != nil {
				if res != nil && res.Report != nil {
					_ = printJSON(cmd.OutOrStdout(), summary(res.Report))
				}
				return err
			}
			if err := res.Model.Save(o.Out); err != nil {
				return err
			}
			m := res.Model.Manifest()
			fmt.Fprintf(stderr, "model %s written to %s\n", m.ModelVersion, o.Out)
			return printJSON(cmd.OutOrStdout(), map[string]any{
				"model": o.Out, "model_version": m.ModelVersion, "classes": m.Classes, "training": m.Training,
				"evaluation": summary(res.Report),
			})
		},
	}
	o.bind(cmd)
	f := cmd.Flags()
	f.StringVar(&o.Out, "out", o.Out, "Where to write the model JSON.")
	f.Float64Var(&o.MinMacroF1, "min-macro-f1", o.MinMacroF1, "Refuse to publish a model whose held-out macro-F1 is below this.")
	f.Float64Var(&o.Tolerance, "tolerance", o.Tolerance, "Allowed drop of held-out macro-F1 below the current model's.")
	f.StringVar(&o.Current, "current", o.Current, `Model in service to compare with; empty: the embedded default; "none": no comparison.`)
	return cmd
}

// summary drops the per-pod predictions from a report.
func summary(r *trainer.Report) *trainer.Report {
	s := *r
	s.Predictions = nil
	return &s
}
