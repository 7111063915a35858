package classifier

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// referenceProbs is the forest's vote computed the plain way: walk each
// tree's nodes as stored, add its leaf's K probabilities, average.
func referenceProbs(f *Forest, x []float64) []float64 {
	k := len(f.classes)
	out := make([]float64, k)
	for _, r := range f.roots {
		i := r
		for f.nodes[i].feature >= 0 {
			if x[f.nodes[i].feature] <= f.nodes[i].threshold {
				i = f.nodes[i].left
			} else {
				i = f.nodes[i].right
			}
		}
		for c, v := range f.probs[f.nodes[i].left : int(f.nodes[i].left)+k] {
			out[c] += float64(v)
		}
	}
	for c := range out {
		out[c] /= float64(len(f.roots))
	}
	return out
}

// The compiled layout (adjacent children, leaf floors with sparse mass) is a
// speed-up only: it must vote as the stored trees do, NaN features included.
func TestCompiledForestVotesAsTheTrees(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range c.FeatureSets() {
		f, ok := c.Variant(v).model.(*Forest)
		if !ok {
			t.Fatalf("%s set: model is %T, want *Forest", v, c.Variant(v).model)
		}
		// The whole forest, and its first few trees: the walk takes the
		// trees eight at a time, then one by one.
		for _, trees := range []int{len(f.roots), 1, 2, 3, 7, 8, 9, 16, 17} {
			g := *f
			g.roots, g.fastRoots = f.roots[:trees], f.fastRoots[:trees]
			t.Run(fmt.Sprintf("%s/%d trees", v, trees), func(t *testing.T) { votesAsTheTrees(t, &g) })
		}
	}
}

func votesAsTheTrees(t *testing.T, f *Forest) {
	rng := rand.New(rand.NewPCG(1, 2))
	got := make([]float64, len(f.classes))
	for n := 0; n < 2000; n++ {
		x := make([]float64, f.nfeat)
		for j := range x {
			x[j] = rng.NormFloat64() * 3
			if rng.IntN(20) == 0 {
				x[j] = math.NaN()
			}
		}
		if err := f.PredictInto(got, x); err != nil {
			t.Fatal(err)
		}
		want := referenceProbs(f, x)
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-12 {
				t.Fatalf("vector %d: class %s probability %v, the trees say %v", n, f.classes[i], got[i], want[i])
			}
		}
	}
}

// A model file stores each leaf as its few (class, rows) pairs and the
// smoothing; loading gives back exactly the probabilities training computed.
func TestForestStoresLeavesAsClassRows(t *testing.T) {
	c := trainSynth(t)
	f := c.model.(*Forest)
	j := f.toJSON()
	if j.Probs != nil || j.Alpha == nil || len(j.LeafClass) == 0 {
		t.Fatalf("stored with probs %d, alpha %v, %d class rows; want class rows only", len(j.Probs), j.Alpha, len(j.LeafClass))
	}
	leaves := 0
	for _, n := range f.nodes {
		if n.feature < 0 {
			leaves++
		}
	}
	if len(j.LeafClass) >= leaves*len(f.classes) {
		t.Errorf("%d class rows for %d leaves of %d classes: not sparse", len(j.LeafClass), leaves, len(f.classes))
	}
	back, err := forestFromJSON(j, f.classes, f.nfeat)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range f.nodes {
		if n.feature >= 0 {
			continue
		}
		want := f.probs[n.left : int(n.left)+len(f.classes)]
		got := back.probs[back.nodes[i].left : int(back.nodes[i].left)+len(f.classes)]
		if !slices.Equal(got, want) {
			t.Fatalf("leaf %d: probabilities %v after loading, %v trained", i, got, want)
		}
	}
	// Without the smoothing (a forest read from dense probabilities) the
	// probabilities themselves are stored.
	back.alpha = math.NaN()
	if d := back.toJSON(); d.Probs == nil || d.Alpha != nil {
		t.Errorf("unknown smoothing: stored with probs %d, alpha %v", len(d.Probs), d.Alpha)
	}
}

func TestLoadRefusesBrokenClassRows(t *testing.T) {
	c := trainSynth(t)
	f := c.model.(*Forest)
	firstLeaf := slices.IndexFunc(f.nodes, func(n node) bool { return n.feature < 0 })
	for name, mutate := range map[string]func(j *forestJSON){
		"rows that do not add up": func(j *forestJSON) { j.LeafRows[0]++ },
		"a class out of range":    func(j *forestJSON) { j.LeafClass[0] = int32(len(f.classes)) },
		"rows that run out": func(j *forestJSON) {
			j.LeafRows, j.LeafClass = j.LeafRows[:len(j.LeafRows)-1], j.LeafClass[:len(j.LeafClass)-1]
		},
		"no rows":                   func(j *forestJSON) { j.LeafRows[0] = 0 },
		"negative smoothing":        func(j *forestJSON) { a := -1.0; j.Alpha = &a },
		"arrays of unequal length":  func(j *forestJSON) { j.LeafRows = j.LeafRows[:len(j.LeafRows)-1] },
		"probabilities and rows":    func(j *forestJSON) { j.Probs = f.probs },
		"no smoothing for no rows":  func(j *forestJSON) { a := 0.0; j.Alpha = &a; j.Count[firstLeaf] = 0 },
		"a tree out of order":       func(j *forestJSON) { j.Roots[1]++ },
		"a tree past the nodes":     func(j *forestJSON) { j.Feature[len(j.Feature)-1] = 0 },
		"neither children nor rows": func(j *forestJSON) { j.Alpha, j.LeafClass, j.LeafRows = nil, nil, nil },
	} {
		t.Run(name, func(t *testing.T) {
			j := f.toJSON()
			if j.Left != nil || j.Right != nil {
				t.Fatal("children stored for trees in preorder")
			}
			j.Count, j.Roots, j.Feature = slices.Clone(j.Count), slices.Clone(j.Roots), slices.Clone(j.Feature)
			j.LeafRows, j.LeafClass = slices.Clone(j.LeafRows), slices.Clone(j.LeafClass)
			mutate(j)
			if _, err := forestFromJSON(j, f.classes, f.nfeat); err == nil {
				t.Fatal("loaded")
			}
		})
	}
}
