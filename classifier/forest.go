package classifier

import (
	"fmt"
	"strconv"
)

// Forest is a bagged forest of compact binary trees. It implements Model.
type Forest struct {
	classes []string
	nfeat   int
	roots   []int32
	nodes   []node
	probs   []float32 // leaf probabilities, K per leaf
	counts  []int32   // training rows per node, for Explain
}

// node is one compact tree node. Inner nodes: feature ≥ 0, go left when
// x[feature] <= threshold. Leaves: feature = -1, left = offset into probs.
type node struct {
	feature   int32
	left      int32
	right     int32
	threshold float64
}

var _ Model = (*Forest)(nil)

// Classes returns the class labels, in probability order.
func (f *Forest) Classes() []string { return f.classes }

// NumTrees is the number of trees.
func (f *Forest) NumTrees() int { return len(f.roots) }

// Predict returns the class probabilities of x, the mean of the trees' leaf
// distributions.
func (f *Forest) Predict(x []float64) ([]float64, error) {
	out := make([]float64, len(f.classes))
	return out, f.PredictInto(out, x)
}

// PredictInto writes the class probabilities of x into dst (len Classes())
// without allocating.
func (f *Forest) PredictInto(dst, x []float64) error {
	if len(x) != f.nfeat {
		return fmt.Errorf("classifier: got %d features, model wants %d", len(x), f.nfeat)
	}
	if len(dst) != len(f.classes) {
		return fmt.Errorf("classifier: probability buffer has %d slots, want %d", len(dst), len(f.classes))
	}
	for i := range dst {
		dst[i] = 0
	}
	k := len(f.classes)
	for _, r := range f.roots {
		leaf := f.leaf(r, x)
		p := f.probs[int(f.nodes[leaf].left) : int(f.nodes[leaf].left)+k]
		for i, v := range p {
			dst[i] += float64(v)
		}
	}
	inv := 1 / float64(len(f.roots))
	for i := range dst {
		dst[i] *= inv
	}
	return nil
}

func (f *Forest) leaf(i int32, x []float64) int32 {
	for {
		n := &f.nodes[i]
		if n.feature < 0 {
			return i
		}
		if x[n.feature] <= n.threshold {
			i = n.left
		} else {
			i = n.right
		}
	}
}

// PathStep is one decision on the way to a leaf.
type PathStep struct {
	Feature   string  `json:"feature"`
	Value     float64 `json:"value"`
	Op        string  `json:"op"` // "<=" or ">"
	Threshold float64 `json:"threshold"`
}

// TreePath is the route one tree takes for a feature vector.
type TreePath struct {
	Tree      int                `json:"tree"`
	Steps     []PathStep         `json:"steps"`
	LeafRows  int                `json:"leaf_rows"`
	LeafProbs map[string]float64 `json:"leaf_probs"`
}

// BestPath is the path of the tree that gives class the highest
// probability for x (the first such tree), or nil for a forest without trees.
func (f *Forest) BestPath(x []float64, names []string, class string) *TreePath {
	if f.NumTrees() == 0 {
		return nil
	}
	bestT, bestP := 0, -1.0
	for t := 0; t < f.NumTrees(); t++ {
		p := f.Path(t, x, names)
		if v := p.LeafProbs[class]; v > bestP {
			bestT, bestP = t, v
		}
	}
	p := f.Path(bestT, x, names)
	return &p
}

// Path returns the decision path tree t takes for x.
func (f *Forest) Path(t int, x []float64, names []string) TreePath {
	out := TreePath{Tree: t, LeafProbs: map[string]float64{}}
	i := f.roots[t]
	for {
		n := &f.nodes[i]
		if n.feature < 0 {
			out.LeafRows = int(f.counts[i])
			for c, name := range f.classes {
				out.LeafProbs[name] = float64(f.probs[int(n.left)+c])
			}
			return out
		}
		name := strconv.Itoa(int(n.feature))
		if int(n.feature) < len(names) {
			name = names[n.feature]
		}
		step := PathStep{Feature: name, Value: x[n.feature], Threshold: n.threshold, Op: "<="}
		if x[n.feature] <= n.threshold {
			i = n.left
		} else {
			step.Op = ">"
			i = n.right
		}
		out.Steps = append(out.Steps, step)
	}
}
