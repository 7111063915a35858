package main

// Helper subcommands, re-executed by the recorder inside the client netns.

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// probe ADDR TIMEOUT: wait until ADDR accepts a TCP connection.
func probeMain(args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: probe ADDR TIMEOUT")
		return 2
	}
	to, err := time.ParseDuration(args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	deadline := time.Now().Add(to)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", args[0], time.Second)
		if err == nil {
			c.Close()
			return 0
		}
		time.Sleep(300 * time.Millisecond)
	}
	fmt.Fprintf(os.Stderr, "probe: %s not reachable after %s\n", args[0], to)
	return 1
}

// lines: print -rate lines per second of -size bytes for -duration (input for
// mosquitto_pub -l).
func linesMain(args []string) int {
	fs := flag.NewFlagSet("lines", flag.ExitOnError)
	rate := fs.Int("rate", 1, "lines per second")
	size := fs.Int("size", 64, "bytes per line")
	dur := fs.Duration("duration", time.Minute, "how long")
	fs.Parse(args)
	w := bufio.NewWriter(os.Stdout)
	end := time.Now().Add(*dur)
	interval := time.Second / time.Duration(max(*rate, 1))
	next := time.Now()
	for seq := 0; time.Now().Before(end); seq++ {
		head := fmt.Sprintf(`{"seq":%d,"ts":%d,"temp":%.2f,"pad":"`, seq, time.Now().UnixMilli(), 20+rand.Float64()*5)
		pad := max(*size-len(head)-2, 0)
		w.WriteString(head)
		w.WriteString(strings.Repeat("x", pad))
		w.WriteString("\"}\n")
		if err := w.Flush(); err != nil {
			return 0
		}
		next = next.Add(interval)
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
	}
	return 0
}

// memcload: a bounded, rate-limited memcached text-protocol client.
func memcloadMain(args []string) int {
	fs := flag.NewFlagSet("memcload", flag.ExitOnError)
	addr := fs.String("addr", "", "host:port")
	conns := fs.Int("conns", 1, "connections")
	rate := fs.Int("rate", 100, "total ops per second")
	getRatio := fs.Float64("get", 0.9, "fraction of gets")
	size := fs.Int("size", 100, "value size")
	keys := fs.Int("keys", 1000, "key space")
	fill := fs.Int("fill", 0, "keys to set before the run")
	dur := fs.Duration("duration", time.Minute, "how long")
	fs.Parse(args)
	end := time.Now().Add(*dur)
	value := make([]byte, *size)
	for i := range value {
		value[i] = byte('a' + i%26)
	}
	var wg sync.WaitGroup
	for c := 0; c < *conns; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.DialTimeout("tcp", *addr, 5*time.Second)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return
			}
			defer conn.Close()
			r := bufio.NewReader(conn)
			w := bufio.NewWriter(conn)
			rng := rand.New(rand.NewSource(int64(c) + time.Now().UnixNano()))
			set := func(k int) error {
				fmt.Fprintf(w, "set key:%d 0 0 %d\r\n", k, len(value))
				w.Write(value)
				w.WriteString("\r\n")
				if err := w.Flush(); err != nil {
					return err
				}
				_, err := r.ReadString('\n')
				return err
			}
			get := func(k int) error {
				fmt.Fprintf(w, "get key:%d\r\n", k)
				if err := w.Flush(); err != nil {
					return err
				}
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return err
					}
					if strings.HasPrefix(line, "END") {
						return nil
					}
					if strings.HasPrefix(line, "VALUE") {
						var k string
						var fl, n int
						fmt.Sscanf(line, "VALUE %s %d %d", &k, &fl, &n)
						if _, err := io.CopyN(io.Discard, r, int64(n+2)); err != nil {
							return err
						}
					}
				}
			}
			for k := c; k < *fill && time.Now().Before(end); k += *conns {
				if set(k) != nil {
					return
				}
			}
			interval := time.Duration(float64(time.Second) * float64(*conns) / float64(max(*rate, 1)))
			next := time.Now()
			for time.Now().Before(end) {
				k := rng.Intn(max(*keys, 1))
				var err error
				if rng.Float64() < *getRatio {
					err = get(k)
				} else {
					err = set(k)
				}
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					return
				}
				next = next.Add(interval)
				if d := time.Until(next); d > 0 {
					time.Sleep(d)
				} else if d < -time.Second {
					next = time.Now()
				}
			}
		}()
	}
	wg.Wait()
	return 0
}
