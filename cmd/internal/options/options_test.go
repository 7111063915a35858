package options

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/podclass/podclass/samples"
)

// TestQueryTimeoutBoundsEverySource builds each source kind from the flags
// against a store that answers only after 5 s: --query-timeout must end the
// query, whichever the store (it was ignored with --source prometheus).
func TestQueryTimeoutBoundsEverySource(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	for _, kind := range []string{"influxdb", "prometheus"} {
		t.Run(kind, func(t *testing.T) {
			s := DefaultSource()
			s.Kind, s.InfluxURL, s.PrometheusURL, s.QueryTimeout = kind, slow.URL, slow.URL, 300*time.Millisecond
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			src, closeSrc, err := s.Build()
			if err != nil {
				t.Fatal(err)
			}
			defer closeSrc()
			start := time.Now()
			_, err = src.Windows(context.Background(), []samples.PodKey{{Namespace: "shop", Name: "db-0"}}, start.Add(-time.Hour), start)
			if err == nil {
				t.Fatal("no error from a store that never answered in time")
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("the query took %s with --query-timeout 300ms", took.Round(time.Millisecond))
			}
		})
	}
}

// TestPrometheusHeadersReachTheServer binds the flags as the binaries do and
// checks that every --prometheus-header arrives with the query, and that a
// malformed one is refused before anything runs.
func TestPrometheusHeadersReachTheServer(t *testing.T) {
	var got []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Clone())
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[]}}`))
	}))
	defer srv.Close()
	parse := func(t *testing.T, args ...string) *Source {
		s := DefaultSource()
		s.PromToken = ""
		fs := pflag.NewFlagSet("refiner", pflag.ContinueOnError)
		s.AddFlags(fs)
		if err := fs.Parse(append([]string{"--source=prometheus", "--prometheus-url=" + srv.URL}, args...)); err != nil {
			t.Fatal(err)
		}
		return &s
	}

	s := parse(t, "--prometheus-header=X-Scope-OrgID: tenant-a", "--prometheus-header", "x-gateway-tag:  blue  ", "--prometheus-header=X-Gateway-Tag:green")
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	src, closeSrc, err := s.Build()
	if err != nil {
		t.Fatal(err)
	}
	defer closeSrc()
	now := time.Now()
	if _, err := src.Windows(context.Background(), []samples.PodKey{{Namespace: "shop", Name: "db-0"}}, now.Add(-time.Minute), now); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	if v := got[0].Values("X-Scope-Orgid"); !slices.Equal(v, []string{"tenant-a"}) {
		t.Errorf("X-Scope-OrgID = %q, want [tenant-a]", v)
	}
	if v := got[0].Values("X-Gateway-Tag"); !slices.Equal(v, []string{"blue", "green"}) {
		t.Errorf("X-Gateway-Tag = %q, want [blue green]", v)
	}

	for _, bad := range []string{"X-Scope-OrgID", ": tenant-a", "X Scope: a", " X-Scope-OrgID: a", "Host: prometheus.example", "Authorization: Bearer x"} {
		s := parse(t, "--prometheus-header="+bad)
		if bad == "Authorization: Bearer x" {
			s.PromToken = "from-the-environment"
		}
		if err := s.Validate(); err == nil {
			t.Errorf("--prometheus-header=%q: no error", bad)
		}
	}
}
