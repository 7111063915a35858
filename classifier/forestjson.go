package classifier

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
)

type forestJSON struct {
	Roots     []int32   `json:"roots"`
	Feature   []int32   `json:"feature"`
	Threshold []float64 `json:"threshold"`
	// Left and Right are each inner node's children; omitted when every
	// tree is stored in preorder, one after the other (as Train lays them
	// out), where the leaf flags alone give them (preorderChildren).
	Left  []int32 `json:"left,omitempty"`
	Right []int32 `json:"right,omitempty"`
	Count []int32 `json:"count"`
	// Leaves are stored as their training rows per class, sparse: a leaf's
	// (class, rows) pairs follow the previous leaf's in LeafClass and
	// LeafRows (or start at its Left, when Left is stored) and run until
	// they add up to its Count. Its probabilities are (rows + Alpha) /
	// (Count + Alpha·K), as training computed them. Two or three pairs per
	// leaf instead of K probabilities keep a dozen classes' model within a
	// ConfigMap twice over (the model and the one it replaced).
	Alpha     *float64 `json:"alpha,omitempty"`
	LeafClass []int32  `json:"leaf_class,omitempty"`
	LeafRows  []int32  `json:"leaf_rows,omitempty"`
	// Probs are K probabilities per leaf, Left its offset: how a forest
	// whose smoothing is unknown is stored.
	Probs []float32 `json:"probs,omitempty"`
}

// leafProb is a leaf's smoothed probability of a class with rows of its
// total training rows, k classes: the one formula for training and loading.
func leafProb(rows, total int, alpha, k float64) float32 {
	return float32((float64(rows) + alpha) / (float64(total) + alpha*k))
}

// MarshalJSON writes the compact node arrays of the model file.
func (f *Forest) MarshalJSON() ([]byte, error) { return json.Marshal(f.toJSON()) }

func (f *Forest) toJSON() *forestJSON { return f.encode(false) }

// encode lays f out for its model file: leaves as class rows when they give
// back the same probabilities, else as probabilities; children left out
// when the trees are in preorder, unless keepChildren.
func (f *Forest) encode(keepChildren bool) *forestJSON {
	j := &forestJSON{Roots: f.roots, Count: f.counts}
	for _, n := range f.nodes {
		j.Feature = append(j.Feature, n.feature)
		j.Threshold = append(j.Threshold, n.threshold)
		j.Left = append(j.Left, n.left)
		j.Right = append(j.Right, n.right)
	}
	leafAt, classes, rows, ok := f.sparseLeaves()
	if !ok {
		j.Probs = f.probs
		return j
	}
	a := f.alpha
	j.Alpha, j.LeafClass, j.LeafRows = &a, classes, rows
	for i, at := range leafAt {
		if j.Feature[i] < 0 {
			j.Left[i] = at
		}
	}
	if keepChildren {
		return j
	}
	if l, r, err := preorderChildren(j.Feature, j.Roots); err == nil && inner(l, j.Left, j.Feature) && inner(r, j.Right, j.Feature) {
		j.Left, j.Right = nil, nil
	}
	return j
}

// inner reports whether a and b agree on every inner node.
func inner(a, b, feature []int32) bool {
	for i, f := range feature {
		if f >= 0 && a[i] != b[i] {
			return false
		}
	}
	return true
}

// preorderChildren gives each inner node its children for trees stored in
// preorder one after the other from index 0: an inner node's left child
// follows it, its right child follows the left subtree.
func preorderChildren(feature, roots []int32) (left, right []int32, err error) {
	n := int32(len(feature))
	left, right = make([]int32, n), make([]int32, n)
	var walk func(i int32, depth int) (int32, error)
	walk = func(i int32, depth int) (int32, error) {
		if i >= n {
			return 0, errors.New("a tree runs past the node arrays")
		}
		if depth > 512 {
			return 0, errors.New("tree deeper than 512")
		}
		left[i], right[i] = -1, -1
		if feature[i] < 0 {
			return i + 1, nil
		}
		left[i] = i + 1
		end, err := walk(i+1, depth+1)
		if err != nil {
			return 0, err
		}
		right[i] = end
		return walk(end, depth+1)
	}
	next := int32(0)
	for t, r := range roots {
		if r != next {
			return nil, nil, fmt.Errorf("tree %d starts at node %d, not after the tree before it (%d)", t, r, next)
		}
		if next, err = walk(r, 0); err != nil {
			return nil, nil, err
		}
	}
	if next != n {
		return nil, nil, fmt.Errorf("the trees cover %d of %d nodes", next, n)
	}
	return left, right, nil
}

// sparseLeaves gives every leaf of f as class rows recovered from its
// probabilities — each leaf's offset (leafAt, by node) into the (class,
// rows) pairs — and reports whether they give back exactly the same
// probabilities (false when the smoothing is unknown).
func (f *Forest) sparseLeaves() (leafAt, classes, rows []int32, ok bool) {
	a := f.alpha
	if !finite(a) || a < 0 {
		return nil, nil, nil, false
	}
	k := float64(len(f.classes))
	leafAt = make([]int32, len(f.nodes))
	for i, n := range f.nodes {
		if n.feature >= 0 {
			continue
		}
		total := int(f.counts[i])
		if total == 0 && a == 0 {
			return nil, nil, nil, false
		}
		leafAt[i] = int32(len(classes))
		sum := 0
		for c, p := range f.probs[n.left : int(n.left)+len(f.classes)] {
			r := int(math.Round(float64(p)*(float64(total)+a*k) - a))
			if leafProb(r, total, a, k) != p || r < 0 {
				return nil, nil, nil, false
			}
			if r > 0 {
				classes = append(classes, int32(c))
				rows = append(rows, int32(r))
				sum += r
			}
		}
		if sum != total {
			return nil, nil, nil, false
		}
	}
	return leafAt, classes, rows, true
}

// denseLeaves turns a stored forest's sparse leaves into K probabilities
// per leaf, pointing each leaf's Left at its own.
func denseLeaves(j *forestJSON, k int) ([]float32, []int32, error) {
	a := *j.Alpha
	if !finite(a) || a < 0 {
		return nil, nil, fmt.Errorf("leaf smoothing %v", a)
	}
	if len(j.LeafClass) != len(j.LeafRows) {
		return nil, nil, errors.New("leaf class and row arrays differ in length")
	}
	left := make([]int32, len(j.Feature))
	var probs []float32
	rows := make([]int, k)
	cursor := 0
	for i, feat := range j.Feature {
		if feat >= 0 {
			continue
		}
		total := int(j.Count[i])
		if total < 0 || (total == 0 && a == 0) {
			return nil, nil, fmt.Errorf("leaf %d has %d rows", i, total)
		}
		clear(rows)
		sum := 0
		if j.Left != nil {
			cursor = int(j.Left[i])
		}
		e := cursor
		for ; sum < total; e++ {
			if e < 0 || e >= len(j.LeafClass) {
				return nil, nil, fmt.Errorf("leaf %d: its class rows run out of the arrays", i)
			}
			c, r := int(j.LeafClass[e]), int(j.LeafRows[e])
			if c < 0 || c >= k || r <= 0 {
				return nil, nil, fmt.Errorf("leaf %d: class %d with %d rows", i, c, r)
			}
			rows[c] += r
			sum += r
		}
		if sum != total {
			return nil, nil, fmt.Errorf("leaf %d: class rows add up to %d, not its %d", i, sum, total)
		}
		cursor = e
		left[i] = int32(len(probs))
		for _, r := range rows {
			probs = append(probs, leafProb(r, total, a, float64(k)))
		}
	}
	return probs, left, nil
}

// forestFromJSON validates a stored forest: every index in range, every
// child after its parent (so traversal always terminates), every leaf's
// probabilities finite.
func forestFromJSON(j *forestJSON, classes []string, nfeat int) (*Forest, error) {
	if j == nil {
		return nil, errors.New("no forest")
	}
	n := len(j.Feature)
	left, right := j.Left, j.Right
	if left == nil && right == nil {
		if j.Alpha == nil {
			return nil, errors.New("forest stores neither children nor class rows")
		}
		var err error
		if left, right, err = preorderChildren(j.Feature, j.Roots); err != nil {
			return nil, err
		}
	}
	if len(j.Threshold) != n || len(left) != n || len(right) != n || len(j.Count) != n {
		return nil, errors.New("forest node arrays differ in length")
	}
	if len(j.Roots) == 0 {
		return nil, errors.New("forest has no trees")
	}
	k := len(classes)
	f := &Forest{classes: classes, nfeat: nfeat, roots: j.Roots, probs: j.Probs, counts: j.Count, nodes: make([]node, n), alpha: math.NaN()}
	if j.Alpha != nil {
		if j.Probs != nil {
			return nil, errors.New("forest stores its leaves both as probabilities and as class rows")
		}
		probs, leafAt, err := denseLeaves(j, k)
		if err != nil {
			return nil, err
		}
		left = slices.Clone(left)
		for i, feat := range j.Feature {
			if feat < 0 {
				left[i] = leafAt[i]
			}
		}
		f.probs, f.alpha = probs, *j.Alpha
	}
	for _, r := range j.Roots {
		if r < 0 || int(r) >= n {
			return nil, fmt.Errorf("tree root %d out of range", r)
		}
	}
	for i := 0; i < n; i++ {
		nd := node{feature: j.Feature[i], threshold: j.Threshold[i], left: left[i], right: right[i]}
		if nd.feature < 0 {
			if nd.feature != -1 || nd.left < 0 || int(nd.left)+k > len(f.probs) {
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
	for i, p := range f.probs {
		if math.IsNaN(float64(p)) || p < 0 || p > 1 {
			return nil, fmt.Errorf("leaf probability %d is %v", i, p)
		}
	}
	f.compile()
	return f, nil
}
