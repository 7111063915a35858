package classifier

import (
	"math"
	"math/rand/v2"
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
					t.Fatalf("%s set, vector %d: class %s probability %v, the trees say %v", v, n, f.classes[i], got[i], want[i])
				}
			}
		}
	}
}
