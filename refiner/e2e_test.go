package refiner_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/internal/harness/influxtest"
	"github.com/podclass/podclass/internal/harness/replay"
	"github.com/podclass/podclass/internal/harness/testenv"
	"github.com/podclass/podclass/modelstore"
	"github.com/podclass/podclass/refiner"
	"github.com/podclass/podclass/samples"
	"github.com/podclass/podclass/samples/influx"
	"github.com/podclass/podclass/samples/lineprotocol"
	"github.com/podclass/podclass/trainer"
)

const (
	ownNamespace   = "podclass-system"
	modelConfigMap = "podclass-model"
	testTimeout    = 2 * time.Minute
)

// images names one image per class for the pods the test creates.
var images = map[string]string{
	"mysql": "mariadb:11.4", "postgresql": "postgres:16", "redis": "redis:7", "memcached": "memcached:1.6",
	"nginx": "nginx:1.27", "apache": "httpd:2.4", "mosquitto": "eclipse-mosquitto:2", "haproxy": "haproxy:3.0",
}

// recording is one recorded pod of the corpus and the class the embedded
// model gives it offline.
type recording struct {
	class string
	// want is the model's offline answer: the class, or its family when the
	// model is sure only of the family (both are right answers).
	want    string
	samples []samples.Sample
}

// corpusDir is the committed corpus; PODCLASS_CORPUS_DIR points elsewhere.
func corpusDir() string {
	if d := os.Getenv("PODCLASS_CORPUS_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "testdata", "corpus")
}

// recordings picks, per class, recorded pods that the embedded model
// classifies rightly offline (as their class, or as its family). The end-to-end test then shows the
// online path — webhook, InfluxDB, informer, tick, patch — reaches the same
// answer from the same behaviour.
func recordings(t *testing.T, model *classifier.Classifier) map[string][]recording {
	t.Helper()
	ctx := context.Background()
	mem, _, err := lineprotocol.LoadFile(ctx, filepath.Join(corpusDir(), "metrics.lp"), lineprotocol.Options{})
	if err != nil {
		t.Fatalf("loading the corpus: %v", err)
	}
	pods, err := trainer.ReadPodsFile(filepath.Join(corpusDir(), "pods.csv"))
	if err != nil {
		t.Fatalf("loading the corpus pods: %v", err)
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Key.String() < pods[j].Key.String() })
	out := map[string][]recording{}
	window := model.Thresholds().WindowSamples
	for _, p := range pods {
		w := mem.All()[p.Key]
		if w == nil || len(w.Samples) < window || images[p.Class] == "" {
			continue
		}
		first := &samples.Window{Pod: p.Key, Samples: w.Samples[:window]}
		res := model.Classify(first)
		if res.Status == classifier.StatusClassified && (res.Class == p.Class || (res.Level == classifier.LevelFamily && res.Class == model.Family(p.Class))) {
			out[p.Class] = append(out[p.Class], recording{class: p.Class, want: res.Class, samples: first.Samples})
		}
	}
	if len(out) < 3 {
		t.Fatalf("the embedded model classifies recorded pods of only %d classes correctly offline; want at least 3", len(out))
	}
	return out
}

type fixture struct {
	t   *testing.T
	top *testing.T // the test that owns the control plane
	env *testenv.Env
	// stopWebhook takes the webhook down.
	stopWebhook func()
	influx      *influxtest.Server
	source      *influx.Source
	clock       *clocktesting.FakeClock
	model       *classifier.Classifier
	rec         map[string][]recording
}

func newFixture(t *testing.T) *fixture {
	if testing.Short() {
		t.Skip("starts a control plane and InfluxDB")
	}
	env := testenv.Start(t, testenv.Options{Webhooks: []*admissionregistrationv1.MutatingWebhookConfiguration{testenv.PodWebhook(ownNamespace)}})
	stopWebhook := env.ServeWebhook(t)
	db := influxtest.Start(t)
	src, err := influx.NewSource(influx.Config{URL: db.URL, Bucket: db.Bucket(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	model, err := classifier.Default()
	if path := os.Getenv("PODCLASS_TEST_MODEL"); path != "" { // to try a model before it is embedded
		model, err = classifier.LoadFile(path)
	}
	if err != nil {
		t.Fatal(err)
	}
	env.Namespace(t, ownNamespace, false)
	return &fixture{t: t, top: t, env: env, stopWebhook: stopWebhook, influx: db, source: src, clock: clocktesting.NewFakeClock(time.Now()), model: model, rec: recordings(t, model)}
}

// startRefiner runs a refiner manager until the returned stop is called (or
// the test ends).
func (f *fixture) startRefiner(leaderElection bool) (*refiner.Refiner, func()) {
	rep := f.startReplica(replicaOptions{leaderElection: leaderElection})
	return rep.Refiner, rep.stop
}

// replicaOptions vary how startReplica runs a refiner.
type replicaOptions struct {
	leaderElection bool
	// leaseID is the Lease the replicas compete for (refiner.LeaderElectionID
	// if empty); a test of its own keeps earlier tests' leaders out.
	leaseID string
	// lease, renew and retry are the leader election timings; 3 s, 2 s and
	// 200 ms if zero, so that a lost lease is noticed within seconds.
	lease, renew, retry time.Duration
	// mayLoseLeadership expects the manager to end with "leader election
	// lost" (a replica would exit and be restarted) rather than failing the test.
	mayLoseLeadership bool
	// source wraps the metrics source the replica reads.
	source func(samples.Source) samples.Source
	// holdPatches, when set, holds the replica's patches (see patchRecorder).
	holdPatches *gate
}

// replica is one running refiner manager.
type replica struct {
	*refiner.Refiner
	name string
	// stop cancels the manager and waits for Start to return.
	stop func()
	// exited is closed when the manager's Start returned, with err.
	exited chan struct{}
	err    error
	// patches are the pod patches the refiner sent and their answers.
	patches *patchRecorder
	logs    *logBuffer
}

var replicaCount atomic.Int32

// startReplica runs a refiner manager as one replica would, with its own
// logger (captured in logs) and client (patches recorded), until stop or the
// end of the test.
func (f *fixture) startReplica(ro replicaOptions) *replica {
	t := f.t
	name := fmt.Sprintf("replica-%d", replicaCount.Add(1))
	logs := &logBuffer{}
	o := refiner.ManagerOptions(ownNamespace, modelConfigMap)
	o.LeaderElection = ro.leaderElection
	if ro.leaseID != "" {
		o.LeaderElectionID = ro.leaseID
	}
	lease, renew, retry := cmp.Or(ro.lease, 3*time.Second), cmp.Or(ro.renew, 2*time.Second), cmp.Or(ro.retry, 200*time.Millisecond)
	o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = &lease, &renew, &retry
	o.Metrics = metricsserver.Options{BindAddress: "0"}
	o.Controller = config.Controller{SkipNameValidation: ptr.To(true)}
	o.Logger = logs.logger(name)
	mgr, err := ctrl.NewManager(f.env.Config, o)
	if err != nil {
		t.Fatal(err)
	}
	opts := refiner.DefaultOptions()
	opts.Interval, opts.MaxBackoff, opts.MinWindow, opts.Timeout = 100*time.Millisecond, 400*time.Millisecond, 30*time.Second, testTimeout
	var src samples.Source = f.source
	if ro.source != nil {
		src = ro.source(src)
	}
	r, err := refiner.Setup(mgr, opts, src, refiner.NewModelHolder(f.model), ownNamespace, modelConfigMap)
	if err != nil {
		t.Fatal(err)
	}
	r.Clock = f.clock
	patches := &patchRecorder{Client: r.Client, hold: ro.holdPatches}
	r.Client = patches
	rep := &replica{Refiner: r, name: name, exited: make(chan struct{}), patches: patches, logs: logs}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(rep.exited)
		rep.err = mgr.Start(ctx)
		if rep.err != nil && !(ro.mayLoseLeadership && rep.err.Error() == "leader election lost") {
			t.Errorf("refiner manager %s: %v", name, rep.err)
		}
	}()
	var once sync.Once
	rep.stop = func() { once.Do(func() { cancel(); <-rep.exited }) }
	t.Cleanup(rep.stop)
	return rep
}

// running says whether the replica's manager still runs.
func (r *replica) running() bool {
	select {
	case <-r.exited:
		return false
	default:
		return true
	}
}

// patchRecorder is a replica's client for patches: it records every pod patch
// the refiner sends with the apiserver's answer and, while hold is armed,
// holds each patch until the gate opens and then sends it regardless of the
// refiner's context — a request already on the wire when the replica lost
// its lease.
type patchRecorder struct {
	client.Client
	hold *gate

	mu    sync.Mutex
	calls []patchCall
}

type patchCall struct {
	pod string
	err error
}

// String shows the apiserver's answer, so a failure says which error a
// patch met rather than the error's address.
func (c patchCall) String() string { return fmt.Sprintf("%s: %v", c.pod, c.err) }

func (c *patchRecorder) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	if c.hold != nil && c.hold.pass() {
		ctx = context.WithoutCancel(ctx)
	}
	err := c.Client.Patch(ctx, obj, patch, opts...)
	c.mu.Lock()
	c.calls = append(c.calls, patchCall{pod: obj.GetName(), err: err})
	c.mu.Unlock()
	return err
}

// sent returns the patches sent so far.
func (c *patchRecorder) sent() []patchCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// landed returns the pods whose patch the apiserver accepted, in order.
func (c *patchRecorder) landed() []string {
	var out []string
	for _, p := range c.sent() {
		if p.err == nil {
			out = append(out, p.pod)
		}
	}
	return out
}

// gate holds callers while armed, until the test opens it.
type gate struct {
	armed atomic.Bool
	held  atomic.Int32
	open  chan struct{}
	once  sync.Once
}

// newGate returns an unarmed gate that opens at the end of the test at the
// latest, so no caller stays held.
func newGate(t *testing.T) *gate {
	g := &gate{open: make(chan struct{})}
	t.Cleanup(g.release)
	return g
}

// pass holds the caller until the gate opens if it is armed, and says whether it held.
func (g *gate) pass() bool {
	if !g.armed.Load() {
		return false
	}
	g.held.Add(1)
	<-g.open
	return true
}

func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

// logBuffer keeps a replica's log lines, and prints them with -v.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *logBuffer) logger(name string) logr.Logger {
	return funcr.New(func(prefix, args string) {
		line := strings.TrimSpace(prefix + " " + args)
		b.mu.Lock()
		b.lines = append(b.lines, line)
		b.mu.Unlock()
		if testing.Verbose() {
			fmt.Fprintln(os.Stderr, name, line)
		}
	}, funcr.Options{})
}

// grep returns the lines that contain s.
func (b *logBuffer) grep(s string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, l := range b.lines {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

// createPod creates a pod through the API (and so through the webhook).
func (f *fixture) createPod(ns, name, image string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: image}}},
	}
	if err := f.env.Client.Create(context.Background(), p); err != nil {
		f.t.Fatalf("creating pod %s/%s: %v", ns, name, err)
	}
	return p
}

// play writes a recording into InfluxDB as the pod's own metrics, starting
// two seconds after the pod was created.
func (f *fixture) play(p *corev1.Pod, r recording) {
	lp, err := replay.Encode(samples.DefaultSchema(), samples.PodKey{Namespace: p.Namespace, Name: p.Name}, r.samples, p.CreationTimestamp.Add(2*time.Second))
	if err != nil {
		f.t.Fatal(err)
	}
	f.influx.Write(string(lp))
}

// optIn labels an existing namespace so that its pods opt in.
func (f *fixture) optIn(name string) {
	f.t.Helper()
	ns := &corev1.Namespace{}
	if err := f.env.Client.Get(context.Background(), client.ObjectKey{Name: name}, ns); err != nil {
		f.t.Fatal(err)
	}
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels[api.EnabledLabel] = "true"
	if err := f.env.Client.Update(context.Background(), ns); err != nil {
		f.t.Fatal(err)
	}
}

// ageTo moves the refiner's clock so that p has lived for d.
func (f *fixture) ageTo(p *corev1.Pod, d time.Duration) {
	if at := p.CreationTimestamp.Add(d); at.After(f.clock.Now()) {
		f.clock.SetTime(at)
	}
}

func (f *fixture) annotations(p *corev1.Pod) map[string]string {
	got := &corev1.Pod{}
	if err := f.env.Client.Get(context.Background(), client.ObjectKeyFromObject(p), got); err != nil {
		f.t.Fatalf("reading pod: %v", err)
	}
	return got.Annotations
}

// waitStatus waits until the stored pod's status is want.
func (f *fixture) waitStatus(p *corev1.Pod, want string) map[string]string {
	f.t.Helper()
	var a map[string]string
	testenv.WaitFor(f.t, 20*time.Second, p.Name+" to reach status "+want, func() (bool, error) {
		a = f.annotations(p)
		return a[api.StatusAnnotation] == want, nil
	})
	return a
}

// decidedOnce waits for the refiner's Classified event on the named pod —
// events are written asynchronously, after the patch, so one may not be
// stored yet when the annotations are — and fails unless there is exactly one.
func (f *fixture) decidedOnce(ns, name string) {
	f.t.Helper()
	testenv.WaitFor(f.t, 10*time.Second, "the Classified event of "+name, func() (bool, error) {
		return f.decisions(ns, name, "Classified") >= 1, nil
	})
	if n := f.decisions(ns, name, "Classified"); n != 1 {
		f.t.Errorf("pod %s has %d Classified events, want 1", name, n)
	}
}

// decisions counts the refiner's events with reason on the named object. The
// events API folds a repeated event into one object with a series count:
// decisions counts each occurrence.
func (f *fixture) decisions(ns, name, reason string) int {
	n := 0
	for _, e := range f.events(ns, name, reason) {
		if e.Series != nil {
			n += int(e.Series.Count)
		} else {
			n++
		}
	}
	return n
}

// events returns the refiner's events with reason on the named object.
func (f *fixture) events(ns, name, reason string) []eventsv1.Event {
	list := &eventsv1.EventList{}
	if err := f.env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		f.t.Fatal(err)
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}

func TestRefinerEndToEnd(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.env.Namespace(t, "shop", true)
	r, stop := f.startRefiner(false)

	var classes []string
	for c := range f.rec {
		classes = append(classes, c)
	}
	sort.Strings(classes)

	t.Run("pods reach classified with the class of their behaviour", func(t *testing.T) {
		f.t = t
		pods := map[string]*corev1.Pod{}
		want := map[string]string{}
		for _, c := range classes {
			p := f.createPod("shop", c+"-0", images[c])
			if a := f.annotations(p); a[api.StatusAnnotation] != api.StatusPending || a[api.ClassAnnotation] != c {
				t.Fatalf("the webhook did not mark %s pending as %s: %v", p.Name, c, a)
			}
			f.play(p, f.rec[c][0])
			pods[c], want[c] = p, f.rec[c][0].want
		}
		// A custom image the rules cannot name, behaving like the first class.
		custom := f.createPod("shop", "custom-0", "ghcr.io/acme/inhouse-store:3")
		f.play(custom, f.rec[classes[0]][0])
		pods["custom"], want["custom"] = custom, f.rec[classes[0]][0].want
		for _, p := range pods {
			f.ageTo(p, 70*time.Second)
		}
		for key, p := range pods {
			a := f.waitStatus(p, api.StatusClassified)
			if a[api.ClassAnnotation] != want[key] || a[api.SourceAnnotation] != api.SourceMetrics ||
				a[api.ModelAnnotation] != f.model.Manifest().ModelVersion || a[api.ClassifiedAtAnnotation] == "" || a[api.ConfidenceAnnotation] == "" {
				t.Errorf("pod %s: annotations %v, want class %s from metrics by model %s", p.Name, a, want[key], f.model.Manifest().ModelVersion)
			}
		}
		if a := f.annotations(custom); a[api.ImageClassAnnotation] != api.ClassUnknown {
			t.Errorf("the image guess of the custom pod was not kept: %v", a)
		}
		testenv.WaitFor(t, 10*time.Second, "a Classified event", func() (bool, error) {
			return len(f.events("shop", classes[0]+"-0", "Classified")) == 1, nil
		})
	})

	t.Run("a pod whose image names a class the model does not know gets no class it knows", func(t *testing.T) {
		f.t = t
		// The default rules name bitnami/kafka kafka, a broker; the model
		// knows no kafka. Behaviour like a web server's is not a kafka's,
		// and behaviour like mosquitto's says no more than "a broker".
		const image = "bitnami/kafka:3.6"
		if slices.Contains(f.model.Manifest().Classes, "kafka") {
			t.Fatal("the embedded model knows kafka; the subtest needs a class it does not")
		}
		web := ""
		for _, c := range classes {
			if f.model.Family(c) != "broker" {
				web = c
				break
			}
		}
		if web == "" || len(f.rec["mosquitto"]) == 0 {
			t.Fatalf("recordings of a non-broker class and of mosquitto are needed, have %v", classes)
		}
		before := map[string]float64{}
		for _, st := range []string{api.StatusUnknown, api.StatusClassified} {
			before[st] = outsideModelCount(t, "kafka", st)
		}
		unlike := f.createPod("shop", "kafka-0", image)
		alike := f.createPod("shop", "kafka-1", image)
		for _, p := range []*corev1.Pod{unlike, alike} {
			if a := f.annotations(p); a[api.ImageClassAnnotation] != "kafka" || a[api.FamilyAnnotation] != "broker" {
				t.Fatalf("the webhook did not guess kafka, a broker, for %s: %v", image, a)
			}
		}
		f.play(unlike, f.rec[web][0])
		f.play(alike, f.rec["mosquitto"][0])
		f.ageTo(unlike, 70*time.Second)
		f.ageTo(alike, 70*time.Second)

		a := f.waitStatus(unlike, api.StatusUnknown)
		if a[api.ClassAnnotation] != api.ClassUnknown || a[api.ImageClassAnnotation] != "kafka" || a[api.FamilyAnnotation] != "" ||
			!strings.HasPrefix(a[api.ExplanationAnnotation], "unknown unknown p=") ||
			!strings.Contains(a[api.ExplanationAnnotation], "; the image names kafka, a class the model does not know, and its behaviour resembles ") {
			t.Errorf("a kafka image behaving like %s: annotations %v, want unknown, the image guess kept and the reason", web, a)
		}
		a = f.waitStatus(alike, api.StatusClassified)
		if a[api.ClassAnnotation] != "broker" || a[api.FamilyAnnotation] != "broker" || a[api.SourceAnnotation] != api.SourceMetrics ||
			!strings.HasPrefix(a[api.ExplanationAnnotation], "classified broker p=") || !strings.Contains(a[api.ExplanationAnnotation], "its behaviour is a broker's") {
			t.Errorf("a kafka image behaving like mosquitto: annotations %v, want the broker family from metrics", a)
		}
		for _, st := range []string{api.StatusUnknown, api.StatusClassified} {
			if d := outsideModelCount(t, "kafka", st) - before[st]; d != 1 {
				t.Errorf("podclass_refiner_image_outside_model_total{image_class=kafka,status=%s} grew by %v, want 1", st, d)
			}
		}
	})

	t.Run("a pod without metrics becomes unclassified after the timeout", func(t *testing.T) {
		f.t = t
		p := f.createPod("shop", "silent-0", images[classes[0]])
		f.ageTo(p, 70*time.Second)
		waitTicks(t, r, 3) // ticks that saw the pod at 70 s without metrics
		if s := f.annotations(p)[api.StatusAnnotation]; s != api.StatusPending {
			t.Fatalf("a pod without metrics left pending before its timeout: %s", s)
		}
		f.ageTo(p, testTimeout+time.Second)
		a := f.waitStatus(p, api.StatusUnclassified)
		if a[api.ClassAnnotation] != classes[0] || a[api.SourceAnnotation] != api.SourceImage {
			t.Errorf("an unclassified pod lost its image guess: %v", a)
		}
	})

	t.Run("a pod the webhook missed is backfilled", func(t *testing.T) {
		f.t = t
		f.env.Namespace(t, "late", false)
		p := f.createPod("late", "missed-0", images[classes[1]])
		for k := range f.annotations(p) {
			if api.IsResult(k) {
				t.Fatalf("a pod in a namespace that did not opt in was annotated: %v", f.annotations(p))
			}
		}
		f.play(p, f.rec[classes[1]][0])
		f.ageTo(p, 70*time.Second)
		f.optIn("late")
		a := f.waitStatus(p, api.StatusClassified)
		if a[api.ClassAnnotation] != f.rec[classes[1]][0].want || a[api.ImageClassAnnotation] != api.ClassUnknown {
			t.Errorf("backfilled pod annotations %v, want class %s", a, f.rec[classes[1]][0].want)
		}
	})

	t.Run("a pod created while the webhook is down is backfilled", func(t *testing.T) {
		f.t = t
		f.stopWebhook()
		// Fail-open: the apiserver cannot reach the webhook and creates
		// the pod in an opted-in namespace without annotations.
		p := f.createPod("shop", "webhook-down-0", images[classes[2]])
		if a := f.annotations(p); a[api.StatusAnnotation] != "" {
			t.Fatalf("the webhook is down, yet the pod was annotated: %v", a)
		}
		f.stopWebhook = f.env.ServeWebhook(f.top) // back up for the subtests after this one
		f.play(p, f.rec[classes[2]][0])
		f.ageTo(p, 70*time.Second)
		a := f.waitStatus(p, api.StatusClassified)
		if a[api.ClassAnnotation] != f.rec[classes[2]][0].want || a[api.ImageClassAnnotation] != api.ClassUnknown {
			t.Errorf("backfilled pod annotations %v, want class %s", a, f.rec[classes[2]][0].want)
		}
		f.decidedOnce("shop", p.Name)
	})

	t.Run("pods stay pending while InfluxDB is down and are decided when it is back", func(t *testing.T) {
		f.t = t
		p := f.createPod("shop", "outage-0", images[classes[2]])
		f.play(p, f.rec[classes[2]][0])
		f.influx.Stop()
		f.ageTo(p, 70*time.Second)
		testenv.WaitFor(t, 10*time.Second, "readiness to report the store failing", func() (bool, error) {
			return r.MetricsStoreCheck(nil) != nil, nil
		})
		waitTicks(t, r, 2) // more failing ticks with the pod due
		if s := f.annotations(p)[api.StatusAnnotation]; s != api.StatusPending {
			t.Fatalf("status %s during the outage, want pending", s)
		}
		f.influx.Restart()
		a := f.waitStatus(p, api.StatusClassified)
		if a[api.ClassAnnotation] != f.rec[classes[2]][0].want {
			t.Errorf("after the outage: %v, want class %s", a, f.rec[classes[2]][0].want)
		}
		if err := r.MetricsStoreCheck(nil); err != nil {
			t.Errorf("readiness still failing after recovery: %v", err)
		}
	})

	t.Run("a model ConfigMap update is picked up and a corrupt one refused", func(t *testing.T) {
		f.t = t
		raw, err := json.Marshal(f.model)
		if err != nil {
			t.Fatal(err)
		}
		v1 := f.model.Manifest().ModelVersion
		newer := strings.Replace(string(raw), `"model_version":"`+v1+`"`, `"model_version":"e2e-v2"`, 1)
		if newer == string(raw) {
			t.Fatalf("could not rewrite the model version %q in the model file", v1)
		}
		// Compressed, as the trainer publishes and the chart ships models:
		// the model JSON is larger than a ConfigMap may hold.
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ownNamespace, Name: modelConfigMap},
			BinaryData: map[string][]byte{modelstore.GzipKey: modelstore.Compress([]byte(newer))}}
		if err := f.env.Client.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
		testenv.WaitFor(t, 10*time.Second, "the new model", func() (bool, error) { return r.Models.Version() == "e2e-v2", nil })
		p := f.createPod("shop", "after-update-0", images[classes[0]])
		f.play(p, f.rec[classes[0]][0])
		f.ageTo(p, 70*time.Second)
		if a := f.waitStatus(p, api.StatusClassified); a[api.ModelAnnotation] != "e2e-v2" {
			t.Errorf("decided by model %s, want e2e-v2", a[api.ModelAnnotation])
		}

		cm.BinaryData[modelstore.GzipKey] = modelstore.Compress([]byte(`{"format_version": 1, "corrupt`))
		if err := f.env.Client.Update(ctx, cm); err != nil {
			t.Fatal(err)
		}
		testenv.WaitFor(t, 10*time.Second, "a ModelRejected event", func() (bool, error) {
			return len(f.events(ownNamespace, modelConfigMap, "ModelRejected")) > 0, nil
		})
		if v := r.Models.Version(); v != "e2e-v2" {
			t.Errorf("model in use after a corrupt update: %s, want e2e-v2 kept", v)
		}

		// Deleting the ConfigMap keeps the model in use: pods are still decided.
		if err := f.env.Client.Delete(ctx, cm); err != nil {
			t.Fatal(err)
		}
		p2 := f.createPod("shop", "after-delete-0", images[classes[0]])
		f.play(p2, f.rec[classes[0]][0])
		f.ageTo(p2, 70*time.Second)
		if a := f.waitStatus(p2, api.StatusClassified); a[api.ModelAnnotation] != "e2e-v2" {
			t.Errorf("after the ConfigMap was deleted, decided by model %s, want e2e-v2 kept", a[api.ModelAnnotation])
		}
	})

	t.Run("two replicas with leader election decide each pod once", func(t *testing.T) {
		f.t = t
		stop()
		r1, _ := f.startRefiner(true)
		r2, _ := f.startRefiner(true)
		var pods []*corev1.Pod
		for i, c := range classes {
			for j, rec := range f.rec[c] {
				if j >= 2 {
					break
				}
				p := f.createPod("shop", c+"-ha-"+string(rune('a'+i))+string(rune('0'+j)), images[c])
				f.play(p, rec)
				pods = append(pods, p)
			}
		}
		for _, p := range pods {
			f.ageTo(p, 70*time.Second)
		}
		for _, p := range pods {
			f.waitStatus(p, api.StatusClassified)
		}
		// Let a second decision land, were there one: the leader ticks on
		// after every pod was decided (only the leader ticks).
		before := r1.Ticks() + r2.Ticks()
		testenv.WaitFor(t, testTimeout, "three more ticks of the leader", func() (bool, error) {
			return r1.Ticks()+r2.Ticks() >= before+3, nil
		})
		lease := &coordinationv1.Lease{}
		if err := f.env.Client.Get(ctx, client.ObjectKey{Namespace: ownNamespace, Name: refiner.LeaderElectionID}, lease); err != nil || ptr.Deref(lease.Spec.HolderIdentity, "") == "" {
			t.Errorf("no replica holds the leader lease: %v %v", err, lease.Spec.HolderIdentity)
		}
		for _, p := range pods {
			f.decidedOnce("shop", p.Name)
		}
	})
}

// waitTicks waits until r has finished n more ticks: a positive signal that
// it looked at its pods again, where sleeping would pass vacuously on a slow
// machine.
func waitTicks(t *testing.T, r *refiner.Refiner, n int64) {
	t.Helper()
	target := r.Ticks() + n
	testenv.WaitFor(t, testTimeout, fmt.Sprintf("%d more ticks", n), func() (bool, error) { return r.Ticks() >= target, nil })
}

// outsideModelCount is podclass_refiner_image_outside_model_total for one
// image class and status, as the refiner's /metrics would serve it (0 while
// the series does not exist).
func outsideModelCount(t *testing.T, imageClass, status string) float64 {
	t.Helper()
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "podclass_refiner_image_outside_model_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["image_class"] == imageClass && labels["status"] == status {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
