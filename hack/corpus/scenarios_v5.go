package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// The third round of added scenarios: pods that see little more than the
// kubelet. In a cluster every pod with a liveness and a readiness probe is
// dialled or sent a GET every 10 s from the node, and the first minute of a
// pod's life — the window podclass reads — is often nothing else. The corpus
// had only fully idle pods (no client at all), so a model that had not seen
// a class idle refused it (leave-scenario-out: 27 of its 42 unknown known
// pods were held-out idle ones). Two loads per class, foreign ones included:
//   - probes: a liveness and a readiness probe, each every 10 s, as the
//     kubelet sends them (tcpSocket: connect and close; httpGet: a new
//     connection per GET, User-Agent kube-probe), and nothing else;
//   - trickle: the same probes and a real client at about one request a
//     second or less.
var (
	round3A = []string{"cpu2", "small", "cpu8sim"}
	round3B = []string{"cpu1", "cpu4sim"}
)

func init() {
	type probe struct {
		port int
		path string // "" for a tcpSocket probe
	}
	probes := map[string]probe{
		"mysql": {3306, ""}, "postgresql": {5432, ""}, "redis": {6379, ""}, "memcached": {11211, ""},
		"nginx": {80, "/"}, "apache": {80, "/"}, "haproxy": {80, ""}, "mosquitto": {1883, ""},
		"rabbitmq": {5672, ""}, "zookeeper": {2181, ""}, "etcd": {2379, "/health"}, "prometheus": {9090, "/-/ready"},
		"lighttpd": {80, "/"}, "varnish": {80, "/"}, "caddy": {80, "/"},
	}
	trickle := map[string]struct {
		desc string
		load func(context.Context, *Pod) error
	}{
		"mysql":      {"oltp_point_select, 1 x 1k rows, 1 thread, 1 qps", sbLoad("oltp_point_select", 1, 1000, 1, 1)},
		"postgresql": {"pgbench -S, scale 1, 1 client, 1 tps", pgLoad(1, 1, 1, "-S")},
		"redis":      {"get 5 req, 1 conn, every 5 s", rbEvery(5*time.Second, "-t", "get", "-n", "5", "-c", "1")},
		"memcached":  {"1 conn, 1 op/s, 90% get, 128 B, 100 keys", mcLoad(1, 1, 0.9, 128, 100, 100)},
		"nginx":      {"one GET of the 612 B page every 2 s", httpGet("/index.html", 0.5, 1)},
		"apache":     {"mpm_event, one GET of the 612 B page every 2 s", httpGet("/index.html", 0.5, 1)},
		"haproxy":    {"http mode, one GET of the 612 B page every 2 s", httpGet("/index.html", 0.5, 1)},
		"mosquitto":  {"1 publisher 1 msg/s 64 B QoS 0, 1 subscriber", mqLoad(1, 1, 0, 1, 64)},
		"rabbitmq":   {"1 publisher 1 msg/s 128 B, 1 consumer", amqpLoad("-pubs", "1", "-subs", "1", "-rate", "1", "-size", "128")},
		"zookeeper":  {"1 session 1 op/s, 10% writes", zkLoad("-sessions", "1", "-rate", "1", "-writes", "0.1")},
		"etcd":       {"1 client 1 req/s, 10% puts, 100 keys", etcdLoad("-conns", "1", "-rate", "1", "-writes", "0.1", "-keys", "100")},
		"prometheus": {"1 target x 50 series every 15 s, one query every 10 s", promQueries(0.1, 1)},
		"lighttpd":   {"one GET of the 612 B page every 2 s", httpGet("/index.html", 0.5, 1)},
		"varnish":    {"one GET of the 4 KiB page every 2 s", httpGet("/4k.html", 0.5, 1)},
		"caddy":      {"one GET of the 612 B page every 2 s", httpGet("/index.html", 0.5, 1)},
	}
	var batch []*Scenario
	for _, class := range []string{"mysql", "postgresql", "redis", "memcached", "nginx", "apache", "haproxy", "mosquitto",
		"rabbitmq", "zookeeper", "etcd", "prometheus", "lighttpd", "varnish", "caddy"} {
		pr := probes[class]
		kp := kubeProbes(pr.port, pr.path)
		kind := fmt.Sprintf("tcpSocket :%d", pr.port)
		if pr.path != "" {
			kind = fmt.Sprintf("httpGet :%d%s", pr.port, pr.path)
		}
		var opts map[string]string
		if class == "prometheus" {
			opts = map[string]string{"targets": "1", "series": "50"}
		}
		tr := trickle[class]
		batch = append(batch,
			&Scenario{Class: class, Name: "probes", Desc: "kubelet liveness + readiness every 10 s (" + kind + "), no clients", Machines: round3A, Load: kp},
			&Scenario{Class: class, Name: "trickle", Desc: tr.desc + ", and the probes", Machines: round3B, Opts: opts, Load: func(ctx context.Context, p *Pod) error {
				return parallel(ctx, func(ctx context.Context) error { return kp(ctx, p) }, func(ctx context.Context) error { return tr.load(ctx, p) })
			}},
		)
	}
	scenarios = append(scenarios, round(3, batch)...)
}

// kubeProbes runs the kubeprobe helper: a liveness and a readiness probe.
func kubeProbes(port int, path string) func(context.Context, *Pod) error {
	return func(ctx context.Context, p *Pod) error {
		args := []string{"-addr", fmt.Sprintf("%s:%d", p.SrvIP, port), "-duration", "@dur"}
		if path != "" {
			args = append(args, "-path", path)
		}
		return helper("kubeprobe", args...)(ctx, p)
	}
}

// kubeprobe: what the kubelet sends a container with -probes probes of
// -period each (default a liveness and a readiness probe every 10 s), each
// starting at its own offset: a TCP connect-and-close (tcpSocket) or, with
// -path, an HTTP GET on a new connection (httpGet; the kubelet's prober does
// not keep connections alive). Timeout 1 s, the kubelet's default.
func kubeProbeMain(args []string) int {
	fs := flag.NewFlagSet("kubeprobe", flag.ExitOnError)
	addr := fs.String("addr", "", "host:port")
	path := fs.String("path", "", "HTTP path (httpGet probe); empty: tcpSocket probe")
	period := fs.Duration("period", 10*time.Second, "probe period")
	n := fs.Int("probes", 2, "independent probes (liveness, readiness)")
	dur := fs.Duration("duration", time.Minute, "how long")
	fs.Parse(args)
	cl := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	check := func() error {
		if *path == "" {
			c, err := net.DialTimeout("tcp", *addr, time.Second)
			if err != nil {
				return err
			}
			return c.Close()
		}
		req, err := http.NewRequest(http.MethodGet, "http://"+*addr+*path, nil)
		if err != nil {
			return err
		}
		req.Header.Set("User-Agent", "kube-probe/1.35")
		req.Header.Set("Accept", "*/*")
		resp, err := cl.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 10<<10))
		return resp.Body.Close()
	}
	end := time.Now().Add(*dur)
	var wg sync.WaitGroup
	for i := 0; i < *n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(rand.Int63n(int64(*period))))
			for time.Now().Before(end) {
				if err := check(); err != nil {
					fmt.Fprintln(os.Stderr, "kubeprobe:", err)
				}
				time.Sleep(min(*period, max(time.Until(end), 0)))
			}
		}()
	}
	wg.Wait()
	return 0
}
