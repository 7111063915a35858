package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/podclass/podclass/cmd/internal/options"
	"github.com/podclass/podclass/cmd/podclass-demo/demo"
	"github.com/podclass/podclass/internal/harness/tools"
)

func main() { options.Execute(newCommand()) }

func newCommand() *cobra.Command {
	o := demo.Options{AssetsDir: tools.EnvtestAssets(), InfluxBinary: tools.Influxd(), CorpusDir: "testdata/corpus",
		ReportDir: "_out/demo", Deadline: 4 * time.Minute, Interval: 5 * time.Second}
	cmd := &cobra.Command{
		Use:          "podclass-demo",
		SilenceUsage: true,
		Short:        "Run podclass end to end on this machine: control plane, InfluxDB, webhook, trainer, refiner, replayed pods",
		Args:         cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			for _, p := range []string{o.AssetsDir + "/kube-apiserver", o.AssetsDir + "/etcd", o.InfluxBinary} {
				if _, err := os.Stat(p); err != nil {
					return fmt.Errorf("%s is missing: run `make tools` (hack/tools.sh) first", p)
				}
			}
			if o.Deadline <= 0 || o.Interval <= 0 {
				return fmt.Errorf("--deadline and --interval must be positive")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Out = cmd.OutOrStdout()
			o.Live = term.IsTerminal(int(os.Stdout.Fd()))
			return demo.Run(cmd.Context(), o)
		},
	}
	options.AddLogFlags(cmd.PersistentFlags())
	f := cmd.Flags()
	f.StringVar(&o.AssetsDir, "assets", o.AssetsDir, "Directory with etcd and kube-apiserver (default $KUBEBUILDER_ASSETS or hack/tools.sh's cache).")
	f.StringVar(&o.InfluxBinary, "influxd", o.InfluxBinary, "influxd binary.")
	f.StringVar(&o.CorpusDir, "corpus", o.CorpusDir, "Recorded corpus (metrics.lp, pods.csv) to replay and train on.")
	f.StringVar(&o.ReportDir, "report", o.ReportDir, "Where report.html, the training report and demo.log go.")
	f.DurationVar(&o.Deadline, "deadline", o.Deadline, "Give up if pods are not all decided this long after they are created.")
	f.DurationVar(&o.Interval, "interval", o.Interval, "The refiner's tick.")
	return cmd
}
