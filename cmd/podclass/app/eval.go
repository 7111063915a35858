package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/cmd/internal/options"
	"github.com/podclass/podclass/modelstore"
	"github.com/podclass/podclass/trainer"
)

type evalFlags struct {
	datasetFlags
	Predictions bool
	Margins     []float64
	// TestMetrics and TestPods are a second dataset (e.g. recorded on
	// another machine) the model trained on every pod of the first is
	// tested on.
	TestMetrics, TestPods string
	// Model, when set, is scored on the dataset as it is: no training.
	Model string
}

func newEvalCommand() *cobra.Command {
	o := evalFlags{datasetFlags: datasetFlags{Folds: 5, WindowSamples: classifier.DefaultThresholds().WindowSamples, Curves: true},
		Margins: trainer.DefaultEvalConfig().OODMargins}
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Cross-validate grouped by pod and print one JSON object with the held-out scores",
		Args:  cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			for _, m := range o.Margins {
				if !options.Positive(m) {
					return fmt.Errorf("--tradeoff-margins: %v is not a positive number", m)
				}
			}
			return o.validate()
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			stderr := cmd.ErrOrStderr()
			ds, cfg, err := o.load(cmd, stderr)
			if err != nil {
				return err
			}
			cfg.OODMargins = o.Margins
			examples, err := ds.EvalExamples(o.GroupBy, &cfg)
			if err != nil {
				return err
			}
			if o.Model != "" {
				return scoreModel(cmd, o, ds, cfg)
			}
			rep, err := trainer.Evaluate(examples, cfg)
			if err != nil {
				return err
			}
			if o.ReportDir != "" {
				if _, err := trainer.WriteReport(o.ReportDir, rep); err != nil {
					return err
				}
				fmt.Fprintf(stderr, "report written to %s\n", o.ReportDir)
			}
			if o.TestMetrics != "" {
				ext, err := externalTest(cmd, o, examples, cfg)
				if err != nil {
					return err
				}
				rep.External = ext
			}
			if !o.Predictions {
				rep = summary(rep)
			}
			return printJSON(cmd.OutOrStdout(), rep)
		},
	}
	o.bind(cmd)
	cmd.Flags().BoolVar(&o.Predictions, "predictions", o.Predictions, "Include every held-out pod's answer in the JSON.")
	cmd.Flags().Float64SliceVar(&o.Margins, "tradeoff-margins", o.Margins, "Out-of-distribution margins of the foreign-service trade-off curve; empty skips it.")
	cmd.Flags().StringVar(&o.TestMetrics, "test-metrics", "", "A second line-protocol file (e.g. recorded on another machine): train on every known pod of --metrics, test on these pods too (report key external).")
	cmd.Flags().StringVar(&o.TestPods, "test-pods", "", "Pods CSV of --test-metrics.")
	cmd.Flags().StringVar(&o.Model, "model", "", `Score this model file ("default": the embedded model) on the pods as they are, without training: precision of classified, coverage, unknown and foreign answers.`)
	return cmd
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// externalTest trains on every known example and scores the test dataset.
func externalTest(cmd *cobra.Command, o evalFlags, examples []classifier.Example, cfg trainer.EvalConfig) (*trainer.External, error) {
	if o.TestPods == "" {
		return nil, errors.New("--test-metrics needs --test-pods")
	}
	stderr := cmd.ErrOrStderr()
	test := o.datasetFlags
	test.MetricsFile, test.PodsFile = o.TestMetrics, o.TestPods
	tds, _, err := test.load(cmd, stderr)
	if err != nil {
		return nil, fmt.Errorf("test set: %w", err)
	}
	var train []classifier.Example
	for _, e := range examples {
		if !cfg.Foreign[e.Class] {
			train = append(train, e)
		}
	}
	fmt.Fprintf(stderr, "external test: training on %d pods, testing %d pods of %s\n", len(train), len(tds.Labelled), o.TestMetrics)
	model, err := classifier.Train(train, cfg.Train)
	if err != nil {
		return nil, err
	}
	op, sets, preds := trainer.ScoreModel(model, tds.Examples(), tds.ForeignClasses(), cfg.Train.Families)
	ext := &trainer.External{Metrics: o.TestMetrics, Pods: len(tds.Labelled), Operating: op, BaseSet: sets[classifier.SetBase], CoreSet: sets[classifier.SetCore]}
	if o.Predictions {
		ext.Predictions = preds
	}
	return ext, nil
}

// scoreModel scores an existing model on the dataset.
func scoreModel(cmd *cobra.Command, o evalFlags, ds *trainer.Dataset, cfg trainer.EvalConfig) error {
	path := o.Model
	if path == "default" {
		path = ""
	}
	model, err := modelstore.Open(path)
	if err != nil {
		return err
	}
	op, sets, preds := trainer.ScoreModel(model, ds.Examples(), cfg.Foreign, cfg.Train.Families)
	out := struct {
		Model       string                  `json:"model"`
		Pods        int                     `json:"pods"`
		Operating   trainer.Operating       `json:"operating"`
		BaseSet     *trainer.Operating      `json:"base_set,omitempty"`
		CoreSet     *trainer.Operating      `json:"core_set,omitempty"`
		Predictions []trainer.PodPrediction `json:"predictions,omitempty"`
	}{Model: model.Manifest().ModelVersion, Pods: len(ds.Labelled), Operating: op, BaseSet: sets[classifier.SetBase], CoreSet: sets[classifier.SetCore]}
	if o.Predictions {
		out.Predictions = preds
	}
	return printJSON(cmd.OutOrStdout(), out)
}
