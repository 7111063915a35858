// Package localcluster brings up podclass's world on this machine: a real
// control plane (etcd and kube-apiserver through controller-runtime's
// envtest), podclass's webhook serving it over TLS, and a real InfluxDB. It
// is the one place that does so for the end-to-end tests (through testenv),
// the demo and hack/bench-refiner, and it needs no testing.TB: errors are
// returned, and Stop undoes what Start did, last first.
//
// With Options.Cluster the control plane becomes a cluster:
// kube-controller-manager (Deployments, ReplicaSets, StatefulSets, Jobs,
// CronJobs, garbage collection, disruption budgets, …), kube-scheduler, and
// nodes simulated by kwok (sigs.k8s.io/kwok), which plays the kubelet's part
// in a pod's life — Pending, Running, a Job's pod Succeeded, a deleted pod
// gone — without a container runtime. No container ever runs: behaviour is
// replayed into InfluxDB (internal/harness/replay). Each component's log is
// kept (ClusterOptions.LogDir); one that dies is reported with the end of it
// by Cluster.Crashed and Stop.
//
// It is a harness: only tests, cmd/podclass-demo (through demo) and hack/
// import it, never the shipped binary. It imports the webhook, imagerules,
// api and the other harnesses (tools, influxd, freeport); nothing above them.
package localcluster
