package demo

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/internal/harness/influxd"
	"github.com/podclass/podclass/internal/harness/replay"
	"github.com/podclass/podclass/samples"
)

// optedIn is the namespace whose pods podclass decides.
const optedIn = "shop"

// row is one pod on the board: a pod a controller created for one of the
// demo's workloads, found by reading the API.
type row struct {
	W         *workload
	Namespace string
	Pod       string
	UID       types.UID
	// Incarnation counts the pods seen under this name: 2 for a
	// StatefulSet pod recreated once.
	Incarnation int
	Node, Phase string
	Created     time.Time
	// Running is when kwok reported the pod running: its metrics start
	// then.
	Running time.Time
	// Gone: the pod was deleted.
	Gone bool
	// Expected says whether podclass should annotate it at all.
	Expected    bool
	Truth       string
	Samples     []samples.Sample
	Written     int // samples replayed so far
	ImageGuess  string
	Status      string
	Class       string
	Family      string
	Confidence  string
	Explanation string
	DecidedIn   time.Duration // from creation to the decision the demo saw
}

// decided reports whether the refiner wrote a final status.
func (r *row) decided() bool {
	return r.Status == api.StatusClassified || r.Status == api.StatusUnknown || r.Status == api.StatusUnclassified
}

// correct reports whether the decision names the recorded class or its family.
func (r *row) correct(family func(string) string) (class, fam bool) {
	if r.Status != api.StatusClassified {
		return false, false
	}
	class = r.Class == r.Truth
	return class, class || (r.Class == family(r.Truth) && r.Class != "")
}

// board is what the demo knows of its workloads' pods.
type board struct {
	mu        sync.Mutex
	workloads []*workload
	rows      []*row
	byUID     map[types.UID]*row
	// handedOut counts each workload's recordings given to its pods.
	handedOut map[*workload]int
	// names counts the pods seen under each namespace/name.
	names     map[string]int
	recreated map[*workload]*row
	suspended map[*workload]bool
	owners    *owners
	// done: every pod that should be decided was.
	done bool
	// refinerStart is when the refiner started deciding.
	refinerStart time.Time
}

// refinerStarted notes when the refiner started.
func (b *board) refinerStarted(at time.Time) {
	b.mu.Lock()
	b.refinerStart = at
	b.mu.Unlock()
}

func newBoard(kube client.Client, ws []*workload) *board {
	return &board{workloads: ws, byUID: map[types.UID]*row{}, handedOut: map[*workload]int{}, names: map[string]int{},
		recreated: map[*workload]*row{}, suspended: map[*workload]bool{}, owners: newOwners(kube)}
}

// planned is how many pods the workloads will have had: one per recording.
func (b *board) planned() int {
	n := 0
	for _, w := range b.workloads {
		n += len(w.Recordings)
	}
	return n
}

// run refreshes the board from the API every second until ctx ends,
// printing what the demo itself did as steps.
func (b *board) run(ctx context.Context, kube client.Client, ui *ui) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		for _, step := range b.refresh(ctx, kube) {
			ui.step("%s", step)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// finished says whether every pod that should be decided was.
func (b *board) finished() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.done
}

// refresh reads the workloads' pods from the API: new pods get a row and the
// next recording of their workload, known ones their node, phase and
// annotations. It deletes a decided pod that is to be recreated, suspends a
// CronJob once it has fired, notes whether every pod that should be decided
// was, and returns what it did.
func (b *board) refresh(ctx context.Context, kube client.Client) (steps []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	seen := map[types.UID]bool{}
	var namespaces []string
	for _, w := range b.workloads {
		if !slices.Contains(namespaces, w.Namespace) {
			namespaces = append(namespaces, w.Namespace)
		}
	}
	for _, ns := range namespaces {
		list := &corev1.PodList{}
		if err := kube.List(ctx, list, client.InNamespace(ns)); err != nil {
			return steps
		}
		for i := range list.Items {
			p := &list.Items[i]
			r := b.byUID[p.UID]
			if r == nil {
				var step string
				if r, step = b.adopt(ctx, kube, p); r == nil {
					continue
				}
				if step != "" {
					steps = append(steps, step)
				}
			}
			seen[p.UID] = true
			r.update(p)
		}
	}
	for _, r := range b.rows {
		if !seen[r.UID] && !r.Gone {
			r.Gone, r.Phase = true, "deleted"
		}
	}
	steps = append(steps, b.recreate(ctx, kube)...)
	b.done = b.assigned() == b.planned()
	for _, r := range b.rows {
		b.done = b.done && (!r.Expected || r.decided())
	}
	return steps
}

// toCome is how many pods podclass should decide have yet to appear; b.mu held.
func (b *board) toCome() int {
	n := 0
	for _, w := range b.workloads {
		if w.Namespace == optedIn && !w.OptOut {
			n += len(w.Recordings) - b.handedOut[w]
		}
	}
	return n
}

func (b *board) assigned() int {
	n := 0
	for _, c := range b.handedOut {
		n += c
	}
	return n
}

// adopt gives a new pod of one of the workloads a row and its recording.
func (b *board) adopt(ctx context.Context, kube client.Client, p *corev1.Pod) (r *row, step string) {
	kind, name, ok := b.owners.of(ctx, p)
	if !ok {
		return nil, ""
	}
	var w *workload
	for _, c := range b.workloads {
		if c.Namespace == p.Namespace && c.Kind == kind && c.Name == name {
			w = c
		}
	}
	if w == nil {
		return nil, ""
	}
	key := p.Namespace + "/" + p.Name
	b.names[key]++
	r = &row{W: w, Namespace: p.Namespace, Pod: p.Name, UID: p.UID, Incarnation: b.names[key], Created: p.CreationTimestamp.Time,
		Expected: p.Namespace == optedIn && !w.OptOut, Truth: "-"}
	if i := b.handedOut[w]; i < len(w.Recordings) {
		r.Truth, r.Samples = w.Truth, w.Recordings[i].Samples
		b.handedOut[w]++
	}
	b.rows = append(b.rows, r)
	b.byUID[p.UID] = r
	if w.Kind == kindCronJob && !b.suspended[w] {
		// One run is enough for the demo: no more Jobs after this one.
		if err := suspend(ctx, kube, w.Namespace, w.Name); err == nil {
			b.suspended[w] = true
			step = fmt.Sprintf("CronJob %s/%s fired: the CronJob controller created Job %s; suspending the CronJob", w.Namespace, w.Name, jobOf(p))
		}
	}
	return r, step
}

func jobOf(p *corev1.Pod) string {
	if ref := p.OwnerReferences; len(ref) > 0 {
		return ref[0].Name
	}
	return "?"
}

// update copies what the board shows from the pod.
func (r *row) update(p *corev1.Pod) {
	r.Node, r.Phase = p.Spec.NodeName, string(p.Status.Phase)
	if p.DeletionTimestamp != nil {
		r.Phase = "Terminating"
	}
	if r.Running.IsZero() && p.Status.Phase == corev1.PodRunning && p.Status.StartTime != nil {
		r.Running = p.Status.StartTime.Time
	}
	a := p.Annotations
	wasDecided := r.decided()
	r.ImageGuess, r.Status, r.Class, r.Family = a[api.ImageClassAnnotation], a[api.StatusAnnotation], a[api.ClassAnnotation], a[api.FamilyAnnotation]
	r.Confidence, r.Explanation = a[api.ConfidenceAnnotation], a[api.ExplanationAnnotation]
	if !wasDecided && r.decided() {
		r.DecidedIn = time.Since(r.Created).Round(time.Second)
	}
}

// recreate deletes, once, the first pod of each workload to recreate as
// soon as it is decided; its StatefulSet creates it again under the same
// name, a new pod the refiner must decide afresh.
func (b *board) recreate(ctx context.Context, kube client.Client) (steps []string) {
	for _, w := range b.workloads {
		if !w.Recreate || b.recreated[w] != nil {
			continue
		}
		for _, r := range b.rows {
			if r.W != w || r.Pod != w.Name+"-0" || r.Gone || !r.decided() {
				continue
			}
			uid := r.UID
			p := &corev1.Pod{}
			p.Namespace, p.Name = r.Namespace, r.Pod
			if err := kube.Delete(ctx, p, client.Preconditions{UID: &uid}); err != nil {
				continue
			}
			b.recreated[w] = r
			steps = append(steps, fmt.Sprintf("deleting pod %s/%s (decided %s): StatefulSet %s recreates it under the same name, a new pod podclass decides afresh",
				r.Namespace, r.Pod, r.Class, w.Name))
		}
	}
	return steps
}

// replayLoop writes each running pod's next recorded sample when it falls
// due, on telegraf's 10 s grid from the moment the pod started, as a node's
// telegraf would, under the name its controller gave it. A deleted or
// finished pod's metrics stop.
func replayLoop(ctx context.Context, influx *influxd.Server, b *board) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now()
		var lp strings.Builder
		b.mu.Lock()
		for _, r := range b.rows {
			if r.Running.IsZero() || r.Gone || r.Phase == string(corev1.PodSucceeded) || r.Phase == string(corev1.PodFailed) {
				continue
			}
			start := r.Running.Add(time.Second)
			for r.Written < len(r.Samples) {
				// replay.Encode puts sample k on the grid from start; write it once its time has come.
				at := start.Truncate(samples.DefaultInterval)
				if at.Before(start) {
					at = at.Add(samples.DefaultInterval)
				}
				at = at.Add(time.Duration(r.Written) * samples.DefaultInterval)
				if at.After(now) {
					break
				}
				one, err := replay.Encode(samples.DefaultSchema(), samples.PodKey{Namespace: r.Namespace, Name: r.Pod}, r.Samples[r.Written:r.Written+1], at)
				if err == nil {
					lp.Write(one)
				}
				r.Written++
			}
		}
		b.mu.Unlock()
		if lp.Len() > 0 {
			_ = influx.Write(lp.String())
		}
	}
}

// watch draws the board every second until every pod that should be
// decided is, or ctx ends.
func watch(ctx context.Context, b *board, ui *ui) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		done := b.finished()
		ui.table(b)
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			if ctx.Err() == context.DeadlineExceeded {
				return fmt.Errorf("not every pod was decided before the deadline")
			}
			return nil
		case <-tick.C:
		}
	}
}

func conf(s string) string {
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return "-"
	}
	return s
}
