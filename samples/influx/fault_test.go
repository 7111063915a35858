package influx

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podclass/podclass/samples"
)

// A metrics store that misbehaves — answers garbage, answers too slowly —
// must give the refiner an error to back off on, never a panic, a hang or a
// made-up window. No real InfluxDB answers garbage on purpose, so these use
// a stand-in HTTP server; the real server's outage is in influx_test.go.

var testPods = []samples.PodKey{{Namespace: "shop", Name: "db-0"}, {Namespace: "shop", Name: "db-1"}}

func fakeInflux(t testing.TB, h http.HandlerFunc) *Source {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	src, err := NewSource(Config{URL: srv.URL, Bucket: "telegraf", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	return src
}

func TestInfluxSourceMisbehavingStore(t *testing.T) {
	tests := map[string]struct {
		status int
		body   string
		delay  time.Duration
	}{
		"an HTML error page":                  {status: http.StatusBadGateway, body: "<html>502 Bad Gateway</html>"},
		"a CSV with a broken annotation":      {status: 200, body: "#datatype,string,long\n#group,false\n,result,table\n,x,notanumber,1,2,3\n"},
		"a CSV whose value column is garbage": {status: 200, body: "#datatype,string,long,dateTime:RFC3339,double,string,string,string\n#group,false,false,false,false,true,true,true\n#default,_result,,,,,,\n,result,table,_time,_value,_field,namespace,pod_name\n,,0,not-a-time,zzz,cpu_usage_nanocores,shop,db-0\n"},
		"an answer slower than the timeout":   {status: 200, body: "", delay: 3 * time.Second},
		"a JSON error from the query engine":  {status: http.StatusBadRequest, body: `{"code":"invalid","message":"compilation failed"}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			src := fakeInflux(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.delay > 0 {
					select {
					case <-time.After(tc.delay):
					case <-r.Context().Done():
						return
					}
				}
				w.Header().Set("Content-Type", "text/csv")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			})
			start := time.Now()
			got, err := src.Windows(context.Background(), testPods, start.Add(-time.Hour), start)
			if err == nil {
				t.Fatalf("no error from a store answering %s; got %d windows", name, len(got))
			}
			if took := time.Since(start); took > 2500*time.Millisecond {
				t.Errorf("took %s with a 1 s timeout", took)
			}
			if !strings.Contains(err.Error(), "influx") {
				t.Errorf("error %q does not say it came from InfluxDB", err)
			}
		})
	}
}

// FuzzInfluxResponse serves arbitrary bytes as a Flux query's CSV answer:
// the source may return windows or an error, never panic.
func FuzzInfluxResponse(f *testing.F) {
	f.Add([]byte("#datatype,string,long,dateTime:RFC3339,double,string,string,string\n#group,false,false,false,false,true,true,true\n#default,_result,,,,,,\n,result,table,_time,_value,_field,namespace,pod_name\n,,0,2026-11-27T10:00:00Z,5,cpu_usage_nanocores,shop,db-0\n"))
	f.Add([]byte(",result,table,_time\n,,0,\n"))
	f.Add([]byte(""))
	f.Add([]byte("#datatype\n"))
	// The answer is served in memory, not over a socket: each input costs
	// only the parse (no HTTP round trip that a busy machine could push past
	// a timeout), and the input reaches the client through the request's
	// own goroutine, not a variable a server goroutine reads.
	var body atomic.Pointer[[]byte]
	src, err := NewSource(Config{URL: "http://influx.invalid", Bucket: "telegraf", Timeout: time.Minute,
		HTTPClient: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"text/csv"}},
				Body: io.NopCloser(bytes.NewReader(*body.Load())), Request: r}, nil
		})}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(src.Close)
	f.Fuzz(func(t *testing.T, b []byte) {
		body.Store(&b)
		_, _ = src.Windows(context.Background(), testPods, time.Unix(0, 0), time.Unix(1e9, 0))
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
