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

// demoPod is one pod the demo creates and the recording it replays.
type demoPod struct {
	Namespace, Name string
	// Containers are name → image, in order.
	Containers [][2]string
	// OptOut labels the pod podclass.io/enabled=false.
	OptOut bool
	// Truth is the class of the recorded behaviour.
	Truth   string
	Samples []samples.Sample
	// Recording names the corpus pod replayed.
	Recording samples.PodKey
}

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

// scenario picks the pods to replay: per class the last recorded pod (by
// name) long enough for the model's window, held out of the demo's training
// together with every pod recorded under the same load scenario (its twins
// on the other machine shape), so the accuracy it shows is on pods and loads
// the model never saw. Foreign services (known=false) are never trained on.
// It returns the demo pods and the corpus pods left for training.
func (c *corpus) scenario(window int) ([]demoPod, []trainer.Pod) {
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
	var out []demoPod
	take := func(cl string, i int) trainer.Pod {
		ps := byClass[cl]
		p := ps[len(ps)-1-i]
		held[p.Key.String()] = p
		return p
	}
	add := func(ns, name string, containers [][2]string, optOut bool, p trainer.Pod) {
		out = append(out, demoPod{Namespace: ns, Name: name, Containers: containers, OptOut: optOut, Truth: p.Class,
			Samples: c.windows[p.Key].Samples[:window], Recording: p.Key})
	}
	for _, cl := range classes {
		p := take(cl, 0)
		add("shop", cl+"-0", [][2]string{{"main", images[cl]}}, false, p)
	}
	if len(classes) >= 2 {
		// In-house images no rule names: only behaviour can tell.
		add("shop", "inhouse-cache-0", [][2]string{{"app", "registry.example.com:5000/acme/fastkv:2.3"}}, false, take(classes[len(classes)-1], 1))
		add("shop", "inhouse-store-0", [][2]string{{"app", "ghcr.io/acme/orders-store:1.8"}}, false, take(classes[0], 1))
		// A mesh sidecar beside the service: the main container decides.
		add("shop", "meshed-1", [][2]string{{"istio-proxy", "docker.io/istio/proxyv2:1.22.0"}, {"web", images[classes[1]]}}, false, take(classes[1], 1))
		// Opted out: the webhook and the refiner leave it alone.
		add("shop", "optout-0", [][2]string{{"main", images[classes[0]]}}, true, take(classes[0], 2))
		// A namespace that did not opt in.
		add("legacy", "legacy-0", [][2]string{{"main", images[classes[1]]}}, false, take(classes[1], 2))
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
