// Package options holds the flag groups and flag checks the podclass
// binaries share — cmd/podclass and cmd/podclass-demo both import it: log
// flags, the metrics-store flags, the Kubernetes client and number checks.
// Flags are bound to fields with the current value as the default.
//
// It imports samples and its adapters only; never a harness (cmd/podclass
// must not link one) and nothing of the commands.
package options
