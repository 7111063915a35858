package webhook

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Admission outcomes. controller-runtime already exports request latency
// (controller_runtime_webhook_latency_seconds); these count what we decided.
const (
	resultAnnotated = "annotated"
	resultOptedOut  = "opted_out"
	resultInvalid   = "invalid"
	// Refused unread by the memory budget (reviewBudget).
	resultTooLarge = "too_large"
	resultBusy     = "busy"
)

var admissions = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "podclass_webhook_admissions_total",
	Help: "Pod CREATE admissions by outcome and image class.",
}, []string{"result", "class"})

func init() { metrics.Registry.MustRegister(admissions) }

func observe(result, class string) { admissions.WithLabelValues(result, class).Inc() }
