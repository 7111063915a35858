package app

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/cmd/internal/options"
	"github.com/podclass/podclass/modelstore"
	"github.com/podclass/podclass/trainer"
)

type trainFlags struct {
	datasetFlags
	Publish    string
	Namespace  string
	Out        string
	MinMacroF1 float64
	Tolerance  float64
	Current    string
	// Poisoning (issue 12 item 8): the screen of image-labelled pods and
	// the reference set.
	MaxNamespaceShare  float64
	FarFactor          float64
	Reference          bool
	ReferenceTolerance float64
}

func newTrainCommand() *cobra.Command {
	o := trainFlags{Namespace: os.Getenv("POD_NAMESPACE"), datasetFlags: datasetFlags{Folds: 5, WindowSamples: classifier.DefaultThresholds().WindowSamples, Curves: true,
		live: &liveInput{source: options.DefaultSource(), Lookback: 24 * time.Hour}},
		MinMacroF1: trainer.DefaultMinMacroF1, Tolerance: trainer.DefaultTolerance,
		MaxNamespaceShare: trainer.DefaultMaxNamespaceShare, FarFactor: trainer.DefaultFarFactor,
		Reference: true, ReferenceTolerance: trainer.DefaultReferenceTolerance}
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a model from labelled pods, evaluate it on held-out pods (whole workloads from the cluster) and publish it if it passes the quality gate",
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
			if o.MaxNamespaceShare < 0 || o.MaxNamespaceShare > 1 {
				return fmt.Errorf("--max-namespace-share %v is not in [0,1]", o.MaxNamespaceShare)
			}
			if o.FarFactor < 0 {
				return fmt.Errorf("--far-factor %v is negative", o.FarFactor)
			}
			if o.ReferenceTolerance < 0 || o.ReferenceTolerance > 1 {
				return fmt.Errorf("--reference-tolerance %v is not in [0,1]", o.ReferenceTolerance)
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
			cur, err := modelstore.Reference(cmd.Context(), o.Current, func() (client.Reader, error) { return options.KubeClient() }, o.Namespace, o.Publish, stderr)
			if err != nil {
				return err
			}
			if cur != nil {
				gate.Current = cur
			}
			if o.Reference {
				rules, err := o.rules()
				if err != nil {
					return err
				}
				if gate.Reference, err = trainer.ReferencePods(rules.IsMainContainer); err != nil {
					return err
				}
				gate.ReferenceTolerance = o.ReferenceTolerance
			}
			screen := trainer.DefaultScreenConfig()
			screen.MaxNamespaceShare, screen.FarFactor = o.MaxNamespaceShare, o.FarFactor
			screen.WindowSamples = cfg.Train.Thresholds.WindowSamples
			res, err := trainer.Train(ds, trainer.TrainOptions{Eval: cfg, Gate: gate, Screen: &screen, ReportDir: o.ReportDir, Progress: stderr})
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
				c, err := options.KubeClient()
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
				"evaluation": summary(res.Report), "screened": res.Screened,
			})
		},
	}
	o.bind(cmd)
	f := cmd.Flags()
	f.BoolVar(&o.live.FromCluster, "from-cluster", o.live.FromCluster, "List the pods of opted-in namespaces from the Kubernetes API instead of --pods.")
	f.DurationVar(&o.live.Lookback, "lookback", o.live.Lookback, "With a metrics store: how far back to read samples.")
	o.live.source.AddFlags(f)
	f.StringVar(&o.Out, "out", o.Out, "Where to write the model JSON.")
	f.StringVar(&o.Publish, "publish-configmap", o.Publish, "Publish the model into this ConfigMap (gzip, binaryData key model.json.gz; the replaced model is kept as previous-model.json.gz) if it passes the gate; the gate compares with the model in it.")
	f.StringVar(&o.Namespace, "namespace", o.Namespace, "Namespace of --publish-configmap (default $POD_NAMESPACE).")
	f.Float64Var(&o.MinMacroF1, "min-macro-f1", o.MinMacroF1, "Refuse to publish a model whose held-out macro-F1 is below this.")
	f.Float64Var(&o.Tolerance, "tolerance", o.Tolerance, "Allowed drop of held-out macro-F1 below the current model's.")
	f.StringVar(&o.Current, "current", o.Current, `Model in service to compare with; empty: the embedded default; "none": no comparison.`)
	f.Float64Var(&o.MaxNamespaceShare, "max-namespace-share", o.MaxNamespaceShare, "Largest share of a class's image-labelled training pods one namespace may contribute (never cut below the second-largest namespace's count); 0 or 1: no bound.")
	f.Float64Var(&o.FarFactor, "far-factor", o.FarFactor, "Leave out an image-labelled pod farther than this many times its class's out-of-distribution limit from the class's pods in other namespaces; 0: keep all.")
	f.BoolVar(&o.Reference, "reference", o.Reference, "Refuse a model that answers the reference pods shipped in the binary worse than the model in service.")
	f.Float64Var(&o.ReferenceTolerance, "reference-tolerance", o.ReferenceTolerance, "Allowed drop of the reference pods' macro recall below the model in service's.")
	return cmd
}

// summary drops the per-pod predictions from a report.
func summary(r *trainer.Report) *trainer.Report {
	s := *r
	s.Predictions, s.SetPredictions, s.ForeignPredictions = nil, nil, nil
	return &s
}
