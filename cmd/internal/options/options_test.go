package options

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

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
