// Command podclass-demo runs podclass end to end on this machine: a cluster
// with simulated nodes, InfluxDB, the webhook, the trainer and the refiner,
// with workloads whose pods replay recorded behaviour (`make demo`). It is a
// separate binary so the shipped one links no test harness.
package main
