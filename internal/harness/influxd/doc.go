// Package influxd runs a real InfluxDB 1.8 process on loopback: the tests'
// metrics store (through internal/harness/influxtest) and the demo's. Flux is on, so
// the refiner's influxdb-client-go source reads it as it reads any InfluxDB.
//
// A harness: imported only by tests, the demo and hack/ (never by
// cmd/podclass); it imports only the tools harness.
package influxd
