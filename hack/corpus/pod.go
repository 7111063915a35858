package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	cgroupRoot   = "/sys/fs/cgroup"
	cgroupParent = "podclass-corpus"
	workRoot     = "/var/tmp/podclass-corpus"
	nsPrefix     = "pcorp-"
)

// controllers are the cgroup v1 hierarchies every pod (and every client
// group) is placed in. cpuacct, memory, blkio and pids are read by the
// sampler (pids also by cleanup); cpuset confines pods to the machine shape.
var controllers = []string{"cpuacct", "memory", "blkio", "pids", "cpuset"}

// Pod is one recorded "pod": a real server process tree in its own cgroups
// and network namespace, with a client namespace on the other end of a veth.
type Pod struct {
	Idx       int
	Namespace string
	Name      string
	Class     *Class
	Scenario  *Scenario
	Image     string
	Node      string
	Machine   *Machine
	Sidecar   *Sidecar // a helper container beside the server, or nil

	Dir    string // workRoot/<name>: data/, log/, run/, conf/
	SrvNS  string // server netns; holds eth0 = SrvIP
	CliNS  string // client netns; holds eth0 = CliIP
	SrvIP  string
	CliIP  string
	cg     string // cgroup path relative to a controller root
	cliCg  string // cgroup of the load generators (not recorded)
	extra  []string
	self   string // path of this binary, re-executed for helper subcommands
	log    io.Writer
	logF   *os.File
	mu     sync.Mutex
	procs  []*exec.Cmd
	extDir []string
	side   *sidecarRun
	// logPath is the pod's log file in the work directory (kept after teardown).
	logPath    string
	sideFailed atomic.Bool
}

// sidecarRun is a started sidecar container: its cgroup.
type sidecarRun struct {
	*Sidecar
	cg string
}

func (p *Pod) data() string { return filepath.Join(p.Dir, "data") }
func (p *Pod) logs() string { return filepath.Join(p.Dir, "log") }
func (p *Pod) run() string  { return filepath.Join(p.Dir, "run") }
func (p *Pod) conf() string { return filepath.Join(p.Dir, "conf") }

func (p *Pod) logf(format string, a ...any) {
	fmt.Fprintf(p.log, time.Now().Format("15:04:05 ")+format+"\n", a...)
}

// sh runs a host command (no namespace, no cgroup) and returns its error.
func sh(args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// setup creates the namespaces, veth pair, cgroups and directories.
func (p *Pod) setup(logDir string) error {
	p.SrvNS = fmt.Sprintf("%ss%d", nsPrefix, p.Idx)
	p.CliNS = fmt.Sprintf("%sc%d", nsPrefix, p.Idx)
	p.SrvIP = fmt.Sprintf("10.250.%d.1", p.Idx)
	p.CliIP = fmt.Sprintf("10.250.%d.2", p.Idx)
	p.cg = cgroupParent + "/" + p.Name
	p.cliCg = cgroupParent + "/_clients-" + p.Name
	p.Dir = filepath.Join(workRoot, p.Name)

	p.logPath = filepath.Join(logDir, p.Name+".log")
	f, err := os.Create(p.logPath)
	if err != nil {
		return err
	}
	p.logF, p.log = f, f

	os.RemoveAll(p.Dir)
	for _, d := range []string{p.data(), p.logs(), p.run(), p.conf()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	for _, cg := range []string{p.cg, p.cliCg} {
		if err := mkCgroup(cg); err != nil {
			return err
		}
	}
	if err := p.Machine.confine(p.cg); err != nil {
		return err
	}
	if p.Sidecar != nil {
		cg, err := p.addCgroup("side")
		if err != nil {
			return err
		}
		if err := p.Machine.confine(cg); err != nil {
			return err
		}
		p.side = &sidecarRun{Sidecar: p.Sidecar, cg: cg}
	}
	vs, vc := fmt.Sprintf("pcv%ds", p.Idx), fmt.Sprintf("pcv%dc", p.Idx)
	sh("ip", "netns", "del", p.SrvNS)
	sh("ip", "netns", "del", p.CliNS)
	for _, c := range [][]string{
		{"ip", "netns", "add", p.SrvNS},
		{"ip", "netns", "add", p.CliNS},
		{"ip", "link", "add", vs, "type", "veth", "peer", "name", vc},
		{"ip", "link", "set", vs, "netns", p.SrvNS},
		{"ip", "link", "set", vc, "netns", p.CliNS},
		{"ip", "-n", p.SrvNS, "link", "set", vs, "name", "eth0"},
		{"ip", "-n", p.CliNS, "link", "set", vc, "name", "eth0"},
		{"ip", "-n", p.SrvNS, "addr", "add", p.SrvIP + "/30", "dev", "eth0"},
		{"ip", "-n", p.CliNS, "addr", "add", p.CliIP + "/30", "dev", "eth0"},
		{"ip", "-n", p.SrvNS, "link", "set", "lo", "up"},
		{"ip", "-n", p.CliNS, "link", "set", "lo", "up"},
		{"ip", "-n", p.SrvNS, "link", "set", "eth0", "up"},
		{"ip", "-n", p.CliNS, "link", "set", "eth0", "up"},
	} {
		if err := sh(c...); err != nil {
			return err
		}
	}
	return nil
}

func mkCgroup(cg string) error {
	for _, c := range controllers {
		if err := os.MkdirAll(filepath.Join(cgroupRoot, c, cg), 0o755); err != nil {
			return err
		}
	}
	if err := initCpuset(cg); err != nil {
		return err
	}
	return enableBlkioStats(cg)
}

// enableBlkioStats sets a no-op (1 TiB/s) throttle on every disk. Recent
// kernels only keep blkio.throttle.io_service_bytes for cgroups that have a
// throttle rule; with a rule, a cgroup's direct and fsync'd IO is counted as
// Docker on cgroup v1 reports it. The limit never binds.
func enableBlkioStats(cg string) error {
	devs, _ := filepath.Glob("/sys/block/*/dev")
	for _, d := range devs {
		name := filepath.Base(filepath.Dir(d))
		if strings.HasPrefix(name, "loop") || strings.HasPrefix(name, "ram") || strings.HasPrefix(name, "zram") {
			continue
		}
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		rule := strings.TrimSpace(string(b)) + " 1099511627776"
		for _, f := range []string{"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device"} {
			if err := os.WriteFile(filepath.Join(cgroupRoot, "blkio", cg, f), []byte(rule), 0o644); err != nil {
				return fmt.Errorf("blkio rule %s on %s: %w", rule, cg, err)
			}
		}
	}
	return nil
}

// addCgroup creates an extra cgroup owned by this pod (e.g. a backend that
// must not be counted as part of the pod) and returns its path.
func (p *Pod) addCgroup(suffix string) (string, error) {
	cg := cgroupParent + "/_" + suffix + "-" + p.Name
	p.extra = append(p.extra, cg)
	return cg, mkCgroup(cg)
}

// Spec describes one process to start.
type Spec struct {
	Cgroup string   // cgroup path (relative); defaults to the pod's
	NetNS  string   // netns name; "" = host
	User   string   // drop to this user with setpriv; "" = stay root
	Args   []string // command
	Out    string   // file for stdout+stderr; "" = pod log
	Env    []string
	Stdin  io.Reader
}

// command builds an exec.Cmd that joins the cgroups, then the netns, then
// drops privileges, then execs the program: every descendant inherits all of
// it, as in a container.
func (p *Pod) command(ctx context.Context, s Spec) (*exec.Cmd, error) {
	cg := s.Cgroup
	if cg == "" {
		cg = p.cg
	}
	script := `for c in ` + strings.Join(controllers, " ") + `; do echo $$ > ` + cgroupRoot + `/$c/` + cg + `/cgroup.procs || exit 97; done; exec "$@"`
	args := []string{"-c", script, "sh"}
	if s.NetNS != "" {
		args = append(args, "ip", "netns", "exec", s.NetNS)
	}
	if s.User != "" {
		args = append(args, "setpriv", "--reuid="+s.User, "--regid="+s.User, "--init-groups", "--")
	}
	args = append(args, s.Args...)
	var cmd *exec.Cmd
	if ctx != nil {
		cmd = exec.CommandContext(ctx, "/bin/sh", args...)
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		cmd.WaitDelay = 5 * time.Second
	} else {
		cmd = exec.Command("/bin/sh", args...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Dir = p.Dir
	cmd.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + p.Dir, "LANG=C.UTF-8"}, s.Env...)
	if cg == p.cg || (p.side != nil && cg == p.side.cg) {
		cmd.Env = append(cmd.Env, p.Machine.Env...)
	}
	cmd.Stdin = s.Stdin
	if s.Out != "" {
		f, err := os.OpenFile(s.Out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		cmd.Stdout, cmd.Stderr = f, f
	} else {
		cmd.Stdout, cmd.Stderr = p.log, p.log
	}
	return cmd, nil
}

// start launches a long-running process (a server) and reaps it in the
// background.
func (p *Pod) start(s Spec) error {
	p.logf("start: %s", strings.Join(s.Args, " "))
	cmd, err := p.command(nil, s)
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	p.mu.Lock()
	p.procs = append(p.procs, cmd)
	p.mu.Unlock()
	go cmd.Wait()
	return nil
}

// exec runs a command to completion (init steps, load generators).
func (p *Pod) exec(ctx context.Context, s Spec) error {
	p.logf("run: %s", strings.Join(s.Args, " "))
	cmd, err := p.command(ctx, s)
	if err != nil {
		return err
	}
	err = cmd.Run()
	if err != nil && ctx.Err() == nil {
		p.logf("run failed: %s: %v", strings.Join(s.Args, " "), err)
		return fmt.Errorf("%s: %w", strings.Join(s.Args, " "), err)
	}
	return nil
}

// server runs a command in the pod's cgroup and server netns.
func (p *Pod) server(user string, out string, args ...string) error {
	return p.start(Spec{NetNS: p.SrvNS, User: user, Out: out, Args: args})
}

// podRun runs an init step inside the pod (cgroup + netns) to completion.
func (p *Pod) podRun(ctx context.Context, user string, args ...string) error {
	return p.exec(ctx, Spec{NetNS: p.SrvNS, User: user, Args: args})
}

// client runs a load generator in the client netns (own cgroup, not recorded).
func (p *Pod) client(ctx context.Context, args ...string) error {
	return p.exec(ctx, Spec{Cgroup: p.cliCg, NetNS: p.CliNS, Args: args, Out: "/dev/null"})
}

// clientLog is client() but keeps the output in the pod log (for setup steps
// whose failures matter).
func (p *Pod) clientLog(ctx context.Context, args ...string) error {
	return p.exec(ctx, Spec{Cgroup: p.cliCg, NetNS: p.CliNS, Args: args})
}

// waitTCP waits until addr accepts connections, probing from the client netns.
func (p *Pod) waitTCP(ctx context.Context, addr string, timeout time.Duration) error {
	return p.exec(ctx, Spec{Cgroup: p.cliCg, NetNS: p.CliNS, Args: []string{p.self, "probe", addr, timeout.String()}})
}

// chown gives the pod directory to the service user.
func (p *Pod) chown(user string) error {
	return sh("chown", "-R", user+":", p.Dir)
}

func cgroupPids(cg string) []int {
	var pids []int
	seen := map[int]bool{}
	for _, c := range controllers {
		b, err := os.ReadFile(filepath.Join(cgroupRoot, c, cg, "cgroup.procs"))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil && !seen[n] {
				seen[n] = true
				pids = append(pids, n)
			}
		}
	}
	return pids
}

// killCgroup stops every process in cg (TERM, then KILL) and removes it.
func killCgroup(cg string, grace time.Duration) {
	deadline := time.Now().Add(grace)
	sentTerm := false
	for i := 0; i < 400; i++ {
		pids := cgroupPids(cg)
		if len(pids) == 0 {
			break
		}
		sig := syscall.SIGKILL
		if time.Now().Before(deadline) {
			sig = syscall.SIGTERM
			if sentTerm {
				sig = 0
			}
			sentTerm = true
		}
		for _, pid := range pids {
			if sig != 0 {
				syscall.Kill(pid, sig)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, c := range controllers {
		os.Remove(filepath.Join(cgroupRoot, c, cg))
	}
}

// teardown stops clients, helpers and the server, then removes the netns,
// cgroups and directories.
func (p *Pod) teardown() {
	killCgroup(p.cliCg, 0)
	for _, cg := range p.extra {
		killCgroup(cg, 3*time.Second)
	}
	killCgroup(p.cg, 15*time.Second)
	sh("ip", "netns", "del", p.SrvNS)
	sh("ip", "netns", "del", p.CliNS)
	os.RemoveAll(p.Dir)
	for _, d := range p.extDir {
		os.RemoveAll(d)
	}
	if p.logF != nil {
		p.logF.Close()
	}
}
