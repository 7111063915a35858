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
	// alpha is the leaf smoothing the probabilities were computed with
	// (ForestConfig.LeafAlpha), so a model file can store each leaf's
	// class counts instead of its K probabilities; NaN when unknown.
	alpha float64

	// fast is nodes laid out for prediction (compile): each inner node's
	// children are adjacent, so one index and a comparison pick the next
	// node (the comparison stays a branch: a predicted branch lets the next
	// node's load start early, a select measured slower), and a node is 16
	// bytes rather than 24.
	fast      []fastNode
	fastRoots []int32
	// leafMass holds each leaf's probabilities as a floor every class gets
	// (the smoothing LeafAlpha adds) and the few classes above it, so a tree's
	// vote costs one addition per class it saw rather than one per class.
	leafMass []classMass
}

// fastNode is a node of Forest.fast. Inner nodes: feature ≥ 0, the left
// child at next and the right one at next+1, split at threshold. Leaves:
// feature = -1-n for the n classes above the floor, listed in
// leafMass[next:next+n]; threshold holds the floor.
type fastNode struct {
	threshold float64
	feature   int32
	next      int32
}

// classMass is one class's probability above its leaf's floor.
type classMass struct {
	class int32
	mass  float64
}

// node is one compact tree node. Inner nodes: feature ≥ 0, go left when
// x[feature] <= threshold. Leaves: feature = -1, left = offset into probs.
type node struct {
	feature   int32
	left      int32
	right     int32
	threshold float64
}

// compile builds f.fast and f.leafMass from f.nodes and f.probs, tree by
// tree in breadth-first order.
func (f *Forest) compile() {
	k := int32(len(f.classes))
	f.fast = make([]fastNode, 0, len(f.nodes))
	f.fastRoots = make([]int32, 0, len(f.roots))
	f.leafMass = f.leafMass[:0]
	type item struct{ src, dst int32 }
	var queue []item
	for _, r := range f.roots {
		at := int32(len(f.fast))
		f.fastRoots = append(f.fastRoots, at)
		f.fast = append(f.fast, fastNode{})
		queue = append(queue[:0], item{r, at})
		for len(queue) > 0 {
			it := queue[0]
			queue = queue[1:]
			n := f.nodes[it.src]
			if n.feature >= 0 {
				c := int32(len(f.fast))
				f.fast = append(f.fast, fastNode{}, fastNode{})
				f.fast[it.dst] = fastNode{threshold: n.threshold, feature: n.feature, next: c}
				queue = append(queue, item{n.left, c}, item{n.right, c + 1})
				continue
			}
			p := f.probs[n.left : n.left+k]
			floor := p[0]
			for _, v := range p {
				floor = min(floor, v)
			}
			start := int32(len(f.leafMass))
			for c, v := range p {
				if v > floor {
					// Both float32: their difference is exact in float64.
					f.leafMass = append(f.leafMass, classMass{class: int32(c), mass: float64(v) - float64(floor)})
				}
			}
			f.fast[it.dst] = fastNode{threshold: float64(floor), feature: -1 - (int32(len(f.leafMass)) - start), next: start}
		}
	}
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
	floor := 0.0
	vote := func(leaf int32) {
		n := &f.fast[leaf]
		floor += n.threshold
		for _, m := range f.leafMass[n.next : n.next-1-n.feature] {
			dst[m.class] += m.mass
		}
	}
	// Eight trees are walked side by side: each step waits for a node from
	// memory, and independent walks keep several of those loads in flight.
	// BenchmarkPredictFeatures in alternated runs: four walks 680–768 ns,
	// eight 527–624 (docs/benchmarks.md).
	roots := f.fastRoots
	for len(roots) >= 8 {
		a, b, c, d, e, g, h, k := f.fastLeaf8(roots[:8], x)
		vote(a)
		vote(b)
		vote(c)
		vote(d)
		vote(e)
		vote(g)
		vote(h)
		vote(k)
		roots = roots[8:]
	}
	for _, r := range roots {
		vote(f.fastLeaf(r, x))
	}
	inv := 1 / float64(len(f.roots))
	for i := range dst {
		dst[i] = (dst[i] + floor) * inv
	}
	return nil
}

// fastLeaf walks one tree of f.fast and returns its leaf's index.
func (f *Forest) fastLeaf(i int32, x []float64) int32 {
	nodes := f.fast
	for {
		n := &nodes[i]
		if n.feature < 0 {
			return i
		}
		i = n.next + right(x[n.feature], n.threshold)
	}
}

// step is the index of the child of node nd (at index i) that x goes to,
// or i when nd is a leaf.
func step(nd *fastNode, i int32, x []float64) int32 {
	if nd.feature < 0 {
		return i
	}
	return nd.next + right(x[nd.feature], nd.threshold)
}

// right is 1 when v goes to the right child of a node splitting at t, NaN
// included (v <= t is false), else 0. Written as a value rather than a jump,
// the compiler makes it a flag-setting instruction: the walk's comparisons
// are as unpredictable as the data, and a mispredicted branch per node cost
// more than the node's load.
func right(v, t float64) int32 {
	if v <= t {
		return 0
	}
	return 1
}

// fastLeaf8 walks eight trees at once and returns their leaves' indices.
// Eight named walks, not a loop over an array: the compiler keeps them in
// registers (an [8]int32 lane array in a loop measured no faster than four
// named walks).
func (f *Forest) fastLeaf8(r []int32, x []float64) (int32, int32, int32, int32, int32, int32, int32, int32) {
	nodes := f.fast
	i, j, k, l, m, n, o, p := r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]
	for {
		a, b, c, d := &nodes[i], &nodes[j], &nodes[k], &nodes[l]
		e, g, h, q := &nodes[m], &nodes[n], &nodes[o], &nodes[p]
		if a.feature < 0 && b.feature < 0 && c.feature < 0 && d.feature < 0 && e.feature < 0 && g.feature < 0 && h.feature < 0 && q.feature < 0 {
			return i, j, k, l, m, n, o, p
		}
		i, j, k, l = step(a, i, x), step(b, j, x), step(c, k, x), step(d, l, x)
		m, n, o, p = step(e, m, x), step(g, n, x), step(h, o, x), step(q, p, x)
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
