package freeport

import (
	"fmt"
	"net"
)

// Loopback asks the kernel for a free port on 127.0.0.1. Another process
// could take it before the caller binds it; on loopback that is rare enough.
func Loopback() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
