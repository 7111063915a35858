package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Machine is a node shape the corpus is recorded on. A shape confines every
// pod of a run to a CPU set and a memory limit, as a node of that size would,
// so servers that size their worker and thread pools from the CPUs they see
// (Go's GOMAXPROCS, the JVM, Erlang schedulers, haproxy's nbthread) and the
// config defaults that come with a bigger or smaller node differ between
// machines. Leave-machine-out evaluation trains on one shape and tests on
// the other.
type Machine struct {
	Name   string
	Node   string // node_name tag
	CPUs   string // cpuset.cpus of every pod
	NCPU   int    // CPUs in the set: what "auto" pool sizes see
	Memory int64  // memory.limit_in_bytes of every pod
	// Opts are the config defaults operators pick for a node of this size;
	// a scenario's own Opts win over them.
	Opts map[string]string
	// Env is added to the environment of every process in the pod's own
	// cgroups (server and sidecar): how a shape sizes runtime pools that
	// would otherwise follow the CPUs of the recording machine.
	Env []string
	// ColdCache drops the image content the recorder writes (the web
	// servers' site files) from the page cache before the server starts,
	// so its reads are charged to the pod: a node whose copy of the image
	// was evicted since the pull, where the other shapes are a node that
	// has just pulled it. Page cache follows whoever touched a file first,
	// so the share of a pod's memory that is cache depends on the node's
	// history, and a model must not learn one node's.
	ColdCache bool
	// part says which scenarios of a class (by index in the class's list)
	// this shape records; see pick.
	part int
}

var machines = map[string]*Machine{
	"cpu1": {Name: "cpu1", Node: "edge-node-1", CPUs: "0", NCPU: 1, Memory: 1 << 30, part: 1,
		Opts: map[string]string{"workers": "1", "nbthread": "1", "buffer_pool": "128M", "shared_buffers": "128MB",
			"threads": "2", "zk_heap": "256", "mem": "64"}},
	"cpu2": {Name: "cpu2", Node: "worker-7", CPUs: "0-1", NCPU: 2, Memory: 3 << 30, part: 2,
		Opts: map[string]string{"workers": "2", "nbthread": "2", "buffer_pool": "256M", "shared_buffers": "256MB",
			"threads": "4", "zk_heap": "768", "mem": "128"}},
	// cpu4sim is a 4-CPU node's pool sizing on the recording machine's 2
	// CPUs: every runtime that sizes itself from the CPUs it sees is told 4
	// (Go's GOMAXPROCS, the JVM's ActiveProcessorCount, Erlang's
	// schedulers), and the auto-sized server pools are what `auto` gives on
	// 4 CPUs (nginx workers, haproxy nbthread), with a bigger node's memory
	// defaults. The CPU time itself still comes from 2 CPUs.
	"cpu4sim": {Name: "cpu4sim", Node: "big-node-3", CPUs: "0-1", NCPU: 4, Memory: 4 << 30, part: 3,
		Env: simEnv(4),
		Opts: map[string]string{"workers": "4", "nbthread": "4", "buffer_pool": "512M", "shared_buffers": "512MB",
			"threads": "4", "zk_heap": "1024", "mem": "256"}},
	// cpu8sim is an 8-CPU node's pool sizing on the recording machine's 2
	// CPUs, as cpu4sim is a 4-CPU node's: the training shape with the
	// largest pools. Without it every pool the model knew was sized for 1–4
	// CPUs, and on a 16-CPU node's sizing the structure gate refused 7 of
	// 24 known pods (testdata/bignode-holdout). It records each class's
	// idle scenario, its shared load (index 3) and every third other one,
	// and the kubelet's probes.
	"cpu8sim": {Name: "cpu8sim", Node: "large-node-4", CPUs: "0-1", NCPU: 8, Memory: 6 << 30, part: 6,
		Env: simEnv(8),
		Opts: map[string]string{"workers": "8", "nbthread": "8", "buffer_pool": "1G", "shared_buffers": "1GB",
			"threads": "4", "zk_heap": "1024", "mem": "256"}},
	// cpu16sim is a 16-CPU node's pool sizing on the recording machine's 2
	// CPUs, as cpu4sim is a 4-CPU node's: a test shape, never trained on.
	// Production nodes have many more CPUs than the training shapes, and the
	// servers whose pools follow the CPU count (nginx's workers, haproxy's
	// threads, Go, the JVM, Erlang) change their process structure with
	// them. It records each class's idle scenario and its shared load
	// (index 3) only: testdata/bignode-holdout.
	"cpu16sim": {Name: "cpu16sim", Node: "huge-node-5", CPUs: "0-1", NCPU: 16, Memory: 8 << 30, part: 5,
		Env: simEnv(16),
		Opts: map[string]string{"workers": "16", "nbthread": "16", "buffer_pool": "1G", "shared_buffers": "1GB",
			"threads": "4", "zk_heap": "1024", "mem": "256"}},
	// small is a small node's second CPU (cpuset 1, where cpu1 uses 0)
	// with a tight memory limit, small-node defaults and a cold page cache
	// for image content.
	"small": {Name: "small", Node: "small-node-2", CPUs: "1", NCPU: 1, Memory: 640 << 20, part: 4, ColdCache: true,
		Opts: map[string]string{"workers": "1", "nbthread": "1", "buffer_pool": "64M", "shared_buffers": "64MB",
			"threads": "1", "zk_heap": "192", "mem": "32"}},
}

// simEnv tells every runtime that sizes itself from the CPUs it sees (Go's
// GOMAXPROCS, the JVM's ActiveProcessorCount, Erlang's schedulers) that the
// node has n: the simulated shapes' pool sizing on the recording machine.
func simEnv(n int) []string {
	return []string{fmt.Sprintf("GOMAXPROCS=%d", n), fmt.Sprintf("JVMFLAGS=-XX:ActiveProcessorCount=%d", n),
		fmt.Sprintf("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=+S %d:%d", n, n)}
}

// pick reports whether scenario i of a class with n scenarios is recorded on
// m. Every shape records the idle scenario and the scenario at index 3 (the
// same load on every machine); cpu1 records the first half of the rest, cpu2
// the other half, so most loads are seen on one of them only and
// leave-machine-out also tests unseen loads; cpu4sim records every other
// scenario, overlapping both; small the others (the odd ones); cpu8sim, added
// later, every third (1, 4, 7); a test shape (cpu16sim) none but those two.
func (m *Machine) pick(i, n int) bool {
	if i == 0 || i == 3 {
		return true
	}
	half := (n+1)/2 + 1
	switch m.part {
	case 1:
		return i < half
	case 2:
		return i >= half
	case 3:
		return i%2 == 0
	case 4:
		return i%2 == 1
	case 6:
		return i%3 == 1
	default:
		return false
	}
}

// confine writes the machine's CPU set and memory limit into cg (which must
// already exist in every controller).
func (m *Machine) confine(cg string) error {
	if err := os.WriteFile(filepath.Join(cgroupRoot, "cpuset", cg, "cpuset.cpus"), []byte(m.CPUs), 0o644); err != nil {
		return fmt.Errorf("cpuset %s on %s: %w", m.CPUs, cg, err)
	}
	if m.Memory > 0 {
		if err := os.WriteFile(filepath.Join(cgroupRoot, "memory", cg, "memory.limit_in_bytes"), []byte(fmt.Sprint(m.Memory)), 0o644); err != nil {
			return fmt.Errorf("memory limit on %s: %w", cg, err)
		}
	}
	return nil
}

// initCpuset gives cg (and its parents below the root) every CPU and memory
// node of the root: a new cpuset cgroup starts empty and accepts no task.
func initCpuset(cg string) error {
	root := filepath.Join(cgroupRoot, "cpuset")
	cpus, err := os.ReadFile(filepath.Join(root, "cpuset.cpus"))
	if err != nil {
		return err
	}
	mems, err := os.ReadFile(filepath.Join(root, "cpuset.mems"))
	if err != nil {
		return err
	}
	dir := root
	for _, part := range strings.Split(cg, "/") {
		dir = filepath.Join(dir, part)
		for name, v := range map[string][]byte{"cpuset.cpus": cpus, "cpuset.mems": mems} {
			cur, _ := os.ReadFile(filepath.Join(dir, name))
			if strings.TrimSpace(string(cur)) != "" {
				continue
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.TrimSpace(string(v))), 0o644); err != nil {
				return fmt.Errorf("%s of %s: %w", name, dir, err)
			}
		}
	}
	return nil
}
