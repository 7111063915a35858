package app

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/cmd/internal/options"
	"github.com/podclass/podclass/trainer"
)

type evalFlags struct {
	datasetFlags
	Predictions bool
	Curves      bool
	Margins     []float64
}

func newEvalCommand() *cobra.Command {
	o := evalFlags{datasetFlags: datasetFlags{Folds: 5, WindowSamples: classifier.DefaultThresholds().WindowSamples}, Curves: true,
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
			if !o.Curves {
				cfg.WindowLengths, cfg.LearningFractions = nil, nil
			}
			cfg.OODMargins = o.Margins
			examples, err := ds.ExamplesGroupedBy(o.GroupBy)
			if err != nil {
				return err
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
			if !o.Predictions {
				rep = summary(rep)
			}
			return printJSON(cmd.OutOrStdout(), rep)
		},
	}
	o.bind(cmd)
	cmd.Flags().BoolVar(&o.Predictions, "predictions", o.Predictions, "Include every held-out pod's answer in the JSON.")
	cmd.Flags().BoolVar(&o.Curves, "curves", o.Curves, "Also compute the window-length and learning curves (11 more cross-validations).")
	cmd.Flags().Float64SliceVar(&o.Margins, "tradeoff-margins", o.Margins, "Out-of-distribution margins of the foreign-service trade-off curve; empty skips it.")
	return cmd
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
