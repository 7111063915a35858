package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Scenario is one recorded pod's workload: server options and a bounded load.
// Load must return by ctx's deadline; every client it starts is killed then.
type Scenario struct {
	Class string
	Name  string
	Desc  string
	Opts  map[string]string
	Load  func(ctx context.Context, p *Pod) error
	// Machines, when set, are the shapes that record the scenario, instead
	// of Machine.pick's share by position: scenarios added after the shapes
	// were first recorded name their shapes, so the positions (and the
	// shares) of the earlier ones stay what was recorded.
	Machines []string
	// Round numbers the batches of added scenarios (1, 2, …) so that
	// `-added -round N` records one batch; 0 for the first recordings.
	Round int
}

// on reports whether the scenario names shape m among its Machines.
func (s *Scenario) on(m string) bool { return slices.Contains(s.Machines, m) }

// --- load helpers -------------------------------------------------------------

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// left is the whole seconds until ctx's deadline, minus a margin.
func left(ctx context.Context, margin int) int {
	d, ok := ctx.Deadline()
	if !ok {
		return 60
	}
	s := int(time.Until(d).Seconds()) - margin
	if s < 1 {
		s = 1
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }

// every runs fn, then waits period, until ctx ends. fn itself is bounded.
func every(ctx context.Context, period time.Duration, fn func(ctx context.Context) error) error {
	for ctx.Err() == nil {
		start := time.Now()
		if err := fn(ctx); err != nil && ctx.Err() == nil {
			return err
		}
		if !sleepCtx(ctx, period-time.Since(start)) {
			break
		}
	}
	return nil
}

// bursts alternates on/off phases: fn runs under a context that ends after on.
func bursts(ctx context.Context, on, off time.Duration, fn func(ctx context.Context) error) error {
	for ctx.Err() == nil {
		bctx, cancel := context.WithTimeout(ctx, on)
		err := fn(bctx)
		cancel()
		if err != nil && ctx.Err() == nil && bctx.Err() == nil {
			return err
		}
		if !sleepCtx(ctx, off) {
			break
		}
	}
	return nil
}

func parallel(ctx context.Context, fns ...func(ctx context.Context) error) error {
	var wg sync.WaitGroup
	errs := make([]error, len(fns))
	for i, fn := range fns {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = fn(ctx) }()
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func idle(ctx context.Context, p *Pod) error { <-ctx.Done(); return nil }

// --- mariadb (sysbench) -------------------------------------------------------

func sysbench(p *Pod, test string, tables, size int, extra ...string) []string {
	a := []string{"sysbench", test, "--db-driver=mysql", "--mysql-host=" + p.SrvIP, "--mysql-user=sbtest",
		"--mysql-password=sbtest", "--mysql-db=sbtest", "--tables=" + itoa(tables), "--table-size=" + itoa(size)}
	return append(a, extra...)
}

func sbLoad(test string, tables, size, threads, rate int) func(context.Context, *Pod) error {
	return func(ctx context.Context, p *Pod) error {
		if err := p.clientLog(ctx, sysbench(p, "oltp_common", tables, size, "prepare")...); err != nil {
			return err
		}
		return p.client(ctx, sysbench(p, test, tables, size, "--threads="+itoa(threads), "--rate="+itoa(rate),
			"--time="+itoa(left(ctx, 2)), "run")...)
	}
}

// --- postgresql (pgbench) -----------------------------------------------------

func pgbench(p *Pod, extra ...string) []string {
	return append([]string{pgBin("pgbench"), "-h", p.SrvIP, "-U", "postgres"}, extra...)
}

func pgLoad(scale, clients, rate int, mode ...string) func(context.Context, *Pod) error {
	return func(ctx context.Context, p *Pod) error {
		if err := p.clientLog(ctx, pgbench(p, "-i", "-q", "-s", itoa(scale), "postgres")...); err != nil {
			return err
		}
		a := pgbench(p, append(mode, "-c", itoa(clients), "-j", itoa(min(clients, 2)), "-R", itoa(rate), "-T", itoa(left(ctx, 2)), "postgres")...)
		return p.client(ctx, a...)
	}
}

// --- redis (redis-benchmark) --------------------------------------------------

func rb(p *Pod, extra ...string) []string {
	return append([]string{"redis-benchmark", "-h", p.SrvIP, "-q"}, extra...)
}

func rbEvery(period time.Duration, extra ...string) func(context.Context, *Pod) error {
	return func(ctx context.Context, p *Pod) error {
		return every(ctx, period, func(ctx context.Context) error { return p.client(ctx, rb(p, extra...)...) })
	}
}

// --- memcached (own bounded client) -------------------------------------------

func mcArgs(p *Pod, conns, rate int, get float64, size, keys, fill, secs int) []string {
	return []string{p.self, "memcload", "-addr", p.SrvIP + ":11211", "-conns", itoa(conns), "-rate", itoa(rate),
		"-get", fmt.Sprint(get), "-size", itoa(size), "-keys", itoa(keys), "-fill", itoa(fill), "-duration", itoa(secs) + "s"}
}

func mcLoad(conns, rate int, get float64, size, keys, fill int) func(context.Context, *Pod) error {
	return func(ctx context.Context, p *Pod) error {
		return p.client(ctx, mcArgs(p, conns, rate, get, size, keys, fill, left(ctx, 1))...)
	}
}

// --- http (ab / wrk) ----------------------------------------------------------

func abEvery(period time.Duration, n, c int, path string, keepalive bool) func(context.Context, *Pod) error {
	return func(ctx context.Context, p *Pod) error {
		return every(ctx, period, func(ctx context.Context) error { return abOnce(ctx, p, n, c, path, keepalive) })
	}
}

func abOnce(ctx context.Context, p *Pod, n, c int, path string, keepalive bool) error {
	a := []string{"ab", "-q", "-n", itoa(n), "-c", itoa(c), "-s", "20"}
	if keepalive {
		a = append(a, "-k")
	}
	// ab exits non-zero on socket errors under load; the load loop goes on.
	p.client(ctx, append(a, "http://"+p.SrvIP+path)...)
	return nil
}

func wrkBursts(on, off time.Duration, conns int, path string) func(context.Context, *Pod) error {
	return func(ctx context.Context, p *Pod) error {
		return bursts(ctx, on+2*time.Second, off, func(ctx context.Context) error {
			p.client(ctx, "wrk", "-t1", "-c", itoa(conns), "-d", fmt.Sprintf("%ds", int(on.Seconds())), "http://"+p.SrvIP+path)
			return nil
		})
	}
}

// --- mosquitto ----------------------------------------------------------------

// mqPub publishes rate messages/s of size bytes on topic over one connection.
func mqPub(ctx context.Context, p *Pod, topic string, qos, rate, size int, retain bool) error {
	r := ""
	if retain {
		r = " -r"
	}
	cmd := fmt.Sprintf("%s lines -rate %d -size %d -duration %ds | mosquitto_pub -h %s -t %s -q %d -l%s",
		p.self, rate, size, left(ctx, 1), p.SrvIP, topic, qos, r)
	p.client(ctx, "sh", "-c", cmd)
	return nil
}

// mqSub subscribes for the rest of the run (bounded by -W).
func mqSub(ctx context.Context, p *Pod, topic string, qos int) error {
	p.client(ctx, "mosquitto_sub", "-h", p.SrvIP, "-t", topic, "-q", itoa(qos), "-W", itoa(left(ctx, 1)))
	return nil
}

func mqLoad(pubs, subs, qos, rate, size int) func(context.Context, *Pod) error {
	return func(ctx context.Context, p *Pod) error {
		var fns []func(context.Context) error
		for i := 0; i < subs; i++ {
			fns = append(fns, func(ctx context.Context) error { return mqSub(ctx, p, "sensors/#", qos) })
		}
		for i := 0; i < pubs; i++ {
			fns = append(fns, func(ctx context.Context) error {
				sleepCtx(ctx, time.Second)
				return mqPub(ctx, p, fmt.Sprintf("sensors/dev%03d/telemetry", i), qos, rate, size, false)
			})
		}
		return parallel(ctx, fns...)
	}
}

// --- the scenario table ---------------------------------------------------------

var scenarios = []*Scenario{
	// mysql (MariaDB 10.11 + sysbench)
	{Class: "mysql", Name: "idle", Desc: "started, no clients", Load: idle},
	{Class: "mysql", Name: "oltp-rw-light", Desc: "oltp_read_write, 1 table x 10k rows, 1 thread, 3 tps", Load: sbLoad("oltp_read_write", 1, 10000, 1, 3)},
	{Class: "mysql", Name: "oltp-ro-medium", Desc: "oltp_read_only, 2 x 50k rows, 4 threads, 30 tps", Load: sbLoad("oltp_read_only", 2, 50000, 4, 30)},
	{Class: "mysql", Name: "oltp-wo-medium", Desc: "oltp_write_only, 2 x 20k rows, 4 threads, 60 tps", Load: sbLoad("oltp_write_only", 2, 20000, 4, 60)},
	{Class: "mysql", Name: "oltp-rw-heavy-large", Desc: "oltp_read_write, 4 x 100k rows, 8 threads, 40 tps, 256M buffer pool", Opts: map[string]string{"buffer_pool": "256M"}, Load: sbLoad("oltp_read_write", 4, 100000, 8, 40)},
	{Class: "mysql", Name: "point-select", Desc: "oltp_point_select, 1 x 100k rows, 2 threads, 400 qps", Load: sbLoad("oltp_point_select", 1, 100000, 2, 400)},
	{Class: "mysql", Name: "oltp-rw-bursty", Desc: "oltp_read_write, 2 x 20k rows, 4 threads, 40 tps for 30 s every 60 s", Load: func(ctx context.Context, p *Pod) error {
		if err := p.clientLog(ctx, sysbench(p, "oltp_common", 2, 20000, "prepare")...); err != nil {
			return err
		}
		return bursts(ctx, 30*time.Second, 30*time.Second, func(ctx context.Context) error {
			return p.client(ctx, sysbench(p, "oltp_read_write", 2, 20000, "--threads=4", "--rate=40", "--time=30", "run")...)
		})
	}},
	{Class: "mysql", Name: "insert-stream", Desc: "oltp_insert into 1 table, 2 threads, 150 inserts/s", Load: sbLoad("oltp_insert", 1, 1000, 2, 150)},

	// postgresql (PostgreSQL 15 + pgbench)
	{Class: "postgresql", Name: "idle", Desc: "started, no clients", Load: idle},
	{Class: "postgresql", Name: "tpcb-light", Desc: "pgbench tpcb, scale 5, 1 client, 5 tps", Load: pgLoad(5, 1, 5)},
	{Class: "postgresql", Name: "select-only", Desc: "pgbench -S, scale 10, 4 clients, 300 tps", Load: pgLoad(10, 4, 300, "-S")},
	{Class: "postgresql", Name: "tpcb-medium", Desc: "pgbench tpcb, scale 10, 4 clients, 50 tps", Load: pgLoad(10, 4, 50)},
	{Class: "postgresql", Name: "tpcb-heavy-large", Desc: "pgbench tpcb, scale 40, 8 clients, 80 tps, 256MB shared_buffers", Opts: map[string]string{"shared_buffers": "256MB"}, Load: pgLoad(40, 8, 80)},
	{Class: "postgresql", Name: "simple-update", Desc: "pgbench -N, scale 10, 2 clients, 100 tps", Load: pgLoad(10, 2, 100, "-N")},
	{Class: "postgresql", Name: "select-bursty", Desc: "pgbench -S, scale 20, 4 clients, 400 tps for 30 s every 60 s", Load: func(ctx context.Context, p *Pod) error {
		if err := p.clientLog(ctx, pgbench(p, "-i", "-q", "-s", "20", "postgres")...); err != nil {
			return err
		}
		return bursts(ctx, 30*time.Second, 30*time.Second, func(ctx context.Context) error {
			return p.client(ctx, pgbench(p, "-S", "-c", "4", "-j", "2", "-R", "400", "-T", "30", "postgres")...)
		})
	}},
	{Class: "postgresql", Name: "many-conns", Desc: "pgbench tpcb, scale 2, 30 clients, 10 tps, connections logged", Opts: map[string]string{"log_connections": "on"}, Load: pgLoad(2, 30, 10)},

	// redis (Redis 7.0 + redis-benchmark)
	{Class: "redis", Name: "idle", Desc: "started, no clients", Load: idle},
	{Class: "redis", Name: "light", Desc: "get,set 1000 req, 2 conns, 64 B, every 5 s", Load: rbEvery(5*time.Second, "-t", "get,set", "-n", "1000", "-c", "2", "-d", "64")},
	{Class: "redis", Name: "get-heavy", Desc: "get 30k req, 20 conns, 50k keys, every 3 s", Load: rbEvery(3*time.Second, "-t", "get", "-n", "30000", "-c", "20", "-r", "50000")},
	{Class: "redis", Name: "set-heavy-aof", Desc: "set 20k req, 10 conns, 1 KiB values, 100k keys, AOF everysec, every 3 s", Opts: map[string]string{"appendonly": "yes"}, Load: rbEvery(3*time.Second, "-t", "set", "-n", "20000", "-c", "10", "-d", "1024", "-r", "100000")},
	{Class: "redis", Name: "pipelined", Desc: "get,set pipelined x16, 100k req, 4 conns, 128 B, every 5 s", Load: rbEvery(5*time.Second, "-t", "get,set", "-P", "16", "-n", "100000", "-c", "4", "-d", "128", "-r", "100000")},
	{Class: "redis", Name: "large-dataset", Desc: "fill 250k x 1 KiB keys, then get 5k req every 10 s, RDB save 60 1000", Opts: map[string]string{"save": "60 1000"}, Load: func(ctx context.Context, p *Pod) error {
		if err := p.client(ctx, rb(p, "-t", "set", "-n", "250000", "-r", "250000", "-d", "1024", "-c", "10", "-P", "8")...); err != nil {
			return err
		}
		return rbEvery(10*time.Second, "-t", "get", "-n", "5000", "-c", "5", "-r", "250000")(ctx, p)
	}},
	{Class: "redis", Name: "queues", Desc: "lpush,lpop,incr 10k req, 5 conns, 256 B, every 2 s", Load: rbEvery(2*time.Second, "-t", "lpush,lpop,incr", "-n", "10000", "-c", "5", "-d", "256")},
	{Class: "redis", Name: "bursty-sessions", Desc: "set,get 100k req, 50 conns, 512 B every 30 s", Load: rbEvery(30*time.Second, "-t", "set,get", "-n", "100000", "-c", "50", "-d", "512", "-r", "100000")},

	// memcached (memcached 1.6 + bounded text-protocol client)
	{Class: "memcached", Name: "idle", Desc: "started, no clients", Load: idle},
	{Class: "memcached", Name: "light", Desc: "2 conns, 50 ops/s, 90% get, 200 B, 1k keys", Load: mcLoad(2, 50, 0.9, 200, 1000, 1000)},
	{Class: "memcached", Name: "read-heavy", Desc: "8 conns, 3000 ops/s, 98% get, 500 B, 20k keys", Load: mcLoad(8, 3000, 0.98, 500, 20000, 20000)},
	{Class: "memcached", Name: "write-heavy", Desc: "4 conns, 1000 ops/s, 20% get, 4 KiB, 50k keys", Opts: map[string]string{"mem": "256"}, Load: mcLoad(4, 1000, 0.2, 4096, 50000, 0)},
	{Class: "memcached", Name: "large-dataset", Desc: "fill 100k x 2 KiB, then 4 conns, 500 ops/s, 95% get, -m 512", Opts: map[string]string{"mem": "512"}, Load: mcLoad(4, 500, 0.95, 2048, 100000, 100000)},
	{Class: "memcached", Name: "many-conns", Desc: "100 conns, 200 ops/s, 90% get, 1 KiB", Load: mcLoad(100, 200, 0.9, 1024, 10000, 10000)},
	{Class: "memcached", Name: "bursty", Desc: "8 conns, 4000 ops/s, 95% get, 300 B for 20 s every 60 s", Load: func(ctx context.Context, p *Pod) error {
		return bursts(ctx, 22*time.Second, 40*time.Second, func(ctx context.Context) error {
			return p.client(ctx, mcArgs(p, 8, 4000, 0.95, 300, 20000, 5000, 20)...)
		})
	}},
	{Class: "memcached", Name: "tiny-values", Desc: "4 conns, 5000 ops/s, 90% get, 32 B, 100k keys", Load: mcLoad(4, 5000, 0.9, 32, 100000, 20000)},

	// nginx (nginx 1.22, static files)
	{Class: "nginx", Name: "idle", Desc: "started, no clients", Load: idle},
	{Class: "nginx", Name: "light", Desc: "ab 20 req of 612 B page, 1 conn, every 2 s", Load: abEvery(2*time.Second, 20, 1, "/index.html", false)},
	{Class: "nginx", Name: "small-heavy", Desc: "ab 1000 req of 612 B page, 10 conns keep-alive, every 1 s", Load: abEvery(time.Second, 1000, 10, "/index.html", true)},
	{Class: "nginx", Name: "large-files", Desc: "ab 20 req of 1 MiB, 4 conns, every 2 s", Load: abEvery(2*time.Second, 20, 4, "/1m.bin", false)},
	{Class: "nginx", Name: "downloads", Desc: "ab 3 req of 10 MiB, 1 conn, every 10 s", Load: abEvery(10*time.Second, 3, 1, "/10m.bin", false)},
	{Class: "nginx", Name: "api-no-keepalive", Desc: "ab 300 req of /api/ JSON, 5 conns, every 1 s", Load: abEvery(time.Second, 300, 5, "/api/status", false)},
	{Class: "nginx", Name: "mixed-assets", Desc: "ab 4 KiB pages + 64 KiB js + 256 KiB png in parallel, every 2 s", Load: func(ctx context.Context, p *Pod) error {
		return parallel(ctx, func(ctx context.Context) error { return abEvery(2*time.Second, 100, 4, "/4k.html", true)(ctx, p) },
			func(ctx context.Context) error { return abEvery(2*time.Second, 40, 2, "/64k.js", true)(ctx, p) },
			func(ctx context.Context) error { return abEvery(3*time.Second, 10, 2, "/256k.png", true)(ctx, p) })
	}},
	{Class: "nginx", Name: "wrk-bursts", Desc: "wrk 20 conns on 4 KiB page for 10 s every 40 s", Load: wrkBursts(10*time.Second, 30*time.Second, 20, "/4k.html")},

	// apache (Apache 2.4, static files, event/worker/prefork MPMs)
	{Class: "apache", Name: "idle", Desc: "mpm_event, started, no clients", Load: idle},
	{Class: "apache", Name: "light-prefork", Desc: "mpm_prefork, ab 20 req of 612 B page, 1 conn, every 2 s", Opts: map[string]string{"mpm": "prefork"}, Load: abEvery(2*time.Second, 20, 1, "/index.html", false)},
	{Class: "apache", Name: "small-heavy", Desc: "mpm_event, ab 800 req of 612 B page, 10 conns keep-alive, every 1 s", Load: abEvery(time.Second, 800, 10, "/index.html", true)},
	{Class: "apache", Name: "large-files-worker", Desc: "mpm_worker, ab 20 req of 1 MiB, 4 conns, every 2 s", Opts: map[string]string{"mpm": "worker"}, Load: abEvery(2*time.Second, 20, 4, "/1m.bin", false)},
	{Class: "apache", Name: "prefork-no-keepalive", Desc: "mpm_prefork, KeepAlive Off, ab 300 req of 4 KiB, 8 conns, every 1 s", Opts: map[string]string{"mpm": "prefork", "keepalive": "Off"}, Load: abEvery(time.Second, 300, 8, "/4k.html", false)},
	{Class: "apache", Name: "downloads", Desc: "mpm_event, ab 3 req of 10 MiB, 1 conn, every 10 s", Load: abEvery(10*time.Second, 3, 1, "/10m.bin", false)},
	{Class: "apache", Name: "mixed-assets", Desc: "mpm_event, 4 KiB + 64 KiB + 256 KiB in parallel, every 2 s", Load: func(ctx context.Context, p *Pod) error {
		return parallel(ctx, func(ctx context.Context) error { return abEvery(2*time.Second, 100, 4, "/4k.html", true)(ctx, p) },
			func(ctx context.Context) error { return abEvery(2*time.Second, 40, 2, "/64k.js", true)(ctx, p) },
			func(ctx context.Context) error { return abEvery(3*time.Second, 10, 2, "/256k.png", true)(ctx, p) })
	}},
	{Class: "apache", Name: "wrk-bursts", Desc: "mpm_event, wrk 20 conns on 4 KiB page for 10 s every 40 s", Load: wrkBursts(10*time.Second, 30*time.Second, 20, "/4k.html")},

	// mosquitto (Mosquitto 2.0 + mosquitto_pub/mosquitto_sub)
	{Class: "mosquitto", Name: "idle", Desc: "started, no clients", Load: idle},
	{Class: "mosquitto", Name: "telemetry-light", Desc: "1 publisher 1 msg/s 64 B QoS 0, 1 subscriber", Load: mqLoad(1, 1, 0, 1, 64)},
	{Class: "mosquitto", Name: "many-sensors", Desc: "6 publishers x 20 msg/s 100 B QoS 0, 2 subscribers", Load: mqLoad(6, 2, 0, 20, 100)},
	{Class: "mosquitto", Name: "qos1-persistent", Desc: "3 publishers x 30 msg/s 512 B QoS 1, 1 subscriber QoS 1, persistence on", Opts: map[string]string{"persistence": "true"}, Load: mqLoad(3, 1, 1, 30, 512)},
	{Class: "mosquitto", Name: "large-messages", Desc: "1 publisher 4 msg/s 64 KiB QoS 0, 2 subscribers", Load: mqLoad(1, 2, 0, 4, 64<<10)},
	{Class: "mosquitto", Name: "fan-out", Desc: "1 publisher 20 msg/s 256 B QoS 0, 10 subscribers", Load: mqLoad(1, 10, 0, 20, 256)},
	{Class: "mosquitto", Name: "retained-state", Desc: "retained state on 20 topics x 2 msg/s QoS 1, persistence on, subscriber reconnects every 20 s", Opts: map[string]string{"persistence": "true"}, Load: func(ctx context.Context, p *Pod) error {
		var fns []func(context.Context) error
		for i := 0; i < 20; i++ {
			fns = append(fns, func(ctx context.Context) error {
				return mqPub(ctx, p, fmt.Sprintf("state/room%02d/thermostat", i), 1, 2, 200, true)
			})
		}
		fns = append(fns, func(ctx context.Context) error {
			return every(ctx, 20*time.Second, func(ctx context.Context) error {
				p.client(ctx, "mosquitto_sub", "-h", p.SrvIP, "-t", "state/#", "-q", "1", "-W", "5")
				return nil
			})
		})
		return parallel(ctx, fns...)
	}},
	{Class: "mosquitto", Name: "bursty", Desc: "2 publishers 150 msg/s 128 B QoS 0 for 20 s every 60 s, 3 subscribers", Load: func(ctx context.Context, p *Pod) error {
		var fns []func(context.Context) error
		for i := 0; i < 3; i++ {
			fns = append(fns, func(ctx context.Context) error { return mqSub(ctx, p, "events/#", 0) })
		}
		for i := 0; i < 2; i++ {
			fns = append(fns, func(ctx context.Context) error {
				return bursts(ctx, 20*time.Second, 40*time.Second, func(ctx context.Context) error {
					return mqPub(ctx, p, fmt.Sprintf("events/line%d", i), 0, 150, 128, false)
				})
			})
		}
		return parallel(ctx, fns...)
	}},

	// haproxy (HAProxy 2.6 in front of an nginx backend in another cgroup)
	{Class: "haproxy", Name: "idle", Desc: "http mode, health checks only", Load: idle},
	{Class: "haproxy", Name: "http-light", Desc: "ab 20 req of 612 B page, 1 conn, every 2 s", Load: abEvery(2*time.Second, 20, 1, "/index.html", false)},
	{Class: "haproxy", Name: "http-small-heavy", Desc: "ab 800 req of 612 B page, 10 conns keep-alive, every 1 s", Load: abEvery(time.Second, 800, 10, "/index.html", true)},
	{Class: "haproxy", Name: "http-large-files", Desc: "ab 20 req of 1 MiB, 4 conns, every 2 s", Load: abEvery(2*time.Second, 20, 4, "/1m.bin", false)},
	{Class: "haproxy", Name: "tcp-large-files", Desc: "tcp mode, ab 10 req of 1 MiB, 2 conns, every 1 s", Opts: map[string]string{"mode": "tcp"}, Load: abEvery(time.Second, 10, 2, "/1m.bin", false)},
	{Class: "haproxy", Name: "tcp-api", Desc: "tcp mode, ab 300 req of /api/ JSON, 5 conns, every 1 s", Opts: map[string]string{"mode": "tcp"}, Load: abEvery(time.Second, 300, 5, "/api/status", false)},
	{Class: "haproxy", Name: "wrk-bursts", Desc: "wrk 100 conns on 4 KiB page for 10 s every 40 s", Load: wrkBursts(10*time.Second, 30*time.Second, 100, "/4k.html")},
	{Class: "haproxy", Name: "http-mixed", Desc: "4 KiB + 64 KiB + 256 KiB in parallel, every 2 s", Load: func(ctx context.Context, p *Pod) error {
		return parallel(ctx, func(ctx context.Context) error { return abEvery(2*time.Second, 100, 4, "/4k.html", true)(ctx, p) },
			func(ctx context.Context) error { return abEvery(2*time.Second, 40, 2, "/64k.js", true)(ctx, p) },
			func(ctx context.Context) error { return abEvery(3*time.Second, 10, 2, "/256k.png", true)(ctx, p) })
	}},
}
