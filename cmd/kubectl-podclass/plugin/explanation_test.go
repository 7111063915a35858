package plugin

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/podclass/podclass/classifier"
)

func TestParseExplanation(t *testing.T) {
	tests := map[string]struct {
		text string
		want Explanation
	}{
		"a classified pod with its feature set, path and farthest feature": {
			text: "classified mysql p=0.93 d=0.41 [process features]: log_processes=2.3<=3.1 → threads_per_process=12>4.5; farthest log_sockets z=2.1",
			want: Explanation{Parsed: true, Status: "classified", Class: "mysql", Confidence: 0.93, Distance: 0.41, FeatureSet: "process",
				Path: []PathStep{
					{Feature: "log_processes", Value: "2.3", Op: "<=", Threshold: "3.1"},
					{Feature: "threads_per_process", Value: "12", Op: ">", Threshold: "4.5"},
				},
				Farthest: &FeatureZ{Feature: "log_sockets", Z: "2.1"}},
		},
		"a family answer names the most probable class": {
			text: "classified database p=0.88 d=0.70 [base features] (predicted mysql): cpu_cv=-0.5<=1e+03",
			want: Explanation{Parsed: true, Status: "classified", Class: "database", Confidence: 0.88, Distance: 0.7, FeatureSet: "base", Predicted: "mysql",
				Path: []PathStep{{Feature: "cpu_cv", Value: "-0.5", Op: "<=", Threshold: "1e+03"}}},
		},
		"an abstention without a path keeps the farthest feature": {
			text: "unknown unknown p=0.41 d=1.70 [process features] (predicted nginx); farthest log_rx_bytes_rate z=9.3",
			want: Explanation{Parsed: true, Status: "unknown", Class: "unknown", Confidence: 0.41, Distance: 1.7, FeatureSet: "process", Predicted: "nginx",
				Farthest: &FeatureZ{Feature: "log_rx_bytes_rate", Z: "9.3"}},
		},
		"a model without feature sets writes none": {
			text: "classified redis p=0.99 d=0.10",
			want: Explanation{Parsed: true, Status: "classified", Class: "redis", Confidence: 0.99, Distance: 0.1},
		},
		"an annotation cut in a step drops that step, whose number may be cut": {
			text: "classified redis p=0.99 d=0.10 [process features]: log_threads=1<=2 → log_sockets=3>2.2...",
			want: Explanation{Parsed: true, Status: "classified", Class: "redis", Confidence: 0.99, Distance: 0.1, FeatureSet: "process", Truncated: true, PathCut: true,
				Path: []PathStep{{Feature: "log_threads", Value: "1", Op: "<=", Threshold: "2"}}},
		},
		"an annotation cut in the farthest feature keeps the whole path": {
			text: "classified redis p=0.99 d=0.10 [process features]: log_threads=1<=2 → log_sockets=3>2.2; farthest log_net_bytes_per_cpu_sec...",
			want: Explanation{Parsed: true, Status: "classified", Class: "redis", Confidence: 0.99, Distance: 0.1, FeatureSet: "process", Truncated: true,
				Path: []PathStep{{Feature: "log_threads", Value: "1", Op: "<=", Threshold: "2"}, {Feature: "log_sockets", Value: "3", Op: ">", Threshold: "2.2"}}},
		},
		"an unclassified pod's sentence is kept as text": {
			text: "no usable metrics within 10m0s",
			want: Explanation{},
		},
		"a head that is not the classifier's is not parsed": {
			text: "classified redis p=high d=0.10",
			want: Explanation{},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.want.Text = tc.text
			if got := ParseExplanation(tc.text); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseExplanation(%q)\n got %+v\nwant %+v", tc.text, got, tc.want)
			}
		})
	}
}

// TestParseExplanationReadsWhatTheClassifierWrites holds the parser to the
// classifier's own format: if Explanation.String changes, this fails.
func TestParseExplanationReadsWhatTheClassifierWrites(t *testing.T) {
	tests := map[string]classifier.Explanation{
		"a classified answer with a path and the farthest feature": {
			Result: classifier.Result{Status: classifier.StatusClassified, Class: "postgresql", Confidence: 0.912, Distance: 0.333, FeatureSet: classifier.SetProcess},
			Path: &classifier.TreePath{Steps: []classifier.PathStep{
				{Feature: "log_fds_per_process", Value: 3.14159, Op: "<=", Threshold: 4.5},
				{Feature: "cpu_cv", Value: -0.25, Op: ">", Threshold: -1},
				{Feature: "log_rx_bytes_rate", Value: 123456, Op: ">", Threshold: 1e5},
			}},
			Farthest: []classifier.FeatureZ{{Feature: "log_sockets", Z: 2.46}, {Feature: "cpu_cv", Z: 1}},
		},
		"a family answer": {
			Result: classifier.Result{Status: classifier.StatusClassified, Class: "web", Predicted: "nginx", Confidence: 0.8, Distance: 0.9, FeatureSet: classifier.SetBase},
			Path:   &classifier.TreePath{Steps: []classifier.PathStep{{Feature: "io_read_share", Value: 0, Op: "<=", Threshold: 0.5}}},
		},
		"an abstention": {
			Result:   classifier.Result{Status: classifier.StatusUnknown, Class: "unknown", Predicted: "haproxy", Confidence: 0.3, Distance: 2.5, FeatureSet: classifier.SetProcess},
			Farthest: []classifier.FeatureZ{{Feature: "log_tx_bytes_rate", Z: 11}},
		},
	}
	for name, e := range tests {
		t.Run(name, func(t *testing.T) {
			text := e.String()
			got := ParseExplanation(text)
			if !got.Parsed {
				t.Fatalf("%q was not parsed", text)
			}
			r := e.Result
			if got.Status != string(r.Status) || got.Class != r.Class || got.FeatureSet != string(r.FeatureSet) {
				t.Errorf("%q: status %q class %q set %q, want %q %q %q", text, got.Status, got.Class, got.FeatureSet, r.Status, r.Class, r.FeatureSet)
			}
			if want := map[bool]string{true: r.Predicted, false: ""}[r.Predicted != r.Class]; got.Predicted != want {
				t.Errorf("%q: predicted %q, want %q", text, got.Predicted, want)
			}
			var steps []classifier.PathStep
			if e.Path != nil {
				steps = e.Path.Steps
			}
			if len(got.Path) != len(steps) {
				t.Fatalf("%q: %d path steps, want %d", text, len(got.Path), len(steps))
			}
			for i, s := range steps {
				if g := got.Path[i]; g.Feature != s.Feature || g.Op != s.Op {
					t.Errorf("%q: step %d is %+v, want %s %s", text, i, g, s.Feature, s.Op)
				}
			}
			switch {
			case len(e.Farthest) == 0 && got.Farthest != nil:
				t.Errorf("%q: farthest %+v, want none", text, got.Farthest)
			case len(e.Farthest) > 0 && (got.Farthest == nil || got.Farthest.Feature != e.Farthest[0].Feature):
				t.Errorf("%q: farthest %+v, want %s", text, got.Farthest, e.Farthest[0].Feature)
			}
		})
	}
}

func TestParseExplanationOfACutAnnotationKeepsOnlyWholeParts(t *testing.T) {
	full := "classified database p=0.93 d=0.41 [process features] (predicted mysql): log_processes=2.3<=3.1 → threads_per_process=12>4.5; farthest log_sockets z=2.1"
	whole := ParseExplanation(full)
	if !whole.Parsed || len(whole.Path) != 2 || whole.Farthest == nil {
		t.Fatalf("the whole text parses to %+v", whole)
	}
	for i := range len(full) {
		text := full[:i] + truncMarker
		e := ParseExplanation(text)
		if e.Text != text || !e.Truncated && e.Parsed {
			t.Fatalf("cut at %d: %+v", i, e)
		}
		if !e.Parsed {
			continue
		}
		head := Explanation{Parsed: true, Status: whole.Status, Class: whole.Class, Confidence: whole.Confidence, Distance: whole.Distance,
			FeatureSet: whole.FeatureSet, Predicted: whole.Predicted}
		got := e
		got.Text, got.Truncated, got.PathCut, got.Path, got.Farthest = "", false, false, nil, nil
		if !reflect.DeepEqual(got, head) {
			t.Errorf("cut at %d (%q): head %+v, want %+v", i, text, got, head)
		}
		if len(e.Path) > len(whole.Path) || !slices.Equal(e.Path, whole.Path[:len(e.Path)]) {
			t.Errorf("cut at %d (%q): path %+v is not a prefix of %+v", i, text, e.Path, whole.Path)
		}
		if e.Farthest != nil {
			t.Errorf("cut at %d (%q): farthest %+v from a cut annotation", i, text, e.Farthest)
		}
	}
	if e := ParseExplanation(full[:strings.Index(full, "; farthest")+len("; farthest log_sockets z=2")] + truncMarker); len(e.Path) != 2 {
		t.Errorf("a cut in the farthest feature lost path steps: %+v", e.Path)
	}
}
