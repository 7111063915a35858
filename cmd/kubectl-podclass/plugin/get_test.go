package plugin

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestGet(t *testing.T) {
	tests := map[string]struct {
		args    []string
		want    string
		wantErr string
		stderr  string
	}{
		"the current namespace is the kubeconfig context's, sorted by name": {
			args: []string{"get"},
			want: lines(`
				NAME     CLASS    STATUS       CONFIDENCE   SOURCE    DECIDED   AGE
				batch    <none>   <none>       <none>       <none>    <none>    3h
				cache    redis    pending      0.95         image     <none>    30s
				db       mysql    classified   0.93         metrics   5m3s      7m
				ledger   nginx    classified   0.81         metrics   18m       20m
				`),
		},
		"-n picks another namespace": {
			args: []string{"get", "-n", "backoffice"},
			want: lines(`
				NAME     CLASS        STATUS         CONFIDENCE   SOURCE    DECIDED   AGE
				report   postgresql   unclassified   0.60         ports     5m        15m
				web      unknown      unknown        0.41         metrics   2d        3d
				`),
		},
		"-A lists every namespace with a NAMESPACE column": {
			args: []string{"get", "-A", "--no-headers"},
			want: lines(`
				backoffice   report   postgresql   unclassified   0.60     ports     5m       15m
				backoffice   web      unknown      unknown        0.41     metrics   2d       3d
				shop         batch    <none>       <none>         <none>   <none>    <none>   3h
				shop         cache    redis        pending        0.95     image     <none>   30s
				shop         db       mysql        classified     0.93     metrics   5m3s     7m
				shop         ledger   nginx        classified     0.81     metrics   18m      20m
				`),
		},
		"-l keeps the pods whose labels match": {
			args: []string{"get", "-A", "-l", "app in (db,web)"},
			want: lines(`
				NAMESPACE    NAME   CLASS     STATUS       CONFIDENCE   SOURCE    DECIDED   AGE
				backoffice   web    unknown   unknown      0.41         metrics   2d        3d
				shop         db     mysql     classified   0.93         metrics   5m3s      7m
				`),
		},
		"-o wide adds the family, the image guess, the feature set and the model": {
			args: []string{"get", "-o", "wide", "-l", "app"},
			want: lines(`
				NAME     CLASS   STATUS       CONFIDENCE   SOURCE    DECIDED   AGE   FAMILY     IMAGE-CLASS   FEATURES   MODEL
				cache    redis   pending      0.95         image     <none>    30s   cache      redis         <none>     <none>
				db       mysql   classified   0.93         metrics   5m3s      7m    database   mysql         process    20261129T110621Z-9e6881858b01
				ledger   nginx   classified   0.81         metrics   18m       20m   web        unknown       base       20261129T110621Z-9e6881858b01
				`),
		},
		"names get those pods in the order given": {
			args: []string{"get", "ledger", "db"},
			want: lines(`
				NAME     CLASS   STATUS       CONFIDENCE   SOURCE    DECIDED   AGE
				ledger   nginx   classified   0.81         metrics   18m       20m
				db       mysql   classified   0.93         metrics   5m3s      7m
				`),
		},
		"a missing name is an error after the pods found are printed": {
			args: []string{"get", "db", "gone"},
			want: lines(`
				NAME   CLASS   STATUS       CONFIDENCE   SOURCE    DECIDED   AGE
				db     mysql   classified   0.93         metrics   5m3s      7m
				`),
			wantErr: `pods "gone" not found in namespace shop`,
		},
		"an empty namespace says so on stderr, as kubectl": {
			args:   []string{"get", "-n", "empty"},
			stderr: "No pods found in empty namespace.\n",
		},
		"a selector nothing matches says so for every namespace with -A": {
			args:   []string{"get", "-A", "-l", "app=none"},
			stderr: "No pods found\n",
		},
		"an output format get cannot print is refused": {
			args:    []string{"get", "-o", "name"},
			wantErr: `unable to match a printer suitable for the output format "name", allowed formats are: wide,json,yaml`,
		},
		"a malformed selector is refused": {
			args:    []string{"get", "-l", "app in (db"},
			wantErr: `parsing the label selector "app in (db"`,
		},
		"names across every namespace are refused": {
			args:    []string{"get", "-A", "db"},
			wantErr: "a pod cannot be retrieved by name across all namespaces",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, stderr, err := run(t, fakeClients(t, fixturePods()), tc.args...)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("%v: %v", tc.args, err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("%v: error %v, want one containing %q", tc.args, err, tc.wantErr)
			}
			if tc.want != "" && out != tc.want {
				t.Errorf("%v printed\n%s\nwant\n%s", tc.args, out, tc.want)
			}
			if tc.want == "" && out != "" {
				t.Errorf("%v printed %q, want nothing", tc.args, out)
			}
			if tc.stderr != "" && stderr != tc.stderr {
				t.Errorf("%v wrote %q to stderr, want %q", tc.args, stderr, tc.stderr)
			}
		})
	}
}

func TestGetJSONReadsTheAnnotations(t *testing.T) {
	out, _, err := run(t, fakeClients(t, fixturePods()), "get", "-A", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var list PodClassList
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("-o json is not JSON: %v\n%s", err, out)
	}
	if len(list.Items) != 6 {
		t.Fatalf("%d items, want 6:\n%s", len(list.Items), out)
	}
	byName := map[string]PodClass{}
	for _, p := range list.Items {
		byName[p.Namespace+"/"+p.Name] = p
	}
	db := byName["shop/db"]
	switch {
	case !db.Annotated || db.Class != "mysql" || db.Family != "database" || db.Status != "classified" || db.Source != "metrics" || db.ImageClass != "mysql":
		t.Errorf("shop/db: %+v", db)
	case db.Confidence == nil || *db.Confidence != 0.93:
		t.Errorf("shop/db confidence %v, want the number 0.93", db.Confidence)
	case db.ClassifiedAt == nil || !db.ClassifiedAt.Time.Equal(testNow.Add(-5*time.Minute-3*time.Second)):
		t.Errorf("shop/db classified at %v", db.ClassifiedAt)
	case db.Explanation == nil || !db.Explanation.Parsed || len(db.Explanation.Path) != 2 || db.Explanation.FeatureSet != "process":
		t.Errorf("shop/db explanation %+v", db.Explanation)
	}
	if batch := byName["shop/batch"]; batch.Annotated || batch.Class != "" || batch.Confidence != nil {
		t.Errorf("an unannotated pod reads as %+v", batch)
	}
	if !strings.Contains(out, `"confidence": 0.93`) || !strings.Contains(out, "\n    \"items\": [") {
		t.Errorf("-o json is not indented like kubectl's, or confidence is not a number:\n%s", out)
	}
}
