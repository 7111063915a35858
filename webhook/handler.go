package webhook

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"

	"gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/klog/v2"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/podclass/podclass/api"
)

// Path is where the webhook is served: kubebuilder's path for core/v1 Pod.
const Path = "/mutate--v1-pod"

// podView is the part of a pod the webhook reads. Decoding only this is
// several times faster than decoding a whole corev1.Pod.
type podView struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name         string            `json:"name"`
		GenerateName string            `json:"generateName"`
		Namespace    string            `json:"namespace"`
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		Containers []container `json:"containers"`
	} `json:"spec"`
}

// PodAnnotator is the admission.Handler that annotates pods at CREATE.
type PodAnnotator struct {
	matcher atomic.Pointer[matcherBox]
}

type matcherBox struct{ Matcher }

var _ admission.Handler = &PodAnnotator{}

// NewPodAnnotator returns a handler that names classes with m.
func NewPodAnnotator(m Matcher) *PodAnnotator {
	a := &PodAnnotator{}
	a.SetMatcher(m)
	return a
}

// SetMatcher swaps the rules, e.g. when the rules ConfigMap changes. Requests
// in flight finish with the rules they started with.
func (a *PodAnnotator) SetMatcher(m Matcher) { a.matcher.Store(&matcherBox{m}) }

// Handle implements admission.Handler.
func (a *PodAnnotator) Handle(ctx context.Context, req admission.Request) admission.Response {
	if req.Operation != admissionv1.Create || req.Kind.Group != "" || req.Kind.Kind != "Pod" || req.SubResource != "" {
		return admission.Allowed("podclass annotates pods at CREATE only")
	}
	var pod podView
	if err := json.Unmarshal(req.Object.Raw, &pod); err != nil {
		// The pod is the apiserver's to validate, not ours: let it through.
		observe(resultInvalid, "")
		return withWarning(admission.Allowed("podclass could not read the pod"), "podclass: pod not annotated: "+err.Error())
	}
	if pod.Metadata.Labels[api.EnabledLabel] == "false" {
		observe(resultOptedOut, "")
		return admission.Allowed("pod opted out of podclass")
	}
	m := a.matcher.Load()
	g := guessPod(m, pod.Spec.Containers, pod.Metadata.Annotations[api.HintAnnotation])
	patches := annotationPatch(pod.Metadata.Annotations, g.annotations())
	if _, forged := pod.Metadata.Labels[api.ClassLabel]; forged {
		// The class label is the refiner's to write (--set-class-label); a
		// tenant's would let a selector trust a class nobody measured.
		patches = append(patches, jsonpatch.JsonPatchOperation{Operation: "remove", Path: api.LabelPath(api.ClassLabel)})
	}
	resp := admission.Response{
		Patches:           patches,
		AdmissionResponse: admissionv1.AdmissionResponse{Allowed: true, Warnings: g.Warnings},
	}
	observe(resultAnnotated, g.Class)
	if log := logf.FromContext(ctx); log.V(4).Enabled() {
		log.V(4).Info("Annotating pod", "pod", klog.KRef(req.Namespace, podName(pod, req)), "class", g.Class, "source", g.Source, "confidence", g.Confidence)
	}
	return resp
}

func podName(p podView, req admission.Request) string {
	switch {
	case p.Metadata.Name != "":
		return p.Metadata.Name
	case req.Name != "":
		return req.Name
	default:
		return p.Metadata.GenerateName + "*"
	}
}

func withWarning(r admission.Response, w string) admission.Response {
	r.Warnings = append(r.Warnings, w)
	r.Result.Code = http.StatusOK
	return r
}
