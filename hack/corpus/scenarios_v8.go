package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Round 6: a third clean test of foreign → unknown, recorded after the
// refusal rule it tests was written down (the out-of-distribution guard no
// longer vetoes an answer whose probability is at least ten times the
// runner-up's; docs/evaluation.md) and before anything was scored on it.
// Like rounds 4 and 5 it goes to testdata/foreign-holdout, never into the
// corpus:
//   - influxdb: InfluxDB 1.6 (Go), polled by a dashboard's queries over the
//     statistics it keeps about itself;
//   - uwsgi: the Python app of round 5 under uWSGI (a master and 2 workers
//     of 2 threads each, its own HTTP router);
//   - webfs: webfsd, a small static HTTP server in C (one process).
//
// Each is recorded idle, with the kubelet's probes only, with a trickle and
// with a real load, on two machine shapes.
var round6 = []string{"cpu1", "cpu2"}

// influxDashboard is the query a dashboard panel over InfluxDB's own
// runtime statistics sends (URL-encoded for a GET of /query).
const influxDashboard = "/query?db=_internal&q=SELECT+mean%28%22HeapInUse%22%29+FROM+%22runtime%22+WHERE+time+%3E+now%28%29+-+5m+GROUP+BY+time%2810s%29"

func init() {
	addClasses(
		&Class{Name: "influxdb", Container: "influxdb", Foreign: true,
			Images: []string{"influxdb:1.8", "docker.io/library/influxdb:1.6-alpine"},
			Apps:   []string{"metrics-db", "influxdb", "tsdb"},
			Start:  startInfluxDB},
		&Class{Name: "uwsgi", Container: "app", Foreign: true,
			Images: []string{"registry.example.com/shop/cart:4.1", "ghcr.io/acme/pricing:2.0"},
			Apps:   []string{"cart", "pricing", "pyapi"},
			Start:  startUWSGI},
		&Class{Name: "webfs", Container: "web", Foreign: true,
			Images: []string{"registry.example.com/web/docs:1.0", "ghcr.io/acme/static-site:5"},
			Apps:   []string{"docs-site", "static", "help"},
			Start:  startWebfs},
	)

	scenarios = append(scenarios, holdoutRound(6, round6, []holdoutService{
		{class: "influxdb", port: 8086, probe: "/ping",
			trickleDesc: "one GET of /query?q=SHOW+DATABASES every 2 s", trickle: httpGetPort(8086, "/query?q=SHOW+DATABASES", 0.5, 1),
			loadName: "dashboards", loadDesc: "20 req/s of a dashboard query over InfluxDB's own runtime statistics, 2 conns", load: httpGetPort(8086, influxDashboard, 20, 2)},
		{class: "uwsgi", port: 8080, probe: "/healthz",
			trickleDesc: "one GET of /orders every 2 s", trickle: httpGetPort(8080, "/orders", 0.5, 1),
			loadName: "api", loadDesc: "40 req/s of the orders view, 2 conns", load: httpGetPort(8080, "/orders", 40, 2)},
		{class: "webfs", port: 80, probe: "/",
			trickleDesc: "one GET of /index.html every 2 s", trickle: httpGetPort(80, "/index.html", 0.5, 1),
			loadName: "small-pages", loadDesc: "50 req/s of the 4 KiB page, 2 conns", load: httpGetPort(80, "/4k.html", 50, 2)},
	})...)
}

// startInfluxDB runs Debian's influxd with its directories in the pod and
// its self-monitoring on (the default), which the dashboard load reads.
func startInfluxDB(ctx context.Context, p *Pod) error {
	conf := filepath.Join(p.conf(), "influxdb.conf")
	err := writeFile(conf, fmt.Sprintf(`reporting-disabled = true
bind-address = "127.0.0.1:8088"
[meta]
  dir = "%[1]s/meta"
[data]
  dir = "%[1]s/data"
  wal-dir = "%[1]s/wal"
[http]
  bind-address = ":8086"
  log-enabled = true
[monitor]
  store-enabled = true
  store-interval = "10s"
`, p.data()))
	if err != nil {
		return err
	}
	if err := p.chown("influxdb"); err != nil {
		return err
	}
	if err := p.start(Spec{NetNS: p.SrvNS, User: "influxdb", Out: filepath.Join(p.logs(), "influxd.log"),
		Args: []string{"influxd", "-config", conf}}); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":8086", 60*time.Second)
}

// startUWSGI runs round 5's WSGI app under uWSGI with a common container
// configuration: a master, 2 processes of 2 threads, the HTTP socket.
func startUWSGI(ctx context.Context, p *Pod) error {
	app := filepath.Join(p.data(), "app")
	if err := os.MkdirAll(app, 0o755); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(app, "orders.py"), fmt.Sprintf(ordersWSGI, ordersRows)); err != nil {
		return err
	}
	if err := p.chown("www-data"); err != nil {
		return err
	}
	if err := p.start(Spec{NetNS: p.SrvNS, User: "www-data", Out: filepath.Join(p.logs(), "uwsgi.log"),
		Args: []string{"uwsgi", "--plugin", "python3", "--http-socket", ":8080", "--master", "--processes", "2", "--threads", "2",
			"--chdir", app, "--wsgi-file", "orders.py"}}); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":8080", 60*time.Second)
}

// startWebfs runs webfsd in the foreground on :80 over the corpus's static
// pages, with an access log; it binds as root, then serves as www-data.
func startWebfs(ctx context.Context, p *Pod) error {
	root := filepath.Join(p.data(), "html")
	if err := p.writeStatic(root); err != nil {
		return err
	}
	if err := p.chown("www-data"); err != nil {
		return err
	}
	if err := p.server("", "", "webfsd", "-F", "-4", "-p", "80", "-r", root, "-f", "index.html", "-u", "www-data", "-g", "www-data",
		"-L", filepath.Join(p.logs(), "access.log")); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":80", 30*time.Second)
}
