package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/podclass/podclass/internal/harness/influxtest"
	"github.com/podclass/podclass/internal/harness/replay"
	"github.com/podclass/podclass/internal/harness/testenv"
	"github.com/podclass/podclass/modelstore"
	"github.com/podclass/podclass/samples"
	"github.com/podclass/podclass/samples/lineprotocol"
	"github.com/podclass/podclass/trainer"
)

// TestTrainFromClusterPublishesAModel runs `podclass train` as the chart's
// CronJob does — pods from the API, samples from InfluxDB, model into a
// ConfigMap — against a real apiserver and a real InfluxDB holding recorded
// behaviour of pods that exist in the cluster under the corpus's images.
func TestTrainFromClusterPublishesAModel(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	influx := influxtest.Start(t)
	ctx := context.Background()
	corpus := filepath.Join("..", "..", "..", "testdata", "corpus")
	mem, _, err := lineprotocol.LoadFile(ctx, filepath.Join(corpus, "metrics.lp"), lineprotocol.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pods, err := trainer.ReadPodsFile(filepath.Join(corpus, "pods.csv"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Key.String() < pods[j].Key.String() })
	env.Namespace(t, "podclass-system", false)
	env.Namespace(t, "shop", true)
	env.Namespace(t, "legacy", false)
	// Twelve pods of each of four classes (in name order, which mixes the
	// machine shapes and loads): the CronJob's path needs a cluster's worth of
	// pods, not the corpus, whose quality the trainer's tests measure.
	keep := map[string]int{"postgresql": 12, "redis": 12, "nginx": 12, "mosquitto": 12}
	var lp strings.Builder
	start := time.Now().Add(-2 * time.Hour)
	n := 0
	for _, p := range pods {
		if keep[p.Class] == 0 {
			continue
		}
		keep[p.Class]--
		// The pod exists under the corpus's image; its class comes from the image rules.
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: p.Key.Name},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: p.Image}}}}
		if err := env.Client.Create(ctx, pod); err != nil {
			t.Fatal(err)
		}
		b, err := replay.Encode(samples.DefaultSchema(), samples.PodKey{Namespace: "shop", Name: p.Key.Name}, mem.All()[p.Key].Samples, start.Add(time.Duration(n)*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		lp.Write(b)
		n++
	}
	influx.Write(lp.String())
	// A pod in a namespace that did not opt in is not learnt from.
	if err := env.Client.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "legacy", Name: "x"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "redis:7"}}}}); err != nil {
		t.Fatal(err)
	}

	t.Setenv("KUBECONFIG", kubeconfig(t, env))
	train := func(minF1 string) (string, error) {
		cmd := NewCommand(ctx)
		var out, errOut bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&errOut)
		cmd.SetArgs([]string{"train", "--from-cluster", "--influx-url", influx.URL, "--influx-database", influx.Bucket(),
			"--lookback", "3h", "--publish-configmap", "podclass-model", "--namespace", "podclass-system", "--folds", "4", "--min-macro-f1", minF1})
		err := cmd.Execute()
		return errOut.String(), err
	}
	if log, err := train("0.3"); err != nil {
		t.Fatalf("train: %v\n%s", err, log)
	} else {
		if !strings.Contains(log, "pods: "+strconv.Itoa(n)+" in opted-in namespaces") {
			t.Errorf("train did not list the %d opted-in pods:\n%s", n, log)
		}
		// The gate's evaluation holds out workloads (each of these bare
		// pods is its own), not rows or single replicas.
		if !strings.Contains(log, "grouped by workload") {
			t.Errorf("train from the cluster did not evaluate by workload:\n%s", log)
		}
	}
	cm := &corev1.ConfigMap{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "podclass-system", Name: "podclass-model"}, cm); err != nil {
		t.Fatalf("no model ConfigMap: %v", err)
	}
	m, err := modelstore.Decode(cm)
	if err != nil {
		t.Fatalf("the published model does not load: %v", err)
	}
	if got := strings.Join(m.Manifest().Classes, ","); got != "mosquitto,nginx,postgresql,redis" {
		t.Errorf("the model learnt classes %s, want the four in the cluster", got)
	}
	if cm.Annotations[modelstore.VersionAnnotation] != m.Manifest().ModelVersion {
		t.Errorf("ConfigMap names version %q, model is %q", cm.Annotations[modelstore.VersionAnnotation], m.Manifest().ModelVersion)
	}
	first := string(cm.BinaryData[modelstore.GzipKey])

	// The quality gate refuses a model below the bar and leaves the ConfigMap alone.
	if log, err := train("0.999"); err == nil || !strings.Contains(err.Error(), "quality gate") {
		t.Fatalf("train with an unreachable bar: error %v, want the quality gate's\n%s", err, log)
	}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "podclass-system", Name: "podclass-model"}, cm); err != nil {
		t.Fatal(err)
	}
	if string(cm.BinaryData[modelstore.GzipKey]) != first {
		t.Errorf("a refused model replaced the published one")
	}
}

// kubeconfig writes an admin kubeconfig for env.
func kubeconfig(t *testing.T, env *testenv.Env) string {
	u, err := env.AddUser(envtest.User{Name: "trainer", Groups: []string{"system:masters"}}, env.Config)
	if err != nil {
		t.Fatal(err)
	}
	b, err := u.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
