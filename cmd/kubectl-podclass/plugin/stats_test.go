package plugin

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/podclass/podclass/api"
)

func TestStats(t *testing.T) {
	tests := map[string]struct {
		pods []runtime.Object
		args []string
		want string
	}{
		"the current namespace, one row per class, unannotated pods apart": {
			pods: fixturePods(),
			args: []string{"stats"},
			want: lines(`
				CLASS             PENDING   CLASSIFIED   UNKNOWN   UNCLASSIFIED   TOTAL
				mysql             0         1            0         0              1
				nginx             0         1            0         0              1
				redis             1         0            0         0              1
				<not annotated>   0         0            0         0              1
				TOTAL             1         2            0         0              4
				`),
		},
		"-A counts every namespace": {
			pods: fixturePods(),
			args: []string{"stats", "-A"},
			want: lines(`
				CLASS             PENDING   CLASSIFIED   UNKNOWN   UNCLASSIFIED   TOTAL
				mysql             0         1            0         0              1
				nginx             0         1            0         0              1
				postgresql        0         0            0         1              1
				redis             1         0            0         0              1
				unknown           0         0            1         0              1
				<not annotated>   0         0            0         0              1
				TOTAL             1         2            1         1              6
				`),
		},
		"-l counts only the pods whose labels match": {
			pods: fixturePods(),
			args: []string{"stats", "-A", "-l", "app", "--no-headers"},
			want: lines(`
				mysql     0     1     0     0     1
				nginx     0     1     0     0     1
				redis     1     0     0     0     1
				unknown   0     0     1     0     1
				TOTAL     1     2     1     0     4
				`),
		},
		"a status podclass does not write gets its own column": {
			pods: []runtime.Object{
				podMeta("shop", "a", time.Minute, nil, guess("redis", "cache", "image", "0.95", "redis")),
				podMeta("shop", "b", time.Minute, nil, map[string]string{api.ClassAnnotation: "redis", api.StatusAnnotation: "retrying"}),
			},
			args: []string{"stats"},
			want: lines(`
				CLASS   PENDING   CLASSIFIED   UNKNOWN   UNCLASSIFIED   RETRYING   TOTAL
				redis   1         0            0         0              1          2
				TOTAL   1         0            0         0              1          2
				`),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, _, err := run(t, fakeClients(t, tc.pods), tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if out != tc.want {
				t.Errorf("%v printed\n%s\nwant\n%s", tc.args, out, tc.want)
			}
		})
	}
}

func TestStatsJSON(t *testing.T) {
	out, _, err := run(t, fakeClients(t, fixturePods()), "stats", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var got Stats
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("-o json is not JSON: %v\n%s", err, out)
	}
	want := Stats{Namespace: "shop", Total: 4, NotAnnotated: 1,
		Statuses: map[string]int{"pending": 1, "classified": 2},
		Classes: []ClassCount{
			{Class: "mysql", Total: 1, Statuses: map[string]int{"classified": 1}},
			{Class: "nginx", Total: 1, Statuses: map[string]int{"classified": 1}},
			{Class: "redis", Total: 1, Statuses: map[string]int{"pending": 1}},
		}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stats -o json\n got %+v\nwant %+v", got, want)
	}
}

func TestStatsOfAnEmptyNamespaceSaysSo(t *testing.T) {
	out, stderr, err := run(t, fakeClients(t, fixturePods()), "stats", "-n", "empty")
	if err != nil {
		t.Fatal(err)
	}
	if out != "" || !strings.Contains(stderr, "No pods found in empty namespace.") {
		t.Errorf("stdout %q, stderr %q; want nothing and the kubectl note", out, stderr)
	}
}
