// Package app wires flags to the podclass packages. It holds no logic of its
// own: each subcommand parses and validates its flags, builds the parts and
// runs them.
package app

import (
	"context"

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
	addLogFlags(root.PersistentFlags())
	root.AddCommand(
		newWebhookCommand(),
		newRefinerCommand(),
		newDemoCommand(),
		newTrainCommand(), newEvalCommand(), newClassifyCommand(),
	)
	return root
}
