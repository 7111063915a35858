package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// Class is one kind of service: how to start its real server inside a pod.
type Class struct {
	Name      string
	Container string
	Images    []string
	Apps      []string // deployment-name stems, chosen per pod
	// Foreign classes are recorded to test foreign → unknown: the classifier
	// never learns them.
	Foreign bool
	Start   func(ctx context.Context, p *Pod) error
}

func atoiDef(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}

func writeFile(path, content string) error {
	return os.WriteFile(path, []byte(content), 0o644)
}

// opt is a server option: the scenario's, else the machine shape's default,
// else def.
func opt(p *Pod, key, def string) string {
	if v, ok := p.Scenario.Opts[key]; ok {
		return v
	}
	if v, ok := p.Machine.Opts[key]; ok {
		return v
	}
	return def
}

var classes = map[string]*Class{
	"mysql": {Name: "mysql", Container: "mariadb",
		Images: []string{"docker.io/library/mariadb:11.4", "mariadb:10.11", "bitnami/mariadb:11.4", "docker.io/library/mariadb:10.6"},
		Apps:   []string{"orders-db", "mariadb", "catalog-mysql", "wordpress-db"},
		Start:  startMariaDB},
	"postgresql": {Name: "postgresql", Container: "postgres",
		Images: []string{"docker.io/library/postgres:16", "bitnami/postgresql:16", "postgres:15-alpine", "docker.io/library/postgres:17"},
		Apps:   []string{"billing-pg", "postgres", "keycloak-db", "events-postgresql"},
		Start:  startPostgres},
	"redis": {Name: "redis", Container: "redis",
		Images: []string{"redis:7", "docker.io/library/redis:7.2-alpine", "bitnami/redis:7.2", "docker.io/library/redis:7.4"},
		Apps:   []string{"session-cache", "redis-master", "queue-redis", "ratelimit"},
		Start:  startRedis},
	"memcached": {Name: "memcached", Container: "memcached",
		Images: []string{"memcached:1.6", "docker.io/library/memcached:1.6-alpine", "bitnami/memcached:1.6"},
		Apps:   []string{"page-cache", "memcached", "fragment-cache", "objcache"},
		Start:  startMemcached},
	"nginx": {Name: "nginx", Container: "nginx",
		Images: []string{"nginx:1.27", "docker.io/library/nginx:1.25-alpine", "bitnami/nginx:1.27", "docker.io/library/nginx:stable"},
		Apps:   []string{"frontend", "static-web", "docs-site", "assets"},
		Start:  startNginx},
	"apache": {Name: "apache", Container: "httpd",
		Images: []string{"httpd:2.4", "docker.io/library/httpd:2.4-alpine", "bitnami/apache:2.4"},
		Apps:   []string{"legacy-web", "httpd", "intranet", "downloads"},
		Start:  startApache},
	"mosquitto": {Name: "mosquitto", Container: "mosquitto",
		Images: []string{"eclipse-mosquitto:2", "docker.io/eclipse-mosquitto:2.0.18", "eclipse-mosquitto:2.0"},
		Apps:   []string{"mqtt-broker", "mosquitto", "telemetry-hub", "sensor-gw"},
		Start:  startMosquitto},
	"haproxy": {Name: "haproxy", Container: "haproxy",
		Images: []string{"haproxy:3.0", "docker.io/library/haproxy:2.8", "haproxytech/haproxy-alpine:3.0", "bitnami/haproxy:3.0"},
		Apps:   []string{"edge-lb", "haproxy", "api-gateway", "ingress-lb"},
		Start:  startHAProxy},
}

var classOrder = []string{"mysql", "postgresql", "redis", "memcached", "nginx", "apache", "mosquitto", "haproxy"}

// --- mariadb ---------------------------------------------------------------

func startMariaDB(ctx context.Context, p *Pod) error {
	cnf := filepath.Join(p.conf(), "my.cnf")
	err := writeFile(cnf, fmt.Sprintf(`[mysqld]
datadir=%[1]s
socket=%[2]s/mysqld.sock
pid-file=%[2]s/mysqld.pid
port=3306
bind-address=0.0.0.0
skip-name-resolve
log-error=%[3]s/error.log
innodb_buffer_pool_size=%[4]s
innodb_log_file_size=64M
max_connections=300
[client]
socket=%[2]s/mysqld.sock
`, p.data(), p.run(), p.logs(), opt(p, "buffer_pool", "128M")))
	if err != nil {
		return err
	}
	if err := p.chown("mysql"); err != nil {
		return err
	}
	// The image entrypoint initialises the data dir inside the container.
	if err := p.podRun(ctx, "mysql", "mariadb-install-db", "--defaults-file="+cnf, "--auth-root-authentication-method=socket", "--skip-test-db"); err != nil {
		return err
	}
	if err := p.server("mysql", "", "mariadbd", "--defaults-file="+cnf); err != nil {
		return err
	}
	if err := p.waitTCP(ctx, p.SrvIP+":3306", 90*time.Second); err != nil {
		return err
	}
	// Grant the benchmark user (over the unix socket, from the host).
	return p.exec(ctx, Spec{Cgroup: p.cliCg, Args: []string{"mariadb", "--defaults-file=" + cnf, "-uroot", "-e",
		"CREATE DATABASE sbtest; CREATE USER 'sbtest'@'%' IDENTIFIED BY 'sbtest'; GRANT ALL ON sbtest.* TO 'sbtest'@'%';"}})
}

// --- postgresql ------------------------------------------------------------

func pgBin(name string) string {
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(m) == 0 {
		return name
	}
	return m[len(m)-1]
}

func startPostgres(ctx context.Context, p *Pod) error {
	if err := p.chown("postgres"); err != nil {
		return err
	}
	if err := p.podRun(ctx, "postgres", pgBin("initdb"), "-D", p.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(p.data(), "pg_hba.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	fmt.Fprintln(f, "host all all 10.250.0.0/16 trust")
	f.Close()
	if err := p.server("postgres", filepath.Join(p.logs(), "postgresql.log"), pgBin("postgres"), "-D", p.data(),
		"-c", "listen_addresses=*", "-c", "unix_socket_directories="+p.run(),
		"-c", "shared_buffers="+opt(p, "shared_buffers", "128MB"), "-c", "max_connections=200",
		"-c", "log_checkpoints=on", "-c", "log_connections="+opt(p, "log_connections", "off")); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":5432", 60*time.Second)
}

// --- redis -----------------------------------------------------------------

func startRedis(ctx context.Context, p *Pod) error {
	if err := p.chown("redis"); err != nil {
		return err
	}
	args := []string{"redis-server", "--port", "6379", "--bind", "0.0.0.0", "--protected-mode", "no",
		"--daemonize", "no", "--dir", p.data(), "--logfile", filepath.Join(p.logs(), "redis.log"),
		"--save", opt(p, "save", ""), "--appendonly", opt(p, "appendonly", "no")}
	if err := p.server("redis", "", args...); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":6379", 30*time.Second)
}

// --- memcached -------------------------------------------------------------

func startMemcached(ctx context.Context, p *Pod) error {
	if err := p.chown("memcache"); err != nil {
		return err
	}
	if err := p.server("", filepath.Join(p.logs(), "memcached.log"), "memcached", "-u", "memcache", "-l", "0.0.0.0", "-p", "11211",
		"-m", opt(p, "mem", "64"), "-c", "1024", "-t", opt(p, "threads", "4"), "-v"); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":11211", 30*time.Second)
}

// --- static content shared by the web servers -------------------------------

var staticFiles = []struct {
	name string
	size int
}{
	{"index.html", 612}, {"4k.html", 4 << 10}, {"64k.js", 64 << 10}, {"256k.png", 256 << 10},
	{"1m.bin", 1 << 20}, {"10m.bin", 10 << 20},
}

// writeStatic fills dir with the site's files (the image content). On a
// shape with a cold page cache they are written back and dropped from the
// cache, so the server's first reads fault them in and are charged to the
// pod, as on a node whose copy of the image was evicted since the pull;
// elsewhere the pages the recorder wrote stay cached and charged to it, as
// right after a pull (the pull's writer is charged, not the pod).
func (p *Pod) writeStatic(dir string) error {
	if err := writeStaticFiles(dir); err != nil {
		return err
	}
	if p.Machine == nil || !p.Machine.ColdCache {
		return nil
	}
	for _, f := range staticFiles {
		if err := evict(filepath.Join(dir, f.name)); err != nil {
			return err
		}
	}
	return nil
}

// evict writes a file's pages back and drops them from the page cache.
func evict(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return fmt.Errorf("drop %s from the page cache: %w", path, err)
	}
	return nil
}

func writeStaticFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range staticFiles {
		b := make([]byte, f.size)
		rand.Read(b)
		if f.name[len(f.name)-5:] == ".html" {
			for i := range b {
				b[i] = "abcdefghijklmnopqrstuvwxyz <>/\n"[int(b[i])%31]
			}
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// --- nginx -----------------------------------------------------------------

func nginxConf(root, logs, run string, workers string, listens []string) string {
	l := ""
	for _, a := range listens {
		l += "    listen " + a + ";\n"
	}
	return fmt.Sprintf(`user www-data;
worker_processes %[4]s;
pid %[3]s/nginx.pid;
error_log %[2]s/error.log;
events { worker_connections 2048; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log %[2]s/access.log;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  client_body_temp_path %[3]s/body;
  proxy_temp_path %[3]s/proxy;
  fastcgi_temp_path %[3]s/fastcgi;
  uwsgi_temp_path %[3]s/uwsgi;
  scgi_temp_path %[3]s/scgi;
  server {
%[5]s    root %[1]s;
    location /api/ { default_type application/json; return 200 '{"status":"ok","items":[1,2,3]}'; }
  }
}
`, root, logs, run, workers, l)
}

func startNginx(ctx context.Context, p *Pod) error {
	if err := p.writeStatic(filepath.Join(p.data(), "html")); err != nil {
		return err
	}
	cf := filepath.Join(p.conf(), "nginx.conf")
	if err := writeFile(cf, nginxConf(filepath.Join(p.data(), "html"), p.logs(), p.run(), opt(p, "workers", "2"), []string{"80"})); err != nil {
		return err
	}
	if err := p.chown("www-data"); err != nil {
		return err
	}
	if err := p.server("", "", "nginx", "-c", cf, "-e", filepath.Join(p.logs(), "error.log"), "-g", "daemon off;"); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":80", 30*time.Second)
}

// --- apache ----------------------------------------------------------------

func startApache(ctx context.Context, p *Pod) error {
	root := filepath.Join(p.data(), "html")
	if err := p.writeStatic(root); err != nil {
		return err
	}
	mpm := opt(p, "mpm", "event")
	mods := "/usr/lib/apache2/modules"
	cf := filepath.Join(p.conf(), "httpd.conf")
	err := writeFile(cf, fmt.Sprintf(`ServerRoot %[1]s
ServerName localhost
DefaultRuntimeDir %[2]s
PidFile %[2]s/httpd.pid
Mutex file:%[2]s default
Listen 80
User www-data
Group www-data
LoadModule mpm_%[5]s_module %[6]s/mod_mpm_%[5]s.so
LoadModule authz_core_module %[6]s/mod_authz_core.so
LoadModule mime_module %[6]s/mod_mime.so
LoadModule dir_module %[6]s/mod_dir.so
TypesConfig /etc/mime.types
DocumentRoot %[3]s
DirectoryIndex index.html
<Directory %[3]s>
  Require all granted
</Directory>
ErrorLog %[4]s/error.log
LogFormat "%%h %%l %%u %%t \"%%r\" %%>s %%b \"%%{Referer}i\" \"%%{User-Agent}i\"" combined
CustomLog %[4]s/access.log combined
KeepAlive %[7]s
Timeout 60
`, p.conf(), p.run(), root, p.logs(), mpm, mods, opt(p, "keepalive", "On")))
	if err != nil {
		return err
	}
	if err := p.chown("www-data"); err != nil {
		return err
	}
	if err := p.server("", "", "apache2", "-f", cf, "-DFOREGROUND"); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":80", 30*time.Second)
}

// --- mosquitto -------------------------------------------------------------

func startMosquitto(ctx context.Context, p *Pod) error {
	cf := filepath.Join(p.conf(), "mosquitto.conf")
	err := writeFile(cf, fmt.Sprintf(`listener 1883 0.0.0.0
allow_anonymous true
user mosquitto
persistence %[3]s
persistence_location %[1]s/
autosave_interval 30
log_dest file %[2]s/mosquitto.log
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
max_queued_messages 10000
`, p.data(), p.logs(), opt(p, "persistence", "false")))
	if err != nil {
		return err
	}
	if err := p.chown("mosquitto"); err != nil {
		return err
	}
	if err := p.server("", "", "mosquitto", "-c", cf); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":1883", 30*time.Second)
}

// --- haproxy ---------------------------------------------------------------

// startHAProxy starts an nginx backend in the client netns in a cgroup of its
// own (not recorded), then haproxy, the recorded pod, in front of it. All
// frontend and backend traffic crosses haproxy's eth0, as in a cluster.
// startBackend starts an nginx backend in the client netns, in a cgroup of
// its own (not recorded), listening on CliIP:8080 and :8081, for the proxies.
func (p *Pod) startBackend(ctx context.Context) error {
	beCg, err := p.addCgroup("backend")
	if err != nil {
		return err
	}
	beDir := filepath.Join(workRoot, "_backend-"+p.Name)
	p.extDir = append(p.extDir, beDir)
	for _, d := range []string{"html", "log", "run"} {
		os.MkdirAll(filepath.Join(beDir, d), 0o755)
	}
	if err := p.writeStatic(filepath.Join(beDir, "html")); err != nil {
		return err
	}
	beConf := filepath.Join(beDir, "nginx.conf")
	if err := writeFile(beConf, nginxConf(filepath.Join(beDir, "html"), filepath.Join(beDir, "log"), filepath.Join(beDir, "run"), "1",
		[]string{p.CliIP + ":8080", p.CliIP + ":8081"})); err != nil {
		return err
	}
	sh("chown", "-R", "www-data:", beDir)
	if err := p.start(Spec{Cgroup: beCg, NetNS: p.CliNS, Args: []string{"nginx", "-c", beConf, "-e", filepath.Join(beDir, "log", "error.log"), "-g", "daemon off;"}}); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.CliIP+":8080", 30*time.Second)
}

func startHAProxy(ctx context.Context, p *Pod) error {
	if err := p.startBackend(ctx); err != nil {
		return err
	}
	mode := opt(p, "mode", "http")
	logopt := "option httplog"
	extra := "  option forwardfor\n  http-reuse safe\n"
	if mode == "tcp" {
		logopt, extra = "option tcplog", ""
	}
	cf := filepath.Join(p.conf(), "haproxy.cfg")
	err := writeFile(cf, fmt.Sprintf(`global
  log stdout format raw local0
  maxconn 4096
  nbthread %[6]s
  user haproxy
  group haproxy
  pidfile %[1]s/haproxy.pid
  stats socket %[1]s/admin.sock mode 600 level admin

defaults
  mode %[3]s
  log global
  %[4]s
  timeout connect 5s
  timeout client 30s
  timeout server 30s

frontend fe
  bind :80
%[5]s  default_backend be

backend be
  balance roundrobin
  server web1 %[2]s:8080 check inter 2s
  server web2 %[2]s:8081 check inter 2s
`, p.run(), p.CliIP, mode, logopt, extra, opt(p, "nbthread", "2")))
	if err != nil {
		return err
	}
	if err := p.chown("haproxy"); err != nil {
		return err
	}
	if err := p.server("", filepath.Join(p.logs(), "haproxy.log"), "haproxy", "-f", cf, "-db"); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":80", 30*time.Second)
}

// addClasses registers added classes in the recorder's class table and
// appends them to classOrder, in the order given.
func addClasses(cs ...*Class) {
	for _, c := range cs {
		classes[c.Name] = c
		classOrder = append(classOrder, c.Name)
	}
}
