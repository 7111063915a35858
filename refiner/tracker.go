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
	// Annotated is true for a pod carrying the webhook's pending guess. It
	// is false for a pod the webhook missed (it fails open) and for one whose
	// results podclass did not write: the refiner backfills those, writing or
	// removing every result key.
	Annotated bool
	// Untrusted is set for a pod carrying a decision the refiner did not
	// write (a forgery stored where no admission policy guards the keys).
	Untrusted bool
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
	// failures counts each pod's refused patches; givenUp holds the pods
	// refused maxPatchFailures times, which are not tracked again until
	// they are deleted (a new pod under the same name has another UID).
	failures map[types.UID]int
	givenUp  map[samples.PodKey]types.UID
}

func newTracker() *tracker {
	return &tracker{pods: map[samples.PodKey]waiting{}, failures: map[types.UID]int{}, givenUp: map[samples.PodKey]types.UID{}}
}

func (t *tracker) track(w waiting) {
	t.mu.Lock()
	if uid, ok := t.givenUp[w.Key]; !ok || uid != w.UID {
		delete(t.givenUp, w.Key)
		t.pods[w.Key] = w
	}
	t.mu.Unlock()
}

// forget drops a pod that is gone, with its failures.
func (t *tracker) forget(k samples.PodKey) {
	t.mu.Lock()
	if w, ok := t.pods[k]; ok {
		delete(t.failures, w.UID)
	}
	delete(t.pods, k)
	delete(t.givenUp, k)
	t.mu.Unlock()
}

// refused counts one refused patch of the pod and says whether it is now
// given up: forgotten, and not tracked again while it lives.
func (t *tracker) refused(k samples.PodKey, uid types.UID) (failures int, givenUp bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failures[uid]++
	failures = t.failures[uid]
	if failures < maxPatchFailures {
		return failures, false
	}
	delete(t.failures, uid)
	if w, ok := t.pods[k]; ok && w.UID == uid {
		delete(t.pods, k)
	}
	t.givenUp[k] = uid
	return failures, true
}

// forgetIf forgets k only if it is still the same pod (a pod deleted and
// recreated under the same name is a new pod).
func (t *tracker) forgetIf(k samples.PodKey, uid types.UID) {
	t.mu.Lock()
	if w, ok := t.pods[k]; ok && w.UID == uid {
		delete(t.pods, k)
		delete(t.failures, uid)
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

// maxPatchFailures is how many refused patches of one pod (invalid,
// forbidden: a retry with the same decision cannot help) the refiner sends
// before it gives the pod up with a ClassificationFailed Event.
const maxPatchFailures = 5
