package classifier

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sjwhitworth/golearn/base"

	"github.com/podclass/podclass/classifier/classifiertest"
	"github.com/podclass/podclass/samples"
)

func synthExamples(t testing.TB, classes []string, perClass, n int, seed int64) []Example {
	t.Helper()
	keys, labels, wins := classifiertest.Pods(classes, perClass, n, seed)
	out := make([]Example, len(keys))
	for i := range keys {
		out[i] = Example{Pod: keys[i], Class: labels[i], Window: wins[i]}
	}
	return out
}

func trainSynth(t testing.TB) *Classifier {
	t.Helper()
	cfg := DefaultTrainConfig()
	cfg.Forest.Trees = 10
	cfg.Families = map[string]string{"db": "data", "cache": "data", "web": "frontend"}
	c, err := Train(synthExamples(t, []string{"db", "cache", "web"}, 6, 30, 1), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTrainedModelClassifiesNewPodsOfKnownClasses(t *testing.T) {
	c := trainSynth(t)
	for _, e := range synthExamples(t, []string{"db", "cache", "web"}, 3, 6, 99) {
		r := c.Classify(e.Window)
		if r.Status != StatusClassified || r.Class != e.Class {
			t.Errorf("%s: got %+v, want %s", e.Pod, r, e.Class)
		}
		if r.Level != LevelClass || r.Family != c.Family(e.Class) {
			t.Errorf("%s: level %q family %q", e.Pod, r.Level, r.Family)
		}
	}
}

func TestAForeignServiceIsUnknown(t *testing.T) {
	c := trainSynth(t)
	for _, e := range synthExamples(t, []string{"foreign"}, 4, 6, 5) {
		r := c.Classify(e.Window)
		if r.Status != StatusUnknown || r.Class != Unknown {
			t.Errorf("%s: got %+v, want unknown", e.Pod, r)
		}
		if r.Distance <= 1 || !strings.Contains(r.Reason, "out of distribution") {
			t.Errorf("%s: distance %v reason %q", e.Pod, r.Distance, r.Reason)
		}
	}
}

func TestTooFewSamplesIsUnclassified(t *testing.T) {
	c := trainSynth(t)
	e := synthExamples(t, []string{"db"}, 1, 2, 3)[0]
	if r := c.Classify(e.Window); r.Status != StatusUnclassified || r.Samples != 2 || r.Class != Unknown {
		t.Fatalf("got %+v", r)
	}
}

// fixed returns a classifier whose model always answers probs.
func fixed(t *testing.T, classes []string, probs []float64, families map[string]string) *Classifier {
	t.Helper()
	m := ModelFunc{Labels: classes, Func: func([]float64) ([]float64, error) { return probs, nil }}
	c, err := New(m, make([]float64, NumFeatures), nil, DefaultThresholds(), families, Manifest{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDecisions(t *testing.T) {
	classes := []string{"apache", "nginx", "redis"}
	fam := map[string]string{"apache": "web", "nginx": "web", "redis": "cache"}
	x := make([]float64, NumFeatures)
	tests := map[string]struct {
		probs      []float64
		families   map[string]string
		wantStatus Status
		wantClass  string
		wantLevel  Level
		wantFamily string
		wantConf   float64
	}{
		"a sure class is answered with its family": {
			probs: []float64{0.05, 0.9, 0.05}, families: fam,
			wantStatus: StatusClassified, wantClass: "nginx", wantLevel: LevelClass, wantFamily: "web", wantConf: 0.9,
		},
		"unsure siblings but a sure family answer the family": {
			probs: []float64{0.45, 0.45, 0.1}, families: fam,
			wantStatus: StatusClassified, wantClass: "web", wantLevel: LevelFamily, wantFamily: "web", wantConf: 0.9,
		},
		"unsure siblings without families abstain": {
			probs: []float64{0.45, 0.45, 0.1}, families: nil,
			wantStatus: StatusUnknown, wantClass: Unknown, wantConf: 0.45,
		},
		"an unsure spread over families abstains": {
			probs: []float64{0.28, 0.28, 0.44}, families: fam,
			wantStatus: StatusUnknown, wantClass: Unknown, wantConf: 0.44,
		},
		"a family of one class is no fallback": {
			probs: []float64{0.2, 0.3, 0.5}, families: map[string]string{"redis": "cache"},
			wantStatus: StatusUnknown, wantClass: Unknown, wantConf: 0.5,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := fixed(t, classes, tc.probs, tc.families).ClassifyFeatures(x, 6)
			if r.Status != tc.wantStatus || r.Class != tc.wantClass || r.Level != tc.wantLevel || r.Family != tc.wantFamily {
				t.Fatalf("got %+v", r)
			}
			if math.Abs(r.Confidence-tc.wantConf) > 1e-9 {
				t.Fatalf("confidence %v, want %v", r.Confidence, tc.wantConf)
			}
		})
	}
}

func TestAModelErrorAbstainsInsteadOfCrashing(t *testing.T) {
	m := ModelFunc{Labels: []string{"a", "b"}, Func: func([]float64) ([]float64, error) { return nil, errors.New("boom") }}
	c, err := New(m, make([]float64, NumFeatures), nil, DefaultThresholds(), nil, Manifest{})
	if err != nil {
		t.Fatal(err)
	}
	if r := c.ClassifyFeatures(make([]float64, NumFeatures), 6); r.Status != StatusUnknown || !strings.Contains(r.Reason, "boom") {
		t.Fatalf("got %+v", r)
	}
}

func TestModelRoundTripGivesTheSamePredictions(t *testing.T) {
	c := trainSynth(t)
	path := filepath.Join(t.TempDir(), "model.json")
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Manifest().ModelVersion != c.Manifest().ModelVersion || back.Manifest().ModelVersion == "" {
		t.Fatalf("model version %q, want %q", back.Manifest().ModelVersion, c.Manifest().ModelVersion)
	}
	for _, e := range synthExamples(t, []string{"db", "cache", "web", "foreign"}, 3, 8, 42) {
		a, b := c.Classify(e.Window), back.Classify(e.Window)
		if a != b {
			t.Fatalf("%s: before %+v, after %+v", e.Pod, a, b)
		}
	}
	again, _ := json.Marshal(back)
	first, _ := json.Marshal(c)
	if !bytes.Equal(first, again) {
		t.Fatal("saving a loaded model changes the file")
	}
}

func TestLoadingAModelWithAnotherFeatureSchemaFails(t *testing.T) {
	c := trainSynth(t)
	raw, _ := json.Marshal(c)
	tests := map[string]func(m map[string]any){
		"another schema version": func(m map[string]any) { m["version"] = "0" },
		"another schema name":    func(m map[string]any) { m["name"] = "other" },
		"reordered features": func(m map[string]any) {
			n := m["names"].([]any)
			n[0], n[1] = n[1], n[0]
		},
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			var f map[string]any
			_ = json.Unmarshal(raw, &f)
			mutate(f["manifest"].(map[string]any)["feature_schema"].(map[string]any))
			bad, _ := json.Marshal(f)
			_, err := Load(bad)
			if !errors.Is(err, ErrSchemaMismatch) {
				t.Fatalf("err = %v, want ErrSchemaMismatch", err)
			}
			if !strings.Contains(err.Error(), "retrain") {
				t.Fatalf("error does not say what to do: %v", err)
			}
		})
	}
}

func TestExplainGivesTheDecisionPath(t *testing.T) {
	c := trainSynth(t)
	e := c.Explain(synthExamples(t, []string{"web"}, 1, 6, 7)[0].Window)
	if e.Result.Class != "web" || e.Path == nil || len(e.Path.Steps) == 0 {
		t.Fatalf("explanation %+v", e)
	}
	s := e.String()
	if !strings.Contains(s, "classified web") || !strings.Contains(s, e.Path.Steps[0].Feature) {
		t.Fatalf("short form %q", s)
	}
	if _, err := json.Marshal(e); err != nil {
		t.Fatal(err)
	}
}

func TestGolearnPanicsBecomeErrors(t *testing.T) {
	// An instance grid without a class attribute makes golearn panic.
	inst := base.NewDenseInstances()
	inst.AddAttribute(base.NewFloatAttribute("x"))
	_ = inst.Extend(3)
	_, err := fitGolearnTree(inst, map[int]int{0: 0, 1: 1, 2: 2}, &splitRule{nclass: 2, minSplit: 2})
	if err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("err = %v, want a contained panic", err)
	}
}

func TestTrainingRefusesBadInput(t *testing.T) {
	tests := map[string][]Example{
		"no pods":    nil,
		"one class":  synthExamples(t, []string{"db"}, 3, 10, 1),
		"short pods": synthExamples(t, []string{"db", "web"}, 3, 1, 1),
	}
	for name, ex := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := Train(ex, DefaultTrainConfig()); err == nil {
				t.Fatal("want an error")
			}
		})
	}
	ts := &TrainingSet{X: [][]float64{{math.NaN()}, {1}}, Y: []int{0, 1}, Groups: []int{0, 1}, Classes: []string{"a", "b"}, Names: []string{"f"}}
	if _, err := FitForest(ts, DefaultForestConfig()); err == nil {
		t.Fatal("want an error for a NaN feature")
	}
}

func TestTrainingIsReproducible(t *testing.T) {
	a, b := trainSynth(t), trainSynth(t)
	// The version's timestamp and "created" say when a model was made, so two
	// trainings a second apart differ there; everything else, including the
	// version's hash of the fitted model, must be identical.
	for _, top := range []*Classifier{a, b} {
		top.stampVersion()
		for c := top; c != nil; c = c.fallback {
			c.manifest.Created = ""
			c.manifest.ModelVersion = c.manifest.ModelVersion[strings.LastIndexByte(c.manifest.ModelVersion, '-')+1:]
		}
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) || a.manifest.ModelVersion == "" {
		t.Fatalf("two trainings with the same seed differ (model hashes %q, %q)", a.manifest.ModelVersion, b.manifest.ModelVersion)
	}
}

func TestTheEmbeddedDefaultModelLoads(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Classes()) < 2 {
		t.Fatalf("classes %v", c.Classes())
	}
	w := &samples.Window{Samples: synthExamples(t, []string{"web"}, 1, 6, 1)[0].Window.Samples}
	_ = c.Classify(w) // any answer, no panic
}

func FuzzLoad(f *testing.F) {
	c := trainSynth(f)
	raw, _ := json.Marshal(c)
	f.Add(raw)
	// The same small model with a process-structure gate.
	rows, y, groups := oodRows(rand.New(rand.NewSource(7)), 6, 4)
	for i := range y {
		y[i] = i % len(c.Classes())
	}
	c.ood.Structure = FitOOD(rows, y, groups, len(c.Classes()), DefaultOODConfig()).Structure
	withGate, _ := json.Marshal(c)
	if _, err := Load(withGate); err != nil {
		f.Fatalf("the seed with a structure gate does not load: %v", err)
	}
	f.Add(withGate)
	f.Add(DefaultModelJSON())
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"manifest":{"format_version":1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Load(data)
		if err != nil {
			return
		}
		// A model that loads must classify without panicking.
		x := make([]float64, NumFeatures)
		rng := rand.New(rand.NewSource(int64(len(data))))
		for i := range x {
			x[i] = rng.NormFloat64() * 10
		}
		_ = m.ClassifyFeatures(x, 6)
		_ = m.Explain(synthWindowForFuzz())
	})
}

func synthWindowForFuzz() *samples.Window {
	_, _, w := classifiertest.Pods([]string{"db"}, 1, 6, 1)
	return w[0]
}

func TestMain(m *testing.M) {
	os.Exit(m.Run())
}

func TestSeparationNeedsAClearWinner(t *testing.T) {
	classes := []string{"a", "b", "c", "d"}
	x := make([]float64, NumFeatures)
	tests := map[string]struct {
		probs      []float64
		wantStatus Status
	}{
		"three times the runner-up is a clear winner": {[]float64{0.3, 0.1, 0.1, 0.1}, StatusClassified},
		"a near tie abstains":                         {[]float64{0.3, 0.25, 0.25, 0.2}, StatusUnknown},
		"below the probability floor abstains":        {[]float64{0.15, 0.01, 0.01, 0.01}, StatusUnknown},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := fixed(t, classes, tc.probs, nil)
			th := c.Thresholds()
			th.Class, th.Separation = 0.2, 2
			r := c.WithThresholds(th).ClassifyFeatures(x, 6)
			if r.Status != tc.wantStatus {
				t.Fatalf("got %+v", r)
			}
			if want := tc.probs[0] / tc.probs[1]; math.Abs(r.Separation-want) > 1e-9 {
				t.Errorf("separation %v, want %v", r.Separation, want)
			}
		})
	}
}

func TestEachWindowIsDecidedByTheRichestSetItCarries(t *testing.T) {
	classes := []string{"a", "b", "c"}
	mk := func(set FeatureSet, probs []float64) *Classifier {
		m := ModelFunc{Labels: classes, Func: func([]float64) ([]float64, error) { return probs, nil }}
		c, err := New(m, make([]float64, NumFeatures), nil, DefaultThresholds(), nil, Manifest{FeatureSet: set})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	proc, base, core := mk(SetProcess, []float64{0.9, 0.05, 0.05}), mk(SetBase, []float64{0.05, 0.9, 0.05}), mk(SetCore, []float64{0.05, 0.05, 0.9})
	without := func(groups ...func(int) bool) []float64 {
		x := make([]float64, NumFeatures)
		for j := range x {
			for _, g := range groups {
				if g(j) {
					x[j] = math.NaN()
				}
			}
		}
		return x
	}
	process := func(j int) bool { return j >= firstProcessFeature }
	model := proc.WithFallback(base.WithFallback(core))
	for _, tc := range []struct {
		name  string
		x     []float64
		class string
		set   FeatureSet
	}{
		{"every group", without(), "a", SetProcess},
		{"no page faults: the process set does not use them", without(faultFeature), "a", SetProcess},
		{"no process metrics", without(process), "b", SetBase},
		{"neither", without(process, faultFeature), "c", SetCore},
	} {
		if r := model.ClassifyFeatures(tc.x, 6); r.Class != tc.class || r.FeatureSet != tc.set {
			t.Errorf("%s: %+v, want %s by the %s set", tc.name, r, tc.class, tc.set)
		}
	}
	// Never from a whole imputed group: without a fallback the pod waits.
	if r := proc.ClassifyFeatures(without(process), 6); r.Status != StatusUnclassified {
		t.Errorf("process set alone on a window without process metrics: %+v, want unclassified", r)
	}
	if r := proc.WithFallback(base).ClassifyFeatures(without(process, faultFeature), 6); r.Status != StatusUnclassified {
		t.Errorf("process and base sets on a window with neither group: %+v, want unclassified", r)
	}
	if sets := model.FeatureSets(); len(sets) != 3 || sets[0] != SetProcess || sets[1] != SetBase || sets[2] != SetCore {
		t.Errorf("FeatureSets = %v", sets)
	}
}

func TestFeatureSetsMaskWhatTheyDoNotUse(t *testing.T) {
	x := make([]float64, NumFeatures)
	for _, s := range []FeatureSet{SetProcess, SetBase, SetCore} {
		m := s.masked(make([]float64, NumFeatures), x)
		for j, v := range m {
			if want := s.Uses(j); want == math.IsNaN(v) {
				t.Errorf("%s set, feature %s: masked to %v, uses %v", s, featureNames[j], v, want)
			}
		}
	}
	for j := range x {
		if SetCore.Uses(j) && !SetBase.Uses(j) {
			t.Errorf("core uses %s, which base does not", featureNames[j])
		}
		if faultFeature(j) && (SetProcess.Uses(j) || SetCore.Uses(j) || !SetBase.Uses(j)) {
			t.Errorf("fault feature %s: only the base set uses it", featureNames[j])
		}
		if j >= firstProcessFeature && (!SetProcess.Uses(j) || SetBase.Uses(j)) {
			t.Errorf("process feature %s: only the process set uses it", featureNames[j])
		}
	}
}

// TestSplitRuleFindsTheBestGain checks the split search, which keeps the
// entropies' sums up to date row by row, against the information gain
// computed directly at every threshold of every feature.
func TestSplitRuleFindsTheBestGain(t *testing.T) {
	entropy := func(counts []int, n int) float64 {
		var h float64
		for _, c := range counts {
			if c > 0 {
				p := float64(c) / float64(n)
				h -= p * math.Log2(p)
			}
		}
		return h
	}
	for seed := int64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewSource(seed))
		nclass, nfeat, rows := 2+rng.Intn(11), 1+rng.Intn(6), 2+rng.Intn(300)
		ts := &TrainingSet{Groups: make([]int, rows)}
		for c := 0; c < nclass; c++ {
			ts.Classes = append(ts.Classes, fmt.Sprintf("c%d", c))
		}
		for j := 0; j < nfeat; j++ {
			ts.Names = append(ts.Names, fmt.Sprintf("f%d", j))
		}
		for r := 0; r < rows; r++ {
			x := make([]float64, nfeat)
			y := rng.Intn(nclass)
			for j := range x {
				// Few distinct values, so ties between rows are common.
				x[j] = float64(rng.Intn(12)) + float64(y%3)*rng.Float64()
			}
			ts.X, ts.Y = append(ts.X, x), append(ts.Y, y)
		}
		inst, err := toInstances(ts)
		if err != nil {
			t.Fatal(err)
		}
		var want float64
		for j := 0; j < nfeat; j++ {
			vals := map[float64]bool{}
			for _, x := range ts.X {
				vals[x[j]] = true
			}
			all := make([]int, nclass)
			for _, y := range ts.Y {
				all[y]++
			}
			for thr := range vals {
				left, right := make([]int, nclass), make([]int, nclass)
				nl := 0
				for r, x := range ts.X {
					if x[j] <= thr {
						left[ts.Y[r]]++
						nl++
					} else {
						right[ts.Y[r]]++
					}
				}
				if nl == rows {
					continue
				}
				g := entropy(all, rows) - (float64(nl)*entropy(left, nl)+float64(rows-nl)*entropy(right, rows-nl))/float64(rows)
				want = math.Max(want, g)
			}
		}
		classAttrs := inst.AllClassAttributes()
		classSpec, err := inst.GetAttribute(classAttrs[0])
		if err != nil {
			t.Fatal(err)
		}
		s := &splitRule{nclass: nclass}
		_, _, got := s.best(inst, base.AttributeDifferenceReferences(inst.AllAttributes(), classAttrs), classSpec)
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("seed %d (%d classes, %d rows): best gain %v, want %v", seed, nclass, rows, got, want)
		}
	}
}
