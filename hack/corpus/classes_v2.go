package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Classes added in corpus v2: a broker, two coordination stores and a
// monitoring server, then the foreign services — recorded like the others
// but never given to the classifier as known classes, so evaluation can
// measure foreign → unknown on real pods.
func init() {
	addClasses(
		&Class{Name: "rabbitmq", Container: "rabbitmq",
			Images: []string{"rabbitmq:3.13", "docker.io/library/rabbitmq:3.12-alpine", "bitnami/rabbitmq:3.13"},
			Apps:   []string{"events-broker", "rabbitmq", "jobs-mq", "notify-bus"},
			Start:  startRabbitMQ},
		&Class{Name: "zookeeper", Container: "zookeeper",
			Images: []string{"zookeeper:3.8", "docker.io/library/zookeeper:3.9", "bitnami/zookeeper:3.8"},
			Apps:   []string{"zk", "zookeeper", "coord", "kafka-zk"},
			Start:  startZooKeeper},
		&Class{Name: "etcd", Container: "etcd",
			Images: []string{"quay.io/coreos/etcd:v3.5.15", "bitnami/etcd:3.5", "gcr.io/etcd-development/etcd:v3.5.16"},
			Apps:   []string{"config-store", "etcd", "lock-svc", "registry-kv"},
			Start:  startEtcd},
		&Class{Name: "prometheus", Container: "prometheus",
			Images: []string{"prom/prometheus:v2.53.0", "quay.io/prometheus/prometheus:v2.54.1", "bitnami/prometheus:2.53"},
			Apps:   []string{"monitoring", "prometheus", "metrics-store", "prom-k8s"},
			Start:  startPrometheus},
		&Class{Name: "lighttpd", Container: "lighttpd", Foreign: true,
			Images: []string{"sebp/lighttpd:latest", "rtsp/lighttpd:1.4"},
			Apps:   []string{"mirror", "static-files", "cdn-origin"},
			Start:  startLighttpd},
		&Class{Name: "varnish", Container: "varnish", Foreign: true,
			Images: []string{"varnish:7.5", "docker.io/library/varnish:7.4"},
			Apps:   []string{"http-cache", "varnish", "edge-cache"},
			Start:  startVarnish},
		&Class{Name: "caddy", Container: "caddy", Foreign: true,
			Images: []string{"caddy:2.8", "docker.io/library/caddy:2.7-alpine"},
			Apps:   []string{"site", "caddy", "landing"},
			Start:  startCaddy},
	)
	sidecars = map[string]*Sidecar{
		"mysql": {Name: "mysqld-exporter", Image: "prom/mysqld-exporter:v0.15.1", Port: 9104, Args: func(p *Pod) ([]string, []string) {
			return []string{"prometheus-mysqld-exporter", "--web.listen-address=:9104"},
				[]string{"DATA_SOURCE_NAME=sbtest:sbtest@(127.0.0.1:3306)/"}
		}},
		"postgresql": {Name: "postgres-exporter", Image: "quay.io/prometheuscommunity/postgres-exporter:v0.15.0", Port: 9187, Args: func(p *Pod) ([]string, []string) {
			return []string{"prometheus-postgres-exporter", "--web.listen-address=:9187"},
				[]string{"DATA_SOURCE_NAME=postgresql://postgres@127.0.0.1:5432/postgres?sslmode=disable"}
		}},
		"redis": {Name: "redis-exporter", Image: "oliver006/redis_exporter:v1.62.0", Port: 9121, Args: func(p *Pod) ([]string, []string) {
			return []string{"prometheus-redis-exporter", "-redis.addr", "redis://127.0.0.1:6379", "-web.listen-address", ":9121"}, nil
		}},
	}
}

// Sidecar is a helper container some pods of a class run beside the server:
// a metrics exporter polling it over loopback, scraped every 15 s from
// outside the pod as a Prometheus would. The classifier must leave it out.
type Sidecar struct {
	Name, Image string
	Port        int
	Args        func(p *Pod) (args, env []string)
}

var sidecars map[string]*Sidecar

// startSidecar starts p's sidecar in its own (already created) cgroup and
// scrapes it until ctx ends.
func (p *Pod) startSidecar(ctx context.Context) error {
	args, env := p.Sidecar.Args(p)
	if err := p.start(Spec{Cgroup: p.side.cg, NetNS: p.SrvNS, User: "prometheus", Args: args, Env: env, Out: p.logPath + ".sidecar"}); err != nil {
		return err
	}
	addr := fmt.Sprintf("%s:%d", p.SrvIP, p.Sidecar.Port)
	if err := p.waitTCP(ctx, addr, 30*time.Second); err != nil {
		return err
	}
	go p.client(ctx, p.self, "httpload", "-url", "http://"+addr+"/metrics", "-rate", "0.0667", "-duration", itoa(left(ctx, 1))+"s")
	return nil
}

// --- rabbitmq -----------------------------------------------------------------

func startRabbitMQ(ctx context.Context, p *Pod) error {
	if err := writeFile(filepath.Join(p.conf(), "rabbitmq.conf"), "listeners.tcp.default = 5672\nloopback_users = none\nlog.file.level = info\n"); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(p.conf(), "enabled_plugins"), "[].\n"); err != nil {
		return err
	}
	// The Erlang cookie lives in $HOME, which is the pod directory.
	if err := os.WriteFile(filepath.Join(p.Dir, ".erlang.cookie"), []byte("PODCLASSCORPUSCOOKIE"), 0o400); err != nil {
		return err
	}
	if err := p.chown("rabbitmq"); err != nil {
		return err
	}
	env := []string{"RABBITMQ_NODENAME=rabbit@localhost", "RABBITMQ_MNESIA_BASE=" + p.data(), "RABBITMQ_LOG_BASE=" + p.logs(),
		"RABBITMQ_CONFIG_FILE=" + filepath.Join(p.conf(), "rabbitmq"), "RABBITMQ_ENABLED_PLUGINS_FILE=" + filepath.Join(p.conf(), "enabled_plugins"),
		"RABBITMQ_PID_FILE=" + filepath.Join(p.run(), "rabbitmq.pid")}
	if err := p.start(Spec{NetNS: p.SrvNS, User: "rabbitmq", Env: env, Args: []string{"/usr/lib/rabbitmq/bin/rabbitmq-server"}}); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":5672", 120*time.Second)
}

// --- zookeeper ----------------------------------------------------------------

func startZooKeeper(ctx context.Context, p *Pod) error {
	err := writeFile(filepath.Join(p.conf(), "zoo.cfg"), fmt.Sprintf(`tickTime=2000
dataDir=%s
clientPort=2181
maxClientCnxns=300
admin.enableServer=false
4lw.commands.whitelist=srvr,ruok,mntr
autopurge.purgeInterval=1
`, p.data()))
	if err != nil {
		return err
	}
	if err := p.chown("zookeeper"); err != nil {
		return err
	}
	env := []string{"ZOOCFGDIR=" + p.conf(), "ZOO_LOG_DIR=" + p.logs(), "ZK_SERVER_HEAP=" + opt(p, "zk_heap", "512"),
		"JAVA_HOME=/usr/lib/jvm/default-java"}
	if err := p.start(Spec{NetNS: p.SrvNS, User: "zookeeper", Env: env, Out: filepath.Join(p.logs(), "zookeeper.out"),
		Args: []string{"/usr/share/zookeeper/bin/zkServer.sh", "start-foreground", filepath.Join(p.conf(), "zoo.cfg")}}); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":2181", 90*time.Second)
}

// --- etcd ---------------------------------------------------------------------

func startEtcd(ctx context.Context, p *Pod) error {
	if err := p.chown("etcd"); err != nil {
		return err
	}
	if err := p.start(Spec{NetNS: p.SrvNS, User: "etcd", Out: filepath.Join(p.logs(), "etcd.log"), Args: []string{"etcd",
		"--name", "etcd-0", "--data-dir", p.data(),
		"--listen-client-urls", "http://0.0.0.0:2379", "--advertise-client-urls", "http://" + p.SrvIP + ":2379",
		"--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
		"--initial-cluster", "etcd-0=http://127.0.0.1:2380", "--snapshot-count", opt(p, "snapshot_count", "10000"),
		"--auto-compaction-retention", "1", "--quota-backend-bytes", "536870912"}}); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":2379", 60*time.Second)
}

// --- prometheus ---------------------------------------------------------------

// startPrometheus starts `corpus exporter` targets in the client netns (in a
// cgroup of their own, not recorded), then Prometheus scraping them.
func startPrometheus(ctx context.Context, p *Pod) error {
	n := atoiDef(opt(p, "targets", "0"), 0)
	series := opt(p, "series", "100")
	interval := opt(p, "scrape_interval", "15s")
	var tl []string
	if n > 0 {
		cg, err := p.addCgroup("targets")
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			addr := fmt.Sprintf("%s:%d", p.CliIP, 9100+i)
			if err := p.start(Spec{Cgroup: cg, NetNS: p.CliNS, Out: "/dev/null", Args: []string{p.self, "exporter", "-listen", addr, "-series", series}}); err != nil {
				return err
			}
			tl = append(tl, fmt.Sprintf("'%s'", addr))
		}
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: %s
  evaluation_interval: 30s
rule_files: ['%s/rules.yml']
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['localhost:9090']
`, interval, p.conf())
	if len(tl) > 0 {
		cfg += "  - job_name: app\n    static_configs:\n      - targets: [" + strings.Join(tl, ", ") + "]\n"
	}
	if err := writeFile(filepath.Join(p.conf(), "prometheus.yml"), cfg); err != nil {
		return err
	}
	rules := `groups:
  - name: app
    rules:
      - record: job:app_requests:rate1m
        expr: sum by (job) (rate(app_requests_total[1m]))
      - alert: AppDown
        expr: up == 0
        for: 1m
`
	if err := writeFile(filepath.Join(p.conf(), "rules.yml"), rules); err != nil {
		return err
	}
	if err := p.chown("prometheus"); err != nil {
		return err
	}
	if err := p.start(Spec{NetNS: p.SrvNS, User: "prometheus", Out: filepath.Join(p.logs(), "prometheus.log"), Args: []string{"prometheus",
		"--config.file=" + filepath.Join(p.conf(), "prometheus.yml"), "--storage.tsdb.path=" + p.data(),
		"--web.listen-address=:9090", "--storage.tsdb.retention.time=1d"}}); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":9090", 60*time.Second)
}

// --- foreign: lighttpd, varnish, caddy ------------------------------------------

func startLighttpd(ctx context.Context, p *Pod) error {
	root := filepath.Join(p.data(), "html")
	if err := p.writeStatic(root); err != nil {
		return err
	}
	cf := filepath.Join(p.conf(), "lighttpd.conf")
	err := writeFile(cf, fmt.Sprintf(`server.document-root = "%s"
server.port = 80
server.username = "www-data"
server.groupname = "www-data"
server.pid-file = "%s/lighttpd.pid"
server.errorlog = "%s/error.log"
server.modules = ("mod_accesslog")
accesslog.filename = "%s/access.log"
index-file.names = ("index.html")
mimetype.assign = (".html" => "text/html", ".js" => "application/javascript", ".png" => "image/png", "" => "application/octet-stream")
`, root, p.run(), p.logs(), p.logs()))
	if err != nil {
		return err
	}
	if err := p.chown("www-data"); err != nil {
		return err
	}
	if err := p.server("", "", "lighttpd", "-D", "-f", cf); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":80", 30*time.Second)
}

// startVarnish puts varnishd in front of an nginx backend in the client
// netns (own cgroup, not recorded), like haproxy.
func startVarnish(ctx context.Context, p *Pod) error {
	if err := p.startBackend(ctx); err != nil {
		return err
	}
	vcl := filepath.Join(p.conf(), "default.vcl")
	if err := writeFile(vcl, fmt.Sprintf("vcl 4.1;\nbackend default { .host = \"%s\"; .port = \"8080\"; }\n", p.CliIP)); err != nil {
		return err
	}
	if err := p.chown("varnish"); err != nil {
		return err
	}
	// -F: foreground; -n: its working dir (shared memory log) in the writable layer.
	if err := p.server("", "", "varnishd", "-F", "-a", ":80", "-f", vcl, "-s", "malloc,"+opt(p, "cache", "128m"),
		"-n", filepath.Join(p.run(), "varnish"), "-j", "unix,user=varnish"); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":80", 60*time.Second)
}

func startCaddy(ctx context.Context, p *Pod) error {
	root := filepath.Join(p.data(), "html")
	if err := p.writeStatic(root); err != nil {
		return err
	}
	cf := filepath.Join(p.conf(), "Caddyfile")
	if err := writeFile(cf, fmt.Sprintf("{\n  admin off\n  auto_https off\n}\n:80 {\n  root * %s\n  file_server\n  log {\n    output file %s/access.log\n  }\n}\n", root, p.logs())); err != nil {
		return err
	}
	if err := p.chown("www-data"); err != nil {
		return err
	}
	// The official image runs caddy as root (it binds :80).
	if err := p.start(Spec{NetNS: p.SrvNS, Env: []string{"XDG_DATA_HOME=" + p.run(), "XDG_CONFIG_HOME=" + p.run()},
		Args: []string{"caddy", "run", "--config", cf, "--adapter", "caddyfile"}}); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":80", 30*time.Second)
}
