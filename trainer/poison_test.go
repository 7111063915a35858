package trainer

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/classifier/classifiertest"
	"github.com/podclass/podclass/imagerules"
	"github.com/podclass/podclass/samples"
)

// synthDataset returns image-labelled pods: for each class, the namespaces'
// pod counts given.
func synthDataset(t *testing.T, counts map[string][]int) *Dataset {
	t.Helper()
	ds := &Dataset{}
	for class, perNS := range counts {
		total := 0
		for _, n := range perNS {
			total += n
		}
		_, _, wins := classifiertest.Pods([]string{class}, total, 8, 1)
		i := 0
		for ns, n := range perNS {
			for j := 0; j < n; j++ {
				key := samples.PodKey{Namespace: fmt.Sprintf("ns%d", ns), Name: fmt.Sprintf("%s-%02d", class, j)}
				ds.Labelled = append(ds.Labelled, PodData{Pod: Pod{Key: key}, Label: class, LabelSource: LabelFromImage, Window: wins[i]})
				i++
			}
		}
	}
	return ds
}

func TestScreenBoundsOneNamespacesShareOfAClass(t *testing.T) {
	tests := map[string]struct {
		counts   []int // pods per namespace of one class
		wantKept []int
	}{
		"a namespace with most of a class is cut to a third":       {counts: []int{20, 4, 4, 4, 4}, wantKept: []int{8, 4, 4, 4, 4}},
		"namespaces within a third keep every pod":                 {counts: []int{3, 3, 3}, wantKept: []int{3, 3, 3}},
		"two namespaces: the larger is cut to the smaller's count": {counts: []int{12, 3}, wantKept: []int{3, 3}},
		"a class from one namespace cannot be bounded and is kept": {counts: []int{9}, wantKept: []int{9}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ds := synthDataset(t, map[string][]int{"cache": tc.counts})
			cfg := DefaultScreenConfig()
			cfg.FarFactor = 0 // the share bound alone
			ds.Screen(cfg, nil)
			kept := make([]int, len(tc.counts))
			for _, p := range ds.Labelled {
				var i int
				fmt.Sscanf(p.Key.Namespace, "ns%d", &i)
				kept[i]++
			}
			if fmt.Sprint(kept) != fmt.Sprint(tc.wantKept) {
				t.Errorf("kept %v per namespace, want %v", kept, tc.wantKept)
			}
		})
	}
}

func TestScreenLeavesColumnLabelsAlone(t *testing.T) {
	ds := synthDataset(t, map[string][]int{"cache": {20, 1, 1}})
	for i := range ds.Labelled {
		ds.Labelled[i].LabelSource = LabelFromColumn
	}
	if dropped := ds.Screen(DefaultScreenConfig(), nil); len(dropped) > 0 {
		t.Errorf("dropped %d pods the operator labelled", len(dropped))
	}
}

// corpusAsCluster reads the recorded corpus as the trainer would see it in a
// cluster: every known pod labelled by its image.
func corpusAsCluster(t *testing.T) *Dataset {
	t.Helper()
	ds := loadRecorded(t, filepath.Join("..", "testdata", "corpus"))
	foreign := ds.ForeignClasses()
	var out []PodData
	for _, p := range ds.Labelled {
		if foreign[p.Label] {
			continue
		}
		p.LabelSource = LabelFromImage
		out = append(out, p)
	}
	ds.Labelled = out
	return ds
}

func fastTrain(t *testing.T, ds *Dataset, seed int64) *classifier.Classifier {
	t.Helper()
	cfg := classifier.DefaultTrainConfig()
	cfg.Forest.Trees = 40
	cfg.Forest.Seed = seed
	cfg.Calibration.Folds = 0
	m, err := classifier.Train(ds.Examples(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestScreenDropsPodsFarFromTheirClass(t *testing.T) {
	ds := synthDataset(t, map[string][]int{"db": {3, 3, 3}})
	// A tenant runs something else entirely under the db image.
	keys, _, wins := classifiertest.Pods([]string{"foreign"}, 3, 8, 2)
	for i := range keys {
		ds.Labelled = append(ds.Labelled, PodData{Pod: Pod{Key: samples.PodKey{Namespace: "tenant", Name: keys[i].Name}}, Label: "db", LabelSource: LabelFromImage, Window: wins[i]})
	}
	dropped := ds.Screen(DefaultScreenConfig(), nil)
	var got []string
	for _, d := range dropped {
		got = append(got, d.Pod)
	}
	// The lowest-load foreign pod may fall within reach of db's busiest.
	if len(got) < 2 || !strings.HasPrefix(strings.Join(got, " "), "tenant/") || strings.Count(strings.Join(got, " "), "tenant/") != len(got) {
		t.Errorf("dropped %v, want at least two of the tenant's three foreign pods and no db pod", got)
	}
}

// TestAPoisonedClassIsRefusedByTheReferenceGate: a tenant runs half of the
// corpus's real recorded redis pods under the image mysql:8 in one
// namespace, so the trainer labels their behaviour mysql (issue 12 item 8).
// The model trained on that passes its own held-out evaluation's kind of
// scrutiny no better than before, but the gate's reference set (real pods
// shipped with podclass) refuses it; a model trained on the honest pods with
// another seed passes, and the screen keeps the honest pods.
func TestAPoisonedClassIsRefusedByTheReferenceGate(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three models on the recorded corpus")
	}
	const victim, poison = "mysql", "redis"
	clean := corpusAsCluster(t)
	poisoned := corpusAsCluster(t)
	n, tenant := 0, map[string]bool{}
	for i, p := range poisoned.Labelled {
		if p.Label != poison {
			continue
		}
		n++
		if n%2 == 0 { // every other redis pod (name order): half the class
			continue
		}
		poisoned.Labelled[i].Key.Namespace = "tenant"
		poisoned.Labelled[i].Image = "mysql:8"
		poisoned.Labelled[i].Label = victim
		tenant[poisoned.Labelled[i].Key.String()] = true
	}
	if len(tenant) < 3 {
		t.Fatalf("the corpus has %d %s pods to poison with", len(tenant), poison)
	}
	ref, err := ReferencePods(imagerules.Default().IsMainContainer)
	if err != nil {
		t.Fatal(err)
	}
	serving := fastTrain(t, clean, 1)
	gate := Gate{Current: serving, Reference: ref, ReferenceTolerance: DefaultReferenceTolerance}

	t.Run("the gate refuses the model trained on the poisoned labels", func(t *testing.T) {
		var log strings.Builder
		err := gate.CheckReference(fastTrain(t, poisoned, 2), &log)
		t.Log(strings.TrimSpace(log.String()))
		if !errors.Is(err, ErrQualityGate) {
			t.Fatalf("the poisoned model passed the reference gate: %v", err)
		}
		t.Logf("refused: %v", err)
	})
	t.Run("a tenant teaching all of a class under another image is cut to its share", func(t *testing.T) {
		// Not refused by the gate: the class is gone from the candidate, as
		// from a model of a cluster that does not run it. The share bound
		// is what holds this one.
		all := corpusAsCluster(t)
		var honest, taught int
		honestByNamespace := map[string]int{}
		for i, p := range all.Labelled {
			switch p.Label {
			case poison:
				all.Labelled[i].Key.Namespace, all.Labelled[i].Image, all.Labelled[i].Label = "tenant", "mysql:8", victim
				taught++
			case victim:
				honest++
				honestByNamespace[p.Key.Namespace]++
			}
		}
		largestHonest := 0
		for _, n := range honestByNamespace {
			largestHonest = max(largestHonest, n)
		}
		cfg := DefaultScreenConfig()
		cfg.FarFactor = 0
		all.Screen(cfg, nil)
		kept := 0
		for _, p := range all.Labelled {
			if p.Key.Namespace == "tenant" {
				kept++
			}
		}
		// Its share is a third of the class's kept pods, or what the
		// largest honest namespace teaches if that is more (a class two
		// tenants run is still learnt): never more than both.
		if third := float64(honest+kept) / 3; float64(kept) > third+1e-9 && kept > largestHonest {
			t.Errorf("the tenant keeps %d of its %d pods beside %d honest ones: more than a third, and more than the largest honest namespace's %d", kept, taught, honest, largestHonest)
		}
		t.Logf("the tenant keeps %d of its %d pods beside %d honest %s pods (the largest honest namespace has %d)", kept, taught, honest, victim, largestHonest)
	})
	t.Run("a model of fewer classes, trained on the honest pods, passes", func(t *testing.T) {
		fewer := corpusAsCluster(t)
		fewer.Labelled = slices.DeleteFunc(fewer.Labelled, func(p PodData) bool { return p.Label == poison })
		var log strings.Builder
		if err := gate.CheckReference(fastTrain(t, fewer, 2), &log); err != nil {
			t.Errorf("refused: %v", err)
		}
		t.Log(strings.TrimSpace(log.String()))
	})
	t.Run("a model trained on the honest pods with another seed passes", func(t *testing.T) {
		var log strings.Builder
		if err := gate.CheckReference(fastTrain(t, clean, 3), &log); err != nil {
			t.Errorf("refused: %v", err)
		}
		t.Log(strings.TrimSpace(log.String()))
	})
	t.Run("the screen drops honest pods only by the share bound", func(t *testing.T) {
		// The share bound costs honest pods where one namespace runs more
		// than a third of a class — how many is the corpus's namespace
		// layout (TestScreenBoundsOneNamespacesShareOfAClass holds the
		// rule); the far check should cost none.
		var log strings.Builder
		honestPods := len(poisoned.Labelled) - len(tenant)
		var honest []Dropped
		for _, d := range poisoned.Screen(DefaultScreenConfig(), &log) {
			if !tenant[d.Pod] {
				honest = append(honest, d)
			}
		}
		t.Log(strings.TrimSpace(log.String()))
		t.Logf("the screen dropped %d of %d honest pods, by the share bound", len(honest), honestPods)
		for _, d := range honest {
			if !strings.Contains(d.Reason, "--max-namespace-share") {
				t.Errorf("an honest pod is dropped as far from its class: %+v", d)
			}
		}
	})
}
