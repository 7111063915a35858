package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/cmd/internal/options"
	"github.com/podclass/podclass/imagerules"
	"github.com/podclass/podclass/modelstore"
	"github.com/podclass/podclass/samples"
	"github.com/podclass/podclass/samples/lineprotocol"
	"github.com/podclass/podclass/trainer"
)

type classifyFlags struct {
	MetricsFile string
	ModelFile   string
	PodsFile    string
	Explain     bool
	OODMargin   float64
}

// classifyLine is one JSON line of `podclass classify`.
type classifyLine struct {
	Namespace  string  `json:"namespace"`
	Pod        string  `json:"pod"`
	Class      string  `json:"class"`
	Family     string  `json:"family,omitempty"`
	Level      string  `json:"level,omitempty"`
	Confidence float64 `json:"confidence"`
	Status     string  `json:"status"`
	Samples    int     `json:"samples"`
	Model      string  `json:"model"`
	Reason     string  `json:"reason,omitempty"`
	Explain    string  `json:"explain,omitempty"`
}

func newClassifyCommand() *cobra.Command {
	var o classifyFlags
	cmd := &cobra.Command{
		Use:   "classify",
		Short: "Classify every pod of a line-protocol file; one JSON line per pod",
		Args:  cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if o.MetricsFile == "" {
				return errors.New("--metrics is required")
			}
			if o.OODMargin != 0 && !options.Positive(o.OODMargin) {
				return fmt.Errorf("--ood-margin %v: must be positive (or 0 for the model's own)", o.OODMargin)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			model, err := modelstore.Open(o.ModelFile)
			if err != nil {
				return err
			}
			if o.OODMargin != 0 {
				th := model.Thresholds()
				th.OODMargin = o.OODMargin
				model = model.WithThresholds(th)
			}
			// Sidecars (by the built-in rules' container names) are left out.
			src, _, err := lineprotocol.LoadFile(cmd.Context(), o.MetricsFile, lineprotocol.Options{Containers: imagerules.Default().IsMainContainer})
			if err != nil {
				return err
			}
			var keys []samples.PodKey
			if o.PodsFile != "" {
				pods, err := trainer.ReadPodsFile(o.PodsFile)
				if err != nil {
					return err
				}
				for _, p := range pods {
					keys = append(keys, p.Key)
				}
			} else if keys, err = src.Pods(cmd.Context(), time.Time{}, time.Time{}); err != nil {
				return err
			}
			wins, err := src.Windows(cmd.Context(), keys, time.Time{}, time.Time{})
			if err != nil {
				return err
			}
			version := model.Manifest().ModelVersion
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetEscapeHTML(false)
			for _, k := range keys {
				w := wins[k]
				if w == nil {
					w = &samples.Window{Pod: k}
				}
				line := classifyLine{Namespace: k.Namespace, Pod: k.Name, Model: version}
				var r classifier.Result
				if o.Explain {
					e := model.Explain(w)
					r, line.Explain = e.Result, e.String()
				} else {
					r = model.Classify(w)
				}
				line.Class, line.Family, line.Level = r.Class, r.Family, string(r.Level)
				line.Confidence, line.Status, line.Samples, line.Reason = r.Confidence, string(r.Status), r.Samples, r.Reason
				if err := enc.Encode(line); err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "classified %d pods with model %s\n", len(keys), version)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.MetricsFile, "metrics", o.MetricsFile, "InfluxDB line-protocol file with the pods' samples.")
	f.StringVar(&o.ModelFile, "model", o.ModelFile, "Model JSON; the embedded default model when empty.")
	f.StringVar(&o.PodsFile, "pods", o.PodsFile, "Optional pods CSV restricting which pods are classified; all pods in the file when empty.")
	f.BoolVar(&o.Explain, "explain", o.Explain, "Add the decision path of each answer.")
	f.Float64Var(&o.OODMargin, "ood-margin", 0, "Override the model's out-of-distribution margin (0: the model's own); below 1 answers unknown more often.")
	return cmd
}
