// Package influx reads pod samples from InfluxDB (1.8 with Flux enabled, or
// 2.x) where telegraf's kubernetes and docker inputs write them: one Flux
// query per batch of pods covering every measurement of a samples.Schema.
//
// It imports the samples core and InfluxDB's client only; nothing of podclass
// above it (classifier, refiner, trainer) and no test harness.
package influx
