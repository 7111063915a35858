package app

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/cmd/internal/options"
	"github.com/podclass/podclass/imagerules"
	"github.com/podclass/podclass/samples"
	"github.com/podclass/podclass/samples/lineprotocol"
	"github.com/podclass/podclass/trainer"
	"github.com/spf13/cobra"
)

// liveInput is train's alternative to the files: pods listed from the
// Kubernetes API, samples read from a metrics store.
type liveInput struct {
	source      options.Source
	FromCluster bool
	Lookback    time.Duration
}

// datasetFlags are the inputs train and eval share.
type datasetFlags struct {
	// live is train's: nil for eval, which reads files only.
	live          *liveInput
	MetricsFile   string
	PodsFile      string
	RulesFile     string
	Folds         int
	WindowSamples int
	ReportDir     string
	GroupBy       string
	OODMargin     float64
	// ForeignCalibration turns on classifier.CalibrationConfig.ForeignMargins.
	ForeignCalibration bool
	// Curves computes the window-length and learning curves.
	Curves bool
	// Trees is the forest's size (0: classifier.DefaultForestConfig's).
	Trees int
}

func (d *datasetFlags) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&d.MetricsFile, "metrics", d.MetricsFile, "InfluxDB line-protocol file with the pods' samples (telegraf schema; .gz accepted).")
	f.StringVar(&d.PodsFile, "pods", d.PodsFile, "Pods CSV: header with namespace,pod_name,image and optionally class; extra columns are ignored.")
	f.StringVar(&d.RulesFile, "rules", d.RulesFile, "Image rules file (YAML) used for labels and families; the built-in rules when empty.")
	f.IntVar(&d.Folds, "folds", d.Folds, "Cross-validation folds (what they hold out together: --group-by).")
	f.StringVar(&d.GroupBy, "group-by", "pod", `What the folds hold out together: "pod", or a pods CSV column (e.g. "scenario": all pods of a class's scenario held out together; "machine": one fold per machine; with --from-cluster the default is "workload", a Deployment's or StatefulSet's pods together). The inner threshold calibration holds these groups out whole too, and always a scenario's pods together when the CSV has that column.`)
	f.IntVar(&d.WindowSamples, "window", d.WindowSamples, "Samples from the start of each pod the model reads (10 s each).")
	f.StringVar(&d.ReportDir, "report", d.ReportDir, "Directory to write the evaluation JSON and PNG plots into.")
	f.BoolVar(&d.ForeignCalibration, "foreign-calibration", false, "Tighten each class's out-of-distribution limit against simulated foreign services (inner leave-one-class-out): more unknown answers for services the model never saw, and for some it knows; one more inner model per class.")
	f.BoolVar(&d.Curves, "curves", d.Curves, "Also compute the window-length and learning curves (11 more cross-validations).")
	f.IntVar(&d.Trees, "trees", classifier.DefaultForestConfig().Trees, "Trees in each forest: fewer answer faster and make a smaller model, more vote more smoothly.")
	f.Float64Var(&d.OODMargin, "ood-margin", 1, "Out-of-distribution margin of the model: multiplies each class's calibrated distance limit; below 1 answers unknown more often (foreign services, and known ones under unfamiliar load).")
}

func (d *datasetFlags) validate() error {
	if d.MetricsFile == "" && !d.useSource() {
		return errors.New("--metrics (a line-protocol file) or --influx-url / --prometheus-url is required")
	}
	if d.MetricsFile != "" && d.useSource() {
		return errors.New("--metrics and a metrics store (--influx-url / --prometheus-url) exclude each other")
	}
	if d.useSource() {
		if err := d.live.source.Validate(); err != nil {
			return err
		}
		if d.live.Lookback <= 0 {
			return errors.New("--lookback must be positive")
		}
	}
	if d.PodsFile == "" && !d.fromCluster() {
		return errors.New("--pods (a CSV) or --from-cluster is required")
	}
	if d.PodsFile != "" && d.fromCluster() {
		return errors.New("--pods and --from-cluster exclude each other")
	}
	if d.Folds < 2 {
		return fmt.Errorf("--folds %d: need at least 2", d.Folds)
	}
	if d.WindowSamples < 2 {
		return fmt.Errorf("--window %d: need at least 2 samples", d.WindowSamples)
	}
	if d.Trees < 1 {
		return fmt.Errorf("--trees %d: must be at least 1", d.Trees)
	}
	if !options.Positive(d.OODMargin) {
		return fmt.Errorf("--ood-margin %v: must be a positive number", d.OODMargin)
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
	pods, err := d.pods(cmd, rules)
	if err != nil {
		return nil, cfg, err
	}
	opts := trainer.AssembleOptions{Labeler: trainer.RulesLabeler(rules, trainer.DefaultMinRuleConfidence), Progress: stderr}
	var src samples.Source
	if d.useSource() {
		d.live.source.Containers = rules.IsMainContainer
		s, closeSrc, err := d.live.source.Build()
		if err != nil {
			return nil, cfg, err
		}
		defer closeSrc()
		src = s
		opts.End = time.Now()
		opts.Start = opts.End.Add(-d.live.Lookback)
		fmt.Fprintf(stderr, "metrics: reading %s of samples from %s\n", d.live.Lookback, d.live.source.Kind)
	} else {
		mem, stats, err := lineprotocol.LoadFile(cmd.Context(), d.MetricsFile, lineprotocol.Options{Containers: rules.IsMainContainer})
		if err != nil {
			return nil, cfg, err
		}
		src = mem
		fmt.Fprintf(stderr, "metrics: %d lines, %d points read from %s\n", stats.Lines, stats.Points, d.MetricsFile)
	}
	ds, err := trainer.Assemble(cmd.Context(), src, pods, opts)
	if err != nil {
		return nil, cfg, err
	}
	cfg.Folds = d.Folds
	cfg.GroupBy = d.GroupBy
	if d.fromCluster() && !cmd.Flags().Changed("group-by") {
		// Replicas of one workload serve one load: holding them out by pod
		// would score a model on pods whose siblings it trained on.
		cfg.GroupBy = trainer.WorkloadColumn
	}
	cfg.Train.Families = rules.Families()
	cfg.Train.Thresholds.WindowSamples = d.WindowSamples
	cfg.Train.Thresholds.OODMargin = d.OODMargin
	cfg.Train.Forest.Trees = d.Trees
	cfg.Train.Calibration.ForeignMargins = d.ForeignCalibration
	if !d.Curves {
		cfg.WindowLengths, cfg.LearningFractions = nil, nil
	}
	cfg.Progress = stderr
	return ds, cfg, nil
}

func (d *datasetFlags) useSource() bool {
	return d.live != nil && (d.live.source.InfluxURL != "" || d.live.source.PrometheusURL != "")
}

func (d *datasetFlags) fromCluster() bool { return d.live != nil && d.live.FromCluster }

// pods lists the pods to learn from: PODS.csv offline, or the opted-in
// namespaces' pods from the API (what the CronJob does).
func (d *datasetFlags) pods(cmd *cobra.Command, rules *imagerules.Rules) ([]trainer.Pod, error) {
	stderr := cmd.ErrOrStderr()
	if !d.fromCluster() {
		pods, err := trainer.ReadPodsFile(d.PodsFile)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(stderr, "pods: %d listed in %s\n", len(pods), d.PodsFile)
		return pods, nil
	}
	c, err := options.KubeClient()
	if err != nil {
		return nil, err
	}
	pods, err := trainer.ClusterPods(cmd.Context(), c, rules)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "pods: %d in opted-in namespaces\n", len(pods))
	return pods, nil
}
