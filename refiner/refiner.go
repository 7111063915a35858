package refiner

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/samples"
)

var log = logf.Log.WithName("refiner")

// Options tune the refiner.
type Options struct {
	// Interval between ticks when the metrics store is healthy.
	Interval time.Duration
	// MinWindow is how much of a pod's life must be sampled before it is
	// classified, unless the model's window is already full.
	MinWindow time.Duration
	// Timeout is how long after creation a pod without usable metrics is
	// given up as unclassified.
	Timeout time.Duration
	// MaxBackoff bounds the wait between ticks while the store fails.
	MaxBackoff time.Duration
	// Workers bounds concurrent patches.
	Workers int
	// SetClassLabel also writes the class as a pod label.
	SetClassLabel bool
	// RequireModelDigest serves from the model ConfigMap only a model the
	// trainer published, or the embedded default (ModelLoader.RequireDigest).
	RequireModelDigest bool
	// ExcludedNamespaces are never decided; Setup adds kube-system and the
	// refiner's own namespace.
	ExcludedNamespaces []string
}

// DefaultOptions are the documented defaults.
func DefaultOptions() Options {
	return Options{Interval: 15 * time.Second, MinWindow: 60 * time.Second, Timeout: 10 * time.Minute,
		MaxBackoff: 5 * time.Minute, Workers: 8}
}

// Validate rejects options that cannot work.
func (o Options) Validate() error {
	switch {
	case o.Interval <= 0:
		return fmt.Errorf("interval must be positive, got %s", o.Interval)
	case o.MinWindow < 0:
		return fmt.Errorf("min window must not be negative, got %s", o.MinWindow)
	case o.Timeout <= o.MinWindow:
		return fmt.Errorf("timeout %s must be longer than the min window %s", o.Timeout, o.MinWindow)
	case o.Workers < 1:
		return fmt.Errorf("workers must be at least 1, got %d", o.Workers)
	}
	return nil
}

// Refiner is the tick loop. It runs only on the elected leader.
type Refiner struct {
	Options
	// Client patches pods (through the manager's client, so its QPS limits apply).
	Client client.Client
	// Source reads pod metrics for many pods per call.
	Source   samples.Source
	Models   *ModelHolder
	Recorder events.EventRecorder
	Clock    clock.PassiveClock

	// Live reads a pod past the cache after a failed precondition
	// (mgr.GetAPIReader()); nil forgets such pods until their next event.
	Live client.Reader

	tracker *tracker
	pods    *PodTracker
	health  health
	ticks   atomic.Int64
	// log is the package logger, or the manager's after Setup.
	log logr.Logger
}

// New returns a refiner and the informer-fed tracker that feeds it.
func New(o Options, c client.Client, src samples.Source, models *ModelHolder, rec events.EventRecorder) (*Refiner, *PodTracker) {
	r := &Refiner{Options: o, Client: c, Source: src, Models: models, Recorder: rec, Clock: clock.RealClock{}, tracker: newTracker(), log: log}
	r.pods = &PodTracker{Client: c, tracker: r.tracker, Workers: o.Workers, Excluded: o.ExcludedNamespaces}
	return r, r.pods
}

// Setup wires the refiner, its pod tracker and the model loader (when
// modelConfigMap names one) into mgr.
func Setup(mgr ctrl.Manager, o Options, src samples.Source, models *ModelHolder, namespace, modelConfigMap string) (*Refiner, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o.ExcludedNamespaces = append(append([]string{}, o.ExcludedNamespaces...), "kube-system", namespace)
	rec := mgr.GetEventRecorder("podclass-refiner")
	r, pods := New(o, mgr.GetClient(), src, models, rec)
	r.Live = mgr.GetAPIReader()
	r.log = mgr.GetLogger().WithName("refiner")
	if err := pods.SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the pod tracker: %w", err)
	}
	if modelConfigMap != "" {
		l := &ModelLoader{Client: mgr.GetClient(), Holder: models, Recorder: rec, Namespace: namespace, Name: modelConfigMap, RequireDigest: o.RequireModelDigest}
		if err := l.SetupWithManager(mgr); err != nil {
			return nil, fmt.Errorf("setting up the model loader: %w", err)
		}
	}
	if err := mgr.Add(r); err != nil {
		return nil, err
	}
	return r, nil
}

var _ manager.LeaderElectionRunnable = &Refiner{}

// NeedLeaderElection makes the tick loop run on the leader only, so two
// replicas never decide the same pod twice.
func (r *Refiner) NeedLeaderElection() bool { return true }

// Start ticks until ctx is done. A failing metrics store backs the loop off
// exponentially up to MaxBackoff; pods stay pending meanwhile.
//
// The manager cancels ctx on shutdown and when this replica loses the leader
// lease: a tick in progress then writes no more decisions (those it had not
// sent stay pending for the next leader) and Start returns.
func (r *Refiner) Start(ctx context.Context) error {
	r.log.Info("Starting refiner", "interval", r.Interval, "minWindow", r.MinWindow, "timeout", r.Timeout)
	wait := r.Interval
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			r.log.Info("Stopping refiner", "waiting", r.tracker.len())
			return nil
		case <-timer.C:
		}
		_, err := r.Tick(ctx)
		r.ticks.Add(1)
		if err != nil && ctx.Err() == nil {
			wait = min(max(wait*2, r.Interval), r.MaxBackoff)
			r.log.Error(err, "Tick failed; pods stay pending", "retryIn", wait)
		} else {
			wait = r.Interval
		}
		timer.Reset(wait)
	}
}

// TickStats says what one tick did.
type TickStats struct {
	Waiting, Queried, Decided, Failed int
	Query                             time.Duration
}

// Tick reads the metrics of every waiting pod and writes the decisions that
// are due. It returns an error when the metrics store failed; patch failures
// are counted and retried next tick.
func (r *Refiner) Tick(ctx context.Context) (TickStats, error) {
	began := time.Now()
	defer func() { tickDuration.Observe(time.Since(began).Seconds()) }()
	now := r.Clock.Now()
	pods := r.tracker.snapshot()
	pendingPods.Set(float64(len(pods)))
	oldest := 0.0
	if len(pods) > 0 {
		oldest = max(now.Sub(pods[0].Created).Seconds(), 0) // the snapshot is oldest first
	}
	oldestPending.Set(oldest)
	st := TickStats{Waiting: len(pods)}
	if len(pods) == 0 {
		r.health.ok()
		return st, nil
	}
	model := r.Models.Get()
	keys := make([]samples.PodKey, len(pods))
	start := now
	for i, w := range pods {
		keys[i] = w.Key
		if w.Created.Before(start) {
			start = w.Created
		}
	}
	// Never read more than a timeout's worth of history: older pods are decided by now.
	if floor := now.Add(-r.Timeout - r.Interval); start.Before(floor) {
		start = floor
	}
	start = start.Add(-time.Second)
	t0 := time.Now()
	windows, err := r.Source.Windows(ctx, keys, start, now.Add(time.Second))
	st.Query = time.Since(t0)
	queryDuration.Observe(st.Query.Seconds())
	st.Queried = len(keys)
	if err != nil {
		queryErrors.Inc()
		r.health.fail(err)
		return st, fmt.Errorf("reading metrics of %d pods: %w", len(keys), err)
	}
	r.health.ok()

	th := model.Thresholds()
	var decisions []decision
	for _, w := range pods {
		win := sinceCreation(windows[w.Key], w.Created)
		expired := now.Sub(w.Created) >= r.Timeout
		// Only samples that carry a metric count: a window of missing
		// values would be decided from the model's imputed values alone.
		n := usableSamples(win)
		ready := n >= th.WindowSamples || (win != nil && win.Span() >= r.MinWindow && n >= th.MinSamples)
		switch {
		case ready || (expired && n >= th.MinSamples):
			// One decision: the explanation carries the result it explains.
			e := model.Explain(win)
			res, expl := e.Result, ""
			if res.Status != classifier.StatusUnclassified {
				expl = e.String()
			}
			outside := ""
			if o, changed := outsideModel(w, e, model.Manifest()); changed {
				// The new answer's head, then why: readers of the
				// explanation's form still parse it.
				res, expl = o, classifier.Explanation{Result: o}.String()+"; "+o.Reason
				outside = w.Annotations[api.ImageClassAnnotation]
			}
			d := decide(w, res, expl, model.Manifest().ModelVersion, now, r.SetClassLabel)
			d.OutsideModel = outside
			decisions = append(decisions, d)
		case expired:
			decisions = append(decisions, decide(w, classifier.Result{Status: classifier.StatusUnclassified}, "no usable metrics within "+r.Timeout.String(), "", now, r.SetClassLabel))
		}
	}
	st.Decided, st.Failed = r.apply(ctx, decisions, now)
	if left := len(decisions) - st.Decided - st.Failed; left > 0 {
		r.log.Info("Tick cut short (shutdown or lost leadership); undecided pods stay pending for the next leader",
			"notWritten", left, "decided", st.Decided)
	}
	return st, nil
}

// sinceCreation drops samples older than the pod: a pod recreated under the
// same name (a StatefulSet's) must not inherit its predecessor's behaviour.
func sinceCreation(w *samples.Window, created time.Time) *samples.Window {
	if w == nil {
		return nil
	}
	from := created.Add(-time.Second)
	i := 0
	for i < len(w.Samples) && w.Samples[i].Time.Before(from) {
		i++
	}
	if i == 0 {
		return w
	}
	return &samples.Window{Pod: w.Pod, Samples: w.Samples[i:]}
}

// apply writes decisions with at most Workers patches in flight, and sends
// none once ctx is done.
func (r *Refiner) apply(ctx context.Context, ds []decision, now time.Time) (decided, failed int) {
	var mu sync.Mutex
	var g errgroup.Group
	g.SetLimit(r.Workers)
	for _, d := range ds {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			err := r.write(ctx, d, now)
			mu.Lock()
			if err != nil {
				failed++
			} else {
				decided++
			}
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	return decided, failed
}

// write patches one pod and records the decision.
func (r *Refiner) write(ctx context.Context, d decision, now time.Time) error {
	w := d.Pod
	pod := &corev1.Pod{}
	pod.Namespace, pod.Name, pod.UID = w.Key.Namespace, w.Key.Name, w.UID
	body, err := d.patch()
	if err != nil {
		return err
	}
	err = r.Client.Patch(ctx, pod, client.RawPatch(types.JSONPatchType, body), client.FieldOwner(FieldOwner))
	switch {
	case err == nil:
	case apierrors.IsNotFound(err):
		r.tracker.forgetIf(w.Key, w.UID)
		return nil
	case guardFailed(err):
		// Someone else decided, the pod is a new one under the same name, or
		// our view of it was stale: read it past the cache and decide again
		// next tick if it still waits.
		r.log.V(2).Info("Pod changed before the patch; re-reading", "pod", w.Key.String(), "reason", err.Error())
		r.recheck(ctx, w)
		return nil
	case ctx.Err() != nil:
		// Stopping: the pod stays pending for whoever leads next.
		return err
	case refused(err):
		// The apiserver refuses this decision (invalid, forbidden, too
		// large): retrying the same one cannot help for ever.
		patchErrors.Inc()
		failures, gaveUp := r.tracker.refused(w.Key, w.UID)
		if !gaveUp {
			r.log.Error(err, "The apiserver refused the patch; will retry next tick", "pod", w.Key.String(), "failures", failures)
			return err
		}
		r.log.Error(err, "Giving the pod up: every patch was refused", "pod", w.Key.String(), "failures", failures)
		if r.Recorder != nil {
			note := fmt.Sprintf("podclass gave up after %d refused patches: %v", failures, err)
			r.Recorder.Eventf(pod, nil, corev1.EventTypeWarning, "ClassificationFailed", "Classify", "%s", truncate(note, maxEventNote))
		}
		return err
	default:
		patchErrors.Inc()
		r.log.Error(err, "Patching pod; will retry next tick", "pod", w.Key.String())
		return err
	}
	r.tracker.forgetIf(w.Key, w.UID)
	source := d.Annotations[api.SourceAnnotation]
	if source == "" {
		source = w.Annotations[api.SourceAnnotation]
	}
	classifications.WithLabelValues(d.Class, source, d.Status).Inc()
	if d.OutsideModel != "" {
		imageOutsideModel.WithLabelValues(d.OutsideModel, d.Status).Inc()
	}
	timeToDecision.Observe(now.Sub(w.Created).Seconds())
	if r.Recorder != nil {
		typ, reason := corev1.EventTypeNormal, "Classified"
		switch d.Status {
		case api.StatusUnknown:
			reason = "Unknown"
		case api.StatusUnclassified:
			typ, reason = corev1.EventTypeWarning, "Unclassified"
		}
		note := fmt.Sprintf("podclass: %s (status %s", d.Class, d.Status)
		if c := d.Annotations[api.ConfidenceAnnotation]; c != "" {
			note += ", confidence " + c
		}
		if v := d.Annotations[api.ModelAnnotation]; v != "" {
			note += ", model " + v
		}
		note += ")"
		if w.Untrusted {
			note += "; replaced a result podclass did not write"
		}
		if d.Explanation != "" {
			note += ": " + d.Explanation
		}
		r.Recorder.Eventf(pod, nil, typ, reason, "Classify", "%s", note)
	}
	return nil
}

// recheck re-reads a pod whose patch guard failed and tracks it afresh if it
// still waits for a decision; otherwise forgets it.
func (r *Refiner) recheck(ctx context.Context, w waiting) {
	if r.Live == nil {
		r.tracker.forgetIf(w.Key, w.UID)
		return
	}
	pod := podMeta()
	err := r.Live.Get(ctx, client.ObjectKey{Namespace: w.Key.Namespace, Name: w.Key.Name}, pod)
	if err != nil {
		if !apierrors.IsNotFound(err) {
			return // keep it; the next tick tries again
		}
		r.tracker.forgetIf(w.Key, w.UID)
		return
	}
	fresh, ok, err := (&PodTracker{Client: r.Live, Excluded: r.pods.Excluded}).waitingFor(ctx, pod)
	switch {
	case err != nil:
	case ok:
		r.tracker.track(fresh)
	default:
		r.tracker.forgetIf(w.Key, w.UID)
	}
}

// guardFailed is a conflict (409) or a JSON patch the apiserver could not
// apply to the pod as it is now — a failed `test` operation, or a key to
// remove that is gone: 422 with no kind in its details, unlike a patched pod
// that fails validation (422 Invalid naming the Pod), which is refused.
func guardFailed(err error) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return false
	}
	st := status.Status()
	switch st.Code {
	case http.StatusConflict:
		return true
	case http.StatusUnprocessableEntity:
		return st.Details == nil || st.Details.Kind == ""
	}
	return false
}

// refused is an answer a retry of the same patch gets again: any 4xx but a
// timeout (408), a conflict (409) or throttling (429).
func refused(err error) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return false
	}
	code := status.Status().Code
	return code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusConflict && code != http.StatusTooManyRequests
}

// maxEventNote bounds an Event's note (the events API refuses 1 KiB or more).
const maxEventNote = 1000

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// Ticks counts the ticks Start has finished (failed ones too), so that a
// test can wait for the refiner to have looked at its pods again instead of
// sleeping and hoping it did.
func (r *Refiner) Ticks() int64 { return r.ticks.Load() }

// Waiting returns how many pods wait for a decision.
func (r *Refiner) Waiting() int { return r.tracker.len() }

// health remembers the metrics store's last answer for /readyz.
type health struct {
	mu       sync.Mutex
	lastErr  error
	failures int
	since    time.Time
}

func (h *health) ok() {
	h.mu.Lock()
	h.lastErr, h.failures = nil, 0
	h.mu.Unlock()
}

func (h *health) fail(err error) {
	h.mu.Lock()
	if h.failures == 0 {
		h.since = time.Now()
	}
	h.lastErr = err
	h.failures++
	h.mu.Unlock()
}

// MetricsStoreCheck is a healthz.Checker: it fails while the metrics store
// has failed the last ticks, with the error as detail. The refiner keeps
// running meanwhile; readiness only tells operators (and the Service) why
// nothing is being decided.
func (r *Refiner) MetricsStoreCheck(_ *http.Request) error {
	r.health.mu.Lock()
	defer r.health.mu.Unlock()
	if r.health.lastErr == nil {
		return nil
	}
	return fmt.Errorf("metrics store failing for %s (%d ticks): %w", time.Since(r.health.since).Round(time.Second), r.health.failures, r.health.lastErr)
}
