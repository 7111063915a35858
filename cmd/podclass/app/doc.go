// Package app wires flags to the podclass packages for the shipped binary
// (webhook, refiner, train, eval, classify). It holds no logic of its own:
// each subcommand parses and validates its flags, builds the parts and runs
// them. Flag groups shared with cmd/podclass-demo live in cmd/internal/options.
//
// It must not import a test harness (internal/harness) or the demo: the image
// ships this binary, and `go list -deps ./cmd/podclass` must not show envtest.
package app
