package demo

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/podclass/podclass/imagerules"
	"github.com/podclass/podclass/samples"
	"github.com/podclass/podclass/samples/lineprotocol"
	"github.com/podclass/podclass/trainer"
)

// images are the images the demo gives pods of each recorded class.
var images = map[string]string{
	"mysql": "docker.io/bitnami/mariadb:11.4", "postgresql": "postgres:16", "redis": "redis:7",
	"memcached": "memcached:1.6", "nginx": "nginx:1.27", "apache": "httpd:2.4",
	"mosquitto": "eclipse-mosquitto:2", "haproxy": "haproxy:3.0",
	"rabbitmq": "rabbitmq:3.13", "zookeeper": "zookeeper:3.8", "etcd": "quay.io/coreos/etcd:v3.5.15",
	"prometheus": "prom/prometheus:v2.53.0",
}

// Workload kinds the demo creates, as users do.
const (
	kindDeployment  = "Deployment"
	kindStatefulSet = "StatefulSet"
	kindJob         = "Job"
	kindCronJob     = "CronJob"
)

// plan is the workload each recorded class runs as.
var plan = []struct {
	class, kind, name string
	replicas          int
	// recreate: once its first pod is decided, the demo deletes it and the
	// StatefulSet creates it again under the same name.
	recreate bool
}{
	{"nginx", kindDeployment, "web", 2, false},
	{"apache", kindDeployment, "httpd", 1, false},
	{"haproxy", kindDeployment, "lb", 1, false},
	{"memcached", kindDeployment, "sessions", 1, false},
	{"mosquitto", kindDeployment, "mqtt", 1, false},
	{"mysql", kindStatefulSet, "db", 2, true},
	{"redis", kindStatefulSet, "cache", 1, false},
	{"rabbitmq", kindStatefulSet, "queue", 1, false},
	{"zookeeper", kindStatefulSet, "zk", 1, false},
	{"etcd", kindStatefulSet, "etcd", 1, false},
	{"prometheus", kindJob, "backfill", 1, false},
	{"postgresql", kindCronJob, "nightly-backup", 1, false},
}

// workload is one object the demo creates and the recorded behaviour its
// pods replay: each pod takes the next recording when it appears (a pod
// recreated under the same name takes a fresh one).
type workload struct {
	Kind, Namespace, Name string
	Replicas              int
	// Containers are name → image, in order.
	Containers [][2]string
	// OptOut labels the pods podclass.io/enabled=false.
	OptOut bool
	// Recreate deletes the first pod once it is decided (a StatefulSet's).
	Recreate bool
	// Truth is the class of the recorded behaviour.
	Truth      string
	Recordings []recording
}

// recording is a corpus pod's first window.
type recording struct {
	Key     samples.PodKey
	Samples []samples.Sample
}

// ID is how the table names the workload, e.g. StatefulSet/db.
func (w *workload) ID() string { return w.Kind + "/" + w.Name }

// corpus is the recorded behaviour the demo replays and trains on.
type corpus struct {
	windows map[samples.PodKey]*samples.Window
	pods    []trainer.Pod
}

func loadCorpus(ctx context.Context, dir string) (*corpus, error) {
	// The recorded exporter sidecars are left out, as the refiner does.
	mem, _, err := lineprotocol.LoadFile(ctx, filepath.Join(dir, "metrics.lp"), lineprotocol.Options{Containers: imagerules.Default().IsMainContainer})
	if err != nil {
		return nil, fmt.Errorf("loading the recorded corpus: %w", err)
	}
	pods, err := trainer.ReadPodsFile(filepath.Join(dir, "pods.csv"))
	if err != nil {
		return nil, err
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Key.String() < pods[j].Key.String() })
	return &corpus{windows: mem.All(), pods: pods}, nil
}

// scenario picks the workloads and the recorded pods they replay: per class
// the last recorded pod (by name) long enough for the model's window and, for
// more replicas, its scenario twins, held
// out of the demo's training together with every pod recorded under the
// same load scenario (their twins on the other machine shapes), so the
// accuracy it shows is on pods and loads the model never saw. Foreign
// services (known=false) are never trained on. It returns the workloads and
// the corpus pods left for training.
func (c *corpus) scenario(window int) ([]*workload, []trainer.Pod) {
	held := map[string]trainer.Pod{}
	byClass := map[string][]trainer.Pod{}
	for _, p := range c.pods {
		if w := c.windows[p.Key]; w != nil && len(w.Samples) >= window && images[p.Class] != "" {
			byClass[p.Class] = append(byClass[p.Class], p)
		}
	}
	classes := make([]string, 0, len(byClass))
	for cl, ps := range byClass {
		if len(ps) >= 3 {
			classes = append(classes, cl)
		}
	}
	sort.Strings(classes)
	used := map[samples.PodKey]bool{}
	// take returns n recordings of class: the newest unused one, then — a
	// workload's replicas run the same load — its scenario twins recorded on
	// the other machine shapes, then the next newest; false when the corpus
	// has not that many.
	take := func(class string, n int) ([]recording, bool) {
		ps := byClass[class]
		var picked []trainer.Pod
		pick := func(ok func(trainer.Pod) bool) bool {
			for i := len(ps) - 1; i >= 0; i-- {
				if p := ps[i]; !used[p.Key] && ok(p) {
					used[p.Key] = true
					picked = append(picked, p)
					return true
				}
			}
			return false
		}
		for len(picked) < n {
			twin := func(p trainer.Pod) bool {
				return len(picked) > 0 && p.Columns["scenario"] != "" && p.Columns["scenario"] == picked[0].Columns["scenario"]
			}
			if !pick(twin) && !pick(func(trainer.Pod) bool { return true }) {
				return nil, false
			}
		}
		var out []recording
		for _, p := range picked {
			held[p.Key.String()] = p
			out = append(out, recording{Key: p.Key, Samples: c.windows[p.Key].Samples[:window]})
		}
		return out, true
	}
	var out []*workload
	add := func(w *workload, class string) {
		n := w.Replicas
		if w.Recreate {
			n++
		}
		if recs, ok := take(class, n); ok {
			w.Truth, w.Recordings = class, recs
			out = append(out, w)
		}
	}
	known := map[string]bool{}
	for _, cl := range classes {
		known[cl] = true
	}
	for _, p := range plan {
		if known[p.class] {
			add(&workload{Kind: p.kind, Namespace: "shop", Name: p.name, Replicas: p.replicas, Recreate: p.recreate,
				Containers: [][2]string{{"main", images[p.class]}}}, p.class)
		}
	}
	if len(classes) >= 2 {
		first, second, last := classes[0], classes[1], classes[len(classes)-1]
		// In-house images no rule names: only behaviour can tell.
		add(&workload{Kind: kindStatefulSet, Namespace: "shop", Name: "fastkv", Replicas: 1,
			Containers: [][2]string{{"app", "registry.example.com:5000/acme/fastkv:2.3"}}}, last)
		add(&workload{Kind: kindDeployment, Namespace: "shop", Name: "orders-store", Replicas: 1,
			Containers: [][2]string{{"app", "ghcr.io/acme/orders-store:1.8"}}}, first)
		// A mesh sidecar beside the service: the main container decides.
		add(&workload{Kind: kindDeployment, Namespace: "shop", Name: "frontend", Replicas: 1,
			Containers: [][2]string{{"istio-proxy", "docker.io/istio/proxyv2:1.22.0"}, {"web", images[second]}}}, second)
		// Opted out: the webhook and the refiner leave it alone.
		add(&workload{Kind: kindDeployment, Namespace: "shop", Name: "batch", Replicas: 1, OptOut: true,
			Containers: [][2]string{{"main", images[first]}}}, first)
		// A namespace that did not opt in.
		add(&workload{Kind: kindDeployment, Namespace: "legacy", Name: "legacy", Replicas: 1,
			Containers: [][2]string{{"main", images[second]}}}, second)
	}
	heldScenario := map[string]bool{}
	for _, p := range held {
		if sc := p.Columns["scenario"]; sc != "" {
			heldScenario[p.Class+"/"+sc] = true
		}
	}
	var train []trainer.Pod
	for _, p := range c.pods {
		if _, ok := held[p.Key.String()]; ok || heldScenario[p.Class+"/"+p.Columns["scenario"]] || p.Columns["known"] == "false" {
			continue
		}
		train = append(train, p)
	}
	return out, train
}
