package demo

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/internal/harness/influxd"
	"github.com/podclass/podclass/internal/harness/replay"
	"github.com/podclass/podclass/samples"
)

// row is one pod on the board.
type row struct {
	demoPod
	Created time.Time
	// Expected says whether podclass should annotate it at all.
	Expected    bool
	ImageGuess  string
	Status      string
	Class       string
	Family      string
	Confidence  string
	Explanation string
	DecidedIn   time.Duration // from creation to the decision the demo saw
	Written     int           // samples replayed so far
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

type board struct {
	mu   sync.Mutex
	rows []*row
}

func createPods(ctx context.Context, kube client.Client, pods []demoPod) (*board, error) {
	b := &board{}
	for _, p := range pods {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name, Labels: map[string]string{"app": p.Name}}}
		if p.OptOut {
			pod.Labels[api.EnabledLabel] = "false"
		}
		for _, c := range p.Containers {
			pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: c[0], Image: c[1]})
		}
		if err := kube.Create(ctx, pod); err != nil {
			return nil, fmt.Errorf("creating pod %s/%s: %w", p.Namespace, p.Name, err)
		}
		b.rows = append(b.rows, &row{demoPod: p, Created: pod.CreationTimestamp.Time, Expected: !p.OptOut && p.Namespace == "shop",
			ImageGuess: pod.Annotations[api.ImageClassAnnotation], Status: pod.Annotations[api.StatusAnnotation]})
	}
	return b, nil
}

// replayLoop writes each pod's next recorded sample when it falls due, on
// telegraf's 10 s grid, as a node's telegraf would.
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
			start := r.Created.Add(2 * time.Second)
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
				one, err := replay.Encode(samples.DefaultSchema(), samples.PodKey{Namespace: r.Namespace, Name: r.Name}, r.Samples[r.Written:r.Written+1], at)
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

// watch refreshes the board from the API every second until every pod that
// should be decided is, or ctx ends.
func watch(ctx context.Context, kube client.Client, b *board, ui *ui) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		done := b.refresh(ctx, kube)
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

func (b *board) refresh(ctx context.Context, kube client.Client) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	all := true
	for _, r := range b.rows {
		p := &corev1.Pod{}
		if err := kube.Get(ctx, client.ObjectKey{Namespace: r.Namespace, Name: r.Name}, p); err != nil {
			all = false
			continue
		}
		a := p.Annotations
		wasDecided := r.decided()
		r.ImageGuess, r.Status, r.Class, r.Family = a[api.ImageClassAnnotation], a[api.StatusAnnotation], a[api.ClassAnnotation], a[api.FamilyAnnotation]
		r.Confidence, r.Explanation = a[api.ConfidenceAnnotation], a[api.ExplanationAnnotation]
		if !wasDecided && r.decided() {
			r.DecidedIn = time.Since(r.Created).Round(time.Second)
		}
		if r.Expected && !r.decided() {
			all = false
		}
	}
	return all
}

func conf(s string) string {
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return "-"
	}
	return s
}
