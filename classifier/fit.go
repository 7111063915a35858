package classifier

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"

	"github.com/sjwhitworth/golearn/base"
	"github.com/sjwhitworth/golearn/trees"
	"golang.org/x/sync/errgroup"
)

// ForestConfig sets the bagged forest's fixed hyperparameters. They are
// chosen a priori (not searched on evaluation folds).
type ForestConfig struct {
	// Trees is the number of bagged trees.
	Trees int
	// FeaturesPerSplit is how many randomly chosen features each node
	// considers; 0 means ceil(sqrt(features))+1.
	FeaturesPerSplit int
	// MinSplit is the smallest number of training rows a node must hold to be
	// split further; smaller nodes become leaves.
	MinSplit int
	// LeafAlpha is the additive (Laplace) smoothing of leaf class
	// probabilities: p(c) = (n_c + α) / (n + α·K).
	LeafAlpha float64
	// Seed makes training reproducible.
	Seed int64
}

// DefaultForestConfig returns the hyperparameters podclass ships with.
func DefaultForestConfig() ForestConfig {
	return ForestConfig{Trees: 75, MinSplit: 4, LeafAlpha: 0.5, Seed: 1}
}

// TrainingSet is the feature matrix a learner fits: one row per window, the
// class index of each row, and the group (pod) each row came from, so bagging
// can resample pods rather than rows.
type TrainingSet struct {
	X       [][]float64
	Y       []int
	Groups  []int
	Classes []string
	Names   []string // feature names, len(X[i])
}

func (t *TrainingSet) validate() error {
	if len(t.X) == 0 {
		return errors.New("classifier: empty training set")
	}
	if len(t.Y) != len(t.X) || len(t.Groups) != len(t.X) {
		return errors.New("classifier: training set rows, labels and groups differ in length")
	}
	if len(t.Classes) < 2 {
		return fmt.Errorf("classifier: need at least 2 classes to train, have %d", len(t.Classes))
	}
	for i, row := range t.X {
		if len(row) != len(t.Names) {
			return fmt.Errorf("classifier: row %d has %d features, want %d", i, len(row), len(t.Names))
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("classifier: row %d feature %s is not finite (impute before fitting)", i, t.Names[j])
			}
		}
		if t.Y[i] < 0 || t.Y[i] >= len(t.Classes) {
			return fmt.Errorf("classifier: row %d has class index %d out of range", i, t.Y[i])
		}
	}
	return nil
}

// FitForest bags golearn ID3 trees (numeric splits by information gain, a
// random feature subset per node) over bootstrap samples of PODS: each tree
// draws len(pods) pods with replacement and takes all their rows, so windows
// of one pod never pretend to be independent evidence. Each fitted golearn
// tree is converted into a compact node array for fast prediction. golearn
// panics on some inputs; any panic is returned as an error.
func FitForest(ts *TrainingSet, cfg ForestConfig) (*Forest, error) {
	if err := ts.validate(); err != nil {
		return nil, err
	}
	if cfg.Trees <= 0 {
		cfg.Trees = 1
	}
	if cfg.MinSplit < 2 {
		cfg.MinSplit = 2
	}
	nf := len(ts.Names)
	mtry := cfg.FeaturesPerSplit
	if mtry <= 0 {
		mtry = int(math.Ceil(math.Sqrt(float64(nf)))) + 1
	}
	if mtry > nf {
		mtry = nf
	}

	inst, err := toInstances(ts)
	if err != nil {
		return nil, err
	}
	groupRows := map[int][]int{}
	var groups []int
	for i, g := range ts.Groups {
		if _, ok := groupRows[g]; !ok {
			groups = append(groups, g)
		}
		groupRows[g] = append(groupRows[g], i)
	}
	featureIndex := make(map[string]int, nf)
	for i, n := range ts.Names {
		featureIndex[n] = i
	}

	// Draw every tree's bootstrap and seed first, in order, so the forest is
	// the same whatever the parallelism; then fit the trees concurrently
	// (golearn only reads the shared instances).
	rng := rand.New(rand.NewSource(cfg.Seed))
	type job struct {
		rows map[int]int
		gen  *splitRule
		root *trees.DecisionTreeNode
		err  error
	}
	jobs := make([]job, cfg.Trees)
	for t := range jobs {
		rows := map[int]int{}
		if cfg.Trees == 1 {
			for i := range ts.X {
				rows[i] = i
			}
		} else {
			for range groups {
				g := groups[rng.Intn(len(groups))]
				for _, r := range groupRows[g] {
					rows[len(rows)] = r
				}
			}
		}
		jobs[t] = job{rows: rows, gen: &splitRule{seed: rng.Int63(), mtry: mtry, minSplit: cfg.MinSplit, nclass: len(ts.Classes)}}
	}
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for t := range jobs {
		g.Go(func() error {
			jobs[t].root, jobs[t].err = fitGolearnTree(inst, jobs[t].rows, jobs[t].gen)
			return nil
		})
	}
	_ = g.Wait() // each tree's error is in jobs, returned in tree order below
	f := &Forest{classes: append([]string(nil), ts.Classes...), nfeat: nf, alpha: cfg.LeafAlpha}
	for t, j := range jobs {
		if j.err != nil {
			return nil, fmt.Errorf("classifier: tree %d: %w", t, j.err)
		}
		if err := f.addTree(j.root, featureIndex, cfg.LeafAlpha); err != nil {
			return nil, fmt.Errorf("classifier: tree %d: %w", t, err)
		}
	}
	f.compile()
	return f, nil
}

// toInstances builds golearn's dense instances: one float attribute per
// feature and a categorical class attribute.
func toInstances(ts *TrainingSet) (inst *base.DenseInstances, err error) {
	defer containPanic("building golearn instances", &err)
	inst = base.NewDenseInstances()
	specs := make([]base.AttributeSpec, len(ts.Names))
	for i, n := range ts.Names {
		a := base.NewFloatAttribute(n)
		a.Precision = 17
		specs[i] = inst.AddAttribute(a)
	}
	classAttr := base.NewCategoricalAttribute()
	classAttr.SetName("class")
	for _, c := range ts.Classes {
		classAttr.GetSysValFromString(c)
	}
	cspec := inst.AddAttribute(classAttr)
	if err := inst.AddClassAttribute(classAttr); err != nil {
		return nil, err
	}
	if err := inst.Extend(len(ts.X)); err != nil {
		return nil, err
	}
	for r, row := range ts.X {
		for j, v := range row {
			inst.Set(specs[j], r, base.PackFloatToBytes(v))
		}
		inst.Set(cspec, r, classAttr.GetSysValFromString(ts.Classes[ts.Y[r]]))
	}
	return inst, nil
}

// fitGolearnTree runs golearn's ID3 over the selected rows, turning a panic
// into an error.
func fitGolearnTree(inst *base.DenseInstances, rows map[int]int, gen trees.RuleGenerator) (root *trees.DecisionTreeNode, err error) {
	defer containPanic("golearn tree induction", &err)
	view := base.NewInstancesViewFromRows(inst, rows)
	root = trees.InferID3Tree(view, gen)
	if root == nil {
		return nil, errors.New("golearn returned no tree")
	}
	return root, nil
}

// containPanic converts a panic in the calling function into *err.
func containPanic(what string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s panicked: %v\n%s", what, r, debug.Stack())
	}
}

// splitRule is the golearn RuleGenerator the forest grows trees with:
// information gain over a random subset of the remaining features, with
// thresholds at midpoints between distinct values. It computes the gain
// itself instead of calling golearn's generator because golearn walks
// map-backed views in random order and sums entropies in that order, so
// near-ties broke differently from run to run; here rows are sorted by
// (value, class) first, which makes training reproducible for a seed. It also
// replaces golearn's RandomTree generator, which uses the global random source
// and loops forever when asked for more features than remain. It stops
// splitting — returns nil, which golearn turns into a leaf — when the node is
// smaller than minSplit or no feature separates anything.
type splitRule struct {
	seed     int64
	mtry     int
	minSplit int
	nclass   int
	pairs    []valClass
	cls      []int     // the node's classes, row by row
	cols     []float64 // the node's candidate values, row-major
	xl       []float64 // k·log2 k, see xlogx
}

type valClass struct {
	v float64
	c int
}

func (s *splitRule) GenerateSplitRule(f base.FixedDataGrid) *trees.DecisionTreeRule {
	_, rows := f.Size()
	if rows < s.minSplit {
		return nil
	}
	classAttrs := f.AllClassAttributes()
	if len(classAttrs) != 1 {
		return nil
	}
	classSpec, err := f.GetAttribute(classAttrs[0])
	if err != nil {
		return nil
	}
	all := base.AttributeDifferenceReferences(f.AllAttributes(), classAttrs)
	if len(all) == 0 {
		return nil
	}
	sort.Slice(all, func(i, j int) bool { return all[i].GetName() < all[j].GetName() })
	// golearn grows the children of a node in map order, so a generator-wide
	// random stream would make the feature subsets depend on that order.
	// Seed each node from its content instead: reproducible for a seed.
	rng := rand.New(rand.NewSource(s.fingerprint(f, all, classSpec, rows)))
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	subset := all[:min(s.mtry, len(all))]
	attr, thr, gain := s.best(f, subset, classSpec)
	if gain <= 1e-12 && len(subset) < len(all) {
		// Nothing in the random subset separates this node: widen to every
		// remaining feature before giving up.
		attr, thr, gain = s.best(f, all[len(subset):], classSpec)
	}
	if attr == nil || gain <= 1e-12 {
		return nil
	}
	return &trees.DecisionTreeRule{SplitAttr: attr, SplitVal: thr}
}

// fingerprint hashes a node's content independently of row order: the
// tree's seed, row count, remaining features, class counts and the XOR of the
// first feature's value bits.
func (s *splitRule) fingerprint(f base.FixedDataGrid, attrs []base.Attribute, classSpec base.AttributeSpec, rows int) int64 {
	h := fnv.New64a()
	var b [8]byte
	put := func(v uint64) {
		binary.LittleEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	put(uint64(s.seed))
	put(uint64(rows))
	for _, a := range attrs {
		h.Write([]byte(a.GetName()))
	}
	counts := make([]uint64, s.nclass)
	var x uint64
	specs := []base.AttributeSpec{classSpec}
	if fs, err := f.GetAttribute(attrs[0]); err == nil {
		specs = append(specs, fs)
	}
	f.MapOverRows(specs, func(row [][]byte, _ int) (bool, error) {
		if c := int(base.UnpackBytesToU64(row[0])); c >= 0 && c < s.nclass {
			counts[c]++
		}
		if len(row) > 1 {
			x ^= math.Float64bits(base.UnpackBytesToFloat(row[1])) * 0x9E3779B97F4A7C15
		}
		return true, nil
	})
	for _, c := range counts {
		put(c)
	}
	put(x)
	return int64(h.Sum64() & math.MaxInt64)
}

// best returns the candidate split with the highest information gain.
func (s *splitRule) best(f base.FixedDataGrid, cands []base.Attribute, classSpec base.AttributeSpec) (base.Attribute, float64, float64) {
	var bestAttr base.Attribute
	bestThr, bestGain := 0.0, 0.0
	left := make([]int, s.nclass)
	right := make([]int, s.nclass)
	// Read every candidate and the class in one pass over the node's rows:
	// each read resolves the row through golearn's nested views, one map
	// per level of the tree, so a pass per candidate read the class again
	// each time and cost as much as the split search itself.
	var attrs []base.Attribute
	specs := []base.AttributeSpec{classSpec}
	for _, a := range cands {
		if _, ok := a.(*base.FloatAttribute); !ok {
			continue
		}
		spec, err := f.GetAttribute(a)
		if err != nil {
			continue
		}
		attrs = append(attrs, a)
		specs = append(specs, spec)
	}
	k := len(attrs)
	s.cls, s.cols = s.cls[:0], s.cols[:0]
	f.MapOverRows(specs, func(row [][]byte, _ int) (bool, error) {
		c := int(base.UnpackBytesToU64(row[0]))
		if c < 0 || c >= s.nclass {
			c = 0
		}
		s.cls = append(s.cls, c)
		for _, b := range row[1:] {
			s.cols = append(s.cols, base.UnpackBytesToFloat(b))
		}
		return true, nil
	})
	for j, a := range attrs {
		s.pairs = s.pairs[:0]
		for r, c := range s.cls {
			s.pairs = append(s.pairs, valClass{s.cols[r*k+j], c})
		}
		p := s.pairs
		if len(p) < 2 {
			continue
		}
		slices.SortFunc(p, func(x, y valClass) int {
			if x.v != y.v {
				return cmp.Compare(x.v, y.v)
			}
			return x.c - y.c
		})
		for i := range left {
			left[i], right[i] = 0, 0
		}
		for _, x := range p {
			right[x.c]++
		}
		// n·H of a side is n·log2 n − Σ c·log2 c over its class counts;
		// moving one row across changes one count per side, so the two sums
		// are kept up to date from a table instead of recomputing every
		// class's logarithm at every threshold.
		xl := s.xlogx(len(p))
		var sumL, sumR float64
		for _, c := range right {
			sumR += xl[c]
		}
		n := float64(len(p))
		base := (xl[len(p)] - sumR) / n
		for i := 0; i < len(p)-1; i++ {
			c := p[i].c
			sumL += xl[left[c]+1] - xl[left[c]]
			sumR += xl[right[c]-1] - xl[right[c]]
			left[c]++
			right[c]--
			if p[i].v == p[i+1].v {
				continue
			}
			nl := i + 1
			h := (xl[nl] - sumL + xl[len(p)-nl] - sumR) / n
			if g := base - h; g > bestGain+1e-12 {
				thr := p[i].v + (p[i+1].v-p[i].v)/2
				if thr >= p[i+1].v || math.IsInf(thr, 0) {
					thr = p[i].v
				}
				bestAttr, bestThr, bestGain = a, thr, g
			}
		}
	}
	return bestAttr, bestThr, bestGain
}

// xlogx returns the table k·log2 k for k = 0…n, grown as needed and kept
// for the tree's later nodes.
func (s *splitRule) xlogx(n int) []float64 {
	for k := len(s.xl); k <= n; k++ {
		v := 0.0
		if k > 0 {
			v = float64(k) * math.Log2(float64(k))
		}
		s.xl = append(s.xl, v)
	}
	return s.xl
}

// addTree appends a golearn tree in compact form; nodes are laid out in
// pre-order so every child index is greater than its parent's.
func (f *Forest) addTree(root *trees.DecisionTreeNode, featureIndex map[string]int, alpha float64) error {
	r, err := f.addNode(root, featureIndex, alpha, nil, 0)
	if err != nil {
		return err
	}
	f.roots = append(f.roots, r)
	return nil
}

func (f *Forest) addNode(n *trees.DecisionTreeNode, featureIndex map[string]int, alpha float64, parentDist map[string]int, depth int) (int32, error) {
	if depth > 512 {
		return 0, errors.New("tree deeper than 512")
	}
	dist := parentDist
	if n != nil && len(n.ClassDist) > 0 {
		dist = n.ClassDist
	}
	idx := int32(len(f.nodes))
	total := 0
	for _, c := range dist {
		total += c
	}
	leftChild, rightChild := (*trees.DecisionTreeNode)(nil), (*trees.DecisionTreeNode)(nil)
	isLeaf := n == nil || n.Children == nil || n.SplitRule == nil || n.SplitRule.SplitAttr == nil
	if !isLeaf {
		leftChild, rightChild = n.Children["0"], n.Children["1"]
		if leftChild == nil && rightChild == nil {
			isLeaf = true
		}
	}
	if isLeaf {
		off := int32(len(f.probs))
		k := float64(len(f.classes))
		for _, c := range f.classes {
			f.probs = append(f.probs, leafProb(dist[c], total, alpha, k))
		}
		f.nodes = append(f.nodes, node{feature: -1, left: off, right: -1})
		f.counts = append(f.counts, int32(total))
		return idx, nil
	}
	fi, ok := featureIndex[n.SplitRule.SplitAttr.GetName()]
	if !ok {
		return 0, fmt.Errorf("tree splits on unknown feature %q", n.SplitRule.SplitAttr.GetName())
	}
	f.nodes = append(f.nodes, node{feature: int32(fi), threshold: n.SplitRule.SplitVal})
	f.counts = append(f.counts, int32(total))
	l, err := f.addNode(leftChild, featureIndex, alpha, dist, depth+1)
	if err != nil {
		return 0, err
	}
	r, err := f.addNode(rightChild, featureIndex, alpha, dist, depth+1)
	if err != nil {
		return 0, err
	}
	f.nodes[idx].left, f.nodes[idx].right = l, r
	return idx, nil
}
