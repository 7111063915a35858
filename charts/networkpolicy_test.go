package charts_test

import (
	"context"
	"slices"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podclass/podclass/internal/harness/testenv"
)

// TestNetworkPolicyAdmitsOnlyTheAPIServer renders the webhook's
// NetworkPolicy (on by default): the admission port is open to the given
// apiserver ranges only, the metrics port to metricsFrom only.
func TestNetworkPolicyAdmitsOnlyTheAPIServer(t *testing.T) {
	tests := map[string]struct {
		args        []string
		wantFrom    []string // ipBlocks of the admission port; nil: open to all
		wantMetrics bool
		wantWarning bool
	}{
		"by default, with no cluster to look the apiserver up in, the admission port is open and the policy says so": {
			wantWarning: true,
		},
		"the apiserver ranges given are the only sources of admissions": {
			args:     []string{"--set", "webhook.networkPolicy.apiServerCIDRs={10.0.0.10/32,fd00::1/128}"},
			wantFrom: []string{"10.0.0.10/32", "fd00::1/128"},
		},
		"metricsFrom opens the metrics port": {
			args:        []string{"--set", "webhook.networkPolicy.apiServerCIDRs={10.0.0.10/32}", "--set", "webhook.networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.team=monitoring"},
			wantFrom:    []string{"10.0.0.10/32"},
			wantMetrics: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			objs := testenv.Find(testenv.RenderChart(t, releaseNamespace, tc.args...), "NetworkPolicy")
			if len(objs) != 1 {
				t.Fatalf("%d NetworkPolicies rendered, want 1", len(objs))
			}
			np := &networkingv1.NetworkPolicy{}
			testenv.Convert(t, objs[0], np)
			checkAdmissionSources(t, np, tc.wantFrom)
			metrics := false
			for _, r := range np.Spec.Ingress {
				for _, p := range r.Ports {
					if p.Port != nil && p.Port.String() == "metrics" {
						metrics = true
					}
				}
			}
			if metrics != tc.wantMetrics {
				t.Errorf("metrics port open = %v, want %v", metrics, tc.wantMetrics)
			}
			if _, warned := np.Annotations["podclass.io/network-policy"]; warned != tc.wantWarning {
				t.Errorf("warning annotation = %v, want %v", warned, tc.wantWarning)
			}
		})
	}
}

// checkAdmissionSources checks the sources allowed to the https port.
func checkAdmissionSources(t *testing.T, np *networkingv1.NetworkPolicy, want []string) {
	t.Helper()
	for _, r := range np.Spec.Ingress {
		if len(r.Ports) != 1 || r.Ports[0].Port.String() != "https" {
			continue
		}
		var got []string
		for _, f := range r.From {
			if f.IPBlock == nil || len(f.IPBlock.Except) > 0 || f.PodSelector != nil || f.NamespaceSelector != nil {
				t.Errorf("admission source %+v is not a plain ipBlock", f)
				continue
			}
			got = append(got, f.IPBlock.CIDR)
		}
		if !slices.Equal(got, want) {
			t.Errorf("admission port sources %v, want %v", got, want)
		}
		return
	}
	t.Errorf("no ingress rule for the admission port: %+v", np.Spec.Ingress)
}

// apiServerCIDRs are the addresses the default/kubernetes EndpointSlice
// lists, as the chart's lookup turns them into ipBlocks. The apiserver
// writes that slice a moment after it starts; this waits for it, so a chart
// installed afterwards finds it as on any running cluster.
func apiServerCIDRs(t *testing.T, c client.Client) []string {
	t.Helper()
	var out []string
	testenv.WaitFor(t, 30*time.Second, "the apiserver's EndpointSlice", func() (bool, error) {
		slice := &discoveryv1.EndpointSlice{}
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: "default", Name: "kubernetes"}, slice); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		out = out[:0]
		for _, e := range slice.Endpoints {
			for _, a := range e.Addresses {
				out = append(out, a+"/32")
			}
		}
		return len(out) > 0, nil
	})
	return out
}
