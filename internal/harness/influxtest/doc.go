// Package influxtest runs a real InfluxDB 1.8 for tests: the samples/influx
// package tests its Flux queries against it, and the refiner's end-to-end tests feed
// it samples and stop it mid-run to see outages handled.
//
// The binary is built by `hack/tools.sh influxd` (CI runs it). Start finds it
// through $PODCLASS_INFLUXD, else where tools.sh puts it; a missing binary
// fails the test rather than skipping it, so a CI without it cannot go green
// by testing nothing.
//
//	srv := influxtest.Start(t)
//	srv.Write(`kubernetes_pod_container,namespace=a,pod_name=b cpu_usage_nanocores=1i 1709251200000000000`)
//	src, _ := metrics.NewInfluxSource(metrics.InfluxConfig{URL: srv.URL, Bucket: srv.Bucket()})
//	srv.Stop()    // an outage: queries fail with connection refused
//	srv.Restart() // same port, same data
//
// A harness: imported only by tests; it imports only the influxd harness.
package influxtest
