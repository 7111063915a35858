package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Round 4: foreign services recorded after the classifier's design was
// fixed, as a clean test of foreign → unknown. The corpus's three foreign
// services (lighttpd, varnish, caddy) were scored while the
// out-of-distribution guard was designed, so their figures flatter it; these
// three were never looked at before the model was shipped. They go to their
// own directory (testdata/foreign-holdout), never into the corpus the model
// trains on:
//   - nats: NATS server (Go; publish/subscribe over its text protocol);
//   - beanstalkd: a work queue (C, one process, one thread; put/reserve/delete);
//   - mini-httpd: a small HTTP server that forks a process per connection.
//
// Each is recorded idle, with the kubelet's probes only, with a trickle and
// with a real load, on two machine shapes.
var round4 = []string{"cpu1", "cpu2"}

func init() {
	addClasses(
		&Class{Name: "nats", Container: "nats", Foreign: true,
			Images: []string{"nats:2.10", "docker.io/library/nats:2.9-alpine"},
			Apps:   []string{"events", "nats", "msg-bus"},
			Start:  startNATS},
		&Class{Name: "beanstalkd", Container: "beanstalkd", Foreign: true,
			Images: []string{"schickling/beanstalkd:1.12", "docker.io/bodsch/docker-beanstalkd:1.12"},
			Apps:   []string{"jobs", "beanstalkd", "work-queue"},
			Start:  startBeanstalkd},
		&Class{Name: "mini-httpd", Container: "mini-httpd",
			Foreign: true,
			Images:  []string{"acme/mini-httpd:1.30", "docker.io/tiny/mini_httpd:1.30"},
			Apps:    []string{"docs", "mini-httpd", "status-page"},
			Start:   startMiniHTTPD},
	)

	scenarios = append(scenarios, holdoutRound(4, round4, []holdoutService{
		{class: "nats", port: 4222,
			trickleDesc: "1 publisher 1 msg/s 64 B, 1 subscriber", trickle: natsLoad("-pubs", "1", "-subs", "1", "-rate", "1", "-size", "64"),
			loadName: "pubsub", loadDesc: "2 publishers 200 msg/s 256 B in total, 2 subscribers", load: natsLoad("-pubs", "2", "-subs", "2", "-rate", "200", "-size", "256")},
		{class: "beanstalkd", port: 11300,
			trickleDesc: "1 producer 1 job/s 64 B, 1 consumer", trickle: beanLoad("-producers", "1", "-consumers", "1", "-rate", "1", "-size", "64"),
			loadName: "jobs", loadDesc: "2 producers 100 jobs/s 512 B in total, 2 consumers (put, reserve, delete)", load: beanLoad("-producers", "2", "-consumers", "2", "-rate", "100", "-size", "512")},
		{class: "mini-httpd", port: 80, probe: "/",
			trickleDesc: "one GET of the 612 B page every 2 s", trickle: httpGet("/index.html", 0.5, 1),
			loadName: "small-pages", loadDesc: "50 req/s of the 4 KiB page, 2 conns (a fork per connection)", load: httpGet("/4k.html", 50, 2)},
	})...)
}

// holdoutService is one foreign service of a holdout round: its port, the
// path of its httpGet probe ("" for a tcpSocket probe), a trickle of real
// traffic and a real load.
type holdoutService struct {
	class, probe, trickleDesc, loadName, loadDesc string
	port                                          int
	trickle, load                                 func(context.Context, *Pod) error
}

// holdoutRound returns round n's scenarios on machines: each service idle,
// with the kubelet's probes only, with its trickle and the probes, and
// under its load.
func holdoutRound(n int, machines []string, services []holdoutService) []*Scenario {
	var batch []*Scenario
	for _, s := range services {
		kp := kubeProbes(s.port, s.probe)
		kind := fmt.Sprintf("tcpSocket :%d", s.port)
		if s.probe != "" {
			kind = fmt.Sprintf("httpGet :%d%s", s.port, s.probe)
		}
		trickle := s.trickle
		batch = append(batch,
			&Scenario{Class: s.class, Name: "idle", Desc: "started, no clients", Machines: machines, Load: idle},
			&Scenario{Class: s.class, Name: "probes", Desc: "kubelet liveness + readiness every 10 s (" + kind + "), no clients", Machines: machines, Load: kp},
			&Scenario{Class: s.class, Name: "trickle", Desc: s.trickleDesc + ", and the probes", Machines: machines, Load: func(ctx context.Context, p *Pod) error {
				return parallel(ctx, func(ctx context.Context) error { return kp(ctx, p) }, func(ctx context.Context) error { return trickle(ctx, p) })
			}},
			&Scenario{Class: s.class, Name: s.loadName, Desc: s.loadDesc, Machines: machines, Load: s.load},
		)
	}
	return round(n, batch)
}

func startNATS(ctx context.Context, p *Pod) error {
	// The official image runs nats-server as root with no store.
	if err := p.server("", "", "nats-server", "-a", "0.0.0.0", "-p", "4222"); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":4222", 30*time.Second)
}

func startBeanstalkd(ctx context.Context, p *Pod) error {
	// No binlog (-b): jobs live in memory, as in the common images; the
	// Debian package's user.
	if err := p.server("beanstalkd", "", "beanstalkd", "-l", "0.0.0.0", "-p", "11300"); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":11300", 30*time.Second)
}

func startMiniHTTPD(ctx context.Context, p *Pod) error {
	root := filepath.Join(p.data(), "html")
	if err := p.writeStatic(root); err != nil {
		return err
	}
	if err := p.chown("www-data"); err != nil {
		return err
	}
	// -D: foreground; binds :80 as root, then serves as www-data.
	if err := p.server("", "", "mini_httpd", "-D", "-p", "80", "-d", root, "-u", "www-data",
		"-l", filepath.Join(p.logs(), "access.log"), "-i", filepath.Join(p.run(), "mini_httpd.pid")); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":80", 30*time.Second)
}

func natsLoad(args ...string) func(context.Context, *Pod) error {
	return func(ctx context.Context, p *Pod) error {
		return helper("natsload", append([]string{"-addr", p.SrvIP + ":4222", "-duration", "@dur"}, args...)...)(ctx, p)
	}
}

func beanLoad(args ...string) func(context.Context, *Pod) error {
	return func(ctx context.Context, p *Pod) error {
		return helper("beanload", append([]string{"-addr", p.SrvIP + ":11300", "-duration", "@dur"}, args...)...)(ctx, p)
	}
}

// natsload: -pubs publishers sending -rate messages a second in total of
// -size bytes to one subject, -subs subscribers reading it, over NATS's text
// protocol (CONNECT, PUB, SUB, MSG; PING answered with PONG).
func natsLoadMain(args []string) int {
	fs := flag.NewFlagSet("natsload", flag.ExitOnError)
	addr := fs.String("addr", "", "host:port")
	pubs := fs.Int("pubs", 1, "publishers")
	subs := fs.Int("subs", 1, "subscribers")
	rate := fs.Float64("rate", 10, "messages per second in total")
	size := fs.Int("size", 128, "payload bytes")
	dur := fs.Duration("duration", time.Minute, "how long")
	fs.Parse(args)
	if *rate <= 0 || *pubs < 1 || *subs < 0 || *size < 0 {
		fmt.Fprintln(os.Stderr, "natsload: -rate must be positive, -pubs at least 1, -subs and -size not negative")
		return 2
	}
	end := time.Now().Add(*dur)
	dial := func() (net.Conn, *bufio.Reader, error) {
		c, err := net.DialTimeout("tcp", *addr, 5*time.Second)
		if err != nil {
			return nil, nil, err
		}
		r := bufio.NewReader(c)
		if _, err := r.ReadString('\n'); err != nil { // INFO
			c.Close()
			return nil, nil, err
		}
		_, err = fmt.Fprint(c, "CONNECT {\"verbose\":false,\"pedantic\":false,\"name\":\"natsload\"}\r\n")
		return c, r, err
	}
	var sent, received atomic.Int64
	// drain reads what the server sends, answers its PINGs and counts MSGs.
	drain := func(c net.Conn, r *bufio.Reader, mu *sync.Mutex) {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			switch {
			case strings.HasPrefix(line, "PING"):
				mu.Lock()
				fmt.Fprint(c, "PONG\r\n")
				mu.Unlock()
			case strings.HasPrefix(line, "MSG"):
				if _, err := r.Discard(*size + 2); err != nil {
					return
				}
				received.Add(1)
			case strings.HasPrefix(line, "-ERR"):
				fmt.Fprint(os.Stderr, "natsload: ", line)
			}
		}
	}
	for i := 0; i < *subs; i++ {
		c, r, err := dial()
		if err != nil {
			fmt.Fprintln(os.Stderr, "natsload:", err)
			return 1
		}
		defer c.Close()
		mu := &sync.Mutex{}
		fmt.Fprintf(c, "SUB load.events %d\r\n", i+1)
		go drain(c, r, mu)
	}
	body := payload(*size)
	pubConns := make([]net.Conn, *pubs)
	pubLocks := make([]sync.Mutex, *pubs) // a PUB and drain's PONG must not interleave
	for i := range pubConns {
		c, r, err := dial()
		if err != nil {
			fmt.Fprintln(os.Stderr, "natsload:", err)
			return 1
		}
		defer c.Close()
		pubConns[i] = c
		go drain(c, r, &pubLocks[i])
	}
	pace(*pubs, *rate, end, func(w int, _ *rand.Rand) error {
		pubLocks[w].Lock()
		_, err := fmt.Fprintf(pubConns[w], "PUB load.events %d\r\n%s\r\n", len(body), body)
		pubLocks[w].Unlock()
		if err != nil {
			return fmt.Errorf("natsload: %w", err)
		}
		sent.Add(1)
		return nil
	})
	time.Sleep(200 * time.Millisecond) // the last messages' delivery
	fmt.Fprintf(os.Stderr, "natsload: published %d, received %d\n", sent.Load(), received.Load())
	return 0
}

// beanload: -producers putting -rate jobs a second in total of -size bytes,
// -consumers reserving and deleting them, over beanstalkd's text protocol.
func beanLoadMain(args []string) int {
	fs := flag.NewFlagSet("beanload", flag.ExitOnError)
	addr := fs.String("addr", "", "host:port")
	producers := fs.Int("producers", 1, "producers")
	consumers := fs.Int("consumers", 1, "consumers")
	rate := fs.Float64("rate", 10, "jobs per second in total")
	size := fs.Int("size", 128, "job bytes")
	dur := fs.Duration("duration", time.Minute, "how long")
	fs.Parse(args)
	if *rate <= 0 || *producers < 1 || *consumers < 0 || *size < 0 {
		fmt.Fprintln(os.Stderr, "beanload: -rate must be positive, -producers at least 1, -consumers and -size not negative")
		return 2
	}
	end := time.Now().Add(*dur)
	body := payload(*size)
	var wg sync.WaitGroup
	var put, deleted atomic.Int64
	fail := func(err error) { fmt.Fprintln(os.Stderr, "beanload:", err) }
	type producer struct {
		c net.Conn
		r *bufio.Reader
	}
	prods := make([]producer, *producers)
	for i := range prods {
		c, err := net.DialTimeout("tcp", *addr, 5*time.Second)
		if err != nil {
			fail(err)
			return 1
		}
		defer c.Close()
		prods[i] = producer{c, bufio.NewReader(c)}
	}
	for i := 0; i < *consumers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", *addr, 5*time.Second)
			if err != nil {
				fail(err)
				return
			}
			defer c.Close()
			r := bufio.NewReader(c)
			for time.Now().Before(end) {
				if _, err := fmt.Fprint(c, "reserve-with-timeout 1\r\n"); err != nil {
					fail(err)
					return
				}
				line, err := r.ReadString('\n')
				if err != nil {
					fail(err)
					return
				}
				var id, n int
				if _, err := fmt.Sscanf(line, "RESERVED %d %d", &id, &n); err != nil {
					continue // TIMED_OUT
				}
				if _, err := r.Discard(n + 2); err != nil {
					fail(err)
					return
				}
				fmt.Fprintf(c, "delete %d\r\n", id)
				if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "DELETED") {
					fail(fmt.Errorf("delete: %q %v", line, err))
					return
				}
				deleted.Add(1)
			}
		}()
	}
	pace(*producers, *rate, end, func(w int, _ *rand.Rand) error {
		p := prods[w]
		if _, err := fmt.Fprintf(p.c, "put 1024 0 60 %d\r\n%s\r\n", len(body), body); err != nil {
			return fmt.Errorf("beanload: put: %w", err)
		}
		if line, err := p.r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "INSERTED") {
			return fmt.Errorf("beanload: put: %q %v", line, err)
		}
		put.Add(1)
		return nil
	})
	wg.Wait()
	fmt.Fprintf(os.Stderr, "beanload: put %d, deleted %d\n", put.Load(), deleted.Load())
	return 0
}
