package classifier

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestLoadRefusesModelsThatWouldWedgePods feeds Load the embedded model with
// one manifest field crafted as issue 12 found them accepted: each would
// have made every refiner patch fail (422) or every answer meaningless.
func TestLoadRefusesModelsThatWouldWedgePods(t *testing.T) {
	tests := map[string]struct {
		edit    func(m map[string]any)
		wantErr string // empty: loads
	}{
		"the embedded model loads": {edit: func(map[string]any) {}},
		"a 300 KB model version": {
			edit: func(m map[string]any) { m["model_version"] = strings.Repeat("v", 300<<10) }, wantErr: "model_version",
		},
		"a model version that is not a label value": {
			edit: func(m map[string]any) { m["model_version"] = "v1 (trusted)" }, wantErr: "model_version",
		},
		"a class name that is not a label value": {
			edit: func(m map[string]any) { m["classes"].([]any)[0] = "my sql!" }, wantErr: "classes[0]",
		},
		"a 64-character class name": {
			edit: func(m map[string]any) { m["classes"].([]any)[0] = strings.Repeat("a", 64) }, wantErr: "classes[0]",
		},
		"a family that is not a label value": {
			edit: func(m map[string]any) { m["families"].(map[string]any)["nginx"] = "web/server" }, wantErr: "families",
		},
		"a negative class threshold": {
			edit: func(m map[string]any) { th(m)["class"] = -1.0 }, wantErr: "thresholds.class",
		},
		"a class threshold above 1": {
			edit: func(m map[string]any) { th(m)["class"] = 1.5 }, wantErr: "thresholds.class",
		},
		"a zero family threshold": {
			edit: func(m map[string]any) { th(m)["family"] = 0.0 }, wantErr: "thresholds.family",
		},
		"an out-of-distribution margin of 1e300": {
			edit: func(m map[string]any) { th(m)["ood_margin"] = 1e300 }, wantErr: "ood_margin",
		},
		"a zero out-of-distribution margin": {
			edit: func(m map[string]any) { th(m)["ood_margin"] = 0.0 }, wantErr: "ood_margin",
		},
		"an override that lets the guard yield to almost every answer": {
			edit: func(m map[string]any) { th(m)["ood_override"] = 1.0 }, wantErr: "ood_override",
		},
		"min_samples of 1e9": {
			edit: func(m map[string]any) { th(m)["min_samples"] = 1e9 }, wantErr: "min_samples",
		},
		"min_samples above the window": {
			edit: func(m map[string]any) { th(m)["min_samples"] = 7.0 }, wantErr: "min_samples",
		},
		"min_samples of zero": {
			edit: func(m map[string]any) { th(m)["min_samples"] = 0.0 }, wantErr: "min_samples",
		},
		"an empty window": {
			edit: func(m map[string]any) { th(m)["window_samples"] = 0.0 }, wantErr: "window_samples",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var f map[string]any
			if err := json.Unmarshal(DefaultModelJSON(), &f); err != nil {
				t.Fatal(err)
			}
			tc.edit(f["manifest"].(map[string]any))
			raw, err := json.Marshal(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Load(raw)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("loaded, want an error naming %s", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Errorf("error %q does not name %s", err, tc.wantErr)
			}
		})
	}
}

func th(m map[string]any) map[string]any { return m["thresholds"].(map[string]any) }

// TestLoadRefusesTreesThatShareNodes: a stored forest is unfolded into its
// prediction layout node by node, so two parents of one node (a graph, not a
// tree) would be copied twice, and a chain of them doubles at every level.
// Such a file is refused with an error, in the model and in its fallback.
func TestLoadRefusesTreesThatShareNodes(t *testing.T) {
	// A file whose trees are in preorder stores no children, so no node can
	// have two parents; one that stores its children can. Store them.
	def, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	explicitChildren := func(forest map[string]any, c *Classifier) {
		raw, err := json.Marshal(c.model.(*Forest).encode(true))
		if err != nil {
			t.Fatal(err)
		}
		clear(forest)
		if err := json.Unmarshal(raw, &forest); err != nil {
			t.Fatal(err)
		}
	}
	shareAChild := func(forest map[string]any, c *Classifier) {
		explicitChildren(forest, c)
		feature, left, right := forest["feature"].([]any), forest["left"].([]any), forest["right"].([]any)
		for i := range feature {
			if feature[i].(float64) >= 0 {
				right[i] = left[i] // both branches to one child
				return
			}
		}
		t.Fatal("no inner node in the forest")
	}
	tests := map[string]func(f map[string]any){
		"the model's forest": func(f map[string]any) { shareAChild(f["forest"].(map[string]any), def) },
		"the fallback's forest": func(f map[string]any) {
			shareAChild(f["fallback"].(map[string]any)["forest"].(map[string]any), def.fallback)
		},
		"a root that is another tree's node": func(f map[string]any) {
			forest := f["forest"].(map[string]any)
			explicitChildren(forest, def)
			roots := forest["roots"].([]any)
			roots[1] = forest["left"].([]any)[int(roots[0].(float64))]
		},
	}
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			var f map[string]any
			if err := json.Unmarshal(DefaultModelJSON(), &f); err != nil {
				t.Fatal(err)
			}
			edit(f)
			raw, err := json.Marshal(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Load(raw); err == nil || !strings.Contains(err.Error(), "share nodes") {
				t.Fatalf("error %v, want one saying the trees share nodes", err)
			}
		})
	}
}
