package charts_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/podclass/podclass/cmd/podclass/app"
	"github.com/podclass/podclass/internal/harness/testenv"
)

// TestChartArgsParseWithTheBinary parses every container's arguments the
// chart renders with the real podclass command, so a renamed flag fails here
// and not in a crash-looping pod.
func TestChartArgsParseWithTheBinary(t *testing.T) {
	tests := map[string]struct {
		args []string
		// trainerArgs must all be among the trainer container's args.
		trainerArgs []string
	}{
		"the default values": {},
		"cert-manager certificates": {
			args: []string{"--set", "certs.mode=certManager", "--set", "trainer.enabled=false"},
		},
		"an InfluxDB 1.x user": {
			args: []string{"--set", "metrics.influxdb.username=podclass", "--set", "metrics.influxdb.existingSecret=influx", "--set", "trainer.enabled=false"},
		},
		"the default values without the trainer": {args: []string{"--set", "trainer.enabled=false"}},
		"a strict trainer": {
			args:        []string{"--set", "trainer.foreignCalibration=true", "--set-json", "trainer.oodMargin=0.8"},
			trainerArgs: []string{"--foreign-calibration", "--ood-margin=0.8"},
		},
		"a trainer that lets two namespaces teach a class": {
			args:        []string{"--set-json", "trainer.maxNamespaceShare=0.5", "--set", "trainer.farFactor=3"},
			trainerArgs: []string{"--max-namespace-share=0.5", "--far-factor=3"},
		},
		"prometheus metrics": {
			args: []string{"--set", "metrics.source=prometheus", "--set", "trainer.enabled=false"},
		},
		"prometheus metrics of a Mimir tenant": {
			args:        []string{"--set", "metrics.source=prometheus", "--set-json", `metrics.prometheus.headers={"X-Scope-OrgID":"tenant-a"}`},
			trainerArgs: []string{"--prometheus-header=X-Scope-OrgID: tenant-a"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			objs := testenv.RenderChart(t, releaseNamespace, tc.args...)
			for _, c := range containers(t, objs) {
				if strings.HasPrefix(c.name, "CronJob") {
					for _, want := range tc.trainerArgs {
						if !slices.Contains(c.args, want) {
							t.Errorf("trainer args %v lack %s", c.args, want)
						}
					}
				}
				cmd := app.NewCommand(context.Background())
				sub, rest, err := cmd.Find(c.args)
				if err != nil || sub == cmd {
					t.Errorf("%s: no podclass subcommand %v", c.name, c.args)
					continue
				}
				if err := sub.ParseFlags(rest); err != nil {
					t.Errorf("%s: podclass %s: %v", c.name, sub.Name(), err)
					continue
				}
				// PreRunE only validates: run it, so chart values the binary
				// refuses (say, a check interval too long for the certificate
				// lifetime) fail here.
				if sub.PreRunE != nil {
					if err := sub.PreRunE(sub, nil); err != nil {
						t.Errorf("%s: podclass %s refuses the chart's flags: %v", c.name, sub.Name(), err)
					}
				}
			}
		})
	}
}

type container struct {
	name string
	args []string
}

// containers returns the containers of every Deployment and CronJob.
func containers(t *testing.T, objs []*unstructured.Unstructured) []container {
	t.Helper()
	var out []container
	for _, o := range objs {
		var path []string
		switch o.GetKind() {
		case "Deployment":
			path = []string{"spec", "template", "spec", "containers"}
		case "CronJob":
			path = []string{"spec", "jobTemplate", "spec", "template", "spec", "containers"}
		default:
			continue
		}
		ctrs, _, err := unstructured.NestedSlice(o.Object, path...)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range ctrs {
			m, _ := c.(map[string]any)
			args, _, _ := unstructured.NestedStringSlice(m, "args")
			out = append(out, container{name: o.GetKind() + " " + o.GetName(), args: args})
		}
	}
	return out
}
