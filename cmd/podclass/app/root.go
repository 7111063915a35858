package app

import (
	"context"

	"github.com/podclass/podclass/cmd/internal/options"
	"github.com/spf13/cobra"
)

// NewCommand returns the podclass root command with every subcommand.
func NewCommand(ctx context.Context) *cobra.Command {
	root := &cobra.Command{
		Use:           "podclass",
		Short:         "Classify Kubernetes pods by the kind of service they run",
		SilenceUsage:  true,
		SilenceErrors: false,
	}
	root.SetContext(ctx)
	options.AddLogFlags(root.PersistentFlags())
	root.AddCommand(
		newWebhookCommand(),
		newRefinerCommand(),
		newTrainCommand(), newEvalCommand(), newClassifyCommand(),
	)
	return root
}
