package examples

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/podclass/podclass/internal/harness/tools"
)

// engine is one policy engine's offline CLI and the suite it runs on the
// examples: the expectations file says, case by case, what the engine must
// answer.
type engine struct {
	name string
	// bin is the CLI, built by `hack/tools.sh policy`.
	bin func() string
	// suite is the suite's directory under testdata/; its files refer to the
	// examples as ../../<file>.
	suite string
	// expectations is the file in suite holding the expected answers.
	expectations string
	// cases counts the cases in the expectations file (the answers the CLI
	// reports) and the entries that hold their expectations (one entry may
	// expect the same answer for several cases).
	cases func(raw []byte) (cases, entries int, err error)
	// flip reverses the expectation of every entry and reports how many it
	// reversed.
	flip func(raw []byte) ([]byte, int)
	// args runs the CLI on a suite directory.
	args func(dir string) []string
	// tally reads how many answers the CLI found as expected and how many not.
	tally func(out []byte) (matched, mismatched int, err error)
}

var engines = []engine{
	{
		name:         "kyverno test",
		bin:          tools.Kyverno,
		suite:        "kyverno",
		expectations: "kyverno-test.yaml",
		cases:        kyvernoCases,
		flip:         flipKyverno,
		// --require-tests: a directory without a test file is an error, not
		// "0 tests passed".
		args:  func(dir string) []string { return []string{"test", dir, "--require-tests", "--remove-color"} },
		tally: kyvernoTally,
	},
	{
		name:         "gator verify",
		bin:          tools.Gator,
		suite:        "gator",
		expectations: "suite.yaml",
		cases:        gatorCases,
		flip:         flipGator,
		args:         func(dir string) []string { return []string{"verify", "-v", dir} },
		tally:        gatorTally,
	},
}

// TestPolicyEngines has each engine evaluate the examples on its suite's pods
// and asserts it answers every case as expected. It then runs the engine on a
// copy whose every expectation is reversed and asserts that every case now
// fails. Both CLIs count a case they could not evaluate as passed — kyverno
// test a rule name it does not find, gator verify "violations: no" for a pod
// the constraint does not match — so only the reversed run shows that each
// case is decided by the policy.
func TestPolicyEngines(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the policy engines' CLIs (hack/tools.sh policy)")
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			bin := e.bin()
			if err := tools.Missing(bin, "policy"); err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(filepath.Join("testdata", e.suite, e.expectations))
			if err != nil {
				t.Fatal(err)
			}
			want, entries, err := e.cases(raw)
			if err != nil {
				t.Fatalf("counting the cases in %s: %v", e.expectations, err)
			}
			if want == 0 {
				t.Fatalf("%s holds no cases", e.expectations)
			}

			t.Run("answers as expected", func(t *testing.T) {
				out, err := run(t, bin, e.args(filepath.Join("testdata", e.suite))...)
				if err != nil {
					t.Fatalf("%s: %v\n%s", e.name, err, out)
				}
				matched, mismatched, err := e.tally(out)
				if err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				if matched != want || mismatched != 0 {
					t.Fatalf("%s answered %d of %d cases as expected, %d not\n%s", e.name, matched, want, mismatched, out)
				}
			})

			t.Run("fails every reversed expectation", func(t *testing.T) {
				dir := copySuite(t, e.suite)
				flipped, n := e.flip(raw)
				if n != entries {
					t.Fatalf("reversed %d expectations, want %d (every entry of %s)", n, entries, e.expectations)
				}
				if err := os.WriteFile(filepath.Join(dir, e.expectations), flipped, 0o644); err != nil {
					t.Fatal(err)
				}
				out, err := run(t, bin, e.args(dir)...)
				if err == nil {
					t.Fatalf("%s passed with every expectation reversed\n%s", e.name, out)
				}
				matched, mismatched, terr := e.tally(out)
				if terr != nil {
					t.Fatalf("%s: %v; %v\n%s", e.name, err, terr, out)
				}
				if matched != 0 || mismatched != want {
					t.Fatalf("with every expectation reversed, %s still answered %d cases as expected and %d of %d not\n%s",
						e.name, matched, mismatched, want, out)
				}
			})
		})
	}
}

// copySuite copies the examples and testdata/<suite> into a temporary
// directory laid out as here, so the suite's ../../ paths still name the
// examples, and returns the suite's directory in it.
func copySuite(t *testing.T, suite string) string {
	t.Helper()
	root := t.TempDir()
	examples, err := filepath.Glob("*.yaml")
	if err != nil || len(examples) == 0 {
		t.Fatalf("no examples (*.yaml) here: %v", err)
	}
	for _, f := range examples {
		copyFile(t, f, filepath.Join(root, f))
	}
	src := filepath.Join("testdata", suite)
	err = filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		copyFile(t, path, filepath.Join(root, path))
		return nil
	})
	if err != nil {
		t.Fatalf("copying %s: %v", src, err)
	}
	return filepath.Join(root, src)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	raw, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// run runs a CLI, bounded so a hung engine fails the test instead of the
// package's timeout, and returns its combined output.
func run(t *testing.T, bin string, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	// Neither CLI needs a cluster; an empty KUBECONFIG keeps a developer's
	// from being read.
	cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(t.TempDir(), "none"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		return out.Bytes(), fmt.Errorf("%s %s: %w", filepath.Base(bin), strings.Join(args, " "), ctx.Err())
	}
	return out.Bytes(), err
}

// kyvernoTest is the part of Kyverno's test file the test reads.
type kyvernoTest struct {
	Results []struct {
		Rule      string   `json:"rule"`
		Result    string   `json:"result"`
		Resources []string `json:"resources"`
	} `json:"results"`
}

// kyvernoCases counts the (rule, resource) pairs, for each of which kyverno
// test reports one row, and the result entries.
func kyvernoCases(raw []byte) (int, int, error) {
	var kt kyvernoTest
	if err := yaml.Unmarshal(raw, &kt); err != nil {
		return 0, 0, fmt.Errorf("reading the Kyverno test file: %w", err)
	}
	n := 0
	for _, r := range kt.Results {
		if r.Rule == "" || len(r.Resources) == 0 {
			// Without a rule or resources kyverno test checks every rule or
			// every resource, so its rows would not be the cases written here.
			return 0, 0, fmt.Errorf("result %+v names no rule or no resources", r)
		}
		n += len(r.Resources)
	}
	return n, len(kt.Results), nil
}

var kyvernoResult = regexp.MustCompile(`(?m)^(\s*result:\s*)(pass|fail|skip)\s*$`)

// flipKyverno expects fail where pass was expected and pass where fail or skip
// was.
func flipKyverno(raw []byte) ([]byte, int) {
	n := 0
	out := kyvernoResult.ReplaceAllFunc(raw, func(line []byte) []byte {
		m := kyvernoResult.FindSubmatch(line)
		opposite := "pass"
		if string(m[2]) == "pass" {
			opposite = "fail"
		}
		n++
		return append(append([]byte{}, m[1]...), opposite...)
	})
	return out, n
}

var kyvernoSummary = regexp.MustCompile(`Test Summary: (\d+) tests passed and (\d+) tests failed`)

// kyvernoTally reads kyverno test's summary; it counts a skip answered as
// expected among the passed.
func kyvernoTally(out []byte) (int, int, error) {
	m := kyvernoSummary.FindSubmatch(out)
	if m == nil {
		return 0, 0, fmt.Errorf("no test summary in kyverno's output")
	}
	passed, _ := strconv.Atoi(string(m[1]))
	failed, _ := strconv.Atoi(string(m[2]))
	return passed, failed, nil
}

// gatorSuite is the part of a gator Suite the test reads.
type gatorSuite struct {
	Tests []struct {
		Cases []struct {
			Name       string           `json:"name"`
			Assertions []map[string]any `json:"assertions"`
		} `json:"cases"`
	} `json:"tests"`
}

// gatorCases counts the suite's cases. Each must hold exactly one assertion,
// with a violations count, so that reversing it reverses the case.
func gatorCases(raw []byte) (int, int, error) {
	var s gatorSuite
	if err := yaml.Unmarshal(raw, &s); err != nil {
		return 0, 0, fmt.Errorf("reading the gator suite: %w", err)
	}
	n := 0
	for _, test := range s.Tests {
		for _, c := range test.Cases {
			if len(c.Assertions) != 1 {
				return 0, 0, fmt.Errorf("case %q has %d assertions, want 1", c.Name, len(c.Assertions))
			}
			if _, ok := c.Assertions[0]["violations"]; !ok {
				return 0, 0, fmt.Errorf("case %q asserts no violations count", c.Name)
			}
			n++
		}
	}
	return n, n, nil
}

var gatorViolations = regexp.MustCompile(`(?m)^(\s*-?\s*violations:\s*)(yes|no|\d+)\s*$`)

// flipGator expects violations where none were expected and none where some
// were: "no" becomes "yes", "yes" or a count becomes "no" (for an assertion
// with a message: no violation with that message).
func flipGator(raw []byte) ([]byte, int) {
	n := 0
	out := gatorViolations.ReplaceAllFunc(raw, func(line []byte) []byte {
		m := gatorViolations.FindSubmatch(line)
		opposite := "no"
		if string(m[2]) == "no" || string(m[2]) == "0" {
			opposite = "yes"
		}
		n++
		return append(append([]byte{}, m[1]...), opposite...)
	})
	return out, n
}

var gatorCase = regexp.MustCompile(`(?m)^    --- (PASS|FAIL): `)

// gatorTally counts gator verify -v's case lines.
func gatorTally(out []byte) (int, int, error) {
	var passed, failed int
	for _, m := range gatorCase.FindAllSubmatch(out, -1) {
		if string(m[1]) == "PASS" {
			passed++
		} else {
			failed++
		}
	}
	if passed+failed == 0 {
		return 0, 0, fmt.Errorf("no case results in gator's output")
	}
	return passed, failed, nil
}
