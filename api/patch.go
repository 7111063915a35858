package api

import "strings"

// pointerEscaper escapes a JSON Pointer reference token (RFC 6901): "~" first.
var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// AnnotationPath is the JSON Pointer of a pod's annotation key, for the JSON
// patches the webhook and the refiner write.
func AnnotationPath(key string) string {
	return "/metadata/annotations/" + pointerEscaper.Replace(key)
}

// LabelPath is the JSON Pointer of a pod's label key.
func LabelPath(key string) string {
	return "/metadata/labels/" + pointerEscaper.Replace(key)
}
