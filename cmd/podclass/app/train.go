package app

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/imagerules"
	"github.com/podclass/podclass/modelstore"
	"github.com/podclass/podclass/samples"
	"github.com/podclass/podclass/samples/lineprotocol"
	"github.com/podclass/podclass/trainer"
)

// datasetFlags are the inputs train and eval share.
type datasetFlags struct {
	// source reads metrics from a database instead of --metrics (train only).
	source        sourceConfig
	FromCluster   bool
	Lookback      time.Duration
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
}

func (d *datasetFlags) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&d.MetricsFile, "metrics", d.MetricsFile, "InfluxDB line-protocol file with the pods' samples (telegraf schema; .gz accepted).")
	f.StringVar(&d.PodsFile, "pods", d.PodsFile, "Pods CSV: header with namespace,pod_name,image and optionally class; extra columns are ignored.")
	f.StringVar(&d.RulesFile, "rules", d.RulesFile, "Image rules file (YAML) used for labels and families; the built-in rules when empty.")
	f.IntVar(&d.Folds, "folds", d.Folds, "Cross-validation folds, grouped by pod.")
	f.StringVar(&d.GroupBy, "group-by", "pod", `What the folds hold out together: "pod", or a pods CSV column (e.g. "scenario": all pods of a class's scenario held out together; also groups the inner threshold calibration).`)
	f.IntVar(&d.WindowSamples, "window", d.WindowSamples, "Samples from the start of each pod the model reads (10 s each).")
	f.StringVar(&d.ReportDir, "report", d.ReportDir, "Directory to write the evaluation JSON and PNG plots into.")
	f.BoolVar(&d.ForeignCalibration, "foreign-calibration", false, "Tighten each class's out-of-distribution limit against simulated foreign services (inner leave-one-class-out): more unknown answers for services the model never saw, and for some it knows; one more inner model per class.")
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
		if err := d.source.validate(); err != nil {
			return err
		}
		if d.Lookback <= 0 {
			return errors.New("--lookback must be positive")
		}
	}
	if d.PodsFile == "" && !d.FromCluster {
		return errors.New("--pods (a CSV) or --from-cluster is required")
	}
	if d.PodsFile != "" && d.FromCluster {
		return errors.New("--pods and --from-cluster exclude each other")
	}
	if d.Folds < 2 {
		return fmt.Errorf("--folds %d: need at least 2", d.Folds)
	}
	if d.WindowSamples < 2 {
		return fmt.Errorf("--window %d: need at least 2 samples", d.WindowSamples)
	}
	if !positive(d.OODMargin) {
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

// positive says whether v is a finite number above zero (not NaN).
func positive(v float64) bool { return v > 0 && !math.IsInf(v, 1) }

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
		s, closeSrc, err := d.source.build()
		if err != nil {
			return nil, cfg, err
		}
		defer closeSrc()
		src = s
		opts.End = time.Now()
		opts.Start = opts.End.Add(-d.Lookback)
		fmt.Fprintf(stderr, "metrics: reading %s of samples from %s\n", d.Lookback, d.source.Kind)
	} else {
		mem, stats, err := lineprotocol.LoadFile(cmd.Context(), d.MetricsFile, lineprotocol.Options{})
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
	cfg.Train.Families = rules.Families()
	cfg.Train.Thresholds.WindowSamples = d.WindowSamples
	cfg.Train.Thresholds.OODMargin = d.OODMargin
	cfg.Train.Calibration.ForeignMargins = d.ForeignCalibration
	cfg.Progress = stderr
	return ds, cfg, nil
}

func (d *datasetFlags) useSource() bool {
	return d.source.InfluxURL != "" || d.source.PrometheusURL != ""
}

// pods lists the pods to learn from: PODS.csv offline, or the opted-in
// namespaces' pods from the API (what the CronJob does).
func (d *datasetFlags) pods(cmd *cobra.Command, rules *imagerules.Rules) ([]trainer.Pod, error) {
	stderr := cmd.ErrOrStderr()
	if !d.FromCluster {
		pods, err := trainer.ReadPodsFile(d.PodsFile)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(stderr, "pods: %d listed in %s\n", len(pods), d.PodsFile)
		return pods, nil
	}
	c, err := kubeClient()
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

// kubeClient is an uncached client from the kubeconfig or the in-cluster config.
func kubeClient() (client.Client, error) {
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	return client.New(cfg, client.Options{})
}

type trainFlags struct {
	datasetFlags
	Publish    string
	Namespace  string
	Out        string
	MinMacroF1 float64
	Tolerance  float64
	Current    string
}

func newTrainCommand() *cobra.Command {
	o := trainFlags{Namespace: os.Getenv("POD_NAMESPACE"), datasetFlags: datasetFlags{Folds: 5, WindowSamples: classifier.DefaultThresholds().WindowSamples,
		source: defaultSourceConfig(), Lookback: 24 * time.Hour},
		MinMacroF1: trainer.DefaultMinMacroF1, Tolerance: trainer.DefaultTolerance}
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a model from labelled pods, evaluate it by pod hold-out and publish it if it passes the quality gate",
		Args:  cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if o.Out == "" && o.Publish == "" {
				return errors.New("--out or --publish-configmap is required")
			}
			if o.Publish != "" && o.Namespace == "" {
				o.Namespace = "default"
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
			cur, err := modelstore.Reference(cmd.Context(), o.Current, func() (client.Reader, error) { return kubeClient() }, o.Namespace, o.Publish, stderr)
			if err != nil {
				return err
			}
			if cur != nil {
				gate.Current = cur
			}
			res, err := trainer.Train(ds, trainer.TrainOptions{Eval: cfg, Gate: gate, ReportDir: o.ReportDir, Progress: stderr})
			if err != nil {
				if res != nil && res.Report != nil {
					_ = printJSON(cmd.OutOrStdout(), summary(res.Report))
				}
				return err
			}
			m := res.Model.Manifest()
			if o.Out != "" {
				if err := res.Model.Save(o.Out); err != nil {
					return err
				}
				fmt.Fprintf(stderr, "model %s written to %s\n", m.ModelVersion, o.Out)
			}
			if o.Publish != "" {
				c, err := kubeClient()
				if err != nil {
					return err
				}
				if err := modelstore.Publish(cmd.Context(), c, o.Namespace, o.Publish, res.Model); err != nil {
					return err
				}
				fmt.Fprintf(stderr, "model %s published to ConfigMap %s/%s\n", m.ModelVersion, o.Namespace, o.Publish)
			}
			return printJSON(cmd.OutOrStdout(), map[string]any{
				"model": o.Out, "model_version": m.ModelVersion, "classes": m.Classes, "training": m.Training,
				"evaluation": summary(res.Report),
			})
		},
	}
	o.bind(cmd)
	f := cmd.Flags()
	f.BoolVar(&o.FromCluster, "from-cluster", o.FromCluster, "List the pods of opted-in namespaces from the Kubernetes API instead of --pods.")
	f.DurationVar(&o.Lookback, "lookback", o.Lookback, "With a metrics store: how far back to read samples.")
	o.source.addFlags(f)
	f.StringVar(&o.Out, "out", o.Out, "Where to write the model JSON.")
	f.StringVar(&o.Publish, "publish-configmap", o.Publish, "Publish the model into this ConfigMap (key model.json; the replaced model is kept as previous-model.json) if it passes the gate; the gate compares with the model in it.")
	f.StringVar(&o.Namespace, "namespace", o.Namespace, "Namespace of --publish-configmap (default $POD_NAMESPACE).")
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
