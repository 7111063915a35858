package influxtest

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestBinaryFindsTheSamePathAsToolsSh(t *testing.T) {
	tests := map[string]struct {
		env  map[string]string
		want string
	}{
		"PODCLASS_INFLUXD wins": {
			env:  map[string]string{"PODCLASS_INFLUXD": "/opt/influxd", "PODCLASS_TOOLS_CACHE": "/c"},
			want: "/opt/influxd",
		},
		"the tools cache is used when set": {
			env:  map[string]string{"PODCLASS_TOOLS_CACHE": "/c", "XDG_CACHE_HOME": "/x"},
			want: "/c/influxd-v1.8.10/influxd",
		},
		"XDG_CACHE_HOME comes next": {
			env:  map[string]string{"XDG_CACHE_HOME": "/x", "HOME": "/h"},
			want: "/x/podclass/influxd-v1.8.10/influxd",
		},
		"HOME/.cache is the last resort": {
			env:  map[string]string{"HOME": "/h"},
			want: filepath.Join("/h", ".cache", "podclass", "influxd-v1.8.10", "influxd"),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			for _, k := range []string{"PODCLASS_INFLUXD", "PODCLASS_TOOLS_CACHE", "XDG_CACHE_HOME", "HOME"} {
				t.Setenv(k, tc.env[k])
			}
			if got := Binary(); got != tc.want {
				t.Errorf("Binary() = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestStartWriteStopRestartKeepsTheData(t *testing.T) {
	s := Start(t)
	s.Write("m,t=a v=1i 1709251200000000000")
	s.Stop()
	if err := s.WriteErr("m,t=a v=2i 1709251210000000000"); err == nil {
		t.Fatal("a write to a stopped server succeeded")
	}
	s.Restart()
	got := s.Query(`SELECT count(v) FROM m`)
	if want := `"values":[["1970-01-01T00:00:00Z",1]]`; !strings.Contains(got, want) {
		t.Errorf("after restart: %s, want %s", got, want)
	}
}
