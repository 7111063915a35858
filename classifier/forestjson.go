package classifier

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

type forestJSON struct {
	Roots     []int32   `json:"roots"`
	Feature   []int32   `json:"feature"`
	Threshold []float64 `json:"threshold"`
	Left      []int32   `json:"left"`
	Right     []int32   `json:"right"`
	Count     []int32   `json:"count"`
	Probs     []float32 `json:"probs"`
}

// MarshalJSON writes the compact node arrays of the model file.
func (f *Forest) MarshalJSON() ([]byte, error) { return json.Marshal(f.toJSON()) }

func (f *Forest) toJSON() *forestJSON {
	j := &forestJSON{Roots: f.roots, Count: f.counts, Probs: f.probs}
	for _, n := range f.nodes {
		j.Feature = append(j.Feature, n.feature)
		j.Threshold = append(j.Threshold, n.threshold)
		j.Left = append(j.Left, n.left)
		j.Right = append(j.Right, n.right)
	}
	return j
}

// forestFromJSON validates a stored forest: every index in range, every
// child after its parent (so traversal always terminates), every leaf's
// probabilities finite.
func forestFromJSON(j *forestJSON, classes []string, nfeat int) (*Forest, error) {
	if j == nil {
		return nil, errors.New("no forest")
	}
	n := len(j.Feature)
	if len(j.Threshold) != n || len(j.Left) != n || len(j.Right) != n || len(j.Count) != n {
		return nil, errors.New("forest node arrays differ in length")
	}
	if len(j.Roots) == 0 {
		return nil, errors.New("forest has no trees")
	}
	k := len(classes)
	f := &Forest{classes: classes, nfeat: nfeat, roots: j.Roots, probs: j.Probs, counts: j.Count, nodes: make([]node, n)}
	for _, r := range j.Roots {
		if r < 0 || int(r) >= n {
			return nil, fmt.Errorf("tree root %d out of range", r)
		}
	}
	for i := 0; i < n; i++ {
		nd := node{feature: j.Feature[i], threshold: j.Threshold[i], left: j.Left[i], right: j.Right[i]}
		if nd.feature < 0 {
			if nd.feature != -1 || nd.left < 0 || int(nd.left)+k > len(j.Probs) {
				return nil, fmt.Errorf("leaf %d has no probabilities", i)
			}
			nd.right = -1
		} else {
			if int(nd.feature) >= nfeat {
				return nil, fmt.Errorf("node %d splits on feature %d of %d", i, nd.feature, nfeat)
			}
			if !finite(nd.threshold) {
				return nil, fmt.Errorf("node %d threshold is not finite", i)
			}
			if int(nd.left) <= i || int(nd.right) <= i || int(nd.left) >= n || int(nd.right) >= n {
				return nil, fmt.Errorf("node %d children out of order", i)
			}
		}
		f.nodes[i] = nd
	}
	// Each node has one parent and a root none: shared nodes would make
	// a tree a graph, whose unfolding (compile) can grow exponentially.
	parents := make([]int32, n)
	for _, r := range j.Roots {
		parents[r]++
	}
	for _, nd := range f.nodes {
		if nd.feature >= 0 {
			parents[nd.left]++
			parents[nd.right]++
		}
	}
	for i, c := range parents {
		if c > 1 {
			return nil, fmt.Errorf("node %d is reached from %d places: the trees share nodes", i, c)
		}
	}
	for i, p := range j.Probs {
		if math.IsNaN(float64(p)) || p < 0 || p > 1 {
			return nil, fmt.Errorf("leaf probability %d is %v", i, p)
		}
	}
	f.compile()
	return f, nil
}
