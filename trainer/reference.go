package trainer

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/samples/lineprotocol"
)

// The reference set: a few real recorded pods per class of the corpus
// (testdata/corpus), their first minutes of samples, chosen by rule by
// hack/reference (`go run ./hack/reference`) and shipped in the binary. It
// never comes from the cluster, so no tenant can change it.
var (
	//go:embed reference/pods.csv
	referencePods []byte
	//go:embed reference/metrics.lp
	referenceMetrics []byte
)

// DefaultReferenceTolerance is the drop of reference macro recall the gate
// allows: forests differ from run to run, and one of a class's five
// reference pods (one per machine shape) is 0.2 of its recall, 0.017 of the
// macro recall over the corpus's twelve classes (two honest retrainings
// differed by one pod).
const DefaultReferenceTolerance = 0.1

// ReferencePods returns the embedded reference set as labelled examples
// (the pods CSV's class column), sidecars left out by containers.
func ReferencePods(containers func(name string) bool) ([]classifier.Example, error) {
	pods, err := ReadPods(bytes.NewReader(referencePods))
	if err != nil {
		return nil, fmt.Errorf("reference set: %w", err)
	}
	mem, _, err := lineprotocol.Read(context.Background(), bytes.NewReader(referenceMetrics), lineprotocol.Options{Containers: containers})
	if err != nil {
		return nil, fmt.Errorf("reference set: %w", err)
	}
	ds, err := Assemble(context.Background(), mem, pods, AssembleOptions{})
	if err != nil {
		return nil, fmt.Errorf("reference set: %w", err)
	}
	if len(ds.Labelled) == 0 {
		return nil, fmt.Errorf("reference set: no labelled pod with samples")
	}
	return ds.Examples(), nil
}

// ReferenceRecall is how a model answers the reference pods: per class, the
// share of its pods classified as exactly that class.
type ReferenceRecall map[string]float64

// ScoreReference classifies the reference pods; a class m does not know
// scores 0.
func ScoreReference(m *classifier.Classifier, ref []classifier.Example) ReferenceRecall {
	right, n := map[string]int{}, map[string]int{}
	for _, e := range ref {
		n[e.Class]++
		if m.Classify(e.Window).Class == e.Class {
			right[e.Class]++
		}
	}
	out := ReferenceRecall{}
	for c, k := range n {
		out[c] = float64(right[c]) / float64(k)
	}
	return out
}

// CheckReference refuses candidate when, on the reference pods of the
// classes both it and Current know, its macro recall is below Current's by
// more than ReferenceTolerance, or it loses more than half of a class's pods
// Current gets right — what a model taught one class's behaviour under
// another's image does. Classes the candidate does not know are not judged:
// a cluster need not run every class, and a model of four classes answers
// real pods of the others as one of its four (the out-of-distribution guard
// does not catch them all) whether or not anyone poisoned it. Without
// Current or Reference there is nothing to compare.
func (g Gate) CheckReference(candidate *classifier.Classifier, progress io.Writer) error {
	if g.Current == nil || len(g.Reference) == 0 || candidate == nil {
		return nil
	}
	both := map[string]bool{}
	for _, c := range candidate.Classes() {
		both[c] = true
	}
	served := map[string]bool{}
	for _, c := range g.Current.Classes() {
		served[c] = both[c]
	}
	type tally struct{ pods, cur, cand int }
	per := map[string]*tally{}
	for _, e := range g.Reference {
		if !served[e.Class] {
			continue
		}
		t := per[e.Class]
		if t == nil {
			t = &tally{}
			per[e.Class] = t
		}
		t.pods++
		if g.Current.Classify(e.Window).Class != e.Class {
			continue
		}
		t.cur++
		if candidate.Classify(e.Window).Class == e.Class {
			t.cand++
		}
	}
	classes := make([]string, 0, len(per))
	for c := range per {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	var sumCur, sumCand float64
	var lost []string
	for _, c := range classes {
		t := per[c]
		sumCur += float64(t.cur) / float64(t.pods)
		sumCand += float64(t.cand) / float64(t.pods)
		if 2*t.cand < t.cur {
			lost = append(lost, fmt.Sprintf("%s %d/%d→%d/%d", c, t.cur, t.pods, t.cand, t.pods))
		}
	}
	if len(classes) == 0 {
		return nil
	}
	mCur, mCand := sumCur/float64(len(classes)), sumCand/float64(len(classes))
	progressf(progress, "reference set: %d pods, macro recall %.3f over %d classes (model in service %s: %.3f)\n",
		len(g.Reference), mCand, len(classes), g.Current.Manifest().ModelVersion, mCur)
	if len(lost) > 0 {
		return fmt.Errorf("%w: on the reference pods the model in service %s gets right it loses more than half of: %s",
			ErrQualityGate, g.Current.Manifest().ModelVersion, strings.Join(lost, ", "))
	}
	if mCand < mCur-g.ReferenceTolerance {
		return fmt.Errorf("%w: reference macro recall %.3f is below the model in service %s (%.3f) by more than %.3f",
			ErrQualityGate, mCand, g.Current.Manifest().ModelVersion, mCur, g.ReferenceTolerance)
	}
	return nil
}
