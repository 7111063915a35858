package demo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podclass/podclass/internal/harness/tools"
)

// TestDemoRunsTheWholeSystem runs `make demo`'s job to the end: every pod of
// an opted-in namespace is decided from its replayed behaviour, the others
// are left alone, and the report is written. It takes about 90 s: the model
// reads 60 s of behaviour, replayed in real time.
func TestDemoRunsTheWholeSystem(t *testing.T) {
	if testing.Short() {
		t.Skip("replays a minute of behaviour in real time; not run with -short")
	}
	var out bytes.Buffer
	dir := t.TempDir()
	err := Run(context.Background(), Options{
		AssetsDir: tools.EnvtestAssets(), InfluxBinary: tools.Influxd(), CorpusDir: filepath.Join("..", "..", "..", "testdata", "corpus"),
		ReportDir: dir, Out: &out, Deadline: 3 * time.Minute, Interval: 2 * time.Second,
	})
	if err != nil { // includes "not every pod was decided before the deadline"
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{"opted-in pods decided", "left alone as they should be (opted out / namespace not opted in): 2/2", "stopping kube-apiserver and etcd"} {
		if !strings.Contains(s, want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, s)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "report.html")); err != nil {
		t.Errorf("no report: %v", err)
	}
	t.Log(s[strings.LastIndex(s, "summary:"):])
}
