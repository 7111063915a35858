package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// procStats reads a container's process structure the way cAdvisor's
// libcontainer handler does for container_processes, container_threads,
// container_file_descriptors and container_sockets: the processes are the
// cgroup's cgroup.procs, threads are pids.current (every task of the pids
// cgroup), file descriptors are the entries of /proc/<pid>/fd over those
// processes, and sockets are the descriptors whose link reads "socket:[…]".
func procStats(cg string) (procs, threads, fds, sockets uint64) {
	dir := filepath.Join(cgroupRoot, "pids", cg)
	threads = readUint(filepath.Join(dir, "pids.current"))
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return 0, threads, 0, 0
	}
	for _, f := range strings.Fields(string(b)) {
		if _, err := strconv.Atoi(f); err != nil {
			continue
		}
		procs++
		fdDir := filepath.Join("/proc", f, "fd")
		ents, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			fds++
			if l, err := os.Readlink(filepath.Join(fdDir, e.Name())); err == nil && strings.HasPrefix(l, "socket:") {
				sockets++
			}
		}
	}
	return procs, threads, fds, sockets
}
