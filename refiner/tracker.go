package refiner

import (
	"sort"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/podclass/podclass/samples"
)

// waiting is a pod the refiner still has to decide.
type waiting struct {
	Key     samples.PodKey
	UID     types.UID
	Created time.Time
	// Annotated is false for a pod the webhook missed (it fails open): the
	// refiner backfills it.
	Annotated bool
	// ResourceVersion and Annotations are as last seen, for the patch's preconditions.
	ResourceVersion string
	Annotations     map[string]string
	HasLabels       bool
}

// tracker is the set of pods waiting for a decision, fed by the pod informer
// and drained by the tick loop. It holds only small records: 10,000 pending
// pods cost a few MiB.
type tracker struct {
	mu   sync.Mutex
	pods map[samples.PodKey]waiting
}

func newTracker() *tracker { return &tracker{pods: map[samples.PodKey]waiting{}} }

func (t *tracker) track(w waiting) {
	t.mu.Lock()
	t.pods[w.Key] = w
	t.mu.Unlock()
}

func (t *tracker) forget(k samples.PodKey) {
	t.mu.Lock()
	delete(t.pods, k)
	t.mu.Unlock()
}

// forgetIf forgets k only if it is still the same pod (a pod deleted and
// recreated under the same name is a new pod).
func (t *tracker) forgetIf(k samples.PodKey, uid types.UID) {
	t.mu.Lock()
	if w, ok := t.pods[k]; ok && w.UID == uid {
		delete(t.pods, k)
	}
	t.mu.Unlock()
}

func (t *tracker) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pods)
}

// snapshot returns the waiting pods, oldest first so that a tick cut short
// decides the pods nearest their timeout.
func (t *tracker) snapshot() []waiting {
	t.mu.Lock()
	out := make([]waiting, 0, len(t.pods))
	for _, w := range t.pods {
		out = append(out, w)
	}
	t.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].Key.String() < out[j].Key.String()
	})
	return out
}
