package api

import "testing"

func TestAnnotationPath(t *testing.T) {
	tests := map[string]string{
		"podclass.io/class": "/metadata/annotations/podclass.io~1class",
		"a~b/c":             "/metadata/annotations/a~0b~1c",
		"~1":                "/metadata/annotations/~01",
	}
	for in, want := range tests {
		if got := AnnotationPath(in); got != want {
			t.Errorf("AnnotationPath(%q) = %q, want %q", in, got, want)
		}
	}
}
