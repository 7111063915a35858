package promtest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podclass/podclass/internal/harness/freeport"
	"github.com/podclass/podclass/internal/harness/tools"
)

// startTimeout bounds waiting for /-/ready; generous for shared CI cores.
const startTimeout = 60 * time.Second

// Series is one time series to backfill.
type Series struct {
	Metric string
	Labels map[string]string
	Points []Point
}

// Point is one sample.
type Point struct {
	Time  time.Time
	Value float64
}

// Server is a running prometheus.
type Server struct {
	// URL is the HTTP base URL, e.g. http://127.0.0.1:41234.
	URL string

	cmd     *exec.Cmd
	exited  chan struct{}
	logPath string
}

const installHint = "install Debian's prometheus package: run `hack/prometheus.sh` (or apt-get install prometheus)"

// Binaries returns the paths of prometheus and promtool, from $PATH.
func Binaries() (prometheus, promtool string, err error) {
	if prometheus, err = exec.LookPath("prometheus"); err != nil {
		return "", "", err
	}
	if promtool, err = exec.LookPath("promtool"); err != nil {
		return "", "", err
	}
	return prometheus, promtool, nil
}

// Start backfills series into a fresh TSDB in t.TempDir(), starts prometheus
// on it, waits until it is ready and stops it at t.Cleanup. flags are added to
// its command line, e.g. "--query.max-samples=1000". With `go test -short` it
// skips the test instead.
func Start(tb testing.TB, series []Series, flags ...string) *Server {
	tb.Helper()
	if testing.Short() {
		// `go test -short` is the Makefile's unit-only run; the full run (CI)
		// never skips, and fails below when the binary is missing.
		tb.Skip("needs a real Prometheus; not run with -short")
	}
	prom, promtool, err := Binaries()
	if err != nil {
		tb.Fatalf("promtest: %v: %s", err, installHint)
	}
	dir := tb.TempDir()
	dataDir := filepath.Join(dir, "data")
	input := filepath.Join(dir, "backfill.om")
	if err := writeFile(input, series); err != nil {
		tb.Fatalf("promtest: %v", err)
	}
	if len(series) > 0 {
		out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", input, dataDir).CombinedOutput()
		if err != nil {
			tb.Fatalf("promtest: promtool backfill: %v\n%s", err, out)
		}
	}
	config := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(config, []byte("global:\n  evaluation_interval: 1h\nscrape_configs: []\n"), 0o600); err != nil {
		tb.Fatalf("promtest: %v", err)
	}
	port, err := freeport.Loopback()
	if err != nil {
		tb.Fatalf("promtest: %v", err)
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), logPath: filepath.Join(dir, "prometheus.log"), exited: make(chan struct{})}
	logf, err := os.Create(s.logPath)
	if err != nil {
		tb.Fatalf("promtest: %v", err)
	}
	s.cmd = exec.Command(prom, append([]string{
		"--config.file=" + config,
		"--storage.tsdb.path=" + dataDir,
		// Backfilled samples are old: keep them however old they are.
		"--storage.tsdb.retention.time=100y",
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
		"--log.level=warn",
	}, flags...)...)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		tb.Fatalf("promtest: starting prometheus: %v: %s", err, installHint)
	}
	go func() { _ = s.cmd.Wait(); logf.Close(); close(s.exited) }()
	tb.Cleanup(s.stop)
	if err := tools.WaitHTTP(s.URL+"/-/ready", http.StatusOK, "prometheus", s.exited, startTimeout, 100*time.Millisecond); err != nil {
		tb.Fatalf("promtest: prometheus did not come up: %v\n--- prometheus log ---\n%s", err, tools.Tail(s.logPath, 4000))
	}
	return s
}

// PID is the prometheus process's id, e.g. to read its CPU time.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Stop ends prometheus; Start's cleanup does it too.
func (s *Server) Stop() { s.stop() }

func (s *Server) stop() { _ = tools.Terminate(s.cmd.Process, s.exited, 10*time.Second) }

func writeFile(path string, series []Series) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteOpenMetrics(f, series); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// WriteOpenMetrics writes series as the OpenMetrics text promtool backfills:
// samples of one metric together, each series in time order, millisecond
// timestamps in seconds, and the closing "# EOF".
func WriteOpenMetrics(w io.Writer, series []Series) error {
	sorted := append([]Series(nil), series...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Metric < sorted[j].Metric })
	bw := bufio.NewWriter(w)
	for _, s := range sorted {
		if s.Metric == "" {
			return errors.New("promtest: a series has no metric name")
		}
		labels := formatLabels(s.Labels)
		pts := append([]Point(nil), s.Points...)
		sort.SliceStable(pts, func(i, j int) bool { return pts[i].Time.Before(pts[j].Time) })
		for _, p := range pts {
			ts := strconv.FormatFloat(float64(p.Time.UnixMilli())/1000, 'f', -1, 64)
			fmt.Fprintf(bw, "%s%s %s %s\n", s.Metric, labels, formatValue(p.Value), ts)
		}
	}
	bw.WriteString("# EOF\n")
	return bw.Flush()
}

// WriteText writes series in Prometheus' text exposition format with
// millisecond timestamps, one line per point and no "# EOF": what
// VictoriaMetrics' /api/v1/import/prometheus reads.
func WriteText(w io.Writer, series []Series) error {
	bw := bufio.NewWriter(w)
	for _, s := range series {
		if s.Metric == "" {
			return errors.New("promtest: a series has no metric name")
		}
		labels := formatLabels(s.Labels)
		for _, p := range s.Points {
			fmt.Fprintf(bw, "%s%s %s %d\n", s.Metric, labels, formatValue(p.Value), p.Time.UnixMilli())
		}
	}
	return bw.Flush()
}

func formatLabels(l map[string]string) string {
	if len(l) == 0 {
		return ""
	}
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf(`%s="%s"`, k, esc.Replace(l[k]))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
