package trainer

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/imagerules"
	"github.com/podclass/podclass/samples"
	"github.com/podclass/podclass/samples/lineprotocol"
)

// The quality tests run on real recorded pods: the corpus (testdata/corpus,
// five machine shapes) and the other machine's recordings in
// ../shared/datasets. Their floors are the figures measured when the default
// model was trained (docs/evaluation.md) less a small allowance for the
// forest's randomness across Go versions; a change that makes the answers
// worse on machines the model never saw fails here.

// loadRecorded reads a recorded dataset the way `podclass eval` does:
// sidecars left out by the built-in rules' container names.
func loadRecorded(t testing.TB, dir string) *Dataset {
	t.Helper()
	rules := imagerules.Default()
	mem, _, err := lineprotocol.LoadFile(context.Background(), filepath.Join(dir, "metrics.lp"), lineprotocol.Options{Containers: rules.IsMainContainer})
	if err != nil {
		t.Fatal(err)
	}
	pods, err := ReadPodsFile(filepath.Join(dir, "pods.csv"))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := Assemble(context.Background(), mem, pods, AssembleOptions{Labeler: RulesLabeler(rules, DefaultMinRuleConfidence)})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func atLeast(t *testing.T, what string, got, floor float64) {
	t.Helper()
	if got < floor {
		t.Errorf("%s = %.3f, below its floor %.3f", what, got, floor)
	} else {
		t.Logf("%s = %.3f (floor %.3f)", what, got, floor)
	}
}

func atMost(t *testing.T, what string, got, ceiling float64) {
	t.Helper()
	if got > ceiling {
		t.Errorf("%s = %.3f, above its ceiling %.3f", what, got, ceiling)
	} else {
		t.Logf("%s = %.3f (ceiling %.3f)", what, got, ceiling)
	}
}

// TestLeaveMachineOutOnRecordedPods trains the shipped configuration on the
// corpus's other machine shapes and scores each shape's pods, real foreign
// services included.
func TestLeaveMachineOutOnRecordedPods(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model per machine shape of the corpus")
	}
	ds := loadRecorded(t, filepath.Join("..", "testdata", "corpus"))
	cfg := DefaultEvalConfig()
	cfg.WindowLengths, cfg.LearningFractions, cfg.LeaveOneClassOut, cfg.OODMargins = nil, nil, false, nil
	cfg.Train.Families = imagerules.Default().Families()
	examples, err := ds.EvalExamples("machine", &cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Evaluate(examples, cfg)
	if err != nil {
		t.Fatal(err)
	}
	op := rep.Operating
	t.Logf("%d known pods, %d foreign, %d folds", op.KnownPods, op.ForeignPods, rep.Folds)
	if op.ForeignPods == 0 {
		t.Fatal("the corpus has no foreign pods to score")
	}
	// Each foreign pod's answer is reported, and they are what was counted.
	answers := map[string]int{}
	for _, p := range rep.ForeignPredictions {
		if !cfg.Foreign[p.Truth] {
			t.Errorf("foreign prediction for %s/%s of known class %s", p.Namespace, p.Pod, p.Truth)
		}
		answers[p.Result.Class]++
	}
	if len(rep.ForeignPredictions) != op.ForeignPods || !maps.Equal(answers, op.ForeignAnswers) {
		t.Errorf("%d foreign predictions answering %v, want %d answering %v", len(rep.ForeignPredictions), answers, op.ForeignPods, op.ForeignAnswers)
	}
	atLeast(t, "precision of classified", op.ClassifiedPrecision, leaveMachineOutFloor.precision)
	atLeast(t, "coverage", op.Coverage, leaveMachineOutFloor.coverage)
	atMost(t, "unknown on known pods", op.UnknownOnKnown, leaveMachineOutFloor.unknownCeiling)
	atLeast(t, "real foreign pods answered unknown", op.ForeignUnknown, leaveMachineOutFloor.foreignUnknown)
	if rep.BaseSet == nil {
		t.Fatal("no base-set scores")
	}
	atLeast(t, "base set: precision of classified", rep.BaseSet.ClassifiedPrecision, leaveMachineOutFloor.basePrecision)
	if rep.CoreSet == nil {
		t.Fatal("no core-set scores")
	}
	atLeast(t, "core set: precision of classified", rep.CoreSet.ClassifiedPrecision, leaveMachineOutFloor.corePrecision)

	// Per shape: the four shapes inside the others' range of node sizes
	// (1–4 CPUs) keep the coverage they had before the 8-CPU shape joined;
	// the 8-CPU shape, held out, is asked about pools twice the largest the
	// others hold.
	machine := map[samples.PodKey]string{}
	for _, p := range ds.Labelled {
		machine[p.Key] = p.Columns["machine"]
	}
	byShape := map[string][]PodPrediction{}
	for _, p := range rep.Predictions {
		m := machine[samples.PodKey{Namespace: p.Namespace, Name: p.Pod}]
		byShape[m] = append(byShape[m], p)
	}
	for shape, floor := range shapeCoverageFloor {
		if len(byShape[shape]) == 0 {
			t.Errorf("no held-out pods of machine shape %s", shape)
			continue
		}
		o := operating(byShape[shape], nil, cfg.Train.Families, "")
		atLeast(t, shape+": coverage", o.Coverage, floor)
	}
}

// shapeCoverageFloor is each machine shape's coverage held out, just under
// what was measured (2026-12-07, five shapes): cpu1 0.957, cpu2 0.952,
// cpu4sim 0.971, small 0.978 — 0.964 over the four, as before the 8-CPU
// shape joined — and cpu8sim 0.809, where haproxy's eight threads and
// nginx's nine processes lie past every training shape.
var shapeCoverageFloor = map[string]float64{"cpu1": 0.94, "cpu2": 0.94, "cpu4sim": 0.94, "small": 0.94, "cpu8sim": 0.79}

// TestShippedModelOnAnotherMachinesRecordings scores the embedded default
// model on 73 pods recorded on another machine (no process metrics and no
// page faults: the core set decides), which it was never trained on.
func TestShippedModelOnAnotherMachinesRecordings(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "datasets", "other-machine-2026-11")
	if _, err := os.Stat(filepath.Join(dir, "metrics.lp")); err != nil {
		t.Skipf("the other machine's recordings are not beside the repository: %v", err)
	}
	ds := loadRecorded(t, dir)
	model, err := classifier.Default()
	if err != nil {
		t.Fatal(err)
	}
	op, _, _ := ScoreModel(model, ds.Examples(), nil, imagerules.Default().Families())
	t.Logf("%d pods: %d classified, %d wrong, coverage %.3f", op.KnownPods, op.Classified, op.Wrong, op.Coverage)
	if op.KnownPods < 70 {
		t.Fatalf("%d pods read, want the 73 recorded", op.KnownPods)
	}
	atLeast(t, "precision of classified", op.ClassifiedPrecision, otherMachineFloor.precision)
	atLeast(t, "coverage", op.Coverage, otherMachineFloor.coverage)
}

// TestShippedModelOnForeignServicesRecordedAfterItsDesign scores the
// embedded default model on testdata/foreign-holdout: twelve services
// recorded after the classifier's design and the model were fixed, in four
// rounds (nats, beanstalkd, mini-httpd; Tomcat, a gunicorn WSGI app, a
// Node.js app; InfluxDB, a uWSGI app, webfsd; Yaws, Alertmanager, a Starman
// app), never trained on, each round scored only after the rule it tested
// was fixed — the clean test of foreign → unknown that the corpus's own
// foreign pods, seen while the guard was designed, are not.
func TestShippedModelOnForeignServicesRecordedAfterItsDesign(t *testing.T) {
	ds := loadRecorded(t, filepath.Join("..", "testdata", "foreign-holdout"))
	model, err := classifier.Default()
	if err != nil {
		t.Fatal(err)
	}
	foreign := ds.ForeignClasses()
	if len(foreign) != 12 {
		t.Fatalf("foreign classes %v, want the 12 recorded", foreign)
	}
	op, _, preds := ScoreModel(model, ds.Examples(), foreign, imagerules.Default().Families())
	if op.ForeignPods != len(ds.Labelled) || op.ForeignPods < 94 || op.KnownPods != 0 {
		t.Fatalf("%d foreign and %d known pods scored of %d read, want every pod foreign", op.ForeignPods, op.KnownPods, len(ds.Labelled))
	}
	for _, p := range preds {
		t.Logf("%s %s: %s %s (%.2f)", p.Truth, p.Pod, p.Result.Status, p.Result.Predicted, p.Result.Confidence)
	}
	atLeast(t, "foreign pods answered unknown", op.ForeignUnknown, foreignHoldoutFloor)
}

// foreignHoldoutFloor is what the shipped model refused of the holdout's 96
// pods when they were recorded (2026-12-07): 44 of 96, 0.458 (7, 14, 3 and
// 20 of the four rounds' 24); the model trained with the 8-CPU shape
// refuses 52, 0.542 — the target is 0.90, far off; the floor keeps
// what is reached. Single-threaded C servers (beanstalkd,
// mini-httpd, webfsd) are answered mosquitto, NATS and Node.js memcached,
// InfluxDB etcd, Tomcat's JVM mysql, uWSGI's master and workers nginx,
// Alertmanager under traffic prometheus: built like those, idle like them
// (docs/evaluation.md).
const foreignHoldoutFloor = 0.53

// TestShippedModelOnASixteenCPUNode scores the shipped model on the twelve
// known classes recorded with a 16-CPU node's pool sizing
// (testdata/bignode-holdout), a node size no training shape has: nginx runs
// 17 processes there, haproxy 16 threads, where the largest training shape
// (8 CPUs) shows 9 and 8. Pods the model cannot place must be
// refused, not named wrongly.
func TestShippedModelOnASixteenCPUNode(t *testing.T) {
	ds := loadRecorded(t, filepath.Join("..", "testdata", "bignode-holdout"))
	model, err := classifier.Default()
	if err != nil {
		t.Fatal(err)
	}
	op, _, preds := ScoreModel(model, ds.Examples(), nil, imagerules.Default().Families())
	if op.KnownPods != len(ds.Labelled) || op.KnownPods < 24 {
		t.Fatalf("%d known pods scored of %d read, want all 24", op.KnownPods, len(ds.Labelled))
	}
	for _, p := range preds {
		t.Logf("%s %s: %s %s (%.2f, %s)", p.Truth, p.Pod, p.Result.Status, p.Result.Class, p.Result.Confidence, p.Result.Reason)
	}
	atLeast(t, "precision of classified on a 16-CPU node", op.ClassifiedPrecision, bigNodeFloor.precision)
	atLeast(t, "coverage on a 16-CPU node", op.Coverage, bigNodeFloor.coverage)
}

// bigNodeFloor: measured when the pods were recorded (2026-12-07), 17 of 24
// right and none wrong with training shapes of 1–4 CPUs (nginx, haproxy,
// rabbitmq and a ZooKeeper under writes refused by the structure gate); with
// the 8-CPU shape in training, 20 of 24 right and none wrong. The issue's
// precision 0.98 is the floor; the coverage floor keeps what is reached.
var bigNodeFloor = struct{ precision, coverage float64 }{precision: 0.98, coverage: 0.82}

// Floors measured on corpus v2 with the shipped configuration (2026-12-07,
// five machine shapes, 460 known pods with 13–15 loads per class, near-idle
// ones included, thresholds calibrated on held-out loads to the issue's
// precision 0.98, the process structure gated on its own, the guard over all
// features yielding to an answer ten times the runner-up's;
// docs/evaluation.md; the structure gate's CV features floored at 0.1):
// leave-machine-out precision of classified 0.989 and unknown on known pods
// 0.041 — the 0.98 and 0.05 are the floor and the ceiling —,
// coverage 0.941 (target 0.95, missed over five folds because of the 8-CPU
// one; each shape's floor is below), real foreign pods refused 0.867
// (target 0.90, missed), base and core set precision 0.989 and 1.000 (the
// issue's 0.95 is the floor). Missed targets' floors keep what is reached.
var leaveMachineOutFloor = struct {
	precision, coverage, unknownCeiling, foreignUnknown, basePrecision, corePrecision float64
}{precision: 0.98, coverage: 0.93, unknownCeiling: 0.05, foreignUnknown: 0.85, basePrecision: 0.95, corePrecision: 0.95}

// The shipped model on the other machine's 73 pods (no process metrics and
// no page faults there: the core set decides): precision 0.929 (26 of 28
// right, 14 of them family answers; the two wrong are family answers at
// 0.61, the class bar 0.60), coverage 0.192 — it answers little, and mostly
// right. The target 0.95 is missed by one answer (the model before the 8-CPU
// shape: 24 of 25); the floor keeps what is reached. Thresholds calibrated beside a
// twin recording gave 0.63–0.76 over four training seeds; a family bar below
// the class bar gave 0.833 (docs/evaluation.md).
var otherMachineFloor = struct{ precision, coverage float64 }{precision: 0.92, coverage: 0.18}
