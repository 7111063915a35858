package refiner

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"time"

	"gomodules.xyz/jsonpatch/v2"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/classifier"
)

// decision is what the refiner writes on one pod.
type decision struct {
	Pod         waiting
	Annotations map[string]string
	// Remove are result keys the decision does not set and the webhook did
	// not write (a family after abstaining, a backfilled pod's forged keys);
	// the patch removes those present.
	Remove      []string
	Status      string
	Class       string
	Explanation string
	// Label, when set, is also written as the podclass.io/class label so
	// selectors can use the class.
	Label string
	// OutsideModel is the image class the model does not know, when that
	// changed the answer (outsideModel); counted once the patch lands.
	OutsideModel string
}

// maxExplanation bounds the explanation annotation; the Event carries the same text.
const maxExplanation = 256

// decide turns a classifier result into annotations. Every key in
// api.ResultAnnotations is written or removed: the only values a decision
// leaves in place are the webhook's own — its image guess (image-class,
// container-classes) on a pod it annotated, and, when the pod is
// unclassified, its guessed class, family, source and confidence: that is
// still the best we know. A pod the webhook never annotated (backfilled, or
// carrying a decision the refiner did not write) keeps nothing it carried.
func decide(w waiting, res classifier.Result, explanation, modelVersion string, now time.Time, setClassLabel bool) decision {
	d := decision{Pod: w, Annotations: map[string]string{}}
	a := d.Annotations
	a[api.ClassifiedAtAnnotation] = now.UTC().Format(time.RFC3339)
	keepGuess := false
	switch res.Status {
	case classifier.StatusClassified:
		d.Status, d.Class = api.StatusClassified, res.Class
		a[api.ClassAnnotation] = res.Class
		a[api.SourceAnnotation] = api.SourceMetrics
		a[api.ConfidenceAnnotation] = strconv.FormatFloat(res.Confidence, 'f', 2, 64)
		a[api.ModelAnnotation] = modelVersion
		if res.Family != "" {
			a[api.FamilyAnnotation] = res.Family
		}
	case classifier.StatusUnknown:
		d.Status, d.Class = api.StatusUnknown, api.ClassUnknown
		a[api.ClassAnnotation] = api.ClassUnknown
		a[api.SourceAnnotation] = api.SourceMetrics
		a[api.ConfidenceAnnotation] = strconv.FormatFloat(res.Confidence, 'f', 2, 64)
		a[api.ModelAnnotation] = modelVersion
	default:
		d.Status = api.StatusUnclassified
		if c := w.Annotations[api.ClassAnnotation]; w.Annotated && c != "" {
			d.Class, keepGuess = c, true
		} else {
			d.Class = api.ClassUnknown
			a[api.ClassAnnotation] = api.ClassUnknown
			a[api.SourceAnnotation] = api.SourceImage
			a[api.ConfidenceAnnotation] = "0.00"
		}
	}
	a[api.StatusAnnotation] = d.Status
	if explanation != "" {
		if len(explanation) > maxExplanation {
			explanation = explanation[:maxExplanation-3] + "..."
		}
		a[api.ExplanationAnnotation] = explanation
		d.Explanation = explanation
	}
	if setClassLabel && d.Status == api.StatusClassified {
		d.Label = d.Class
	}
	if !w.Annotated {
		// Backfill: the webhook never saw this pod, so no image guess exists.
		a[api.ImageClassAnnotation] = api.ClassUnknown
	}
	for _, k := range api.ResultAnnotations {
		if _, set := a[k]; set || (w.Annotated && webhookKey(k, keepGuess)) {
			continue
		}
		d.Remove = append(d.Remove, k)
	}
	return d
}

// webhookKey says whether a decision leaves key as the webhook wrote it.
func webhookKey(key string, keepGuess bool) bool {
	switch key {
	case api.ImageClassAnnotation, api.ContainerClassesAnnotation:
		return true
	case api.ClassAnnotation, api.FamilyAnnotation, api.SourceAnnotation, api.ConfidenceAnnotation:
		return keepGuess
	}
	return false
}

// patch returns the JSON patch for the decision, guarded by `test`
// operations so it applies only to the pod the decision was made for, and
// only while nobody else has decided it: the same UID, and either the status
// still pending or — for a pod never annotated — the same resourceVersion.
// A failed test (HTTP 422, or 409) means the pod changed under us; the caller
// re-reads it instead of overwriting someone else's answer.
func (d decision) patch() ([]byte, error) {
	w := d.Pod
	ops := []jsonpatch.JsonPatchOperation{{Operation: "test", Path: "/metadata/uid", Value: string(w.UID)}}
	if w.Annotated {
		ops = append(ops, jsonpatch.JsonPatchOperation{Operation: "test", Path: api.AnnotationPath(api.StatusAnnotation), Value: api.StatusPending})
	} else {
		ops = append(ops, jsonpatch.JsonPatchOperation{Operation: "test", Path: "/metadata/resourceVersion", Value: w.ResourceVersion})
	}
	if len(w.Annotations) == 0 {
		all := make(map[string]any, len(d.Annotations))
		for k, v := range d.Annotations {
			all[k] = v
		}
		ops = append(ops, jsonpatch.JsonPatchOperation{Operation: "add", Path: "/metadata/annotations", Value: all})
		return json.Marshal(d.labelOps(ops))
	}
	for _, k := range sortedKeys(d.Annotations) {
		ops = append(ops, jsonpatch.JsonPatchOperation{Operation: "add", Path: api.AnnotationPath(k), Value: d.Annotations[k]})
	}
	for _, k := range d.Remove {
		if _, ok := w.Annotations[k]; ok {
			ops = append(ops, jsonpatch.JsonPatchOperation{Operation: "remove", Path: api.AnnotationPath(k)})
		}
	}
	return json.Marshal(d.labelOps(ops))
}

func (d decision) labelOps(ops []jsonpatch.JsonPatchOperation) []jsonpatch.JsonPatchOperation {
	if d.Label == "" {
		return ops
	}
	if !d.Pod.HasLabels {
		return append(ops, jsonpatch.JsonPatchOperation{Operation: "add", Path: "/metadata/labels", Value: map[string]any{api.ClassLabel: d.Label}})
	}
	return append(ops, jsonpatch.JsonPatchOperation{Operation: "add", Path: api.LabelPath(api.ClassLabel), Value: d.Label})
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
