package samplestest

import (
	"net/http"
	"strings"
	"sync/atomic"
)

// CountingTransport counts queries (requests to a path ending in suffix) on
// their way to the real server.
type CountingTransport struct {
	Suffix  string
	queries atomic.Int64
	Next    http.RoundTripper
}

func (c *CountingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, c.Suffix) {
		c.queries.Add(1)
	}
	return c.Next.RoundTrip(req)
}

// Queries is how many queries went through.
func (c *CountingTransport) Queries() int64 { return c.queries.Load() }
