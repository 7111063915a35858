package plugin

import (
	"strings"
	"testing"
)

func TestCompletionNamesThePodsOfTheNamespace(t *testing.T) {
	tests := map[string]struct {
		args []string
		want []string
	}{
		"explain completes the pods of the context's namespace": {
			args: []string{"__complete", "explain", ""},
			want: []string{"batch", "cache", "db", "ledger"},
		},
		"a prefix narrows them": {
			args: []string{"__complete", "explain", "-n", "backoffice", "w"},
			want: []string{"web"},
		},
		"explain takes one pod only": {
			args: []string{"__complete", "explain", "db", ""},
		},
		"get leaves out the pods already named": {
			args: []string{"__complete", "get", "db", "c"},
			want: []string{"cache"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, _, err := run(t, fakeClients(t, fixturePods()), tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			// Cobra prints one completion a line, then ":<directive>".
			lines := strings.Split(strings.TrimSpace(out), "\n")
			got, directive := lines[:len(lines)-1], lines[len(lines)-1]
			if strings.Join(got, ",") != strings.Join(tc.want, ",") || directive != ":4" {
				t.Errorf("%v completed %q with %s, want %q with :4 (no file completion)", tc.args, got, directive, tc.want)
			}
		})
	}
}
