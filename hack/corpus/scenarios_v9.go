package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Round 7: a fourth clean test of foreign → unknown, recorded after the
// default model 20261207T160224Z-be2e2025e559 was fixed and scored once with
// it: how far the three earlier rounds' spread (0.125–0.583 refused) says
// anything about the next services. Like rounds 4–6 it goes to
// testdata/foreign-holdout, never into the corpus. Three more kinds of
// service a cluster runs:
//   - yaws: an Erlang web server (the BEAM, as RabbitMQ runs on) serving a
//     dynamic page;
//   - alertmanager: Prometheus's Alertmanager (Go), fed alerts by a
//     Prometheus and polled by a dashboard;
//   - starman: a Perl PSGI app under Starman (a master and 5 pre-forked
//     workers, one thread each).
//
// Each is recorded idle, with the kubelet's probes only, with a trickle and
// with a real load, on two machine shapes.
var round7 = []string{"cpu1", "cpu2"}

func init() {
	addClasses(
		&Class{Name: "yaws", Container: "web", Foreign: true,
			Images: []string{"registry.example.com/erl/portal:1.4", "ghcr.io/acme/yaws-app:2.1"},
			Apps:   []string{"portal", "erlweb", "status-page"},
			Start:  startYaws},
		&Class{Name: "alertmanager", Container: "alertmanager", Foreign: true,
			Images: []string{"quay.io/prometheus/alertmanager:v0.25.0", "prom/alertmanager:v0.25.0"},
			Apps:   []string{"alertmanager", "alerts", "am-main"},
			Start:  startAlertmanager},
		&Class{Name: "starman", Container: "app", Foreign: true,
			Images: []string{"registry.example.com/shop/legacy-api:7.2", "ghcr.io/acme/perl-api:3.0"},
			Apps:   []string{"legacy-api", "perl-api", "catalog"},
			Start:  startStarman},
	)

	fire := alertBatch(5)
	scenarios = append(scenarios, holdoutRound(7, round7, []holdoutService{
		{class: "yaws", port: 8080, probe: "/healthz",
			trickleDesc: "one GET of the orders page every 2 s", trickle: httpGetPort(8080, "/orders.yaws", 0.5, 1),
			loadName: "api", loadDesc: "100 req/s of the orders page, 4 conns", load: httpGetPort(8080, "/orders.yaws", 100, 4)},
		{class: "alertmanager", port: 9093, probe: "/-/healthy",
			trickleDesc: "a Prometheus resending 5 firing alerts every 2 s", trickle: httpLoadPort(9093, "/api/v2/alerts", fire, 0.5, 1),
			loadName: "alerts", loadDesc: "20 batches/s of 20 alerts from 2 senders, and a dashboard polling alerts, groups and silences 10 req/s over 2 conns",
			load: func(ctx context.Context, p *Pod) error {
				return parallel(ctx,
					func(ctx context.Context) error {
						return httpLoadPort(9093, "/api/v2/alerts", alertBatch(20), 20, 2)(ctx, p)
					},
					func(ctx context.Context) error {
						return httpGetPort(9093, "/api/v2/alerts|/api/v2/alerts/groups|/api/v2/silences", 10, 2)(ctx, p)
					})
			}},
		{class: "starman", port: 5000, probe: "/healthz",
			trickleDesc: "one GET of the orders view every 2 s", trickle: httpGetPort(5000, "/orders", 0.5, 1),
			loadName: "api", loadDesc: "40 req/s of the orders view, 2 conns", load: httpGetPort(5000, "/orders", 40, 2)},
	})...)
}

// alertBatch is n firing alerts as a Prometheus sends them to
// /api/v2/alerts.
func alertBatch(n int) string {
	alerts := make([]string, n)
	for i := range alerts {
		alerts[i] = fmt.Sprintf(`{"labels":{"alertname":"HighLatency","job":"api","instance":"api-%d","severity":"warning"},"annotations":{"summary":"p99 latency above 1s on api-%d"},"generatorURL":"http://prometheus:9090/graph"}`, i, i)
	}
	return "[" + strings.Join(alerts, ",") + "]"
}

// ordersYaws is the orders view of rounds 5 and 6 as a Yaws page: the same
// 50-row table, rendered by Erlang on each request.
const ordersYaws = `<erl>
out(_A) ->
    Rows = [io_lib:format("<tr><td>~b</td><td>~s</td></tr>",
                          [I, lists:sublist(binary_to_list(binary:encode_hex(crypto:hash(sha, integer_to_list(I)))), 8)])
            || I <- lists:seq(0, %d)],
    {html, ["<html><body><table>", Rows, "</table></body></html>"]}.
</erl>
`

// startYaws runs Debian's Yaws in the foreground (the BEAM with yaws as its
// application, as a container's entrypoint would) with its document root,
// compiled pages and logs in the pod.
func startYaws(ctx context.Context, p *Pod) error {
	www := filepath.Join(p.data(), "www")
	tmp := filepath.Join(p.data(), "tmp")
	for _, d := range []string{www, tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := writeFile(filepath.Join(www, "orders.yaws"), fmt.Sprintf(ordersYaws, ordersRows-1)); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(www, "healthz"), "ok\n"); err != nil {
		return err
	}
	conf := filepath.Join(p.conf(), "yaws.conf")
	if err := writeFile(conf, fmt.Sprintf(`logdir = %s
tmpdir = %s
ebin_dir = /usr/lib/yaws/ebin
id = portal
<server portal>
  port = 8080
  listen = 0.0.0.0
  docroot = %s
  access_log = true
</server>
`, p.logs(), tmp, www)); err != nil {
		return err
	}
	if err := p.chown("yaws"); err != nil {
		return err
	}
	if err := p.start(Spec{NetNS: p.SrvNS, User: "yaws", Env: []string{"HOME=" + p.data()}, Out: filepath.Join(p.logs(), "yaws.log"),
		Args: []string{"erl", "-noinput", "-pa", "/usr/lib/yaws/ebin", "-run", "yaws", "-conf", conf, "-yaws", "id", "portal"}}); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":8080", 60*time.Second)
}

// startAlertmanager runs Debian's Alertmanager as a single replica (no
// cluster listener) with a route to a receiver that notifies nobody, its
// silences and notification log in the pod.
func startAlertmanager(ctx context.Context, p *Pod) error {
	conf := filepath.Join(p.conf(), "alertmanager.yml")
	if err := writeFile(conf, `route:
  receiver: "null"
  group_by: ["alertname", "job"]
  group_wait: 10s
  group_interval: 1m
  repeat_interval: 4h
receivers:
  - name: "null"
`); err != nil {
		return err
	}
	if err := p.chown("prometheus"); err != nil {
		return err
	}
	if err := p.start(Spec{NetNS: p.SrvNS, User: "prometheus", Out: filepath.Join(p.logs(), "alertmanager.log"),
		Args: []string{"prometheus-alertmanager", "--config.file=" + conf, "--storage.path=" + p.data(),
			"--web.listen-address=:9093", "--cluster.listen-address="}}); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":9093", 60*time.Second)
}

// ordersPSGI is the orders view as a PSGI app.
const ordersPSGI = `use strict;
use Digest::SHA qw(sha1_hex);
my $app = sub {
    my $env = shift;
    my $path = $env->{PATH_INFO} || "/";
    return [200, ["Content-Type" => "text/plain"], ["ok\n"]] if $path eq "/healthz";
    if ($path eq "/orders") {
        my $rows = join "", map { "<tr><td>$_</td><td>" . substr(sha1_hex("$_"), 0, 8) . "</td></tr>" } 0 .. %d;
        return [200, ["Content-Type" => "text/html"], ["<html><body><table>$rows</table></body></html>"]];
    }
    return [404, ["Content-Type" => "text/plain"], ["not found\n"]];
};
`

// startStarman runs the PSGI app under Debian's Starman with its default
// pool (a master and 5 pre-forked workers) and an access log.
func startStarman(ctx context.Context, p *Pod) error {
	app := filepath.Join(p.data(), "app.psgi")
	if err := writeFile(app, fmt.Sprintf(ordersPSGI, ordersRows-1)); err != nil {
		return err
	}
	if err := p.chown("www-data"); err != nil {
		return err
	}
	if err := p.start(Spec{NetNS: p.SrvNS, User: "www-data", Out: filepath.Join(p.logs(), "starman.log"),
		Args: []string{"starman", "--listen", ":5000", "--access-log", filepath.Join(p.logs(), "access.log"), app}}); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":5000", 60*time.Second)
}
