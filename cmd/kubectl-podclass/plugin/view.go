package plugin

import (
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podclass/podclass/api"
)

// PodClass is what podclass says about one pod: its result annotations, read.
type PodClass struct {
	Namespace string      `json:"namespace"`
	Name      string      `json:"name"`
	Created   metav1.Time `json:"created"`
	// Annotated says the pod carries a podclass status: the webhook (or the
	// refiner, backfilling) has seen it.
	Annotated  bool     `json:"annotated"`
	Class      string   `json:"class,omitempty"`
	Family     string   `json:"family,omitempty"`
	Status     string   `json:"status,omitempty"`
	Source     string   `json:"source,omitempty"`
	Confidence *float64 `json:"confidence,omitempty"`
	// ImageClass is the webhook's guess from the images, kept after the
	// refiner decides.
	ImageClass       string            `json:"imageClass,omitempty"`
	ContainerClasses map[string]string `json:"containerClasses,omitempty"`
	Model            string            `json:"model,omitempty"`
	ClassifiedAt     *metav1.Time      `json:"classifiedAt,omitempty"`
	Explanation      *Explanation      `json:"explanation,omitempty"`

	// confidence is the annotation as written, shown when it is no number.
	confidence string
}

// FromObject reads a pod's podclass annotations.
func FromObject(m metav1.Object) PodClass {
	a := m.GetAnnotations()
	p := PodClass{
		Namespace:  m.GetNamespace(),
		Name:       m.GetName(),
		Created:    m.GetCreationTimestamp(),
		Class:      a[api.ClassAnnotation],
		Family:     a[api.FamilyAnnotation],
		Status:     a[api.StatusAnnotation],
		Source:     a[api.SourceAnnotation],
		ImageClass: a[api.ImageClassAnnotation],
		Model:      a[api.ModelAnnotation],
		confidence: a[api.ConfidenceAnnotation],
	}
	p.Annotated = p.Status != ""
	if c, err := strconv.ParseFloat(p.confidence, 64); err == nil {
		p.Confidence = &c
	}
	if s := a[api.ClassifiedAtAnnotation]; s != "" {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			p.ClassifiedAt = &metav1.Time{Time: t}
		}
	}
	if s := a[api.ExplanationAnnotation]; s != "" {
		e := ParseExplanation(s)
		p.Explanation = &e
	}
	p.ContainerClasses = parseContainerClasses(a[api.ContainerClassesAnnotation])
	return p
}

// parseContainerClasses reads "name=class,…".
func parseContainerClasses(s string) map[string]string {
	if s == "" {
		return nil
	}
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			out[k] = v
		}
	}
	return out
}

// FeatureSet is the feature set that decided, from the explanation.
func (p PodClass) FeatureSet() string {
	if p.Explanation == nil {
		return ""
	}
	return p.Explanation.FeatureSet
}

// confidenceText is the confidence as the annotation writes it (two decimals).
func (p PodClass) confidenceText() string {
	if p.Confidence != nil {
		return strconv.FormatFloat(*p.Confidence, 'f', 2, 64)
	}
	return p.confidence
}

// sortKey orders pods by namespace, then name.
func (p PodClass) sortKey() string { return p.Namespace + "/" + p.Name }
