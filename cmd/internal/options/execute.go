package options

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Execute runs a binary's root command under a context that SIGINT or
// SIGTERM cancels, and exits non-zero when it fails: the whole of each main.
func Execute(root *cobra.Command) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := root.ExecuteContext(ctx); err != nil {
		stop()
		os.Exit(1)
	}
}
