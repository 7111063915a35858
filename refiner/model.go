package refiner

import (
	"context"
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/modelstore"
	"github.com/podclass/podclass/samples"
)

// Model is what the refiner needs of a classifier.
type Model interface {
	// Explain decides for w and says why: the refiner reads the result
	// from it, so each pod is decided once.
	Explain(w *samples.Window) classifier.Explanation
	Thresholds() classifier.Thresholds
	Manifest() classifier.Manifest
}

// ModelHolder holds the model in use and swaps it atomically: a tick that
// started with one model finishes with it.
type ModelHolder struct {
	current atomic.Pointer[modelBox]
	mu      sync.Mutex // serialises Set, so the info metric follows the model
}

type modelBox struct{ Model }

// NewModelHolder returns a holder using m until a better one is set.
func NewModelHolder(m Model) *ModelHolder {
	h := &ModelHolder{}
	h.Set(m)
	return h
}

// Get returns the model in use.
func (h *ModelHolder) Get() Model { return h.current.Load().Model }

// Version returns the version of the model in use.
func (h *ModelHolder) Version() string { return h.Get().Manifest().ModelVersion }

// Set replaces the model in use.
func (h *ModelHolder) Set(m Model) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if old := h.current.Load(); old != nil {
		modelInfo.DeleteLabelValues(old.Manifest().ModelVersion)
	}
	h.current.Store(&modelBox{m})
	modelInfo.WithLabelValues(m.Manifest().ModelVersion).Set(1)
}

// ModelLoader watches the model ConfigMap the trainer writes and hot-reloads
// the model. A corrupt or incompatible model is refused with a Warning Event
// on the ConfigMap and the previous model stays in use.
type ModelLoader struct {
	Client    client.Reader
	Holder    *ModelHolder
	Recorder  events.EventRecorder
	Namespace string
	Name      string
	// Load parses a model file; classifier.Load unless a test swaps it.
	Load func([]byte) (Model, error)
	// RequireDigest serves only a model the trainer published (its SHA-256
	// matches modelstore.DigestAnnotation, which the chart's admission policy
	// lets only the trainer write) or the embedded default; anything else in
	// the ConfigMap is refused like a corrupt model.
	RequireDigest bool
}

// SetupWithManager registers the loader for the one ConfigMap it watches.
func (l *ModelLoader) SetupWithManager(mgr ctrl.Manager) error {
	if l.Load == nil {
		l.Load = func(b []byte) (Model, error) { return classifier.Load(b) }
	}
	ours := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetNamespace() == l.Namespace && o.GetName() == l.Name
	})
	return ctrl.NewControllerManagedBy(mgr).Named("model").
		For(&corev1.ConfigMap{}, builder.WithPredicates(ours)).
		// Every replica keeps its model current, leader or not, so a new
		// leader starts with the latest model.
		WithOptions(controllerOptions(false)).
		Complete(l)
}

// Reconcile loads the model from the ConfigMap.
func (l *ModelLoader) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	cm := &corev1.ConfigMap{}
	if err := l.Client.Get(ctx, req.NamespacedName, cm); err != nil {
		if apierrors.IsNotFound(err) {
			log.Info("Model ConfigMap is gone; keeping the model in use", "version", l.Holder.Version())
			modelRejected.Set(0)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	data, err := modelstore.Data(cm)
	if err != nil {
		l.reject(ctx, cm, err)
		return ctrl.Result{}, nil
	}
	if l.RequireDigest {
		if err := modelstore.Verify(cm, data); err != nil {
			l.reject(ctx, cm, err)
			return ctrl.Result{}, nil
		}
	}
	m, err := l.Load(data)
	if err != nil {
		l.reject(ctx, cm, err)
		return ctrl.Result{}, nil
	}
	modelRejected.Set(0)
	if v := m.Manifest().ModelVersion; v != l.Holder.Version() {
		l.Holder.Set(m)
		log.Info("Loaded model", "version", v, "classes", m.Manifest().Classes)
		if l.Recorder != nil {
			l.Recorder.Eventf(cm, nil, corev1.EventTypeNormal, "ModelLoaded", "Load", "refiner uses model %s", v)
		}
	}
	return ctrl.Result{}, nil
}

func (l *ModelLoader) reject(ctx context.Context, cm *corev1.ConfigMap, err error) {
	modelRejections.Inc()
	modelRejected.Set(1)
	ctrl.LoggerFrom(ctx).Error(err, "Refusing model; keeping the model in use", "version", l.Holder.Version())
	if l.Recorder != nil {
		l.Recorder.Eventf(cm, nil, corev1.EventTypeWarning, "ModelRejected", "Load",
			"refusing model, keeping %s: %v", l.Holder.Version(), err)
	}
}
