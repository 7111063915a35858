package refiner_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/internal/harness/testenv"
	"github.com/podclass/podclass/refiner"
	"github.com/podclass/podclass/samples"
)

// TestRefinerAPIServerRestart restarts kube-apiserver (etcd keeps every
// object) under a running refiner and webhook. Pods created before the outage
// come of age while the apiserver is down: the refiner decides them, its
// patches fail and it logs that it will retry. Once the apiserver is back
// they are classified, pods created afterwards go through the webhook and the
// refiner as before, every pod is patched once and gets one Classified event,
// and the refiner's manager never stops nor loses its lease.
func TestRefinerAPIServerRestart(t *testing.T) {
	f := newFixture(t)
	f.env.Namespace(t, "shop", true)
	classes := f.classes()
	// Leader election as deployed, with a renew deadline longer than a
	// restart takes even on a busy machine. (With the default 10 s, an outage
	// longer than that ends the replica's leadership: the case of
	// TestRefinerLeaderLostMidTick.)
	rep := f.startReplica(replicaOptions{leaderElection: true, lease: 40 * time.Second, renew: 30 * time.Second, retry: 500 * time.Millisecond})
	leader := f.waitLeader(refiner.LeaderElectionID)

	before, want := f.createPlayed("before", classes)
	testenv.WaitFor(t, 10*time.Second, "the refiner to track the pods", func() (bool, error) {
		return rep.Waiting() == len(before), nil
	})

	f.env.StopAPIServer(t)
	f.ageAll(before, 70*time.Second)
	testenv.WaitFor(t, 20*time.Second, "the refiner's patches to fail during the outage", func() (bool, error) {
		failed := map[string]bool{}
		for _, p := range rep.patches.sent() {
			if p.err == nil {
				t.Fatalf("patch of %s accepted while the apiserver was down", p.pod)
			}
			failed[p.pod] = true
		}
		return len(failed) == len(before), nil
	})
	if len(rep.logs.grep("Patching pod; will retry next tick")) == 0 {
		t.Errorf("no log line says a failed patch will be retried")
	}
	if !rep.running() {
		t.Fatalf("the refiner's manager stopped during the outage: %v", rep.err)
	}
	f.env.StartAPIServer(t)

	for _, p := range before {
		f.waitStatus(p, api.StatusClassified)
	}
	after, wantAfter := f.createPlayed("after", classes)
	f.ageAll(after, 70*time.Second)
	for _, p := range after {
		f.waitStatus(p, api.StatusClassified)
	}
	for k, v := range wantAfter {
		want[k] = v
	}
	pods := append(before, after...)
	f.checkDecidedOnce(pods, want)
	f.checkLandedOnce(rep, pods)
	if !rep.running() {
		t.Errorf("the refiner's manager stopped: %v", rep.err)
	}
	if got := f.leaseHolder(refiner.LeaderElectionID); got != leader {
		t.Errorf("the lease moved from %s to %q across the restart", leader, got)
	}
	checkNoPanic(t, rep)
}

// TestRefinerLeaderLostMidTick takes the Lease away from the leading replica
// while one of its ticks is held — reading metrics, or with its patches on the
// wire — then lets the tick go on once the other replica leads and has
// decided every pod. The old leader's manager ends with "leader election
// lost" (the process would exit and be restarted); the old leader writes no
// decision after losing the lease, or its in-flight patches are refused by
// their guard; the new leader decides every pod once; each pod has one
// Classified event and the new leader's annotations.
func TestRefinerLeaderLostMidTick(t *testing.T) {
	f := newFixture(t)
	f.env.Namespace(t, "shop", true)
	classes := f.classes()

	t.Run("while reading metrics the old leader writes nothing", func(t *testing.T) {
		f.t = t
		held := newGate(t)
		src := &heldSource{gate: held}
		a, b, pods := f.loseLeaderMidTick("read", classes, held,
			replicaOptions{source: func(s samples.Source) samples.Source { src.Source = s; return src }},
			func(pods []*corev1.Pod) { src.waitFor(pods, f.model.Thresholds().WindowSamples) })
		if sent := a.patches.sent(); len(sent) != 0 {
			t.Errorf("the old leader sent %d patches after losing the lease: %v", len(sent), sent)
		}
		if lines := a.logs.grep(fmt.Sprintf(`"notWritten"=%d`, len(pods))); len(lines) != 1 {
			t.Errorf("the old leader did not log once that its %d decisions were not written: %q", len(pods), a.logs.grep("Tick cut short"))
		}
		checkNoPanic(t, a, b)
	})

	t.Run("with patches in flight the old leader's patches fail their guard", func(t *testing.T) {
		f.t = t
		held := newGate(t)
		a, b, pods := f.loseLeaderMidTick("patch", classes, held, replicaOptions{holdPatches: held}, nil)
		sent := a.patches.sent()
		if len(sent) != len(pods) {
			t.Errorf("the old leader sent %d patches, want its %d held ones", len(sent), len(pods))
		}
		for _, p := range sent {
			if !testFailed(p.err) {
				t.Errorf("the old leader's late patch of %s: %v, want 422 from its test operation", p.pod, p.err)
			}
		}
		checkNoPanic(t, a, b)
	})
}

// loseLeaderMidTick runs the scenario of TestRefinerLeaderLostMidTick: replica
// A (options aOpts, holding its tick at held) leads, B waits; pods come of age
// at one step of a fresh clock; once A's tick is held (held counts the pods
// it holds for, or 1 for a read), the Lease goes to another holder. It waits
// for A's manager to end, for B to lead and classify every pod, then opens
// the gate and waits for A's refiner to stop. It checks what both modes
// share and returns A, B and the pods.
func (f *fixture) loseLeaderMidTick(mode string, classes []string, held *gate, aOpts replicaOptions, arm func([]*corev1.Pod)) (a, b *replica, pods []*corev1.Pod) {
	t := f.t
	start := time.Now()
	f.clock = clocktesting.NewFakeClock(start) // before any pod of this run: none is of age
	leaseID := refiner.LeaderElectionID + "-" + mode
	aOpts.leaderElection, aOpts.leaseID, aOpts.mayLoseLeadership = true, leaseID, true
	a = f.startReplica(aOpts)
	leaderA := f.waitLeader(leaseID)
	b = f.startReplica(replicaOptions{leaderElection: true, leaseID: leaseID})

	pods, want := f.createPlayed(mode, classes)
	testenv.WaitFor(t, 10*time.Second, "the leader to track the pods", func() (bool, error) {
		return a.Waiting() == len(pods), nil
	})
	if arm != nil {
		arm(pods)
	}
	held.armed.Store(true)
	f.ageAll(pods, 70*time.Second)
	holding := int32(len(pods))
	if mode == "read" {
		holding = 1
	}
	testenv.WaitFor(t, 20*time.Second, "the leader's tick to be held", func() (bool, error) {
		return held.held.Load() == holding, nil
	})

	f.takeLease(leaseID, "elsewhere")
	testenv.WaitFor(t, 20*time.Second, "the old leader's manager to end", func() (bool, error) { return !a.running(), nil })
	if a.err == nil || a.err.Error() != "leader election lost" {
		t.Errorf("the old leader's manager ended with %v, want leader election lost", a.err)
	}
	leaderB := f.waitLeader(leaseID, leaderA, "elsewhere")
	for _, p := range pods {
		f.waitStatus(p, api.StatusClassified)
	}

	held.release()
	testenv.WaitFor(t, 10*time.Second, "the old leader's refiner to stop", func() (bool, error) {
		return len(a.logs.grep(`"msg"="Stopping refiner"`)) == 1, nil
	})
	if landed := a.patches.landed(); len(landed) != 0 {
		t.Errorf("the old leader's patches of %v were accepted after it lost the lease", landed)
	}
	f.checkLandedOnce(b, pods)
	f.checkDecidedOnce(pods, want)
	if !b.running() {
		t.Errorf("the new leader's manager stopped: %v", b.err)
	}
	if got := f.leaseHolder(leaseID); got != leaderB {
		t.Errorf("lease holder %q, want the new leader %s", got, leaderB)
	}
	t.Logf("%s: leadership moved from %s to %s; scenario took %s", mode, leaderA, leaderB, time.Since(start).Round(time.Millisecond))
	return a, b, pods
}

// heldSource holds, while its gate is armed, the first read that returns the
// full windows of all the pods waitFor named: the read of a tick that will
// decide them all. It reads first, so the tick goes on with the data once the
// gate opens, as a slow answer that arrives after the lease is gone.
type heldSource struct {
	samples.Source
	gate *gate
	want atomic.Pointer[heldFor]
	done atomic.Bool
}

type heldFor struct {
	pods    []samples.PodKey
	samples int
}

func (s *heldSource) waitFor(pods []*corev1.Pod, n int) {
	h := &heldFor{samples: n}
	for _, p := range pods {
		h.pods = append(h.pods, samples.PodKey{Namespace: p.Namespace, Name: p.Name})
	}
	s.want.Store(h)
}

func (s *heldSource) Windows(ctx context.Context, pods []samples.PodKey, start, end time.Time) (map[samples.PodKey]*samples.Window, error) {
	ws, err := s.Source.Windows(ctx, pods, start, end)
	if h := s.want.Load(); err == nil && h != nil && !s.done.Load() && full(ws, h) {
		s.done.Store(true)
		s.gate.pass()
	}
	return ws, err
}

func full(ws map[samples.PodKey]*samples.Window, h *heldFor) bool {
	for _, k := range h.pods {
		if w := ws[k]; w == nil || len(w.Samples) < h.samples {
			return false
		}
	}
	return true
}

// testFailed says whether err is the apiserver refusing a JSON patch whose
// test operation failed.
func testFailed(err error) bool {
	var status apierrors.APIStatus
	return errors.As(err, &status) && status.Status().Code == http.StatusUnprocessableEntity
}

// classes returns the classes with recordings, sorted.
func (f *fixture) classes() []string {
	var out []string
	for c := range f.rec {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// createPlayed creates one pod per class named prefix-class through the
// webhook, checks the webhook marked it pending, and plays its recording.
// It returns the pods and the class each should end with.
func (f *fixture) createPlayed(prefix string, classes []string) ([]*corev1.Pod, map[string]string) {
	f.t.Helper()
	var pods []*corev1.Pod
	want := map[string]string{}
	for _, c := range classes {
		p := f.createPod("shop", prefix+"-"+c, images[c])
		if a := f.annotations(p); a[api.StatusAnnotation] != api.StatusPending {
			f.t.Fatalf("the webhook did not mark %s pending: %v", p.Name, a)
		}
		f.play(p, f.rec[c][0])
		pods = append(pods, p)
		want[p.Name] = f.rec[c][0].want
	}
	return pods, want
}

// ageAll moves the refiner's clock in one step so that every pod has lived
// at least d: one tick sees all of them of age, or none.
func (f *fixture) ageAll(pods []*corev1.Pod, d time.Duration) {
	var last time.Time
	for _, p := range pods {
		if p.CreationTimestamp.After(last) {
			last = p.CreationTimestamp.Time
		}
	}
	if at := last.Add(d); at.After(f.clock.Now()) {
		f.clock.SetTime(at)
	}
}

// checkDecidedOnce checks that every pod carries the class of its behaviour
// from the metrics, with the model and time of the decision, and has exactly
// one Classified event.
func (f *fixture) checkDecidedOnce(pods []*corev1.Pod, want map[string]string) {
	t := f.t
	t.Helper()
	for _, p := range pods {
		a := f.annotations(p)
		if a[api.StatusAnnotation] != api.StatusClassified || a[api.ClassAnnotation] != want[p.Name] || a[api.SourceAnnotation] != api.SourceMetrics ||
			a[api.ModelAnnotation] != f.model.Manifest().ModelVersion || a[api.ClassifiedAtAnnotation] == "" || a[api.ConfidenceAnnotation] == "" {
			t.Errorf("pod %s: annotations %v, want class %s from metrics by model %s", p.Name, a, want[p.Name], f.model.Manifest().ModelVersion)
		}
		f.decidedOnce("shop", p.Name)
	}
}

// checkLandedOnce checks that the apiserver accepted exactly one patch of
// each pod from rep. (An event could only be doubled by a second accepted
// patch.) A decision the apiserver already shows may still be on its way
// back to the replica — the patch's answer read, the recorder not yet
// told — so it first waits, briefly, for each pod's accepted patch.
func (f *fixture) checkLandedOnce(rep *replica, pods []*corev1.Pod) {
	f.t.Helper()
	var names []string
	for _, p := range pods {
		names = append(names, p.Name)
	}
	deadline := time.Now().Add(landedWait)
	for !containsAll(rep.patches.landed(), names) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	landed := rep.patches.landed()
	sort.Strings(names)
	sort.Strings(landed)
	if !slices.Equal(landed, names) {
		f.t.Errorf("%s's accepted patches: %v, want one of each of %v", rep.name, landed, names)
	}
}

// landedWait bounds how long an accepted patch's answer may take to reach
// the replica after the apiserver stored it.
const landedWait = 10 * time.Second

// containsAll says whether every name is in have.
func containsAll(have, names []string) bool {
	for _, n := range names {
		if !slices.Contains(have, n) {
			return false
		}
	}
	return true
}

func checkNoPanic(t *testing.T, reps ...*replica) {
	t.Helper()
	for _, r := range reps {
		if lines := r.logs.grep("panic"); len(lines) > 0 {
			t.Errorf("%s logged a panic: %q", r.name, lines)
		}
	}
}

// leaseHolder returns the Lease's holder, or "" if there is none yet.
func (f *fixture) leaseHolder(id string) string {
	lease := &coordinationv1.Lease{}
	if err := f.env.Client.Get(context.Background(), client.ObjectKey{Namespace: ownNamespace, Name: id}, lease); err != nil {
		if apierrors.IsNotFound(err) {
			return ""
		}
		f.t.Fatal(err)
	}
	return ptr.Deref(lease.Spec.HolderIdentity, "")
}

// waitLeader waits until someone other than the not-holders holds the Lease,
// and returns the holder.
func (f *fixture) waitLeader(id string, not ...string) string {
	f.t.Helper()
	var holder string
	testenv.WaitFor(f.t, 20*time.Second, "a new holder of lease "+id, func() (bool, error) {
		holder = f.leaseHolder(id)
		return holder != "" && !slices.Contains(not, holder), nil
	})
	return holder
}

// takeLease makes holder the Lease's holder, freshly renewed: the current
// leader cannot renew any more, as when its renewals stop reaching the
// apiserver, and the others wait for the lease to expire.
func (f *fixture) takeLease(id, holder string) {
	f.t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		lease := &coordinationv1.Lease{}
		if err := f.env.Client.Get(context.Background(), client.ObjectKey{Namespace: ownNamespace, Name: id}, lease); err != nil {
			return err
		}
		now := metav1.NowMicro()
		lease.Spec.HolderIdentity = &holder
		lease.Spec.AcquireTime, lease.Spec.RenewTime = &now, &now
		lease.Spec.LeaseTransitions = ptr.To(ptr.Deref(lease.Spec.LeaseTransitions, 0) + 1)
		return f.env.Client.Update(context.Background(), lease)
	})
	if err != nil {
		f.t.Fatalf("taking lease %s: %v", id, err)
	}
}
