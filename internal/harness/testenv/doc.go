// Package testenv starts a real control plane — etcd and kube-apiserver
// through controller-runtime's envtest — for podclass's end-to-end tests, and
// serves podclass's webhook to it over TLS the way a cluster would call it.
//
// The binaries come from hack/tools.sh (built from the Go module proxy and
// cached); KUBEBUILDER_ASSETS overrides where they are looked for. A missing
// binary fails the test with the command that builds it: end-to-end tests are
// never skipped silently.
//
// For fault tests, Env.StopAPIServer and Env.StartAPIServer (or
// Env.RestartAPIServer) take kube-apiserver down and bring it back on the same
// address and certificates while etcd, and so every object, stays.
//
// A harness: imported only by tests; it builds on localcluster and imports
// the webhook and api for what it installs.
package testenv
