package refiner_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/internal/harness/testenv"
	"github.com/podclass/podclass/refiner"
)

// TestRefinerConflictingUpdates changes a pod on the real apiserver while
// the refiner's patch of it is held on the wire: the guard in the patch
// decides whether the late decision may land, and nothing the other writer
// did is lost.
func TestRefinerConflictingUpdates(t *testing.T) {
	f := newFixture(t)
	f.env.Namespace(t, "shop", true)
	classes := f.classes()
	c := classes[0]
	rec := f.rec[c][0]

	// hold starts a replica whose patches are held, ages p and waits until
	// the refiner's patch of p is held.
	hold := func(t *testing.T, p *corev1.Pod, beforeAging func()) (*replica, *gate) {
		g := newGate(t)
		g.armed.Store(true)
		rep := f.startReplica(replicaOptions{holdPatches: g})
		if beforeAging != nil {
			beforeAging()
		}
		f.ageAll([]*corev1.Pod{p}, 70*time.Second)
		testenv.WaitFor(t, testTimeout, "the refiner's patch of "+p.Name+" to be held", func() (bool, error) {
			return g.held.Load() >= 1, nil
		})
		return rep, g
	}
	// update changes the stored pod with fn, retrying on conflicts.
	update := func(t *testing.T, p *corev1.Pod, fn func(*corev1.Pod), opts ...client.UpdateOption) {
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			got := &corev1.Pod{}
			if err := f.env.Client.Get(context.Background(), client.ObjectKeyFromObject(p), got); err != nil {
				return err
			}
			fn(got)
			return f.env.Client.Update(context.Background(), got, opts...)
		})
		if err != nil {
			t.Fatalf("updating %s: %v", p.Name, err)
		}
	}
	label := func(p *corev1.Pod) {
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		p.Labels["team"] = "payments"
	}
	// decidedKeepingLabel waits for p's decision and checks it carries the
	// class of its behaviour and the other writer's label.
	decidedKeepingLabel := func(t *testing.T, p *corev1.Pod) {
		a := f.waitStatus(p, api.StatusClassified)
		if a[api.ClassAnnotation] != rec.want {
			t.Errorf("class %q, want %q", a[api.ClassAnnotation], rec.want)
		}
		got := &corev1.Pod{}
		if err := f.env.Client.Get(context.Background(), client.ObjectKeyFromObject(p), got); err != nil {
			t.Fatal(err)
		}
		if got.Labels["team"] != "payments" {
			t.Errorf("the other writer's label was lost: %v", got.Labels)
		}
	}

	t.Run("an unrelated update of a pending pod is kept and the decision lands", func(t *testing.T) {
		f.t = t
		p := f.createPod("shop", "conflict-unrelated", images[c])
		f.play(p, rec)
		rep, g := hold(t, p, nil)
		update(t, p, label)
		g.release()
		decidedKeepingLabel(t, p)
		f.checkLandedOnce(rep, []*corev1.Pod{p})
		f.decidedOnce("shop", p.Name)
	})

	t.Run("an update between a backfill's read and its patch fails the patch; the pod is decided again", func(t *testing.T) {
		f.t = t
		f.env.Namespace(t, "late-conflict", false)
		p := f.createPod("late-conflict", "conflict-backfill", images[c])
		f.play(p, rec)
		// The namespace opts in once the refiner runs: the pod has no
		// annotations, so its patch is guarded by the resourceVersion.
		rep, g := hold(t, p, func() { f.optIn("late-conflict") })
		update(t, p, label)
		g.release()
		decidedKeepingLabel(t, p)
		// First: the accepted patch's answer may reach the replica after
		// the apiserver shows the decision.
		f.checkLandedOnce(rep, []*corev1.Pod{p})
		sent := rep.patches.sent()
		if len(sent) < 2 || !testFailed(sent[0].err) {
			t.Errorf("patches %v: want the held one refused by its resourceVersion test (422), then one accepted", sent)
		}
		f.decidedOnce("late-conflict", p.Name)
	})

	t.Run("a pod another replica decided while the patch was held keeps its decision", func(t *testing.T) {
		f.t = t
		p := f.createPod("shop", "conflict-decided", images[c])
		f.play(p, rec)
		rep, g := hold(t, p, nil)
		// Written as a refiner writes: a decision anyone else wrote is
		// untrusted and decided afresh (TestRefinerDistrustsResultsItDidNotWrite).
		update(t, p, func(p *corev1.Pod) {
			p.Annotations[api.StatusAnnotation] = api.StatusClassified
			p.Annotations[api.ClassAnnotation] = "decided-elsewhere"
		}, client.FieldOwner(refiner.FieldOwner))
		g.release()
		testenv.WaitFor(t, testTimeout, "the held patch to be answered", func() (bool, error) {
			return len(rep.patches.sent()) >= 1, nil
		})
		if sent := rep.patches.sent(); !testFailed(sent[0].err) {
			t.Errorf("the held patch: %v, want 422 from its status test", sent[0].err)
		}
		// Several ticks: the refiner must have forgotten the pod, not retried it.
		tick := rep.patches.sent
		testenv.WaitFor(t, testTimeout, "the refiner to stop tracking "+p.Name, func() (bool, error) {
			return rep.Waiting() == 0, nil
		})
		if n := len(tick()); n != 1 {
			t.Errorf("%d patches of a decided pod, want the one held", n)
		}
		if a := f.annotations(p); a[api.ClassAnnotation] != "decided-elsewhere" || a[api.StatusAnnotation] != api.StatusClassified {
			t.Errorf("the other decision was overwritten: %v", a)
		}
		if n := f.decisions("shop", p.Name, "Classified"); n != 0 {
			t.Errorf("%d Classified events from the refiner for a pod it did not decide", n)
		}
	})
}
