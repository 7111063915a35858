package webhook

import (
	"sort"

	"gomodules.xyz/jsonpatch/v2"

	"github.com/podclass/podclass/api"
)

// annotationPatch returns the RFC 6902 operations that make a pod's
// annotations carry exactly the given podclass results: every key in set is
// added (an "add" on an existing member replaces it), and any other podclass
// result key already present — a tenant's forgery — is removed. Other
// annotations are left alone. Operations are sorted so patches are stable.
func annotationPatch(existing, set map[string]string) []jsonpatch.JsonPatchOperation {
	if len(existing) == 0 {
		value := make(map[string]any, len(set))
		for k, v := range set {
			value[k] = v
		}
		return []jsonpatch.JsonPatchOperation{{Operation: "add", Path: "/metadata/annotations", Value: value}}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ops := make([]jsonpatch.JsonPatchOperation, 0, len(keys)+1)
	for _, k := range keys {
		ops = append(ops, jsonpatch.JsonPatchOperation{Operation: "add", Path: api.AnnotationPath(k), Value: set[k]})
	}
	var forged []string
	for k := range existing {
		if _, ours := set[k]; !ours && api.IsResult(k) {
			forged = append(forged, k)
		}
	}
	sort.Strings(forged)
	for _, k := range forged {
		ops = append(ops, jsonpatch.JsonPatchOperation{Operation: "remove", Path: api.AnnotationPath(k)})
	}
	return ops
}
