package refiner

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	pendingPods = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "podclass_refiner_pending_pods",
		Help: "Pods waiting for a behaviour-based decision, at the leader's last tick (0 on other replicas).",
	})
	oldestPending = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "podclass_refiner_oldest_pending_pod_age_seconds",
		Help: "Age of the oldest pod waiting for a decision, at the leader's last tick (0 when none waits).",
	})
	tickDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "podclass_refiner_tick_duration_seconds",
		Help:    "Duration of one tick: the metrics read, the decisions and their patches (failed ticks too).",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 16),
	})
	classifications = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "podclass_refiner_classifications_total",
		Help: "Decisions written to pods, by class, source and status.",
	}, []string{"class", "source", "status"})
	timeToDecision = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "podclass_refiner_time_to_decision_seconds",
		Help:    "Time from pod creation to the refiner's decision.",
		Buckets: []float64{15, 30, 45, 60, 75, 90, 120, 180, 300, 600, 1200},
	})
	queryDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "podclass_refiner_metrics_query_duration_seconds",
		Help:    "Duration of one tick's metrics read (all batches).",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
	})
	queryErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "podclass_refiner_metrics_query_errors_total",
		Help: "Ticks whose metrics read failed.",
	})
	patchErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "podclass_refiner_patch_errors_total",
		Help: "Pod patches that failed (retried next tick unless the pod changed or went away).",
	})
	imageOutsideModel = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "podclass_refiner_image_outside_model_total",
		Help: "Decisions for pods whose image names a class the model does not know, by that class and the status written (classified: the family behaviour shares with it; unknown).",
	}, []string{"image_class", "status"})
	modelInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "podclass_refiner_model_info",
		Help: "The model in use (value 1), by version.",
	}, []string{"version"})
	modelRejections = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "podclass_refiner_model_rejections_total",
		Help: "Model updates refused (corrupt or incompatible); the previous model stays.",
	})
	modelRejected = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "podclass_refiner_model_rejected",
		Help: "1 while the model ConfigMap holds a model this replica refused (the previous model stays in use), else 0.",
	})
)

// collectors are every metric the refiner exports.
var collectors = []prometheus.Collector{
	pendingPods, oldestPending, tickDuration, classifications, imageOutsideModel, timeToDecision,
	queryDuration, queryErrors, patchErrors, modelInfo, modelRejections, modelRejected,
}

func init() { metrics.Registry.MustRegister(collectors...) }

// Collectors returns the refiner's metrics, which init registered on
// controller-runtime's metrics.Registry (the one its /metrics serves), so
// that tests and tools can check dashboards and alert rules against what the
// refiner exports. They must not be registered again.
func Collectors() []prometheus.Collector { return append([]prometheus.Collector(nil), collectors...) }
