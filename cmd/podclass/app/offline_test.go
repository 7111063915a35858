package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/trainer"
)

// run executes `podclass args…` in-process and returns stdout; it fails the
// test when the command fails.
func run(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := NewCommand(context.Background())
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		t.Fatalf("podclass %s: %v\nstderr:\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.Bytes()
}

// corpusSubset writes a pods CSV with the first perClass corpus pods (in name
// order, which mixes the machine shapes and loads) of each given class: the
// CLI's plumbing needs a few dozen pods, not the corpus, whose quality the
// trainer's tests measure.
func corpusSubset(t *testing.T, perClass int, classes ...string) (metricsFile, podsFile string, n int) {
	t.Helper()
	corpus := filepath.Join("..", "..", "..", "testdata", "corpus")
	in, err := os.Open(filepath.Join(corpus, "pods.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	rows, err := csv.NewReader(in).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	keep := map[string]bool{}
	for _, c := range classes {
		keep[c] = true
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	body := rows[1:]
	sort.SliceStable(body, func(i, j int) bool { return body[i][col["pod_name"]] < body[j][col["pod_name"]] })
	taken := map[string]int{}
	out := [][]string{rows[0]}
	for _, r := range body {
		if c := r[col["class"]]; keep[c] && taken[c] < perClass {
			taken[c]++
			out = append(out, r)
		}
	}
	podsFile = filepath.Join(t.TempDir(), "pods.csv")
	f, err := os.Create(podsFile)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(out); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(corpus, "metrics.lp"), podsFile, len(out) - 1
}

// TestOfflineCLIOnTheCorpus runs eval, train and classify the way
// docs/evaluation.md shows, on 12 recorded pods of each of three classes.
func TestOfflineCLIOnTheCorpus(t *testing.T) {
	lp, pods, n := corpusSubset(t, 12, "mysql", "nginx", "mosquitto")
	report := t.TempDir()

	var rep trainer.Report
	raw := run(t, "eval", "--metrics", lp, "--pods", pods, "--folds", "3", "--curves=false", "--tradeoff-margins", "0.1,1", "--report", report)
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatalf("eval output is not one JSON object: %v\n%s", err, raw)
	}
	var keys map[string]json.RawMessage
	_ = json.Unmarshal(raw, &keys)
	for _, k := range []string{"pods", "pod_accuracy", "sample_accuracy", "macro_f1", "per_class", "confusion", "abstained", "foreign_tradeoff"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("eval JSON lacks %q", k)
		}
	}
	if rep.Pods != n || rep.Folds != 3 || len(rep.PerClass) != 3 {
		t.Errorf("eval: %d pods in %d folds, %d classes; want %d pods, 3 folds, 3 classes", rep.Pods, rep.Folds, len(rep.PerClass), n)
	}
	if len(rep.ForeignTradeoff) != 2 || rep.ForeignTradeoff[0].ForeignUnknown < rep.ForeignTradeoff[1].ForeignUnknown {
		t.Errorf("trade-off %+v: the stricter margin must refuse at least as many foreign pods", rep.ForeignTradeoff)
	}
	for _, f := range []string{trainer.ReportJSON, trainer.ReportConfusionPNG, trainer.ReportTradeoffPNG} {
		if st, err := os.Stat(filepath.Join(report, f)); err != nil || st.Size() == 0 {
			t.Errorf("report file %s: %v", f, err)
		}
	}

	model := filepath.Join(t.TempDir(), "model.json")
	run(t, "train", "--metrics", lp, "--pods", pods, "--folds", "3", "--out", model, "--current", "none", "--min-macro-f1", "0.5", "--ood-margin", "0.8")
	m, err := classifier.LoadFile(model)
	if err != nil {
		t.Fatalf("the trained model does not load: %v", err)
	}
	if got := strings.Join(m.Manifest().Classes, ","); got != "mosquitto,mysql,nginx" {
		t.Errorf("model classes %s", got)
	}
	if m.Thresholds().OODMargin != 0.8 {
		t.Errorf("model margin %v, want the --ood-margin 0.8 it was trained with", m.Thresholds().OODMargin)
	}

	classify := func(args ...string) map[string]map[string]any {
		out := map[string]map[string]any{}
		sc := bufio.NewScanner(bytes.NewReader(run(t, append([]string{"classify", "--metrics", lp, "--pods", pods, "--model", model}, args...)...)))
		for sc.Scan() {
			var line map[string]any
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatalf("classify line %q: %v", sc.Text(), err)
			}
			for _, k := range []string{"namespace", "pod", "class", "confidence", "status", "samples"} {
				if _, ok := line[k]; !ok {
					t.Fatalf("classify line lacks %q: %s", k, sc.Text())
				}
			}
			out[line["namespace"].(string)+"/"+line["pod"].(string)] = line
		}
		return out
	}
	own, strict := classify(), classify("--ood-margin", "0.05")
	if len(own) != n || len(strict) != n {
		t.Fatalf("classify answered %d and %d pods, want %d", len(own), len(strict), n)
	}
	unknown := func(lines map[string]map[string]any) int {
		k := 0
		for _, l := range lines {
			if l["status"] != "classified" {
				k++
			}
		}
		return k
	}
	if unknown(strict) <= unknown(own) {
		t.Errorf("--ood-margin 0.05 answered unknown for %d pods, the model's own margin for %d: the override had no effect", unknown(strict), unknown(own))
	}
	for key, l := range strict {
		if l["status"] == "classified" && own[key]["status"] != "classified" {
			t.Errorf("%s is classified only under the stricter margin", key)
		}
	}
}
