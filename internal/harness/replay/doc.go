// Package replay turns recorded pod windows back into the line protocol
// telegraf writes, under new pod names and shifted to new times, so tests and
// the demo can play real recorded behaviour into a real InfluxDB as if the
// pods they create were producing it.
//
// A harness: imported only by tests, the demo and hack/; it imports the
// samples core and samples/lineprotocol.
package replay
