package demo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/podclass/podclass/internal/harness/tools"
)

// TestDemoRunsTheWholeSystem runs `make demo`'s job to the end on a cluster
// with simulated nodes: the Deployment, StatefulSet, Job and CronJob
// controllers create the pods, which run on the nodes; every pod of an
// opted-in namespace is decided from the behaviour replayed under the name
// its controller gave it, the others are left alone; a StatefulSet pod
// deleted once decided comes back under its name and is decided afresh; the
// report is written. It takes two to three minutes: the model reads 60 s of
// behaviour, replayed in real time, and the recreated pod 60 s more.
func TestDemoRunsTheWholeSystem(t *testing.T) {
	if testing.Short() {
		t.Skip("replays a minute of behaviour in real time; not run with -short")
	}
	var out bytes.Buffer
	dir := t.TempDir()
	err := Run(context.Background(), Options{
		AssetsDir: tools.EnvtestAssets(), KubeBinDir: tools.KubeBinDir(), Kwok: tools.Kwok(), Nodes: 3,
		InfluxBinary: tools.Influxd(), CorpusDir: filepath.Join("..", "..", "..", "testdata", "corpus"),
		ReportDir: dir, Out: &out, Deadline: 4 * time.Minute, Interval: 2 * time.Second,
	})
	if err != nil { // includes "not every pod was decided before the deadline"
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{
		"opted-in pods decided", "left alone as they should be (opted out / namespace not opted in): 2/2",
		// The controllers' pods, on the simulated nodes.
		"Deployment/web", "StatefulSet/db", "Job/backfill", "CronJob/nightly-backup", "kwok-node-", "Running",
		"the CronJob controller created Job nightly-backup-",
		"deleting pod shop/db-0",
		"stopping kwok, kube-scheduler and kube-controller-manager", "stopping kube-apiserver and etcd",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, s)
		}
	}
	// db-0's second incarnation is a pod of its own, decided from its own behaviour.
	if !regexp.MustCompile(`StatefulSet/db: pod shop/db-0 decided \S+ \((classified|unknown)\) in \S+, then deleted; recreated as a new pod \(UID \S+\), decided afresh: \S+ \((classified|unknown)\)`).MatchString(s) {
		t.Errorf("the summary does not show db-0 recreated and decided afresh:\n%s", s)
	}
	if _, err := os.Stat(filepath.Join(dir, "report.html")); err != nil {
		t.Errorf("no report: %v", err)
	}
	t.Log(s[strings.LastIndex(s, "summary:"):])
}
