// Package prometheus reads pod samples from Prometheus (or anything serving
// its HTTP API) holding the kubelet's cAdvisor series: one range query per
// batch of pods covering every series.
//
// It imports the samples core and Prometheus' API client only; nothing of
// podclass above it and no test harness.
package prometheus
