package localcluster

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/podclass/podclass/internal/harness/tools"
)

// component is a control-plane process the cluster runs beside envtest's etcd
// and kube-apiserver: kube-controller-manager, kube-scheduler or kwok. Its
// stdout and stderr go to <logDir>/<name>.log; the end of that log is in
// every error about it, so a component that crashed says why.
type component struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	// exited is closed once the process has been waited for; waitErr is
	// its result then.
	exited  chan struct{}
	waitErr error
	// stopping is set by stop, so an exit it caused is no crash.
	stopping atomic.Bool
}

// startComponent starts bin with args in its own process group (a ^C on the
// terminal reaches the harness, which stops it in order), killed if the
// harness dies first.
func startComponent(name, bin string, args []string, logDir string) (*component, error) {
	logPath := filepath.Join(logDir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("%s: creating its log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Pdeathsig: a harness that dies without stopping it (a test binary
	// killed at its -timeout) takes it along rather than leaving it to spin
	// against a control plane that is gone.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s (%s): %w", name, bin, err)
	}
	c := &component{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		c.waitErr = cmd.Wait()
		logf.Close()
		close(c.exited)
	}()
	return c, nil
}

// crashed is an error with the end of the component's log once it exited
// without being stopped, and nil while it runs.
func (c *component) crashed() error {
	select {
	case <-c.exited:
	default:
		return nil
	}
	if c.stopping.Load() {
		return nil
	}
	return fmt.Errorf("%s exited (%v); the end of %s:\n%s", c.name, c.waitErr, c.logPath, tools.Tail(c.logPath, 4000))
}

// waitHealthy polls url (HTTPS with the component's self-signed certificate,
// or HTTP) until it answers 200, the component exits (an error with its log)
// or timeout passes.
func (c *component) waitHealthy(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		// Loopback only: the component generated its serving certificate itself.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec
	}}
	defer hc.CloseIdleConnections()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s: %s", url, resp.Status)
		}
		last = err
		select {
		case <-c.exited:
			return c.crashed()
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer %s within %s: %w\nthe end of %s:\n%s", c.name, url, timeout, last, c.logPath, tools.Tail(c.logPath, 4000))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM, waits up to grace, then kills. A component that had
// crashed before is reported with its log.
func (c *component) stop(grace time.Duration) error {
	if err := c.crashed(); err != nil {
		return err
	}
	select {
	case <-c.exited:
		return nil
	default:
	}
	c.stopping.Store(true)
	if err := tools.Terminate(c.cmd.Process, c.exited, grace); err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	return nil
}

// tail returns the last n bytes of a file, for an error message.
