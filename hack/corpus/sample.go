package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cstat is one reading of one container's counters, taken the way
// kubelet/cAdvisor and telegraf's docker input read cgroup v1.
type cstat struct {
	cpuNs                uint64 // cpuacct.usage
	memUsage, inactive   uint64 // memory.usage_in_bytes, total_inactive_file
	rss, pgfault, majflt uint64
	rootfs, logsfs       uint64
	ioRead, ioWrite      uint64
	procs, threads       uint64 // cgroup.procs entries, pids.current
	fds, sockets         uint64 // /proc/<pid>/fd entries, those that are sockets
}

// raw is one reading of a pod: each container's counters and the pod's eth0
// (the network namespace, and so the network counters, belong to the pod).
type raw struct {
	t                    time.Time
	main                 cstat
	side                 *cstat // the sidecar container, if the pod has one
	rx, rxErr, tx, txErr uint64
}

func readUint(path string) uint64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return n
}

func readKV(path string) map[string]uint64 {
	m := map[string]uint64{}
	f, err := os.Open(path)
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok {
			n, _ := strconv.ParseUint(v, 10, 64)
			m[k] = n
		}
	}
	return m
}

// blkio sums Read and Write bytes over devices. The throttle files count
// every bio the cgroup issued regardless of the IO scheduler, which is what
// Docker on cgroup v1 reports when CFQ/BFQ stats are absent.
func blkio(cg string) (rd, wr uint64) {
	dir := filepath.Join(cgroupRoot, "blkio", cg)
	for _, name := range []string{"blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_service_bytes", "blkio.io_service_bytes_recursive"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		found := false
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) != 3 {
				continue
			}
			n, _ := strconv.ParseUint(f[2], 10, 64)
			switch f[1] {
			case "Read":
				rd += n
				found = true
			case "Write":
				wr += n
				found = true
			}
		}
		if found {
			return rd, wr
		}
	}
	return 0, 0
}

// duBytes walks dir and sums allocated bytes (st_blocks*512), like du and
// cAdvisor's filesystem usage; hard links are counted once.
func duBytes(dir string) uint64 {
	var total uint64
	seen := map[uint64]bool{}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		if st.Nlink > 1 && !d.IsDir() {
			if seen[st.Ino] {
				return nil
			}
			seen[st.Ino] = true
		}
		total += uint64(st.Blocks) * 512
		return nil
	})
	return total
}

type ipLink struct {
	Stats64 struct {
		Rx struct{ Bytes, Errors uint64 } `json:"rx"`
		Tx struct{ Bytes, Errors uint64 } `json:"tx"`
	} `json:"stats64"`
}

// netdev reads the counters of eth0 inside the server netns: the pod's eth0.
func netdev(ns string) (rx, rxErr, tx, txErr uint64, err error) {
	out, err := exec.Command("ip", "-j", "-s", "-n", ns, "link", "show", "dev", "eth0").Output()
	if err != nil {
		return 0, 0, 0, 0, err
	}
	var l []ipLink
	if err := json.Unmarshal(out, &l); err != nil || len(l) != 1 {
		return 0, 0, 0, 0, fmt.Errorf("ip link json: %v", err)
	}
	s := l[0].Stats64
	return s.Rx.Bytes, s.Rx.Errors, s.Tx.Bytes, s.Tx.Errors, nil
}

func readContainer(cg string) cstat {
	var c cstat
	c.cpuNs = readUint(filepath.Join(cgroupRoot, "cpuacct", cg, "cpuacct.usage"))
	mdir := filepath.Join(cgroupRoot, "memory", cg)
	c.memUsage = readUint(filepath.Join(mdir, "memory.usage_in_bytes"))
	st := readKV(filepath.Join(mdir, "memory.stat"))
	c.inactive, c.rss, c.pgfault, c.majflt = st["total_inactive_file"], st["total_rss"], st["total_pgfault"], st["total_pgmajfault"]
	c.ioRead, c.ioWrite = blkio(cg)
	c.procs, c.threads, c.fds, c.sockets = procStats(cg)
	return c
}

func (p *Pod) read() raw {
	r := raw{t: time.Now()}
	r.main = readContainer(p.cg)
	// What the kubelet reports: rootfs is the container's writable layer only.
	// The site content is image content and data directories are volumes,
	// so neither is counted; run/ (pid files, sockets, temp files) is the
	// writable layer. logsfs is the container's log (the log/ directory,
	// where official images send what they print).
	r.main.rootfs = duBytes(p.run())
	r.main.logsfs = duBytes(p.logs())
	if p.side != nil {
		s := readContainer(p.side.cg)
		r.side = &s
	}
	var err error
	r.rx, r.rxErr, r.tx, r.txErr, err = netdev(p.SrvNS)
	if err != nil {
		p.logf("netdev: %v", err)
	}
	return r
}

// lines renders one sample as telegraf would store it: per container the
// kubernetes input's kubernetes_pod_container, the docker input's blkio and
// the prometheus input's (metric_version 2) scrape of the kubelet's
// /metrics/cadvisor; per pod kubernetes_pod_network. nanocores is the usage
// delta over the wall-clock delta since prev, as kubelet computes it.
func (p *Pod) lines(prev, cur raw) string {
	var b strings.Builder
	dt := cur.t.Sub(prev.t).Nanoseconds()
	ts := cur.t.UnixNano()
	p.containerLines(&b, p.Class.Container, p.Image, prev.main, cur.main, dt, ts)
	if p.side != nil && prev.side != nil && cur.side != nil {
		p.containerLines(&b, p.side.Name, p.side.Image, *prev.side, *cur.side, dt, ts)
	}
	fmt.Fprintf(&b, "kubernetes_pod_network,namespace=%s,node_name=%s,pod_name=%s rx_bytes=%di,rx_errors=%di,tx_bytes=%di,tx_errors=%di %d\n",
		p.Namespace, p.Node, p.Name, cur.rx, cur.rxErr, cur.tx, cur.txErr, ts)
	return b.String()
}

func (p *Pod) containerLines(b *strings.Builder, c, image string, prev, cur cstat, dt, ts int64) {
	var nanocores uint64
	if dt > 0 && cur.cpuNs >= prev.cpuNs {
		nanocores = uint64(float64(cur.cpuNs-prev.cpuNs) * 1e9 / float64(dt))
	}
	ws := uint64(0)
	if cur.memUsage > cur.inactive {
		ws = cur.memUsage - cur.inactive
	}
	fmt.Fprintf(b, "kubernetes_pod_container,container_name=%s,namespace=%s,node_name=%s,pod_name=%s "+
		"cpu_usage_nanocores=%di,cpu_usage_core_nanoseconds=%di,memory_usage_bytes=%di,memory_working_set_bytes=%di,"+
		"memory_rss_bytes=%di,memory_page_faults=%di,memory_major_page_faults=%di,rootfs_used_bytes=%di,logsfs_used_bytes=%di %d\n",
		c, p.Namespace, p.Node, p.Name,
		nanocores, cur.cpuNs, cur.memUsage, ws, cur.rss, cur.pgfault, cur.majflt, cur.rootfs, cur.logsfs, ts)
	fmt.Fprintf(b, "docker_container_blkio,container_name=%s,device=total,io.kubernetes.container.name=%s,io.kubernetes.pod.name=%s,io.kubernetes.pod.namespace=%s "+
		"io_service_recursive_read=%di,io_service_recursive_write=%di %d\n",
		"k8s_"+c+"_"+p.Name+"_"+p.Namespace, c, p.Name, p.Namespace, cur.ioRead, cur.ioWrite, ts)
	fmt.Fprintf(b, "prometheus,container=%s,image=%s,namespace=%s,pod=%s,url=https://%s:10250/metrics/cadvisor "+
		"container_processes=%d,container_threads=%d,container_file_descriptors=%d,container_sockets=%d %d\n",
		c, image, p.Namespace, p.Name, p.Node, cur.procs, cur.threads, cur.fds, cur.sockets, ts)
}
