package demo

import (
	"html/template"
	"os"
	"path/filepath"

	"github.com/podclass/podclass/trainer"
)

var reportTmpl = template.Must(template.New("report").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>podclass demo</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
.ok{background:#e6f4ea}.bad{background:#fce8e6}.muted{color:#777}</style></head><body>
<h1>podclass demo</h1>
<p>Model <code>{{.Model}}</code>, trained on {{.TrainPods}} recorded pods. The pods below were created by the Deployment,
StatefulSet, Job and CronJob controllers, scheduled onto simulated nodes, and replayed recorded pods held out of training.
Held-out cross-validation during training: pod accuracy {{printf "%.0f" .CVAccuracy}}%, macro-F1 {{printf "%.2f" .CVMacroF1}}.</p>
<p>{{.S.Decided}} of {{.S.Expected}} opted-in pods decided: {{.S.Classified}} classified, {{.S.Unknown}} unknown, {{.S.Unclassified}} unclassified;
right class {{.S.ClassRight}}/{{.S.Expected}}, right class or family {{.S.FamilyRight}}/{{.S.Expected}};
{{.S.UntouchedRight}}/{{.S.Untouched}} opted-out pods left alone.</p>
<table><tr><th>workload</th><th>pod</th><th>node</th><th>containers</th><th>image guess</th><th>status</th><th>class</th><th>confidence</th><th>truth</th><th>decided in</th><th>explanation</th></tr>
{{range .Rows}}<tr class="{{.CSS}}"><td>{{.Namespace}}/{{.W.ID}}</td><td>{{.Pod}}{{if gt .Incarnation 1}} (#{{.Incarnation}}, recreated){{end}}{{if .Gone}} <span class="muted">deleted</span>{{end}}</td><td>{{.Node}}</td><td>{{range .W.Containers}}{{index . 0}}: {{index . 1}}<br>{{end}}</td>
<td>{{.ImageGuess}}</td><td>{{.Status}}</td><td>{{.Class}}</td><td>{{.Confidence}}</td><td>{{.Truth}}</td><td>{{if .DecidedIn}}{{.DecidedIn}}{{end}}</td><td class="muted">{{.Explanation}}</td></tr>
{{end}}</table>
<p class="muted">Training report: training/ (confusion matrix and evaluation JSON).</p>
</body></html>
`))

type reportRow struct {
	*row
	CSS string
}

func writeReport(dir string, b *board, t *trainer.TrainResult) (string, error) {
	s := b.stats()
	b.mu.Lock()
	sorted := b.sorted()
	b.mu.Unlock()
	rows := make([]reportRow, 0, len(sorted))
	rules := familyOf()
	for _, r := range sorted {
		css := ""
		if r.Expected && r.decided() {
			if _, f := r.correct(rules); f {
				css = "ok"
			} else {
				css = "bad"
			}
		}
		rows = append(rows, reportRow{row: r, CSS: css})
	}
	path := filepath.Join(dir, "report.html")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	err = reportTmpl.Execute(f, map[string]any{
		"Model": t.Model.Manifest().ModelVersion, "TrainPods": t.Model.Manifest().Training.Pods,
		"CVAccuracy": 100 * t.Report.PodAccuracy, "CVMacroF1": t.Report.MacroF1, "S": s, "Rows": rows,
	})
	return path, err
}
