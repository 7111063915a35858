package refiner

import (
	"context"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/samples"
)

// PodTracker keeps the set of waiting pods in step with the pod informer. It
// watches pod metadata only — labels, annotations, UID, creation time are all
// it needs — so the cache for 10,000 pods stays small, and it never calls the
// API server itself: the informer is the only reader of pods.
type PodTracker struct {
	Client  client.Reader
	tracker *tracker
	// Workers bounds concurrent reconciles.
	Workers int
	// Excluded namespaces are never decided, labelled or not (the webhook
	// configuration excludes the same: kube-system and podclass's own).
	Excluded []string
}

func podMeta() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Pod"))
	return m
}

func controllerOptions(needLeader bool) controller.Options {
	return controller.Options{NeedLeaderElection: ptr.To(needLeader)}
}

// SetupWithManager registers the tracker's controller.
func (p *PodTracker) SetupWithManager(mgr ctrl.Manager) error {
	opts := controllerOptions(true)
	opts.MaxConcurrentReconciles = max(p.Workers, 1)
	return ctrl.NewControllerManagedBy(mgr).Named("pods").
		For(&corev1.Pod{}, builder.OnlyMetadata).
		// A namespace that opts in later brings its existing pods along.
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(p.podsOfNamespace), builder.OnlyMetadata).
		WithOptions(opts).
		Complete(p)
}

func (p *PodTracker) podsOfNamespace(ctx context.Context, ns client.Object) []reconcile.Request {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("PodList"))
	if err := p.Client.List(ctx, list, client.InNamespace(ns.GetName())); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing pods of namespace", "namespace", ns.GetName())
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return reqs
}

// Reconcile tracks or forgets one pod.
func (p *PodTracker) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	key := samples.PodKey{Namespace: req.Namespace, Name: req.Name}
	pod := podMeta()
	if err := p.Client.Get(ctx, req.NamespacedName, pod); err != nil {
		if apierrors.IsNotFound(err) {
			p.tracker.forget(key)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	w, ok, err := p.waitingFor(ctx, pod)
	if err != nil {
		return ctrl.Result{}, err
	}
	if !ok {
		p.tracker.forget(key)
		return ctrl.Result{}, nil
	}
	p.tracker.track(w)
	return ctrl.Result{}, nil
}

// waitingFor says whether a pod needs a decision: it is alive, in an opted-in
// namespace, not opted out, and pending, never annotated, or carrying a
// decision the refiner did not write.
func (p *PodTracker) waitingFor(ctx context.Context, pod *metav1.PartialObjectMetadata) (waiting, bool, error) {
	if pod.DeletionTimestamp != nil || pod.Labels[api.EnabledLabel] == "false" || slices.Contains(p.Excluded, pod.Namespace) {
		return waiting{}, false, nil
	}
	status, annotated := pod.Annotations[api.StatusAnnotation]
	untrusted := false
	if annotated && status != api.StatusPending {
		if decidedByRefiner(pod.ManagedFields) {
			return waiting{}, false, nil
		}
		// A decision podclass did not write: decide the pod afresh, as if
		// the webhook had missed it.
		annotated, untrusted = false, true
	}
	ns := &metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	if err := p.Client.Get(ctx, client.ObjectKey{Name: pod.Namespace}, ns); err != nil {
		if apierrors.IsNotFound(err) {
			return waiting{}, false, nil
		}
		return waiting{}, false, err
	}
	if ns.Labels[api.EnabledLabel] != "true" {
		return waiting{}, false, nil
	}
	return waiting{
		Key:             samples.PodKey{Namespace: pod.Namespace, Name: pod.Name},
		UID:             pod.UID,
		Created:         pod.CreationTimestamp.Time,
		Annotated:       annotated,
		Untrusted:       untrusted,
		ResourceVersion: pod.ResourceVersion,
		Annotations:     pod.Annotations,
		HasLabels:       len(pod.Labels) > 0,
	}, true, nil
}
