package influxtest

import (
	"testing"

	"github.com/podclass/podclass/internal/harness/influxd"
)

// Version is the InfluxDB release the helper expects.
const Version = influxd.Version

// Database is the database Start creates; telegraf's default name.
const Database = influxd.Database

// Server is a running influxd whose methods fail the test on error. Call them
// from the test goroutine only; URL and WriteErr are safe anywhere.
type Server struct {
	*influxd.Server
	tb testing.TB
}

// Binary returns the influxd path the helper uses (see influxd.Binary).
func Binary() string { return influxd.Binary() }

// Start runs influxd on free loopback ports with its data in t.TempDir(),
// waits until it answers, creates Database, and stops it at t.Cleanup. With
// `go test -short` it skips the test instead.
func Start(tb testing.TB) *Server {
	tb.Helper()
	if testing.Short() {
		// `go test -short` is the Makefile's unit-only run; the full run (CI)
		// never skips, and fails below when the binary is missing.
		tb.Skip("needs a real InfluxDB; not run with -short")
	}
	s, err := influxd.Start(influxd.Binary(), tb.TempDir())
	if err != nil {
		tb.Fatalf("influxtest: %v", err)
	}
	tb.Cleanup(func() { _ = s.Stop() })
	return &Server{Server: s, tb: tb}
}

// Write stores line protocol (nanosecond timestamps) in Database.
func (s *Server) Write(lineProtocol string) {
	s.tb.Helper()
	if err := s.Server.Write(lineProtocol); err != nil {
		s.tb.Fatalf("influxtest: %v", err)
	}
}

// WriteErr is Write for callers that expect failure (an outage) or run off the
// test goroutine.
func (s *Server) WriteErr(lineProtocol string) error { return s.Server.Write(lineProtocol) }

// Query runs an InfluxQL statement in Database and returns the JSON response.
func (s *Server) Query(influxQL string) string {
	s.tb.Helper()
	out, err := s.Server.Query(influxQL)
	if err != nil {
		s.tb.Fatalf("influxtest: %v", err)
	}
	return out
}

// Stop ends influxd and waits for it; the data stays for Restart.
func (s *Server) Stop() {
	s.tb.Helper()
	if err := s.Server.Stop(); err != nil {
		s.tb.Fatalf("influxtest: stop: %v", err)
	}
}

// Restart starts influxd again on the same port and data.
func (s *Server) Restart() {
	s.tb.Helper()
	if err := s.Server.Restart(); err != nil {
		s.tb.Fatalf("influxtest: %v", err)
	}
}
