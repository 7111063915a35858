package prometheus_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/podclass/podclass/samples/prometheus"
)

func TestNewSourceChecksHeaders(t *testing.T) {
	tests := map[string]struct {
		cfg     prometheus.Config
		wantErr string
	}{
		"a tenant header":                 {cfg: prometheus.Config{Headers: http.Header{"X-Scope-OrgID": {"tenant-a"}}}},
		"an Authorization header alone":   {cfg: prometheus.Config{Headers: http.Header{"authorization": {"ApiKey k"}}}},
		"a name that is no token":         {cfg: prometheus.Config{Headers: http.Header{"X Scope": {"a"}}}, wantErr: "not an HTTP token"},
		"an empty name":                   {cfg: prometheus.Config{Headers: http.Header{"": {"a"}}}, wantErr: "not an HTTP token"},
		"a value with a line break":       {cfg: prometheus.Config{Headers: http.Header{"X-A": {"a\r\nX-B: b"}}}, wantErr: "line break"},
		"the client's own header":         {cfg: prometheus.Config{Headers: http.Header{"content-type": {"text/plain"}}}, wantErr: "client's to set"},
		"Authorization beside a token":    {cfg: prometheus.Config{BearerToken: "t", Headers: http.Header{"Authorization": {"Bearer u"}}}, wantErr: "not both"},
		"Authorization beside a user":     {cfg: prometheus.Config{Username: "u", Headers: http.Header{"Authorization": {"Basic x"}}}, wantErr: "not both"},
		"credentials without an override": {cfg: prometheus.Config{BearerToken: "t", Headers: http.Header{"X-Scope-OrgID": {"a"}}}},
		"a token and a password":          {cfg: prometheus.Config{BearerToken: "t", Password: "p"}, wantErr: "not both"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.cfg.URL = "http://prometheus.example:9090"
			_, err := prometheus.NewSource(tc.cfg)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("err = %v, want none", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("err = %v, want one with %q", err, tc.wantErr)
			}
		})
	}
}
