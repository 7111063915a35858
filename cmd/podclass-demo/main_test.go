package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestFlagValidation runs the real command with bad flags: it must fail in
// PreRunE with a message naming the problem, before starting anything.
func TestFlagValidation(t *testing.T) {
	tests := map[string]struct {
		args []string
		want string
	}{
		"the demo names a missing binary and how to build it": {[]string{"--assets", t.TempDir(), "--influxd", "/bin/sh"}, "hack/tools.sh demo"},
		"the demo refuses a zero deadline":                    {[]string{"--deadline", "0s"}, "must be positive"},
		"the demo needs a node":                               {[]string{"--nodes", "0"}, "--nodes must be at least 1"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cmd := newCommand()
			var out bytes.Buffer
			cmd.SetOut(&out)
			cmd.SetErr(&out)
			cmd.SetArgs(tc.args)
			err := cmd.Execute()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("podclass-demo %s: error %v, want one mentioning %q", strings.Join(tc.args, " "), err, tc.want)
			}
		})
	}
}
