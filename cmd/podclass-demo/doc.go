// Command podclass-demo runs podclass end to end on this machine: a control
// plane, InfluxDB, the webhook, the trainer and the refiner, with recorded
// pods replayed into it (`make demo`). It is a separate binary so the shipped
// one links no test harness.
package main
