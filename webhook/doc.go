// Package webhook is podclass's mutating admission webhook. At pod CREATE it
// names the pod's class from its container images and annotates the pod with
// that guess and status=pending; the refiner later decides from behaviour.
//
// The webhook never rejects a pod: every answer is allowed, with a patch or
// without. It reads no metrics and loads no model, so it answers in
// microseconds and has nothing that can be slow.
//
// It imports api and imagerules only: no metrics, no model, nothing of the
// refiner, trainer or classifier, and no test harness.
package webhook
