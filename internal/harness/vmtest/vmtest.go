package vmtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podclass/podclass/internal/harness/freeport"
	"github.com/podclass/podclass/internal/harness/promtest"
	"github.com/podclass/podclass/internal/harness/tools"
)

// startTimeout bounds waiting for /health and for imported series to be
// searchable; generous for shared CI cores.
const startTimeout = 60 * time.Second

// importChunk is the most text one import request carries, well under
// victoria-metrics' -maxInsertRequestSize (32 MiB).
const importChunk = 8 << 20

// Server is a running victoria-metrics.
type Server struct {
	// URL is the HTTP base URL, e.g. http://127.0.0.1:41234: the Prometheus
	// query API is under /api/v1.
	URL string

	cmd     *exec.Cmd
	exited  chan struct{}
	logPath string
	client  *http.Client
	series  map[string]bool // every label set imported, to know when all are searchable
}

// Binary is the victoria-metrics binary Start runs (see tools.VictoriaMetrics).
func Binary() string { return tools.VictoriaMetrics() }

// Start runs victoria-metrics with its data in tb.TempDir(), imports series,
// waits until they are searchable and stops it at tb.Cleanup. flags are
// added to its command line, e.g. "-search.maxQueryLen=1MiB". With `go test
// -short` it skips the test instead.
func Start(tb testing.TB, series []promtest.Series, flags ...string) *Server {
	tb.Helper()
	if testing.Short() {
		// `go test -short` is the Makefile's unit-only run; the full run (CI)
		// never skips, and fails below when the binary is missing.
		tb.Skip("needs a real VictoriaMetrics; not run with -short")
	}
	bin := Binary()
	if err := tools.Missing(bin, "victoria-metrics"); err != nil {
		tb.Fatalf("vmtest: %v", err)
	}
	dir := tb.TempDir()
	port, err := freeport.Loopback()
	if err != nil {
		tb.Fatalf("vmtest: %v", err)
	}
	s := &Server{
		URL:     fmt.Sprintf("http://127.0.0.1:%d", port),
		logPath: filepath.Join(dir, "victoria-metrics.log"),
		exited:  make(chan struct{}),
		client:  &http.Client{Timeout: 2 * time.Minute},
		series:  map[string]bool{},
	}
	logf, err := os.Create(s.logPath)
	if err != nil {
		tb.Fatalf("vmtest: %v", err)
	}
	args := append([]string{
		"-storageDataPath=" + filepath.Join(dir, "data"),
		// Recorded samples are old: keep them however old they are.
		"-retentionPeriod=100y",
		fmt.Sprintf("-httpListenAddr=127.0.0.1:%d", port),
		"-loggerLevel=WARN",
	}, flags...)
	s.cmd = exec.Command(bin, args...)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		tb.Fatalf("vmtest: starting victoria-metrics: %v", err)
	}
	go func() { _ = s.cmd.Wait(); logf.Close(); close(s.exited) }()
	tb.Cleanup(s.stop)
	if err := tools.WaitHTTP(s.URL+"/health", http.StatusOK, "victoria-metrics", s.exited, startTimeout, 100*time.Millisecond); err != nil {
		tb.Fatalf("vmtest: victoria-metrics did not come up: %v\n--- victoria-metrics log ---\n%s", err, tools.Tail(s.logPath, 4000))
	}
	if err := s.Import(context.Background(), series); err != nil {
		tb.Fatalf("vmtest: %v\n--- victoria-metrics log ---\n%s", err, tools.Tail(s.logPath, 4000))
	}
	return s
}

// Import writes series and returns once every series imported so far is
// searchable: it flushes victoria-metrics' in-memory buffers
// (/internal/force_flush) and drops its cache of query results, which may
// hold answers from before the import.
func (s *Server) Import(ctx context.Context, series []promtest.Series) error {
	if len(series) == 0 {
		return nil
	}
	var text bytes.Buffer
	if err := promtest.WriteText(&text, series); err != nil {
		return err
	}
	for _, ser := range series {
		s.series[ser.Metric+formatKey(ser.Labels)] = true
	}
	data := text.Bytes()
	for len(data) > 0 {
		n := min(len(data), importChunk)
		if i := bytes.LastIndexByte(data[:n], '\n'); i >= 0 && n < len(data) {
			n = i + 1
		}
		if err := s.do(ctx, http.MethodPost, "/api/v1/import/prometheus", data[:n], http.StatusNoContent); err != nil {
			return fmt.Errorf("importing: %w", err)
		}
		data = data[n:]
	}
	if err := s.do(ctx, http.MethodGet, "/internal/force_flush", nil, http.StatusOK); err != nil {
		return fmt.Errorf("flushing: %w", err)
	}
	if err := s.do(ctx, http.MethodGet, "/internal/resetRollupResultCache", nil, http.StatusOK); err != nil {
		return fmt.Errorf("resetting the result cache: %w", err)
	}
	return s.waitSearchable(ctx)
}

// waitSearchable polls /api/v1/series/count until it counts every series
// imported.
func (s *Server) waitSearchable(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	want := len(s.series)
	var got int
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/v1/series/count", nil)
		resp, err := s.client.Do(req)
		if err == nil {
			var body struct {
				Data []int `json:"data"`
			}
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if err == nil && len(body.Data) == 1 {
				if got = body.Data[0]; got >= want {
					return nil
				}
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("victoria-metrics exited")
		case <-ctx.Done():
			return fmt.Errorf("%d of %d imported series searchable after %v (last error: %v)", got, want, startTimeout, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *Server) do(ctx context.Context, method, path string, body []byte, want int) error {
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// PID is the victoria-metrics process's id, e.g. to read its CPU time.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Stop ends victoria-metrics; Start's cleanup does it too.
func (s *Server) Stop() { s.stop() }

func (s *Server) stop() { _ = tools.Terminate(s.cmd.Process, s.exited, 10*time.Second) }

// formatKey is a label set's identity.
func formatKey(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k, v := range l {
		if v != "" { // an empty label is no label
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\x00%s\x00%s", k, l[k])
	}
	return b.String()
}
