package api

// Prefix starts every podclass label and annotation key.
const Prefix = "podclass.io/"

// Labels set by users.
const (
	// EnabledLabel on a namespace ("true") opts its pods in; on a pod ("false")
	// opts that pod out.
	EnabledLabel = Prefix + "enabled"
)

// ClassLabel is written by the refiner, when asked to, as a label with the
// decided class, so label selectors can use it. Off by default.
const ClassLabel = Prefix + "class"

// Annotations set by users. They are inputs: podclass never trusts them as results.
const (
	// HintAnnotation lets a pod's author declare the class they believe the pod
	// is. It is used only as the first guess when no image rule matches, and is
	// always marked source=hint so policies can tell it from a measured class.
	HintAnnotation = Prefix + "hint"
)

// Result annotations. Only podclass writes them: the webhook overwrites or
// removes any a user sets at CREATE; the chart's ValidatingAdmissionPolicy
// admits at CREATE only what the webhook writes and refuses changes on UPDATE,
// pods/status and Bindings by anyone but the refiner; the refiner re-decides
// results it did not write and, on every decision, writes or removes each.
const (
	ClassAnnotation            = Prefix + "class"
	FamilyAnnotation           = Prefix + "family"
	StatusAnnotation           = Prefix + "status"
	SourceAnnotation           = Prefix + "source"
	ConfidenceAnnotation       = Prefix + "confidence"
	ImageClassAnnotation       = Prefix + "image-class"
	ContainerClassesAnnotation = Prefix + "container-classes"
	ModelAnnotation            = Prefix + "model"
	ClassifiedAtAnnotation     = Prefix + "classified-at"
	ExplanationAnnotation      = Prefix + "explanation"
)

// ResultAnnotations lists every result key, for the webhook's anti-forgery
// pass and for the admission policy.
var ResultAnnotations = []string{
	ClassAnnotation, FamilyAnnotation, StatusAnnotation, SourceAnnotation,
	ConfidenceAnnotation, ImageClassAnnotation, ContainerClassesAnnotation,
	ModelAnnotation, ClassifiedAtAnnotation, ExplanationAnnotation,
}

// IsResult reports whether key is a result annotation.
func IsResult(key string) bool {
	for _, k := range ResultAnnotations {
		if k == key {
			return true
		}
	}
	return false
}

// Values of StatusAnnotation.
const (
	StatusPending      = "pending"      // guessed from the image; the refiner has not decided
	StatusClassified   = "classified"   // decided from behaviour
	StatusUnknown      = "unknown"      // behaviour seen, model abstained
	StatusUnclassified = "unclassified" // no usable metrics before the refiner's timeout
)

// Values of SourceAnnotation.
const (
	SourceImage = "image"
	// SourcePorts is a guess from a main container's declared ports, made
	// only for an image no rule knows.
	SourcePorts   = "ports"
	SourceHint    = "hint"
	SourceMetrics = "metrics"
)

// ImageOutsideModelNote begins the note the refiner writes into the
// explanation, after the answer's head, when the pod's image names a class
// the model does not know and so no class the model knows can be its
// answer (the answer is then that class's family, or unknown).
const ImageOutsideModelNote = "the image names "

// ClassUnknown is the class of a pod nothing could name.
const ClassUnknown = "unknown"

// ModelConfigMapKey is the key of the model file in the ConfigMap the
// trainer publishes and the refiner watches.
const ModelConfigMapKey = "model.json"
