// Command podclass is the one binary of podclass: the admission webhook, the
// refiner, the trainer and the offline tools are its subcommands.
//
// It imports cmd/podclass/app only.
package main
