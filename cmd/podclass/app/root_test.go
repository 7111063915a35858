package app

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestFlagValidation runs the real commands with bad flags: each must fail in
// PreRunE with a message naming the problem, before touching any cluster.
func TestFlagValidation(t *testing.T) {
	tests := map[string]struct {
		args []string
		want string
	}{
		"the webhook refuses a port out of range":               {[]string{"webhook", "--port", "70000"}, "not a TCP port"},
		"the refiner needs an InfluxDB URL":                     {[]string{"refiner"}, "--influx-url is required"},
		"the refiner refuses an unknown source":                 {[]string{"refiner", "--source", "graphite"}, "not one of"},
		"the refiner needs a Prometheus URL for prometheus":     {[]string{"refiner", "--source", "prometheus"}, "--prometheus-url is required"},
		"the refiner refuses a timeout shorter than the window": {[]string{"refiner", "--influx-url", "http://x", "--timeout", "30s"}, "must be longer than the min window"},
		"the refiner refuses zero workers":                      {[]string{"refiner", "--influx-url", "http://x", "--workers", "0"}, "workers"},
		"train refuses a zero ood margin":                       {[]string{"train", "--metrics", "m.lp", "--pods", "p.csv", "--out", "m.json", "--ood-margin", "0"}, "--ood-margin 0"},
		"eval refuses a negative trade-off margin":              {[]string{"eval", "--metrics", "m.lp", "--pods", "p.csv", "--tradeoff-margins", "0.5,-1"}, "-1 is not a positive number"},
		"classify refuses a negative ood margin":                {[]string{"classify", "--metrics", "m.lp", "--ood-margin", "-0.5"}, "--ood-margin -0.5"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cmd := NewCommand(context.Background())
			var out bytes.Buffer
			cmd.SetOut(&out)
			cmd.SetErr(&out)
			cmd.SetArgs(tc.args)
			err := cmd.Execute()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("podclass %s: error %v, want one mentioning %q", strings.Join(tc.args, " "), err, tc.want)
			}
		})
	}
}

// The demo is its own binary (cmd/podclass-demo); its flag test is there.
func TestEverySubcommandIsWired(t *testing.T) {
	have := map[string]bool{}
	for _, c := range NewCommand(context.Background()).Commands() {
		have[c.Name()] = true
	}
	for _, want := range []string{"webhook", "refiner", "train", "eval", "classify"} {
		if !have[want] {
			t.Errorf("podclass has no %q subcommand", want)
		}
	}
}
