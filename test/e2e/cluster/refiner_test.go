package cluster_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/internal/harness/influxtest"
	"github.com/podclass/podclass/internal/harness/localcluster"
	"github.com/podclass/podclass/internal/harness/replay"
	"github.com/podclass/podclass/refiner"
	"github.com/podclass/podclass/samples"
	"github.com/podclass/podclass/samples/influx"
	"github.com/podclass/podclass/samples/lineprotocol"
	"github.com/podclass/podclass/trainer"
)

// images names an image the rules know for each class the test may use.
var images = map[string]string{
	"mysql": "docker.io/bitnami/mariadb:11.4", "postgresql": "postgres:16", "redis": "redis:7", "memcached": "memcached:1.6",
	"nginx": "nginx:1.27", "apache": "httpd:2.4", "mosquitto": "eclipse-mosquitto:2", "haproxy": "haproxy:3.0",
}

// TestTheRefinerDecidesPodsControllersCreate runs the refiner in this process
// as the chart's refiner ServiceAccount (its RBAC, and the admission policy
// that lets only it write decisions) against recorded behaviour replayed into
// InfluxDB under the names the controllers gave the pods, read back from the
// API: a Deployment's pods are decided, then its rollout's (a new
// ReplicaSet, an in-house image only behaviour can name); a StatefulSet pod
// deleted and recreated under its name is decided afresh from its own
// behaviour, not given its predecessor's decision.
//
// The refiner's clock is moved forward instead of waiting a minute per pod;
// the samples are written at the pods' real creation times.
func TestTheRefinerDecidesPodsControllersCreate(t *testing.T) {
	c := world(t)
	t.Parallel()
	ctx := context.Background()
	const ns = "classified"
	namespace(t, c, ns)
	model, err := classifier.Default()
	if err != nil {
		t.Fatal(err)
	}
	rec := recordings(t, model)
	db := influxtest.Start(t)
	src, err := influx.NewSource(influx.Config{URL: db.URL, Bucket: db.Bucket(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	clock := clocktesting.NewFakeClock(time.Now())
	startRefiner(t, c, src, model, clock)

	play := func(t *testing.T, p *corev1.Pod, r recording) {
		t.Helper()
		lp, err := replay.Encode(samples.DefaultSchema(), samples.PodKey{Namespace: p.Namespace, Name: p.Name}, r.samples, p.CreationTimestamp.Add(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		db.Write(string(lp))
	}
	// decide moves the refiner's clock past 70 s of each pod's life and
	// waits until each is decided, then checks it was classified as want
	// from metrics, after its own creation.
	decide := func(t *testing.T, pods []corev1.Pod, want string) {
		t.Helper()
		for _, p := range pods {
			if at := p.CreationTimestamp.Add(70 * time.Second); at.After(clock.Now()) {
				clock.SetTime(at)
			}
		}
		for _, p := range pods {
			var a map[string]string
			waitFor(t, time.Minute, "pod "+p.Name+" to be decided", func() (bool, error) {
				got := &corev1.Pod{}
				if err := c.Client.Get(ctx, client.ObjectKeyFromObject(&p), got); err != nil {
					return false, err
				}
				if got.UID != p.UID {
					return false, fmt.Errorf("pod %s was replaced", p.Name)
				}
				a = got.Annotations
				return a[api.StatusAnnotation] != api.StatusPending, nil
			})
			at, err := time.Parse(time.RFC3339, a[api.ClassifiedAtAnnotation])
			if a[api.StatusAnnotation] != api.StatusClassified || a[api.ClassAnnotation] != want || a[api.SourceAnnotation] != api.SourceMetrics || err != nil || at.Before(p.CreationTimestamp.Time) {
				t.Errorf("pod %s (created %s): %v; want class %s from metrics, decided after its creation", p.Name, p.CreationTimestamp.Format(time.RFC3339), a, want)
			}
		}
		// Back to real time: a pod created next must not already be old
		// in the refiner's eyes, or it is decided from whatever part of
		// its samples is written by the first tick that sees it (on a
		// busy machine, 5 of 6: a different answer).
		clock.SetTime(time.Now())
	}
	pending := func(imageClass string) func(*corev1.Pod) error {
		return func(p *corev1.Pod) error {
			if err := running(p); err != nil {
				return err
			}
			if a := p.Annotations; a[api.StatusAnnotation] != api.StatusPending || a[api.ImageClassAnnotation] != imageClass {
				return fmt.Errorf("not annotated pending with image class %s: %v", imageClass, a)
			}
			return nil
		}
	}

	t.Run("a Deployment's pods, then its rollout's", func(t *testing.T) {
		class := pick(rec, "nginx")
		sel := map[string]string{"app": "web"}
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}, Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: sel},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: sel},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: images[class]}}}}}}
		if err := c.Client.Create(ctx, d); err != nil {
			t.Fatal(err)
		}
		v1 := waitPods(t, c, ns, sel, 2, "of web v1 running, pending", pending(class))
		for i := range v1 {
			play(t, &v1[i], rec[class][i%len(rec[class])])
		}
		decide(t, v1, rec[class][0].want)

		// The rollout: a new template, an image no rule names.
		patch := client.MergeFrom(d.DeepCopy())
		d.Spec.Template.Spec.Containers[0].Image = "registry.example.com:5000/acme/web:2.0"
		if err := c.Client.Patch(ctx, d, patch); err != nil {
			t.Fatal(err)
		}
		old := map[string]bool{v1[0].Labels[appsv1.DefaultDeploymentUniqueLabelKey]: true}
		v2 := waitPods(t, c, ns, sel, 2, "of web v2 running, pending, and none of v1", func(p *corev1.Pod) error {
			if old[p.Labels[appsv1.DefaultDeploymentUniqueLabelKey]] {
				return fmt.Errorf("of the old ReplicaSet")
			}
			return pending(api.ClassUnknown)(p)
		})
		for i := range v2 {
			play(t, &v2[i], rec[class][(i+1)%len(rec[class])])
		}
		decide(t, v2, rec[class][0].want)
	})

	t.Run("a StatefulSet pod recreated under its name is decided afresh", func(t *testing.T) {
		first, second := pickTwo(rec, "mysql")
		sel := map[string]string{"app": "db"}
		sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"}, Spec: appsv1.StatefulSetSpec{
			ServiceName: "db", Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: sel},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: sel},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: images[first.class]}}}}}}
		if err := c.Client.Create(ctx, sts); err != nil {
			t.Fatal(err)
		}
		was := waitPods(t, c, ns, sel, 1, "db-0 running, pending", pending(first.class))
		play(t, &was[0], first)
		decide(t, was, first.want)

		// The first incarnation's exporter stops with it: its samples,
		// written ahead of time for the refiner's fast clock, go before
		// the pod does, so none can be read as the new db-0's.
		// Every measurement's pod tags: the kubelet's (pod_name), the
		// docker input's labels and cAdvisor's (pod, the process
		// structure). Deleting pod_name alone left the first incarnation's
		// process structure to mix with the second's.
		for _, m := range samples.DefaultSchema().Measurements {
			for _, pt := range m.PodTags {
				q := fmt.Sprintf(`DELETE FROM %q WHERE %q = '%s' AND %q = 'db-0'`, m.Name, pt.Namespace, ns, pt.Pod)
				if out := db.Query(q); strings.Contains(out, `"error"`) {
					t.Fatalf("deleting the first db-0's samples (%s): %s", q, out)
				}
				q = fmt.Sprintf(`SELECT * FROM %q WHERE %q = '%s' AND %q = 'db-0'`, m.Name, pt.Namespace, ns, pt.Pod)
				if out := db.Query(q); strings.Contains(out, `"series"`) || strings.Contains(out, `"error"`) {
					t.Fatalf("the first db-0's samples are still there (%s): %s", q, out)
				}
			}
		}
		if err := c.Client.Delete(ctx, &was[0]); err != nil {
			t.Fatal(err)
		}
		now := waitPods(t, c, ns, sel, 1, "db-0 recreated, running, pending", func(p *corev1.Pod) error {
			if p.UID == was[0].UID {
				return fmt.Errorf("still the first incarnation")
			}
			return pending(first.class)(p)
		})
		if now[0].Name != "db-0" {
			t.Fatalf("the StatefulSet recreated %s, want db-0", now[0].Name)
		}
		// The new incarnation behaves otherwise: only its own samples can
		// give its decision.
		play(t, &now[0], second)
		decide(t, now, second.want)
	})
}

// startRefiner runs the refiner's manager as the chart's refiner
// ServiceAccount would, watching the chart's model ConfigMap (absent until
// the trainer publishes: the refiner keeps the model it starts with), until
// the test ends. Pods never time out: other tests'
// pods, which have no metrics here, stay pending.
func startRefiner(t *testing.T, c *localcluster.Cluster, src samples.Source, model *classifier.Classifier, clock *clocktesting.FakeClock) {
	t.Helper()
	cfg := rest.CopyConfig(c.Config)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + releaseNamespace + ":podclass-refiner",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + releaseNamespace, "system:authenticated"},
	}
	mo := refiner.ManagerOptions(releaseNamespace, "podclass-model")
	mo.LeaderElection = false
	mo.Metrics = metricsserver.Options{BindAddress: "0"}
	mgr, err := ctrl.NewManager(cfg, mo)
	if err != nil {
		t.Fatal(err)
	}
	o := refiner.DefaultOptions()
	o.Interval, o.MaxBackoff, o.MinWindow, o.Timeout = 100*time.Millisecond, 400*time.Millisecond, 30*time.Second, time.Hour
	o.RequireModelDigest = true
	r, err := refiner.Setup(mgr, o, src, refiner.NewModelHolder(model), releaseNamespace, "podclass-model")
	if err != nil {
		t.Fatal(err)
	}
	r.Clock = clock
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("refiner: %v", err)
		}
	})
}

// recording is one recorded pod of the corpus and what the model answers
// for its first window offline: its class, or its family when the model is
// sure only of that (both right).
type recording struct {
	class, want string
	samples     []samples.Sample
}

// recordings picks, per class the test has an image for, the recorded pods
// the model classifies rightly offline: the online path must reach the same
// answer from the same behaviour.
func recordings(t *testing.T, model *classifier.Classifier) map[string][]recording {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "testdata", "corpus")
	mem, _, err := lineprotocol.LoadFile(context.Background(), filepath.Join(dir, "metrics.lp"), lineprotocol.Options{})
	if err != nil {
		t.Fatalf("loading the corpus: %v", err)
	}
	pods, err := trainer.ReadPodsFile(filepath.Join(dir, "pods.csv"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Key.String() < pods[j].Key.String() })
	n := model.Thresholds().WindowSamples
	out := map[string][]recording{}
	for _, p := range pods {
		w := mem.All()[p.Key]
		if w == nil || len(w.Samples) < n || images[p.Class] == "" {
			continue
		}
		first := &samples.Window{Pod: p.Key, Samples: w.Samples[:n]}
		res := model.Classify(first)
		if res.Status == classifier.StatusClassified && (res.Class == p.Class || (res.Level == classifier.LevelFamily && res.Class == model.Family(p.Class))) {
			out[p.Class] = append(out[p.Class], recording{class: p.Class, want: res.Class, samples: first.Samples})
		}
	}
	if len(out) < 2 {
		t.Fatalf("the model classifies recorded pods of only %d classes rightly offline; want at least 2", len(out))
	}
	return out
}

// pick returns class if it has recordings, else the first class that has.
func pick(rec map[string][]recording, class string) string {
	if len(rec[class]) > 0 {
		return class
	}
	classes := make([]string, 0, len(rec))
	for c := range rec {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	return classes[0]
}

// pickTwo returns a recording of class (or another) and one the model
// answers differently.
func pickTwo(rec map[string][]recording, class string) (recording, recording) {
	first := rec[pick(rec, class)][0]
	classes := make([]string, 0, len(rec))
	for c := range rec {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	for _, c := range classes {
		if r := rec[c][0]; r.want != first.want {
			return first, r
		}
	}
	panic("every recording is answered alike")
}
