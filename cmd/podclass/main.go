package main

import (
	"context"

	"github.com/podclass/podclass/cmd/internal/options"
	"github.com/podclass/podclass/cmd/podclass/app"
)

func main() { options.Execute(app.NewCommand(context.Background())) }
