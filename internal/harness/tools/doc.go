// Package tools locates the binaries hack/tools.sh builds and caches: the
// envtest control plane, helm and influxd. Environment variables override
// each location, as `hack/tools.sh env` prints them.
//
// A harness: imported only by tests, the demo and hack/; it imports nothing of
// podclass.
package tools
