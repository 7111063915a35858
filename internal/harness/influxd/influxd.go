package influxd

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/podclass/podclass/internal/harness/freeport"
	"github.com/podclass/podclass/internal/harness/tools"
)

// Version is the InfluxDB release hack/tools.sh builds.
const Version = tools.InfluxdVersion

// Database is the database Start creates; telegraf's default name.
const Database = "telegraf"

// startTimeout bounds waiting for /ping: generous because CI shares two cores
// with a large build.
const startTimeout = 60 * time.Second

// Server is a running influxd.
type Server struct {
	// URL is the HTTP base URL, e.g. http://127.0.0.1:41234.
	URL string
	// Database is the database created at start.
	Database string

	bin     string
	dir     string
	config  string
	logPath string

	mu  sync.Mutex
	cmd *exec.Cmd
	// exited is closed when the running process has been waited for.
	exited chan struct{}
}

// Binary returns the influxd hack/tools.sh builds ($PODCLASS_INFLUXD overrides).
func Binary() string { return tools.Influxd() }

// Start runs influxd from bin on free loopback ports with its data in dir
// (which must exist), waits until it answers and creates Database. Call Stop
// when done.
func Start(bin, dir string) (*Server, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("influxd %s not found at %s (%w): run `hack/tools.sh influxd`, or set PODCLASS_INFLUXD", Version, bin, err)
	}
	httpPort, err := freeport.Loopback()
	if err != nil {
		return nil, err
	}
	rpcPort, err := freeport.Loopback()
	if err != nil {
		return nil, err
	}
	s := &Server{
		URL:      fmt.Sprintf("http://127.0.0.1:%d", httpPort),
		Database: Database,
		bin:      bin,
		dir:      dir,
		config:   filepath.Join(dir, "influxd.conf"),
		logPath:  filepath.Join(dir, "influxd.log"),
	}
	if err := os.WriteFile(s.config, []byte(config(dir, httpPort, rpcPort)), 0o600); err != nil {
		return nil, fmt.Errorf("writing influxd config: %w", err)
	}
	if err := s.Restart(); err != nil {
		return nil, err
	}
	if _, err := s.Query("CREATE DATABASE " + Database); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// config enables Flux, keeps every listener on loopback (the only other one
// left on is the RPC service, which has no off switch) and turns off the
// phoning home and the self-monitoring database.
func config(dir string, httpPort, rpcPort int) string {
	return fmt.Sprintf(`reporting-disabled = true
bind-address = "127.0.0.1:%d"

[meta]
  dir = %q

[data]
  dir = %q
  wal-dir = %q
  query-log-enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:%d"
  flux-enabled = true
  log-enabled = false
  pprof-enabled = false

[logging]
  level = "warn"

[[graphite]]
  enabled = false
[[collectd]]
  enabled = false
[[opentsdb]]
  enabled = false
[[udp]]
  enabled = false
`, rpcPort, filepath.Join(dir, "meta"), filepath.Join(dir, "data"), filepath.Join(dir, "wal"), httpPort)
}

// Bucket returns the Flux bucket of Database's default retention policy.
func (s *Server) Bucket() string { return s.Database + "/autogen" }

// Write stores line protocol (nanosecond timestamps) in Database.
func (s *Server) Write(lineProtocol string) error {
	u := s.URL + "/write?precision=ns&db=" + url.QueryEscape(s.Database)
	resp, err := http.Post(u, "text/plain; charset=utf-8", strings.NewReader(lineProtocol))
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("write: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// Query runs an InfluxQL statement in Database (SELECT, DROP SERIES, …) and
// returns the JSON response.
func (s *Server) Query(influxQL string) (string, error) {
	resp, err := http.PostForm(s.URL+"/query", url.Values{"q": {influxQL}, "db": {s.Database}})
	if err != nil {
		return "", fmt.Errorf("query %q: %w", influxQL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), `"error"`) {
		return "", fmt.Errorf("query %q: %s: %s", influxQL, resp.Status, body)
	}
	return string(body), nil
}

// Stop ends influxd (SIGTERM, then SIGKILL after 10 s) and waits for it; the
// data stays for Restart.
func (s *Server) Stop() error { return s.stop() }

// Restart starts influxd again on the same port and data, waiting until it
// answers /ping. Start calls it for the first start.
func (s *Server) Restart() error {
	if err := s.stop(); err != nil {
		return fmt.Errorf("stop before restart: %w", err)
	}
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, "-config", s.config)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = s.dir
	// Its own process group, so a ^C on the terminal does not race our SIGTERM.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting %s: %w", s.bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	if err := tools.WaitHTTP(s.URL+"/ping", http.StatusNoContent, "influxd", exited, startTimeout, 50*time.Millisecond); err != nil {
		_ = s.stop()
		return fmt.Errorf("influxd did not come up: %w\n--- influxd log ---\n%s", err, tools.Tail(s.logPath, 4000))
	}
	return nil
}

func (s *Server) stop() error {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	if err := tools.Terminate(cmd.Process, exited, 10*time.Second); err != nil {
		return fmt.Errorf("influxd: %w", err)
	}
	return nil
}

// tail returns the end of a log for a failure message.
