package trainer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/classifier/classifiertest"
	"github.com/podclass/podclass/imagerules"
	"github.com/podclass/podclass/samples"
)

func TestReadPods(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    []Pod
		wantErr string
	}{
		"the minimal header": {
			in:   "namespace,pod_name,image\nns,a,redis:7\n",
			want: []Pod{{Key: samples.PodKey{Namespace: "ns", Name: "a"}, Image: "redis:7"}},
		},
		"columns in any order, extra columns and a class": {
			in: "\ufeffImage, class ,extra,pod_name,namespace\nnginx:1,WEB,x,b,ns\n# comment\n\nhttpd,,y,c,ns\n",
			want: []Pod{{Key: samples.PodKey{Namespace: "ns", Name: "b"}, Image: "nginx:1", Class: "web", Columns: map[string]string{"extra": "x"}},
				{Key: samples.PodKey{Namespace: "ns", Name: "c"}, Image: "httpd", Columns: map[string]string{"extra": "y"}}},
		},
		"short rows read missing cells as empty": {
			in:   "namespace,pod_name,image,class\nns,a\n",
			want: []Pod{{Key: samples.PodKey{Namespace: "ns", Name: "a"}}},
		},
		"an empty file":          {in: "", wantErr: "empty file"},
		"a header without image": {in: "namespace,pod_name\nns,a\n", wantErr: "lacks column(s) image"},
		"a duplicated column":    {in: "namespace,pod_name,image,image\n", wantErr: "twice"},
		"no pods":                {in: "namespace,pod_name,image\n", wantErr: "no pods"},
		"an empty pod name":      {in: "namespace,pod_name,image\nns,,x\n", wantErr: "line 2"},
		"a duplicate pod":        {in: "namespace,pod_name,image\nns,a,x\nns,a,y\n", wantErr: "already listed on line 2"},
		"a broken quote":         {in: "namespace,pod_name,image\nns,\"a,x\n", wantErr: "pods csv"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ReadPods(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %+v", got)
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], tc.want[i]) {
					t.Fatalf("pod %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func FuzzReadPods(f *testing.F) {
	for _, s := range []string{
		"namespace,pod_name,image,class\nns,a,redis,cache\n",
		"image,namespace,pod_name\n\"x,y\",ns,p\n",
		"namespace,pod_name,image\nns,a\n",
		"\ufeffnamespace,pod_name,image\n#c\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pods, err := ReadPods(strings.NewReader(string(data)))
		if err == nil && len(pods) == 0 {
			t.Fatal("no error and no pods")
		}
		for _, p := range pods {
			if p.Key.Namespace == "" || p.Key.Name == "" {
				t.Fatalf("pod with an empty key: %+v", p)
			}
		}
	})
}

func synth(classes []string, perClass, n int, seed int64) ([]Pod, *samples.Memory) {
	keys, labels, wins := classifiertest.Pods(classes, perClass, n, seed)
	src := map[samples.PodKey]*samples.Window{}
	var pods []Pod
	for i, k := range keys {
		src[k] = wins[i]
		pods = append(pods, Pod{Key: k, Class: labels[i]})
	}
	return pods, samples.NewMemory(src)
}

func TestAssembleLabelsFromTheClassColumnThenTheImageRules(t *testing.T) {
	_, src := synth([]string{"db", "web"}, 2, 6, 1)
	pods := []Pod{
		{Key: samples.PodKey{Namespace: "synth", Name: "db-0"}, Image: "nginx:1", Class: "mysql"},
		{Key: samples.PodKey{Namespace: "synth", Name: "db-1"}, Image: "docker.io/library/postgres:16"},
		{Key: samples.PodKey{Namespace: "synth", Name: "web-0"}, Image: "example.com/acme/shop:1"},
		{Key: samples.PodKey{Namespace: "synth", Name: "web-1"}, Image: "::not an image::"},
		{Key: samples.PodKey{Namespace: "synth", Name: "absent"}, Image: "redis"},
	}
	ds, err := Assemble(context.Background(), src, pods, AssembleOptions{Labeler: RulesLabeler(imagerules.Default(), DefaultMinRuleConfidence), BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range ds.Labelled {
		got[p.Key.Name] = p.Label + "/" + p.LabelSource
	}
	want := map[string]string{"db-0": "mysql/" + LabelFromColumn, "db-1": "postgresql/" + LabelFromImage}
	if len(got) != len(want) || got["db-0"] != want["db-0"] || got["db-1"] != want["db-1"] {
		t.Fatalf("labelled %v, want %v", got, want)
	}
	if len(ds.Unlabelled) != 2 || len(ds.NoMetrics) != 1 || ds.NoMetrics[0].Name != "absent" {
		t.Fatalf("unlabelled %d, no metrics %v", len(ds.Unlabelled), ds.NoMetrics)
	}
}

func TestGroupedFoldsNeverSplitAPod(t *testing.T) {
	pods, src := synth([]string{"db", "cache", "web"}, 7, 12, 1)
	ds, err := Assemble(context.Background(), src, pods, AssembleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ex := ds.Examples()
	// A pod listed twice (two recordings) must stay on one side.
	ex = append(ex, ex[0])
	for _, k := range []int{2, 3, 5, 10} {
		folds, err := GroupedFolds(ex, k, 7)
		if err != nil {
			t.Fatal(err)
		}
		tested := map[samples.PodKey]int{}
		for fi, f := range folds {
			train := map[samples.PodKey]bool{}
			for _, i := range f.Train {
				train[ex[i].Pod] = true
			}
			perClass := map[string]int{}
			for _, i := range f.Test {
				if train[ex[i].Pod] {
					t.Fatalf("k=%d fold %d: pod %s in train and test", k, fi, ex[i].Pod)
				}
				tested[ex[i].Pod]++
				perClass[ex[i].Class]++
			}
			if k <= 7 {
				for _, c := range []string{"db", "cache", "web"} {
					if perClass[c] == 0 {
						t.Fatalf("k=%d fold %d has no %s pod (not stratified)", k, fi, c)
					}
				}
			}
			if len(f.Train)+len(f.Test) != len(ex) {
				t.Fatalf("fold %d loses examples", fi)
			}
		}
		if tested[ex[0].Pod] != 2 || len(tested) != 21 {
			t.Fatalf("k=%d: every pod must be tested exactly once (with all its examples)", k)
		}
	}
	if err := CheckDisjoint(ex, Fold{Train: []int{0}, Test: []int{len(ex) - 1}}); err == nil {
		t.Fatal("CheckDisjoint missed a pod on both sides")
	}
	if _, err := GroupedFolds(ex[:3], 5, 1); err == nil {
		t.Fatal("want an error for fewer pods than folds")
	}
}

func TestGroupedFoldsByScenarioHoldOutWholeScenarios(t *testing.T) {
	pods, src := synth([]string{"db", "cache", "web"}, 8, 12, 1)
	for i := range pods {
		// two pods per scenario: s0,s0,s1,s1,… within each class
		pods[i].Columns = map[string]string{"scenario": fmt.Sprintf("s%d", (i%8)/2)}
	}
	ds, err := Assemble(context.Background(), src, pods, AssembleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := ds.ExamplesGroupedBy("scenario")
	if err != nil {
		t.Fatal(err)
	}
	if ex[0].Group == "" || ex[0].Group != ex[1].Group || ex[0].Group == ex[2].Group {
		t.Fatalf("groups %q %q %q", ex[0].Group, ex[1].Group, ex[2].Group)
	}
	folds, err := GroupedFolds(ex, 4, 3)
	if err != nil {
		t.Fatal(err)
	}
	for fi, f := range folds {
		train := map[string]bool{}
		for _, i := range f.Train {
			train[ex[i].Group] = true
		}
		for _, i := range f.Test {
			if train[ex[i].Group] {
				t.Fatalf("fold %d: scenario %s on both sides", fi, ex[i].Group)
			}
		}
	}
	if err := CheckDisjoint(ex, Fold{Train: []int{0}, Test: []int{1}}); err == nil {
		t.Fatal("CheckDisjoint missed a scenario on both sides")
	}
	pods[3].Columns = nil
	ds, _ = Assemble(context.Background(), src, pods, AssembleOptions{})
	if _, err := ds.ExamplesGroupedBy("scenario"); err == nil {
		t.Fatal("want an error for a pod without a scenario")
	}
}

func testEvalConfig() EvalConfig {
	cfg := DefaultEvalConfig()
	cfg.Folds = 3
	cfg.Train.Forest.Trees = 8
	cfg.WindowLengths = []int{3, 6}
	cfg.LearningFractions = []float64{0.5, 1}
	cfg.OODMargins = []float64{0.25, 1, 4}
	return cfg
}

func TestEvaluateReportsHeldOutScoresAndPlots(t *testing.T) {
	pods, src := synth([]string{"db", "cache", "web"}, 6, 20, 3)
	ds, _ := Assemble(context.Background(), src, pods, AssembleOptions{})
	rep, err := Evaluate(ds.Examples(), testEvalConfig())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pods != 18 || rep.PodAccuracy < 0.9 || rep.MacroF1 < 0.9 || rep.SampleAccuracy < 0.8 {
		t.Fatalf("report %+v", rep)
	}
	if len(rep.WindowCurve) != 2 || len(rep.LearningCurve) != 2 || len(rep.LeaveOneClassOut) != 3 {
		t.Fatalf("curves %d %d loco %d", len(rep.WindowCurve), len(rep.LearningCurve), len(rep.LeaveOneClassOut))
	}
	// The trade-off curve: margin 1 is the models' own decision, so it
	// reproduces the headline; a stricter margin never refuses fewer foreign
	// pods, a looser one never more.
	if len(rep.ForeignTradeoff) != 3 {
		t.Fatalf("trade-off points %+v", rep.ForeignTradeoff)
	}
	if own := rep.ForeignTradeoff[1]; own.PodAccuracy != rep.PodAccuracy || own.ForeignUnknown != rep.ForeignUnknown || own.Abstained != rep.Abstained {
		t.Fatalf("margin 1 gives %+v, the headline accuracy %v foreign %v abstained %d", own, rep.PodAccuracy, rep.ForeignUnknown, rep.Abstained)
	}
	for i := 1; i < len(rep.ForeignTradeoff); i++ {
		a, b := rep.ForeignTradeoff[i-1], rep.ForeignTradeoff[i]
		if b.ForeignUnknown > a.ForeignUnknown || b.Abstained > a.Abstained {
			t.Fatalf("margin %v refuses more than the stricter %v: %+v vs %+v", b.OODMargin, a.OODMargin, b, a)
		}
	}
	total := 0
	for _, row := range rep.Confusion.Matrix {
		for _, v := range row {
			total += v
		}
	}
	if total != rep.Pods {
		t.Fatalf("confusion holds %d pods, want %d", total, rep.Pods)
	}
	dir := t.TempDir()
	files, err := WriteReport(dir, rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ReportJSON, ReportConfusionPNG, ReportLearningPNG, ReportWindowPNG, ReportTradeoffPNG} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if len(files) != 5 {
		t.Fatalf("files %v", files)
	}
	var back map[string]any
	raw, _ := os.ReadFile(filepath.Join(dir, ReportJSON))
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"pods", "pod_accuracy", "sample_accuracy", "macro_f1", "per_class", "confusion", "abstained", "family_accuracy"} {
		if _, ok := back[k]; !ok {
			t.Fatalf("report JSON lacks %q", k)
		}
	}
}

func TestTheQualityGate(t *testing.T) {
	pods, src := synth([]string{"db", "cache", "web"}, 6, 12, 3)
	ds, _ := Assemble(context.Background(), src, pods, AssembleOptions{})
	current, err := classifier.Train(ds.Examples(), classifier.DefaultTrainConfig())
	if err != nil {
		t.Fatal(err)
	}
	current.SetEvaluation([]byte(`{"macro_f1":0.97}`))
	tests := map[string]struct {
		gate    Gate
		f1      float64
		wantErr string
	}{
		"a good model passes":                            {gate: Gate{MinMacroF1: 0.9}, f1: 0.95},
		"a model below the minimum is refused":           {gate: Gate{MinMacroF1: 0.9}, f1: 0.85, wantErr: "below the minimum"},
		"a model worse than the current is refused":      {gate: Gate{MinMacroF1: 0.9, Current: current, Tolerance: 0.01}, f1: 0.93, wantErr: "below the current model"},
		"a model within tolerance of the current passes": {gate: Gate{MinMacroF1: 0.9, Current: current, Tolerance: 0.02}, f1: 0.96},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.gate.Check(&Report{MacroF1: tc.f1})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrQualityGate) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestTrainRefusesToPublishAWorseModelButWritesTheReport(t *testing.T) {
	pods, src := synth([]string{"db", "cache", "web"}, 6, 12, 3)
	ds, _ := Assemble(context.Background(), src, pods, AssembleOptions{})
	dir := t.TempDir()
	res, err := Train(ds, TrainOptions{Eval: testEvalConfig(), Gate: Gate{MinMacroF1: 1.01}, ReportDir: dir})
	if !errors.Is(err, ErrQualityGate) || res == nil || res.Model != nil || res.Report == nil {
		t.Fatalf("err = %v, res = %+v", err, res)
	}
	if _, err := os.Stat(filepath.Join(dir, ReportJSON)); err != nil {
		t.Fatal(err)
	}
	res, err = Train(ds, TrainOptions{Eval: testEvalConfig(), Gate: Gate{MinMacroF1: 0.5}})
	if err != nil || res.Model == nil {
		t.Fatalf("err = %v", err)
	}
	if f1, ok := RecordedMacroF1(res.Model); !ok || f1 != res.Report.MacroF1 {
		t.Fatalf("recorded macro-F1 %v %v, want %v", f1, ok, res.Report.MacroF1)
	}
}

// TestSeed2021 runs on the real seed-2021 recordings when SEED2021_DIR points
// at them; the dataset is not part of the repository.
func TestSeed2021(t *testing.T) {
	dir := os.Getenv("SEED2021_DIR")
	if dir == "" {
		t.Skip("SEED2021_DIR not set")
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
	src, pods, err := LoadSeed2021(paths...)
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) < 10 {
		t.Fatalf("%d pods", len(pods))
	}
	for k, w := range src.All() {
		if len(w.Samples) < 6 {
			t.Fatalf("%s has %d samples", k, len(w.Samples))
		}
	}
}

func TestSeed2021ConverterReadsTheRecorderFormat(t *testing.T) {
	csv := "podName,namespace,memoryUsageBytes,cpuUsageNanocores,logsfsUsedBytes,rootfsUsedBytes,imageSizeBytes,imageName,containerName,rx_bytes,tx_bytes,ioServiceRecursiveRead,ioServiceRecursiveWrite,usedBytesVolume,runningTimeSeconds,class\n" +
		"1,2,100,5000000,1,2,3,4,5,1000,2000,10,10,0,20,mysql\n" +
		"1,2,100,5000000,1,2,3,4,5,1500,2600,10,10,0,10,mysql\n"
	src, pods := map[samples.PodKey]*samples.Window{}, map[samples.PodKey]*Pod{}
	if err := ReadSeed2021(src, pods, strings.NewReader(csv), "test.csv"); err != nil {
		t.Fatal(err)
	}
	w := src[samples.PodKey{Namespace: "ns-2", Name: "pod-1"}]
	if w == nil || len(w.Samples) != 2 || pods[w.Pod].Class != "mysql" {
		t.Fatalf("window %+v", w)
	}
	if w.Samples[0].RxBytes != 1500 {
		t.Fatal("samples are not ordered by runningTimeSeconds")
	}
	if w.Samples[0].IOWriteBytes == w.Samples[0].IOWriteBytes {
		t.Fatal("write == read in every row must be read as a missing write counter")
	}
	var lp strings.Builder
	if err := WriteLineProtocol(&lp, src); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(lp.String(), "kubernetes_pod_network,namespace=ns-2,node_name=seed,pod_name=pod-1 rx_bytes=1500i,tx_bytes=2600i") {
		t.Fatalf("line protocol:\n%s", lp.String())
	}
}

// TestMachineHoldoutGroupsByScenarioAndLoad: holding out machines, a
// machine's recordings of a scenario are one group and the same scenario on
// another machine another, but both carry one load, which the inner
// threshold calibration holds out whole.
func TestMachineHoldoutGroupsByScenarioAndLoad(t *testing.T) {
	pods, src := synth([]string{"db", "cache"}, 4, 12, 1)
	for i := range pods {
		// scenario s0,s0,s1,s1 within each class, on machines m0,m1,m0,m1
		pods[i].Columns = map[string]string{"scenario": fmt.Sprintf("s%d", (i%4)/2), "machine": fmt.Sprintf("m%d", i%2)}
	}
	ds, err := Assemble(context.Background(), src, pods, AssembleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultEvalConfig()
	ex, err := ds.EvalExamples("machine", &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Holdout) != len(ex) || cfg.Holdout[0] == cfg.Holdout[1] {
		t.Fatalf("holdout %v", cfg.Holdout)
	}
	if ex[0].Group == ex[1].Group || ex[0].Group == ex[2].Group {
		t.Fatalf("groups %q %q %q: want one per machine's scenario", ex[0].Group, ex[1].Group, ex[2].Group)
	}
	if ex[0].Load == "" || ex[0].Load != ex[1].Load || ex[0].Load == ex[2].Load || ex[0].Load == ex[4].Load {
		t.Fatalf("loads %q %q %q %q: want one per class's scenario, across machines", ex[0].Load, ex[1].Load, ex[2].Load, ex[4].Load)
	}
	pods[3].Columns = map[string]string{"scenario": "s1"}
	ds, _ = Assemble(context.Background(), src, pods, AssembleOptions{})
	if _, err := ds.EvalExamples("machine", &cfg); err == nil {
		t.Fatal("want an error for a pod without a machine")
	}
}
