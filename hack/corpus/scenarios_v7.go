package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Round 5: a second clean test of foreign → unknown, with the kinds of
// service a cluster runs most and the corpus has none of: application
// servers. Like round 4 they were recorded after the default model was
// fixed and go to testdata/foreign-holdout, never into the corpus:
//   - tomcat: Apache Tomcat 10.1 (a JVM, like ZooKeeper's) serving a servlet;
//   - gunicorn: a Python WSGI app behind gunicorn's pre-forked sync workers
//     (a master and 2·CPUs+1 single-threaded workers, built like nginx);
//   - node: a Node.js 20 HTTP app (one process, a handful of threads, like
//     memcached and the Go servers).
//
// Each is recorded idle, with the kubelet's probes only, with a trickle and
// with a real load, on two machine shapes.
var round5 = []string{"cpu1", "cpu2"}

func init() {
	addClasses(
		&Class{Name: "tomcat", Container: "tomcat", Foreign: true,
			Images: []string{"tomcat:10.1-jdk17", "docker.io/library/tomcat:10.1"},
			Apps:   []string{"orders-api", "tomcat", "billing"},
			Start:  startTomcat},
		&Class{Name: "gunicorn", Container: "app", Foreign: true,
			Images: []string{"registry.example.com/shop/checkout:2.3", "ghcr.io/acme/inventory-api:1.8"},
			Apps:   []string{"checkout", "inventory-api", "pyapp"},
			Start:  startGunicorn},
		&Class{Name: "node", Container: "web", Foreign: true,
			Images: []string{"registry.example.com/web/storefront:3.2", "ghcr.io/acme/bff:0.9"},
			Apps:   []string{"storefront", "bff", "node-web"},
			Start:  startNode},
	)

	orders := func(class string, port int, loadDesc string, rate float64, conns int) holdoutService {
		return holdoutService{class: class, port: port, probe: "/healthz",
			trickleDesc: "one GET of the orders view every 2 s", trickle: httpGetPort(port, "/orders", 0.5, 1),
			loadName: "api", loadDesc: loadDesc, load: httpGetPort(port, "/orders", rate, conns)}
	}
	scenarios = append(scenarios, holdoutRound(5, round5, []holdoutService{
		orders("tomcat", 8080, "100 req/s of the orders servlet, 4 conns", 100, 4),
		orders("gunicorn", 8000, "40 req/s of the orders view, 2 conns", 40, 2),
		orders("node", 3000, "100 req/s of the orders view, 4 conns", 100, 4),
	})...)
}

// ordersRows is how many rows each app's orders view renders: a little real
// work per request, the same in the three apps.
const ordersRows = 50

const ordersServlet = `import jakarta.servlet.http.*;
import java.io.*;

public class Orders extends HttpServlet {
  protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
    resp.setContentType("text/html");
    StringBuilder b = new StringBuilder("<html><body><table>");
    for (int i = 0; i < %d; i++) {
      b.append("<tr><td>").append(i).append("</td><td>").append(Integer.toHexString(i * 0x9E3779B1)).append("</td></tr>");
    }
    resp.getWriter().print(b.append("</table></body></html>"));
  }
}
`

const ordersWebXML = `<?xml version="1.0" encoding="UTF-8"?>
<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0">
  <servlet><servlet-name>orders</servlet-name><servlet-class>Orders</servlet-class></servlet>
  <servlet-mapping><servlet-name>orders</servlet-name><url-pattern>/orders</url-pattern></servlet-mapping>
</web-app>
`

// startTomcat runs Debian's Tomcat 10.1 with the pod directory as
// CATALINA_BASE: the package's configuration, a ROOT webapp with a health
// page and the orders servlet (compiled outside the pod's cgroup, as an image
// build would), logs in the pod's log directory.
func startTomcat(ctx context.Context, p *Pod) error {
	base := p.data()
	root := filepath.Join(base, "webapps", "ROOT")
	classes := filepath.Join(root, "WEB-INF", "classes")
	for _, d := range []string{filepath.Join(base, "work"), filepath.Join(base, "temp"), classes} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := sh("cp", "-r", "/etc/tomcat10", filepath.Join(base, "conf")); err != nil {
		return err
	}
	if err := os.Symlink(p.logs(), filepath.Join(base, "logs")); err != nil {
		return err
	}
	src := filepath.Join(p.Dir, "Orders.java")
	if err := writeFile(src, fmt.Sprintf(ordersServlet, ordersRows)); err != nil {
		return err
	}
	if err := sh("javac", "-cp", "/usr/share/tomcat10/lib/servlet-api.jar", "-d", classes, src); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(root, "WEB-INF", "web.xml"), ordersWebXML); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(root, "healthz"), "ok\n"); err != nil {
		return err
	}
	if err := p.chown("tomcat"); err != nil {
		return err
	}
	env := []string{"CATALINA_HOME=/usr/share/tomcat10", "CATALINA_BASE=" + base, "CATALINA_TMPDIR=" + filepath.Join(base, "temp"),
		"CATALINA_PID=" + filepath.Join(p.run(), "tomcat.pid"), "JAVA_OPTS=-Xmx" + opt(p, "zk_heap", "512") + "m", "JAVA_HOME=/usr/lib/jvm/default-java"}
	if err := p.start(Spec{NetNS: p.SrvNS, User: "tomcat", Env: env, Out: filepath.Join(p.logs(), "catalina.out"),
		Args: []string{"/usr/share/tomcat10/bin/catalina.sh", "run"}}); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":8080", 90*time.Second)
}

const ordersWSGI = `import hashlib


def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/healthz":
        body = b"ok\n"
    elif path == "/orders":
        rows = "".join(
            "<tr><td>%%d</td><td>%%s</td></tr>" %% (i, hashlib.sha1(str(i).encode()).hexdigest()[:8])
            for i in range(%d)
        )
        body = ("<html><body><table>" + rows + "</table></body></html>").encode()
    else:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]
    start_response("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(body)))])
    return [body]
`

// startGunicorn runs a WSGI app under Debian's gunicorn with the common
// container default of 2·CPUs+1 sync workers and an access log.
func startGunicorn(ctx context.Context, p *Pod) error {
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
	workers := strconv.Itoa(2*p.Machine.NCPU + 1)
	if err := p.start(Spec{NetNS: p.SrvNS, User: "www-data", Env: []string{"PYTHONDONTWRITEBYTECODE=1"}, Out: filepath.Join(p.logs(), "gunicorn.log"),
		Args: []string{"gunicorn", "--chdir", app, "--bind", "0.0.0.0:8000", "--workers", workers,
			"--access-logfile", filepath.Join(p.logs(), "access.log"), "orders:application"}}); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":8000", 60*time.Second)
}

const ordersNode = `const http = require("http");
const crypto = require("crypto");
const fs = require("fs");
const log = fs.createWriteStream(process.argv[2], { flags: "a" });

http.createServer((req, res) => {
  let body;
  if (req.url === "/healthz") {
    body = "ok\n";
  } else if (req.url === "/orders") {
    let rows = "";
    for (let i = 0; i < %d; i++) {
      rows += "<tr><td>" + i + "</td><td>" + crypto.createHash("sha1").update(String(i)).digest("hex").slice(0, 8) + "</td></tr>";
    }
    body = "<html><body><table>" + rows + "</table></body></html>";
  } else {
    res.writeHead(404);
    res.end("not found\n");
    return;
  }
  res.writeHead(200, { "Content-Type": "text/html", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
  log.write(new Date().toISOString() + " " + req.method + " " + req.url + " 200\n");
}).listen(3000, "0.0.0.0");
`

// startNode runs a small Node.js HTTP app that logs each request, as an
// Express app with a request logger would.
func startNode(ctx context.Context, p *Pod) error {
	app := filepath.Join(p.data(), "app")
	if err := os.MkdirAll(app, 0o755); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(app, "server.js"), fmt.Sprintf(ordersNode, ordersRows)); err != nil {
		return err
	}
	if err := p.chown("www-data"); err != nil {
		return err
	}
	if err := p.start(Spec{NetNS: p.SrvNS, User: "www-data", Env: []string{"NODE_ENV=production"}, Out: filepath.Join(p.logs(), "node.log"),
		Args: []string{"node", filepath.Join(app, "server.js"), filepath.Join(p.logs(), "access.log")}}); err != nil {
		return err
	}
	return p.waitTCP(ctx, p.SrvIP+":3000", 60*time.Second)
}
