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
	o := demo.Options{AssetsDir: tools.EnvtestAssets(), KubeBinDir: tools.KubeBinDir(), Kwok: tools.Kwok(), Nodes: 3,
		InfluxBinary: tools.Influxd(), CorpusDir: "testdata/corpus", ReportDir: "_out/demo", Deadline: 5 * time.Minute, Interval: 5 * time.Second}
	cmd := &cobra.Command{
		Use:          "podclass-demo",
		SilenceUsage: true,
		Short:        "Run podclass end to end on this machine: a cluster with simulated nodes, InfluxDB, webhook, trainer, refiner, workloads whose pods replay recorded behaviour",
		Args:         cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if o.Deadline <= 0 || o.Interval <= 0 {
				return fmt.Errorf("--deadline and --interval must be positive")
			}
			if o.Nodes < 1 {
				return fmt.Errorf("--nodes must be at least 1")
			}
			for _, p := range []string{o.AssetsDir + "/kube-apiserver", o.AssetsDir + "/etcd", o.KubeBinDir + "/kube-controller-manager",
				o.KubeBinDir + "/kube-scheduler", o.Kwok, o.InfluxBinary} {
				if _, err := os.Stat(p); err != nil {
					return fmt.Errorf("%s is missing: run `hack/tools.sh demo` (make demo does) first", p)
				}
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
	f.StringVar(&o.KubeBinDir, "kube-bin", o.KubeBinDir, "Directory with kube-controller-manager and kube-scheduler (default $PODCLASS_KUBE_BIN or hack/tools.sh's cache).")
	f.StringVar(&o.Kwok, "kwok", o.Kwok, "kwok binary, which simulates the nodes (default $PODCLASS_KWOK or hack/tools.sh's cache).")
	f.IntVar(&o.Nodes, "nodes", o.Nodes, "Simulated nodes.")
	f.StringVar(&o.InfluxBinary, "influxd", o.InfluxBinary, "influxd binary.")
	f.StringVar(&o.CorpusDir, "corpus", o.CorpusDir, "Recorded corpus (metrics.lp, pods.csv) to replay and train on.")
	f.StringVar(&o.ReportDir, "report", o.ReportDir, "Where report.html, the training report and demo.log go.")
	f.DurationVar(&o.Deadline, "deadline", o.Deadline, "Give up if pods are not all decided this long after the workloads are created.")
	f.DurationVar(&o.Interval, "interval", o.Interval, "The refiner's tick.")
	return cmd
}
