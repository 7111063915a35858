// Package demo runs the whole of podclass on one machine: a cluster — a real
// kube-apiserver and etcd (envtest's binaries), kube-controller-manager,
// kube-scheduler and nodes simulated by kwok — a real InfluxDB, the webhook
// with self-managed certificates, the trainer and the refiner. It creates
// workloads as users do (Deployments, StatefulSets, a Job, a CronJob), finds
// the pods their controllers create through the API, and replays recorded
// behaviour under those pods' names in real time from the moment they run,
// so what the terminal shows is what a cluster would do. A decided
// StatefulSet pod is deleted and comes back under its name, a new pod
// decided afresh.
//
// It is the demo's runtime, not the product: only cmd/podclass-demo imports
// it. It imports the product packages (webhook, refiner, trainer, modelstore,
// certs) and the harnesses (localcluster, influxd, replay, tools).
package demo
