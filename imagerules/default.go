package imagerules

import (
	_ "embed"
	"fmt"
)

// defaultRules is the built-in rule set; the chart ships the same file as its
// rules ConfigMap so users start from it.
//
//go:embed default-rules.yaml
var defaultRules []byte

// DefaultYAML returns the built-in rules file.
func DefaultYAML() []byte { return append([]byte(nil), defaultRules...) }

// Default returns the built-in rules.
func Default() *Rules {
	r, err := Load(defaultRules)
	if err != nil {
		// The file is part of the binary and covered by tests.
		panic(fmt.Sprintf("built-in image rules are invalid: %v", err))
	}
	return r
}
