package charts_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/internal/harness/testenv"
)

// TestPolicyExamplesReadPodclassKeys checks that every example in examples/
// is a well-formed object and reads the public podclass.io/class key. The
// policy engines' CRDs are not available here, so the engines themselves do
// not run.
func TestPolicyExamplesReadPodclassKeys(t *testing.T) {
	tests := map[string]string{
		"the Kyverno ClusterPolicy":         "kyverno-clusterpolicy.yaml",
		"the Gatekeeper ConstraintTemplate": "gatekeeper-constrainttemplate.yaml",
		"the Gatekeeper constraint":         "gatekeeper-constraint.yaml",
	}
	for name, file := range tests {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "examples", file))
			if err != nil {
				t.Fatal(err)
			}
			objs, err := testenv.DecodeObjects(raw)
			if err != nil || len(objs) != 1 {
				t.Fatalf("want one object, got %d (%v)", len(objs), err)
			}
			if objs[0].GetAPIVersion() == "" || objs[0].GetKind() == "" || objs[0].GetName() == "" {
				t.Errorf("incomplete object: %v", objs[0].Object)
			}
			if file != "gatekeeper-constraint.yaml" && !strings.Contains(string(raw), api.ClassAnnotation) {
				t.Errorf("does not read %s", api.ClassAnnotation)
			}
		})
	}
}
