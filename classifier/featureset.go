package classifier

import "math"

// FeatureSet names the features a model decides on. Stores differ: one fed by
// the kubelet's cAdvisor has the process structure (processes, threads, file
// descriptors, sockets), one fed only by telegraf's kubernetes input does not,
// and some have no page-fault counters (a recorder or a CRI stats provider
// that leaves them out). Rather than fill a whole missing group with training
// medians — which would answer for a pod from values it never had — a model
// file carries one classifier per feature set and each pod is decided by the
// richest set its window has (Classifier.Classify); the answer names the set.
type FeatureSet string

const (
	// SetProcess is the process-structure group with CPU, memory, network,
	// block IO and log growth; not the page faults, so a window with the
	// process metrics is decided by it whether or not the store has fault
	// counters (leave-machine-out it answered as well without them,
	// docs/evaluation.md).
	SetProcess FeatureSet = "process"
	// SetBase is CPU, memory, network, block IO, log growth and the page
	// faults: a store without the process metrics.
	SetBase FeatureSet = "base"
	// SetCore is SetBase without the page faults: a store with neither.
	SetCore FeatureSet = "core"
)

// rank orders the sets, richest first: a fallback's rank is lower.
func (s FeatureSet) rank() int {
	switch s {
	case SetProcess:
		return 3
	case SetBase:
		return 2
	case SetCore:
		return 1
	}
	return 0
}

// faultFeature reports whether feature j is computed from the page-fault
// counters.
func faultFeature(j int) bool {
	return j == FLogPageFaultRate || j == FLogMajorFaultRate || j == FLogFaultsPerCPUSecond
}

// Uses reports whether feature j belongs to the set.
func (s FeatureSet) Uses(j int) bool {
	switch s {
	case SetProcess:
		return !faultFeature(j)
	case SetBase:
		return j < firstProcessFeature
	default:
		return j < firstProcessFeature && !faultFeature(j)
	}
}

// Valid reports whether s is a known set.
func (s FeatureSet) Valid() bool { return s.rank() > 0 }

// Has reports whether a raw feature vector carries the groups the set needs.
func (s FeatureSet) Has(x []float64) bool {
	switch s {
	case SetProcess:
		return HasProcessStructure(x)
	case SetBase:
		return HasPageFaults(x)
	default:
		return true
	}
}

// masked returns x with the features outside the set set to NaN, in dst
// (len NumFeatures): the set's model never saw them, so they can neither
// steer a tree nor count in the out-of-distribution distance.
func (s FeatureSet) masked(dst, x []float64) []float64 {
	copy(dst, x)
	for j := range dst[:NumFeatures] {
		if !s.Uses(j) {
			dst[j] = math.NaN()
		}
	}
	return dst
}

// Variant returns the classifier that decides with set s: c itself, its
// base-set fallback, or nil when the model has no such set.
func (c *Classifier) Variant(s FeatureSet) *Classifier {
	for v := c; v != nil; v = v.fallback {
		if v.set == s {
			return v
		}
	}
	return nil
}

// FeatureSets lists the sets the model decides with, richest first.
func (c *Classifier) FeatureSets() []FeatureSet {
	var out []FeatureSet
	for v := c; v != nil; v = v.fallback {
		out = append(out, v.set)
	}
	return out
}

// FeatureSet is the set c itself decides with.
func (c *Classifier) FeatureSet() FeatureSet { return c.set }

// variantFor picks the richest set raw carries (the chain is richest first).
func (c *Classifier) variantFor(raw []float64) *Classifier {
	for v := c; v != nil; v = v.fallback {
		if v.set.Has(raw) {
			return v
		}
	}
	return c
}
