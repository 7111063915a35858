package refiner

import (
	"bytes"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/podclass/podclass/api"
)

// FieldOwner is the field manager the refiner patches pods as. The
// apiserver records it in the pod's managedFields as the owner of the
// result annotations it wrote; the refiner trusts a decision only when it
// owns the status annotation (decidedByRefiner).
const FieldOwner = "podclass-refiner"

// decisionOwners are the field managers whose decisions the refiner
// trusts: its own, and "podclass", the binary's default manager name, which
// refiners before FieldOwner patched as.
var decisionOwners = []string{FieldOwner, "podclass"}

// statusField is the status annotation in a managedFields entry's field set.
var statusField = []byte(`"f:` + api.StatusAnnotation + `"`)

// decidedByRefiner says whether the refiner wrote the pod's current status:
// a decision anyone else wrote (a tenant where no admission policy guards
// the keys, e.g. a pod created in a namespace that had not opted in) is
// decided afresh. Whoever last changes a field owns it, so a forgery written
// over the refiner's decision takes the status away from it.
func decidedByRefiner(entries []metav1.ManagedFieldsEntry) bool {
	for _, e := range entries {
		if slices.Contains(decisionOwners, e.Manager) && e.FieldsV1 != nil && bytes.Contains(e.FieldsV1.Raw, statusField) {
			return true
		}
	}
	return false
}

// transformKeepDecisionOwner is the cache's transform: it drops every
// managedFields entry but those decidedByRefiner reads, so 10,000 cached
// pods cost what they cost with managedFields stripped.
func transformKeepDecisionOwner() toolscache.TransformFunc {
	return func(in any) (any, error) {
		obj, err := meta.Accessor(in)
		if err != nil || obj.GetManagedFields() == nil {
			return in, nil
		}
		var keep []metav1.ManagedFieldsEntry
		for _, e := range obj.GetManagedFields() {
			if slices.Contains(decisionOwners, e.Manager) {
				keep = append(keep, e)
			}
		}
		obj.SetManagedFields(keep)
		return in, nil
	}
}
