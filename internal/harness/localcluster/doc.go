// Package localcluster brings up podclass's world on this machine: a real
// control plane (etcd and kube-apiserver through controller-runtime's
// envtest), podclass's webhook serving it over TLS, and a real InfluxDB. It
// is the one place that does so for the end-to-end tests (through testenv),
// the demo and hack/bench-refiner, and it needs no testing.TB: errors are
// returned, and Stop undoes what Start did.
//
// It is a harness: only tests, cmd/podclass-demo (through demo) and hack/
// import it, never the shipped binary. It imports the webhook, imagerules,
// api and the other harnesses (tools, influxd); nothing above them.
package localcluster
