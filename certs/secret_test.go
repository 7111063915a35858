package certs

import (
	"bytes"
	"net"
	"testing"
	"time"
)

var testPolicy = policy{
	CommonName: "test-ca", DNSNames: []string{"svc.ns.svc", "svc.ns"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	CALifetime: 30 * time.Hour, ServingLifetime: 9 * time.Hour,
}

// fresh returns Secret data planned at t0.
func fresh(t *testing.T, p policy, at time.Time) map[string][]byte {
	t.Helper()
	data, _, err := p.plan(nil, at)
	if err != nil || data == nil {
		t.Fatalf("planning from nothing: %v", err)
	}
	return data
}

func TestPlan(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		data       func(t *testing.T) map[string][]byte
		at         time.Time
		policy     policy
		wantChange bool
		wantSameCA bool // the CA key is kept
		wantCAs    int  // certificates in the trust bundle
	}{
		"an empty Secret gets a CA, a bundle and a serving certificate": {
			data: func(*testing.T) map[string][]byte { return nil }, at: t0, policy: testPolicy,
			wantChange: true, wantCAs: 1,
		},
		"a fresh Secret needs nothing": {
			data: func(t *testing.T) map[string][]byte { return fresh(t, testPolicy, t0) }, at: t0.Add(time.Hour), policy: testPolicy,
		},
		"a serving certificate with under a third of its life left is renewed under the same CA": {
			data: func(t *testing.T) map[string][]byte { return fresh(t, testPolicy, t0) }, at: t0.Add(7 * time.Hour), policy: testPolicy,
			wantChange: true, wantSameCA: true, wantCAs: 1,
		},
		"a CA with under a third of its life left is replaced and stays trusted": {
			data: func(t *testing.T) map[string][]byte { return fresh(t, testPolicy, t0) }, at: t0.Add(21 * time.Hour), policy: testPolicy,
			wantChange: true, wantCAs: 2,
		},
		"an expired old CA leaves the bundle": {
			data: func(t *testing.T) map[string][]byte {
				rotated, _, err := testPolicy.plan(fresh(t, testPolicy, t0), t0.Add(21*time.Hour))
				if err != nil {
					t.Fatal(err)
				}
				return rotated
			},
			at: t0.Add(31 * time.Hour), policy: testPolicy, wantChange: true, wantSameCA: true, wantCAs: 1,
		},
		"a certificate for other names is replaced": {
			data: func(t *testing.T) map[string][]byte { return fresh(t, testPolicy, t0) }, at: t0.Add(time.Hour),
			policy:     func() policy { p := testPolicy; p.DNSNames = []string{"other.ns.svc"}; return p }(),
			wantChange: true, wantSameCA: true, wantCAs: 1,
		},
		"a corrupt serving key is replaced": {
			data: func(t *testing.T) map[string][]byte {
				d := fresh(t, testPolicy, t0)
				d[KeyKey] = []byte("garbage")
				return d
			},
			at: t0.Add(time.Hour), policy: testPolicy, wantChange: true, wantSameCA: true, wantCAs: 1,
		},
		"a corrupt CA starts a new chain": {
			data: func(t *testing.T) map[string][]byte {
				d := fresh(t, testPolicy, t0)
				d[CAKeyKey] = []byte("garbage")
				return d
			},
			at: t0.Add(time.Hour), policy: testPolicy, wantChange: true, wantCAs: 2,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			before := tc.data(t)
			got, reason, err := tc.policy.plan(before, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			if (got != nil) != tc.wantChange {
				t.Fatalf("changed = %v (%s), want %v", got != nil, reason, tc.wantChange)
			}
			if got == nil {
				return
			}
			if again, why, _ := tc.policy.plan(got, tc.at); again != nil {
				t.Errorf("the planned Secret is not final: %s", why)
			}
			if same := bytes.Equal(got[CAKeyKey], before[CAKeyKey]); same != tc.wantSameCA {
				t.Errorf("CA kept = %v, want %v (%s)", same, tc.wantSameCA, reason)
			}
			bundle, err := parseCerts(got[CABundleKey])
			if err != nil {
				t.Fatal(err)
			}
			if len(bundle) != tc.wantCAs {
				t.Errorf("bundle holds %d CAs, want %d", len(bundle), tc.wantCAs)
			}
			ca, err := parseKeyPair(got[CACertKey], got[CAKeyKey])
			if err != nil {
				t.Fatal(err)
			}
			if !bundle[0].Equal(ca.Cert) {
				t.Error("the current CA is not first in the bundle")
			}
			serving, err := parseKeyPair(got[CertKey], got[KeyKey])
			if err != nil {
				t.Fatal(err)
			}
			if err := servesFor(serving.Cert, ca.Cert, tc.policy.DNSNames, tc.policy.IPAddresses, tc.at); err != nil {
				t.Errorf("serving certificate: %v", err)
			}
			if serving.Cert.NotAfter.After(ca.Cert.NotAfter) {
				t.Error("the serving certificate outlives its CA")
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	valid := DefaultOptions()
	valid.Namespace, valid.SecretName, valid.WebhookConfigName = "ns", "tls", "podclass"
	valid.DNSNames, valid.CertDir = []string{"svc.ns.svc"}, "/certs"
	tests := map[string]struct {
		edit    func(*Options)
		wantErr bool
	}{
		"the defaults with names are valid":                  {edit: func(*Options) {}},
		"a CA shorter than twice the certificate is refused": {edit: func(o *Options) { o.CALifetime = o.CertLifetime }, wantErr: true},
		"a check interval too long to renew in time is refused": {
			edit: func(o *Options) { o.CheckInterval = o.CertLifetime / 3 }, wantErr: true,
		},
		"a certificate without names is refused": {edit: func(o *Options) { o.DNSNames = nil }, wantErr: true},
		"a missing Secret name is refused":       {edit: func(o *Options) { o.SecretName = "" }, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			o := valid
			tc.edit(&o)
			if err := o.Validate(); (err != nil) != tc.wantErr {
				t.Errorf("Validate() = %v, want error %v", err, tc.wantErr)
			}
		})
	}
}

func TestServiceDNSNamesPutTheNameTheAPIServerDialsFirst(t *testing.T) {
	got := ServiceDNSNames("podclass-webhook", "ops", "cluster.local.")
	want := []string{"podclass-webhook.ops.svc", "podclass-webhook.ops.svc.cluster.local", "podclass-webhook.ops", "podclass-webhook"}
	if !sameStrings(got, want) || got[0] != want[0] {
		t.Errorf("ServiceDNSNames = %v, want %v", got, want)
	}
}
