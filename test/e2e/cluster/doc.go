// Package cluster holds podclass's end-to-end tests on a whole local cluster:
// kube-apiserver and etcd, kube-controller-manager, kube-scheduler and nodes
// simulated by kwok (internal/harness/localcluster with Options.Cluster),
// with the chart installed by `helm install` and the webhook served from
// this machine over TLS. Pods are created the way users' are — by the
// ReplicaSet, StatefulSet, Job and CronJob controllers — scheduled onto
// nodes, and go Running.
//
// The tests share one cluster, started in TestMain (about 10 s, the chart a
// few seconds more); each works in its own namespace. It has no code of its
// own: only _test.go files.
package cluster
