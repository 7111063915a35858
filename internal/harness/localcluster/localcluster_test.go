package localcluster

import (
	"testing"
	"time"
)

// On a busy 2-core CI machine kube-apiserver took longer than envtest's
// default 20 s to answer /healthz ("unable to start control plane itself …
// timeout waiting for process kube-apiserver to start", issue 12 item 10).
func TestTheControlPlaneHasTimeToStartOnABusyMachine(t *testing.T) {
	tests := map[string]struct {
		env       string
		wantStart time.Duration
	}{
		"the default is StartTimeout":                               {wantStart: StartTimeout},
		"KUBEBUILDER_CONTROLPLANE_START_TIMEOUT still overrides it": {env: "7m"}, // envtest reads it
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Setenv("KUBEBUILDER_CONTROLPLANE_START_TIMEOUT", tc.env)
			env := environment(Options{}, t.TempDir())
			if env.ControlPlaneStartTimeout != tc.wantStart {
				t.Errorf("start timeout %s, want %s", env.ControlPlaneStartTimeout, tc.wantStart)
			}
			if env.ControlPlaneStopTimeout != StopTimeout || StopTimeout < time.Minute {
				t.Errorf("stop timeout %s: a busy machine needs at least a minute", env.ControlPlaneStopTimeout)
			}
		})
	}
	if StartTimeout < 2*time.Minute {
		t.Errorf("StartTimeout %s: kube-apiserver took over 20 s on a busy 2-core machine, want at least 2 minutes", StartTimeout)
	}
}
