package classifier

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/podclass/podclass/samples"
)

// Explanation is why a pod got its answer.
type Explanation struct {
	Result        Result             `json:"result"`
	Features      map[string]float64 `json:"features"`
	Imputed       []string           `json:"imputed,omitempty"`
	Probabilities map[string]float64 `json:"probabilities"`
	// Path is the decision path of the tree that gave the predicted class the
	// highest probability.
	Path *TreePath `json:"path,omitempty"`
	// Farthest lists the features farthest from the predicted class's
	// training pods (robust z-scores), the out-of-distribution evidence.
	Farthest []FeatureZ `json:"farthest,omitempty"`
}

// FeatureZ is one feature's robust z-score against a class.
type FeatureZ struct {
	Feature string  `json:"feature"`
	Z       float64 `json:"z"`
}

// String is a one-line summary for an annotation or a log line.
func (e Explanation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s p=%.2f d=%.2f", e.Result.Status, e.Result.Class, e.Result.Confidence, e.Result.Distance)
	if e.Result.FeatureSet != "" {
		fmt.Fprintf(&b, " [%s features]", e.Result.FeatureSet)
	}
	if e.Result.Predicted != "" && e.Result.Predicted != e.Result.Class {
		fmt.Fprintf(&b, " (predicted %s)", e.Result.Predicted)
	}
	if e.Path != nil {
		b.WriteString(": ")
		for i, s := range e.Path.Steps {
			if i > 0 {
				b.WriteString(" → ")
			}
			fmt.Fprintf(&b, "%s=%.3g%s%.3g", s.Feature, s.Value, s.Op, s.Threshold)
		}
	}
	if len(e.Farthest) > 0 {
		fmt.Fprintf(&b, "; farthest %s z=%.1f", e.Farthest[0].Feature, e.Farthest[0].Z)
	}
	return b.String()
}

// Explain classifies w and returns the evidence: features, probabilities, the
// decision path of the most confident tree and the features farthest from the
// predicted class.
func (c *Classifier) Explain(w *samples.Window) Explanation {
	w = c.Window(w)
	raw := Features(w)
	if v := c.variantFor(raw); v != c {
		return v.Explain(w)
	}
	var probs []float64
	res, _ := c.decide(raw, len(w.Samples), &probs)
	raw = c.set.masked(make([]float64, NumFeatures), raw)
	e := Explanation{Result: res, Features: map[string]float64{}, Probabilities: map[string]float64{}}
	names := FeatureNames()
	x := make([]float64, NumFeatures)
	for i, v := range raw {
		if !c.set.Uses(i) {
			x[i] = c.impute[i]
			continue
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			e.Imputed = append(e.Imputed, names[i])
			v = c.impute[i]
		} else {
			e.Features[names[i]] = v
		}
		x[i] = v
	}
	classes := c.model.Classes()
	for i, p := range probs {
		e.Probabilities[classes[i]] = p
	}
	pred, ok := c.classIndex[res.Predicted]
	if !ok {
		return e
	}
	e.Path = c.model.BestPath(x, names, res.Predicted)
	e.Farthest = c.farthest(pred, raw)
	return e
}

// farthest lists the three features farthest from class's training pods, by
// the guard whose ratio is the larger: when the process-structure gate
// decided, its features are the evidence.
func (c *Classifier) farthest(class int, raw []float64) []FeatureZ {
	if c.ood == nil {
		return nil
	}
	g := c.ood
	if _, structure := c.ood.Ratio(class, raw, c.thresholds.OODMargin); structure {
		g = c.ood.Structure
	}
	names := FeatureNames()
	var out []FeatureZ
	for j := 0; j < NumFeatures; j++ {
		if z := g.z(class, j, raw[j]); !math.IsNaN(z) {
			out = append(out, FeatureZ{Feature: names[j], Z: z})
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return math.Abs(out[a].Z) > math.Abs(out[b].Z) })
	if len(out) > 3 {
		out = out[:3]
	}
	return out
}
