// Command bench-refiner measures the refiner at scale against a real
// control plane and a real InfluxDB: it creates --pods pending pods, plays
// six recorded samples for each, then starts `podclass refiner` as its own
// process and reports how long it takes to decide them all, how many Flux
// queries it sent per tick, and its peak memory (VmHWM).
//
//	make build && go run ./hack/bench-refiner --pods 10000
//
// A tool, not the product: it may import the harnesses (localcluster, replay,
// tools); nothing imports it.
package main
