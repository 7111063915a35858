package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/podclass/podclass/cmd/podclass/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.NewCommand(ctx).Execute(); err != nil {
		stop()
		os.Exit(1)
	}
}
