// Package demo runs the whole of podclass on one machine: a real
// kube-apiserver and etcd (envtest's binaries), a real InfluxDB, the webhook
// with self-managed certificates, the trainer and the refiner. It creates a
// mix of pods and replays recorded behaviour for them in real time, so what
// the terminal shows is what a cluster would do.
//
// It is the demo's runtime, not the product: only cmd/podclass-demo imports
// it. It imports the product packages (webhook, refiner, trainer, modelstore,
// certs) and the harnesses (localcluster, influxd, replay, tools).
package demo
