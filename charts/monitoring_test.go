package charts_test

// The operator's view: the chart's PrometheusRule and Grafana dashboard.
// The alerts are unit-tested with promtool (each fires on bad series and
// stays silent on healthy ones, with the chart's default values and with an
// operator's), and every metric the alerts and the dashboard read must be
// one the webhook or the refiner serves: the names are taken from the
// product's collectors and from controller-runtime's registry after a real
// admission, never copied into this file.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/yaml"

	"github.com/podclass/podclass/imagerules"
	"github.com/podclass/podclass/internal/harness/testenv"
	"github.com/podclass/podclass/refiner"
	"github.com/podclass/podclass/webhook"
)

// promtool is Debian's promtool (hack/prometheus.sh installs it).
func promtool(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs promtool; skipped with -short")
	}
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool is not on PATH: run hack/prometheus.sh (or apt-get install prometheus): %v", err)
	}
	return p
}

// runPromtool runs promtool in dir and returns its combined output.
func runPromtool(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(promtool(t), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

type alertRule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	For         string            `json:"for,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type ruleGroup struct {
	Name  string      `json:"name"`
	Rules []alertRule `json:"rules"`
}

type ruleFile struct {
	Groups []ruleGroup `json:"groups"`
}

func (f ruleFile) alerts() []alertRule {
	var out []alertRule
	for _, g := range f.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// renderRules renders the chart with the PrometheusRule on and returns its
// spec, the rule file Prometheus reads.
func renderRules(t *testing.T, args ...string) ruleFile {
	t.Helper()
	objs := testenv.RenderChart(t, releaseNamespace, append([]string{"--set", "prometheusRule.enabled=true"}, args...)...)
	found := testenv.Find(objs, "PrometheusRule")
	if len(found) != 1 {
		t.Fatalf("%d PrometheusRules rendered, want 1", len(found))
	}
	if v := found[0].GetAPIVersion(); v != "monitoring.coreos.com/v1" {
		t.Errorf("PrometheusRule apiVersion %q, want monitoring.coreos.com/v1", v)
	}
	raw, err := json.Marshal(found[0].Object["spec"])
	if err != nil {
		t.Fatal(err)
	}
	var f ruleFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("PrometheusRule spec: %v", err)
	}
	if len(f.alerts()) == 0 {
		t.Fatal("the PrometheusRule holds no alert")
	}
	return f
}

func writeYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// withoutAnnotations is f with no annotations: promtool compares the
// annotations of every alert it expects, and the tests are about when the
// alerts fire (`promtool check rules` checks the annotations' templates).
func withoutAnnotations(f ruleFile) ruleFile {
	out := ruleFile{}
	for _, g := range f.Groups {
		ng := ruleGroup{Name: g.Name}
		for _, r := range g.Rules {
			r.Annotations = nil
			ng.Rules = append(ng.Rules, r)
		}
		out.Groups = append(out.Groups, ng)
	}
	return out
}

// withExpr is f with every alert's expression replaced by expr.
func withExpr(f ruleFile, expr string) ruleFile {
	out := withoutAnnotations(f)
	for _, g := range out.Groups {
		for i := range g.Rules {
			g.Rules[i].Expr = expr
		}
	}
	return out
}

// promtoolTests is the part of a promtool test file the coverage check reads.
type promtoolTests struct {
	Tests []struct {
		Name           string `json:"name"`
		AlertRuleTests []struct {
			Alertname string            `json:"alertname"`
			ExpAlerts []json.RawMessage `json:"exp_alerts"`
		} `json:"alert_rule_test"`
	} `json:"tests"`
}

// testPromtool copies testFile beside the rules as rules.yaml and runs
// `promtool test rules` on it.
func testPromtool(t *testing.T, testFile string, rules ruleFile) (string, error) {
	t.Helper()
	dir := t.TempDir()
	src, err := os.ReadFile(testFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "test.yaml"), src, 0o600); err != nil {
		t.Fatal(err)
	}
	writeYAML(t, filepath.Join(dir, "rules.yaml"), rules)
	return runPromtool(t, dir, "test", "rules", "test.yaml")
}

// TestAlertRules renders the chart's alerts and runs the promtool unit tests
// of charts/testdata/alerts: default.yaml with the default values, any other
// file with the values of <name>.values.yaml beside it. Every alert must have
// a test where it fires and one where it stays silent, and those tests must
// tell: with every expression replaced by one that always fires, a silent
// test of each alert fails; with one that never fires, a firing test does.
func TestAlertRules(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "alerts", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no promtool tests in testdata/alerts (%v)", err)
	}
	for _, file := range files {
		if strings.HasSuffix(file, ".values.yaml") {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			var args []string
			if values := strings.TrimSuffix(file, ".yaml") + ".values.yaml"; fileExists(values) {
				args = []string{"--values", values}
			} else if name != "default" {
				t.Fatalf("%s has no %s.values.yaml beside it", file, name)
			}
			rules := renderRules(t, args...)

			dir := t.TempDir()
			writeYAML(t, filepath.Join(dir, "rules.yaml"), rules)
			if out, err := runPromtool(t, dir, "check", "rules", "rules.yaml"); err != nil {
				t.Fatalf("promtool check rules: %v\n%s", err, out)
			}
			for _, a := range rules.alerts() {
				if a.Labels["severity"] == "" || a.Annotations["summary"] == "" || a.Annotations["description"] == "" {
					t.Errorf("%s lacks a severity label, a summary or a description", a.Alert)
				}
			}
			if out, err := testPromtool(t, file, withoutAnnotations(rules)); err != nil {
				t.Fatalf("promtool test rules %s: %v\n%s", file, err, out)
			}
			if name != "default" {
				return
			}
			checkCoverage(t, file, rules)
			checkRunbooks(t, rules)
		})
	}
}

// checkCoverage fails unless every alert of rules has, in testFile, a test
// expecting it to fire and one expecting silence, and those tests fail when
// the alert always, or never, fires.
func checkCoverage(t *testing.T, testFile string, rules ruleFile) {
	t.Helper()
	raw, err := os.ReadFile(testFile)
	if err != nil {
		t.Fatal(err)
	}
	var tests promtoolTests
	if err := yaml.Unmarshal(raw, &tests); err != nil {
		t.Fatal(err)
	}
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTests {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				silent[a.Alertname] = true
			}
		}
	}
	var names []string
	for _, a := range rules.alerts() {
		names = append(names, a.Alert)
		if !fires[a.Alert] || !silent[a.Alert] {
			t.Errorf("%s: %s needs a test where it fires (%v) and one where it stays silent (%v)", testFile, a.Alert, fires[a.Alert], silent[a.Alert])
		}
	}
	for name := range fires {
		if !slices.Contains(names, name) {
			t.Errorf("%s tests %s, which the chart does not render", testFile, name)
		}
	}

	// promtool reports each failed expectation as "alertname: X, time: T,"
	// followed by "exp:[]," when it expected silence.
	failed := regexp.MustCompile(`alertname: (\w+), time: [^,]+,\s*exp:(\[\])?`)
	for _, m := range []struct {
		expr, what string
		silent     bool
	}{
		{"vector(1)", "always fires", true},
		{"vector(0) > 1", "never fires", false},
	} {
		out, err := testPromtool(t, testFile, withExpr(rules, m.expr))
		if err == nil {
			t.Errorf("the tests pass with every alert replaced by one that %s", m.what)
			continue
		}
		caught := map[string]bool{}
		for _, f := range failed.FindAllStringSubmatch(out, -1) {
			if (f[2] != "") == m.silent {
				caught[f[1]] = true
			}
		}
		for _, name := range names {
			if !caught[name] {
				t.Errorf("no test of %s fails when it %s", name, m.what)
			}
		}
	}
}

// checkRunbooks fails unless each alert's runbook_url points at its own
// section of docs/operations.md, and that section exists.
func checkRunbooks(t *testing.T, rules ruleFile) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range rules.alerts() {
		if want := "docs/operations.md#" + strings.ToLower(a.Alert); !strings.HasSuffix(a.Annotations["runbook_url"], want) {
			t.Errorf("%s: runbook_url %q, want it to end in %s", a.Alert, a.Annotations["runbook_url"], want)
		}
		if !regexp.MustCompile(`(?m)^### ` + a.Alert + `$`).Match(doc) {
			t.Errorf("docs/operations.md has no section \"### %s\"", a.Alert)
		}
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// threshold is the number an alert's expression compares with last.
func threshold(t *testing.T, rules ruleFile, alert string) float64 {
	t.Helper()
	for _, a := range rules.alerts() {
		if a.Alert != alert {
			continue
		}
		m := regexp.MustCompile(`[<>]\s*([0-9.e+]+)\s*$`).FindStringSubmatch(a.Expr)
		if m == nil {
			t.Fatalf("%s: no threshold at the end of %q", alert, a.Expr)
		}
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	t.Fatalf("no alert %s rendered", alert)
	return 0
}

// TestAlertThresholdsFollowValues: the chart turns Go durations into seconds
// itself (Helm has no duration parser); each threshold must be what the
// binary's flags mean.
func TestAlertThresholdsFollowValues(t *testing.T) {
	seconds := func(s string) float64 {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		return d.Seconds()
	}
	for _, tc := range []struct{ timeout, interval string }{{"10m", "15s"}, {"1h30m", "500ms"}, {"1.5h", "1m"}, {"90s", "10s"}} {
		rules := renderRules(t, "--set", "refiner.timeout="+tc.timeout, "--set", "refiner.interval="+tc.interval)
		if got, want := threshold(t, rules, "PodclassPendingPodsOverdue"), seconds(tc.timeout)+2*seconds(tc.interval); got != want {
			t.Errorf("timeout %s, interval %s: PodclassPendingPodsOverdue at %v s, want %v", tc.timeout, tc.interval, got, want)
		}
	}
	for _, tc := range []struct {
		args []string
		want float64
	}{
		{nil, seconds("2160h") / 6},
		{[]string{"--set", "certs.selfManaged.certLifetime=24h", "--set", "certs.selfManaged.caLifetime=72h"}, seconds("24h") / 6},
		{[]string{"--set", "certs.mode=certManager", "--set", "certs.certManager.renewBefore=240h"}, seconds("240h") / 2},
	} {
		if got := threshold(t, renderRules(t, tc.args...), "PodclassCertificateExpiringSoon"); got != tc.want {
			t.Errorf("%v: PodclassCertificateExpiringSoon at %v s left, want %v", tc.args, got, tc.want)
		}
	}
	// helm --set passes the ratio as a string; the schema takes it when it is a number in (0, 1].
	for _, ratio := range []string{"0.1", "1"} {
		if got := threshold(t, renderRules(t, "--set", "prometheusRule.webhookErrorRatio="+ratio), "PodclassWebhookErrors"); strconv.FormatFloat(got, 'g', -1, 64) != ratio {
			t.Errorf("webhookErrorRatio %s: PodclassWebhookErrors at %v", ratio, got)
		}
	}
	for _, ratio := range []string{"0", "1.5", "abc", "-0.1"} {
		out, err := testenv.RunHelm(t, "template", "podclass", testenv.ChartDir(t), "--set", "prometheusRule.enabled=true", "--set", "prometheusRule.webhookErrorRatio="+ratio)
		if err == nil || !strings.Contains(err.Error(), "schema") {
			t.Errorf("webhookErrorRatio %s accepted (%v)\n%s", ratio, err, out)
		}
	}
	for _, timeout := range []int{1, 2, 10, 30} {
		rules := renderRules(t, "--set", fmt.Sprintf("webhook.timeoutSeconds=%d", timeout))
		if got, want := threshold(t, rules, "PodclassWebhookSlow"), float64(timeout)/4; got != want {
			t.Errorf("timeoutSeconds %d: PodclassWebhookSlow at %v s, want %v", timeout, got, want)
		}
	}
}

// TestMonitoringRendersOnlyWhenEnabled: the dashboard and the alerts are off
// by default; on, they lint cleanly and carry the values' labels, and the
// refiner's alerts go with the refiner.
func TestMonitoringRendersOnlyWhenEnabled(t *testing.T) {
	tests := map[string]struct {
		args                    []string
		rule, dashboard         bool
		refinerAlerts           bool
		ruleLabel               string
		dashboardNS, labelValue string
	}{
		"the defaults": {},
		"both on": {
			args: []string{"--set", "prometheusRule.enabled=true", "--set", "dashboards.enabled=true",
				"--set", "prometheusRule.labels.release=prometheus"},
			rule: true, dashboard: true, refinerAlerts: true, ruleLabel: "prometheus", dashboardNS: releaseNamespace, labelValue: "1",
		},
		"the dashboard in Grafana's namespace under the sidecar's label, alerts without a refiner": {
			args: []string{"--set", "prometheusRule.enabled=true", "--set", "refiner.enabled=false",
				"--set", "dashboards.enabled=true", "--set", "dashboards.namespace=monitoring",
				"--set", "dashboards.label=grafana.example/dashboard", "--set", "dashboards.labelValue=podclass",
				"--set", "dashboards.annotations.grafana_folder=Platform"},
			rule: true, dashboard: true, dashboardNS: "monitoring", labelValue: "podclass",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			lint := append([]string{"lint", "--strict", testenv.ChartDir(t), "--namespace", releaseNamespace}, tc.args...)
			if out, err := testenv.RunHelm(t, lint...); err != nil {
				t.Fatalf("helm lint: %v\n%s", err, out)
			}
			objs := testenv.RenderChart(t, releaseNamespace, tc.args...)
			rules := testenv.Find(objs, "PrometheusRule")
			if got := len(rules) == 1; got != tc.rule {
				t.Errorf("%d PrometheusRules, want one: %v", len(rules), tc.rule)
			}
			if tc.rule {
				if l := rules[0].GetLabels()["release"]; l != tc.ruleLabel {
					t.Errorf("PrometheusRule label release=%q, want %q", l, tc.ruleLabel)
				}
				groups, _, _ := unstructured.NestedSlice(rules[0].Object, "spec", "groups")
				refinerGroup := false
				for _, g := range groups {
					refinerGroup = refinerGroup || g.(map[string]any)["name"] == "podclass-refiner"
				}
				if refinerGroup != tc.refinerAlerts {
					t.Errorf("refiner alerts rendered: %v, want %v", refinerGroup, tc.refinerAlerts)
				}
			}
			dashboards := dashboardConfigMaps(objs)
			if got := len(dashboards) == 1; got != tc.dashboard {
				t.Fatalf("%d dashboard ConfigMaps, want one: %v", len(dashboards), tc.dashboard)
			}
			if !tc.dashboard {
				return
			}
			cm := dashboards[0]
			if cm.GetNamespace() != tc.dashboardNS {
				t.Errorf("dashboard ConfigMap in namespace %q, want %q", cm.GetNamespace(), tc.dashboardNS)
			}
			label := "grafana_dashboard"
			if slices.Contains(tc.args, "dashboards.label=grafana.example/dashboard") {
				label = "grafana.example/dashboard"
				if a := cm.GetAnnotations()["grafana_folder"]; a != "Platform" {
					t.Errorf("annotation grafana_folder=%q, want Platform", a)
				}
			}
			if v := cm.GetLabels()[label]; v != tc.labelValue {
				t.Errorf("dashboard ConfigMap label %s=%q, want %q", label, v, tc.labelValue)
			}
		})
	}
}

// dashboardConfigMaps are the rendered ConfigMaps holding a dashboard.
func dashboardConfigMaps(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, cm := range testenv.Find(objs, "ConfigMap") {
		if _, ok, _ := unstructured.NestedString(cm.Object, "data", "podclass.json"); ok {
			out = append(out, cm)
		}
	}
	return out
}

// grafanaDashboard is the part of the dashboard JSON the checks read.
type grafanaDashboard struct {
	UID        string         `json:"uid"`
	Panels     []grafanaPanel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type grafanaPanel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []grafanaPanel `json:"panels"`
}

// TestDashboardAndAlertsReadExportedMetrics: the dashboard the chart ships
// parses; its panels read the templated data source; every query is PromQL
// (promtool checks it) over metrics the webhook and the refiner export,
// grouped by labels those metrics carry; the alerts read exported metrics too
// (and `up`, which Prometheus adds per target).
func TestDashboardAndAlertsReadExportedMetrics(t *testing.T) {
	exported := exportedMetrics(t)
	objs := testenv.RenderChart(t, releaseNamespace, "--set", "dashboards.enabled=true")
	cms := dashboardConfigMaps(objs)
	if len(cms) != 1 {
		t.Fatalf("%d dashboard ConfigMaps rendered, want 1", len(cms))
	}
	data, _, _ := unstructured.NestedString(cms[0].Object, "data", "podclass.json")
	file, err := os.ReadFile(filepath.Join(testenv.ChartDir(t), "files", "dashboards", "podclass.json"))
	if err != nil {
		t.Fatal(err)
	}
	if data != strings.TrimSuffix(string(file), "\n") {
		t.Error("the ConfigMap does not hold files/dashboards/podclass.json as it is")
	}
	var dash grafanaDashboard
	dec := json.NewDecoder(strings.NewReader(data))
	if err := dec.Decode(&dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	if dash.UID == "" {
		t.Error("the dashboard has no uid: every reload would make a new one")
	}

	var queries, sent []string
	ids := map[int]bool{}
	var walk func([]grafanaPanel)
	walk = func(panels []grafanaPanel) {
		for _, p := range panels {
			if ids[p.ID] {
				t.Errorf("panel id %d twice", p.ID)
			}
			ids[p.ID] = true
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q does not read the dashboard's data source variable", p.Title)
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for _, q := range p.Targets {
				if strings.TrimSpace(q.Expr) == "" {
					t.Errorf("panel %q query %s is empty", p.Title, q.RefID)
					continue
				}
				queries = append(queries, q.Expr)
				// As Grafana sends it: variables replaced.
				sent = append(sent, strings.NewReplacer("$__rate_interval", "5m", "$namespace", ".+").Replace(q.Expr))
			}
		}
	}
	walk(dash.Panels)
	checkPromQL(t, sent)

	usedByDashboard := map[string]bool{}
	for _, q := range queries {
		for _, m := range checkQuery(t, "dashboard", q, exported) {
			usedByDashboard[m] = true
		}
	}
	for _, v := range dash.Templating.List {
		if v.Type != "query" {
			continue
		}
		m := regexp.MustCompile(`label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)`).FindSubmatch(v.Query)
		if m == nil {
			t.Errorf("variable %s: not a label_values query: %s", v.Name, v.Query)
			continue
		}
		if _, ok := exported[string(m[1])]; !ok {
			t.Errorf("variable %s reads %s, which no podclass component exports", v.Name, m[1])
		}
	}
	// The dashboard shows everything podclass itself exports.
	for name, info := range exported {
		if info.podclass && !usedByDashboard[name] {
			t.Errorf("no panel shows %s", name)
		}
	}

	for _, a := range renderRules(t).alerts() {
		checkQuery(t, a.Alert, a.Expr, exported)
	}
}

// checkPromQL has promtool parse queries, as recording rules.
func checkPromQL(t *testing.T, queries []string) {
	t.Helper()
	var rules []map[string]string
	for i, q := range queries {
		rules = append(rules, map[string]string{"record": fmt.Sprintf("podclass:dashboard_query:%d", i), "expr": q})
	}
	dir := t.TempDir()
	writeYAML(t, filepath.Join(dir, "dashboard.yaml"), map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}})
	if out, err := runPromtool(t, dir, "check", "rules", "dashboard.yaml"); err != nil {
		t.Fatalf("the dashboard's queries are not PromQL: %v\n%s", err, out)
	}
}

// checkQuery fails the test for a metric q reads that no component exports,
// a label it groups by that none of its metrics carries, and a webhook path
// other than webhook.Path; it returns the exported metrics q reads.
func checkQuery(t *testing.T, where, q string, exported map[string]metricInfo) []string {
	t.Helper()
	names, grouping := promqlNames(q)
	if len(names) == 0 {
		t.Errorf("%s: no metric found in %q", where, q)
	}
	var used []string
	labels := map[string]bool{}
	for _, n := range names {
		if n == "up" { // Prometheus's own, one per scraped target
			continue
		}
		name, info, ok := lookupMetric(exported, n)
		if !ok {
			t.Errorf("%s reads %s, which neither the webhook nor the refiner exports", where, n)
			continue
		}
		used = append(used, name)
		for _, l := range info.labels {
			labels[l] = true
		}
		if info.histogram && strings.HasSuffix(n, "_bucket") {
			labels["le"] = true
		}
	}
	for _, l := range grouping {
		if !labels[l] {
			t.Errorf("%s groups by %q, which none of %v carries", where, l, names)
		}
	}
	for _, m := range regexp.MustCompile(`webhook="([^"]*)"`).FindAllStringSubmatch(q, -1) {
		if m[1] != webhook.Path {
			t.Errorf("%s selects webhook=%q; the webhook serves %q", where, m[1], webhook.Path)
		}
	}
	return used
}

// lookupMetric finds the metric a series name belongs to: a histogram's
// series carry _bucket, _sum and _count.
func lookupMetric(exported map[string]metricInfo, series string) (string, metricInfo, bool) {
	if info, ok := exported[series]; ok {
		return series, info, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(series, suffix); ok {
			if info, ok := exported[base]; ok && info.histogram {
				return base, info, true
			}
		}
	}
	return "", metricInfo{}, false
}

type metricInfo struct {
	labels    []string
	histogram bool
	// podclass is set for the metrics podclass's packages define.
	podclass bool
}

var descRE = regexp.MustCompile(`^Desc\{fqName: "([^"]+)", .*variableLabels: \{([^}]*)\}\}$`)

// exportedMetrics are the metrics the webhook and the refiner serve: their
// packages' collectors, which must be registered on controller-runtime's
// registry (the one both serve on /metrics), and what that registry gathers
// after one real admission through the webhook's server (controller-runtime's
// controller_runtime_webhook_* among them).
func exportedMetrics(t *testing.T) map[string]metricInfo {
	t.Helper()
	out := map[string]metricInfo{}
	for _, c := range append(webhook.Collectors(), refiner.Collectors()...) {
		var already prometheus.AlreadyRegisteredError
		if err := metrics.Registry.Register(c); !errors.As(err, &already) || already.ExistingCollector != c {
			if err == nil {
				metrics.Registry.Unregister(c)
			}
			t.Errorf("a collector of podclass is not registered on controller-runtime's metrics.Registry (%v)", err)
		}
		descs := make(chan *prometheus.Desc, 8)
		c.Describe(descs)
		close(descs)
		for d := range descs {
			m := descRE.FindStringSubmatch(d.String())
			if m == nil {
				t.Fatalf("cannot read the metric name from %s", d)
			}
			info := metricInfo{podclass: true}
			switch c.(type) {
			case prometheus.Histogram, *prometheus.HistogramVec:
				info.histogram = true
			}
			for _, l := range strings.Split(m[2], ",") {
				if l != "" {
					info.labels = append(info.labels, strings.TrimSuffix(strings.TrimPrefix(l, "c("), ")"))
				}
			}
			out[m[1]] = info
		}
	}

	srv := webhook.NewServer(webhook.Options{CertDir: t.TempDir()}, webhook.NewPodAnnotator(imagerules.Default()))
	review := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","kind":{"version":"v1","kind":"Pod"},"resource":{"version":"v1","resource":"pods"},"operation":"CREATE","namespace":"shop","object":{"metadata":{"name":"db","namespace":"shop"},"spec":{"containers":[{"name":"db","image":"mysql:8"}]}}}}`
	req := httptest.NewRequest(http.MethodPost, webhook.Path, strings.NewReader(review))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	srv.WebhookMux().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("admission answered %d: %s", rec.Code, rec.Body)
	}
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if _, ok := out[f.GetName()]; ok {
			continue
		}
		info := metricInfo{histogram: f.GetType().String() == "HISTOGRAM"}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if !slices.Contains(info.labels, l.GetName()) {
					info.labels = append(info.labels, l.GetName())
				}
			}
		}
		out[f.GetName()] = info
	}
	return out
}

var (
	promqlStrings  = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	promqlMatchers = regexp.MustCompile(`\{[^{}]*\}`)
	promqlRanges   = regexp.MustCompile(`\[[^\[\]]*\]`)
	promqlIdent    = regexp.MustCompile(`^[a-zA-Z_:]`)
	promqlToken    = regexp.MustCompile(`^(?:[a-zA-Z_:][a-zA-Z0-9_:]*|\$[a-zA-Z0-9_]+|0x[0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?[a-zA-Z0-9_]*|.)`)
	// Words of PromQL that are not metrics when no parenthesis follows.
	promqlWords = map[string]bool{
		"and": true, "or": true, "unless": true, "bool": true, "offset": true, "inf": true, "nan": true, "atan2": true,
		"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true, "count": true,
		"count_values": true, "bottomk": true, "topk": true, "quantile": true, "limitk": true, "limit_ratio": true,
	}
	promqlGrouping = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true}
)

// promqlNames returns the metric names a PromQL expression reads and the
// labels its by/without/on/ignoring/group_* clauses name. It reads PromQL as
// the dashboard and the rules write it (Grafana's $variables included); the
// syntax itself is promtool's to check.
func promqlNames(expr string) (names, grouping []string) {
	s := promqlStrings.ReplaceAllString(expr, `""`)
	s = promqlMatchers.ReplaceAllString(s, " ")
	s = promqlRanges.ReplaceAllString(s, " ")
	for s != "" {
		s = strings.TrimLeft(s, " \t\r\n")
		tok := promqlToken.FindString(s)
		if tok == "" {
			break
		}
		s = s[len(tok):]
		if !promqlIdent.MatchString(tok) {
			continue
		}
		rest := strings.TrimLeft(s, " \t\r\n")
		switch {
		case promqlGrouping[tok]:
			if strings.HasPrefix(rest, "(") {
				end := strings.Index(rest, ")")
				if end < 0 {
					return names, grouping
				}
				for _, l := range strings.Split(rest[1:end], ",") {
					if l = strings.TrimSpace(l); l != "" {
						grouping = append(grouping, l)
					}
				}
				s = rest[end+1:]
			}
		case strings.HasPrefix(rest, "("), promqlWords[tok]:
			// A function, an aggregation or an operator.
		default:
			names = append(names, tok)
		}
	}
	return names, grouping
}

// TestPromQLNames checks the reader checkQuery relies on.
func TestPromQLNames(t *testing.T) {
	tests := []struct {
		expr            string
		names, grouping []string
	}{
		{`sum by (class, status) (rate(podclass_refiner_classifications_total{namespace=~"$namespace"}[$__rate_interval])) * 60`,
			[]string{"podclass_refiner_classifications_total"}, []string{"class", "status"}},
		{`histogram_quantile(0.99, sum by (le) (rate(x_bucket{a="b (c) d",webhook="/m"}[5m]))) > 0.5`, []string{"x_bucket"}, []string{"le"}},
		{`absent(up{job="x"} == 1)`, []string{"up"}, nil},
		{"a > 0 unless sum(increase(b[10m])) > 0 or c offset 1h and on (pod) group_left (node) d", []string{"a", "b", "c", "d"}, []string{"pod", "node"}},
		{`min(m:rate5m) - time() < 1.296e+06`, []string{"m:rate5m"}, nil},
		{`deriv(max without (instance) (p)[15m:1m]) > 0x1f`, []string{"p"}, []string{"instance"}},
		{`max(podclass_refiner_model_rejected{job="r"}) > 0 or sum(increase(podclass_refiner_model_rejections_total{job='r'}[1h])) > 0`,
			[]string{"podclass_refiner_model_rejected", "podclass_refiner_model_rejections_total"}, nil},
	}
	for _, tc := range tests {
		names, grouping := promqlNames(tc.expr)
		if !slices.Equal(names, tc.names) || !slices.Equal(grouping, tc.grouping) {
			t.Errorf("%s:\n got %v grouped by %v\nwant %v grouped by %v", tc.expr, names, grouping, tc.names, tc.grouping)
		}
	}
}
