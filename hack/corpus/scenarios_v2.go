package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// helper runs one of this binary's load subcommands in the client netns for
// the rest of the pod's life.
func helper(name string, args ...string) func(context.Context, *Pod) error {
	return func(ctx context.Context, p *Pod) error {
		a := append([]string{p.self, name}, args...)
		for i := range a {
			switch a[i] {
			case "@ip":
				a[i] = p.SrvIP
			case "@dur":
				a[i] = itoa(left(ctx, 1)) + "s"
			}
		}
		return p.client(ctx, a...)
	}
}

func amqpLoad(args ...string) func(context.Context, *Pod) error {
	return func(ctx context.Context, p *Pod) error {
		return helper("amqpload", append([]string{"-url", "amqp://guest:guest@" + p.SrvIP + ":5672/", "-duration", "@dur"}, args...)...)(ctx, p)
	}
}

func zkLoad(args ...string) func(context.Context, *Pod) error {
	return func(ctx context.Context, p *Pod) error {
		return helper("zkload", append([]string{"-addr", p.SrvIP + ":2181", "-duration", "@dur"}, args...)...)(ctx, p)
	}
}

func etcdLoad(args ...string) func(context.Context, *Pod) error {
	return func(ctx context.Context, p *Pod) error {
		return helper("etcdload", append([]string{"-endpoint", "http://" + p.SrvIP + ":2379", "-duration", "@dur"}, args...)...)(ctx, p)
	}
}

// promQueries runs PromQL queries against the recorded Prometheus.
func promQueries(rate float64, conns int) func(context.Context, *Pod) error {
	return func(ctx context.Context, p *Pod) error {
		base := "http://" + p.SrvIP + ":9090/api/v1/"
		now := time.Now().Unix()
		urls := base + "query?query=sum%28rate%28app_requests_total%5B1m%5D%29%29|" +
			base + "query?query=up|" +
			base + fmt.Sprintf("query_range?query=histogram_quantile%%280.9%%2Csum+by+%%28path%%29%%28app_latency_seconds%%29%%29&start=%d&end=%d&step=15", now-600, now+600) + "|" +
			base + "query?query=topk%285%2Capp_latency_seconds%29"
		return helper("httpload", "-url", urls, "-rate", fmt.Sprint(rate), "-conns", itoa(conns), "-duration", "@dur")(ctx, p)
	}
}

func httpGet(path string, rate float64, conns int) func(context.Context, *Pod) error {
	return httpGetPort(80, path, rate, conns)
}

// httpGetPort is httpGet for a server listening on port. path may name
// several paths separated by |, taken in turn.
func httpGetPort(port int, path string, rate float64, conns int) func(context.Context, *Pod) error {
	return httpLoadPort(port, path, "", rate, conns)
}

// httpLoadPort runs httpload against port: GETs of path (several paths
// separated by | are taken in turn), or, with a body, POSTs of that JSON body.
func httpLoadPort(port int, path, body string, rate float64, conns int) func(context.Context, *Pod) error {
	return func(ctx context.Context, p *Pod) error {
		host := p.SrvIP
		if port != 80 {
			host += ":" + itoa(port)
		}
		urls := strings.Split(path, "|")
		for i, u := range urls {
			urls[i] = "http://" + host + u
		}
		args := []string{"-url", strings.Join(urls, "|"), "-rate", fmt.Sprint(rate), "-conns", itoa(conns), "-duration", "@dur"}
		if body != "" {
			args = append(args, "-body", body)
		}
		return helper("httpload", args...)(ctx, p)
	}
}

func init() {
	scenarios = append(scenarios, []*Scenario{
		// rabbitmq (RabbitMQ 3.10 + own AMQP 0-9-1 client)
		{Class: "rabbitmq", Name: "idle", Desc: "started, no clients", Load: idle},
		{Class: "rabbitmq", Name: "light", Desc: "1 publisher 5 msg/s 256 B, 1 consumer", Load: amqpLoad("-pubs", "1", "-subs", "1", "-rate", "5", "-size", "256")},
		{Class: "rabbitmq", Name: "work-queue", Desc: "4 publishers 300 msg/s 512 B, 4 consumers", Load: amqpLoad("-pubs", "4", "-subs", "4", "-rate", "300", "-size", "512")},
		{Class: "rabbitmq", Name: "persistent", Desc: "2 publishers 80 msg/s 2 KiB persistent with confirms, durable queue, 2 consumers", Load: amqpLoad("-pubs", "2", "-subs", "2", "-rate", "80", "-size", "2048", "-persistent")},
		{Class: "rabbitmq", Name: "fanout", Desc: "1 publisher 40 msg/s 1 KiB to a fanout exchange, 8 queues, 8 consumers", Load: amqpLoad("-pubs", "1", "-subs", "8", "-queues", "8", "-rate", "40", "-size", "1024")},
		{Class: "rabbitmq", Name: "backlog", Desc: "2 publishers 200 msg/s 1 KiB, no consumers (queue grows)", Load: amqpLoad("-pubs", "2", "-subs", "0", "-rate", "200", "-size", "1024")},

		// zookeeper (ZooKeeper 3.8 + own client)
		{Class: "zookeeper", Name: "idle", Desc: "started, no clients", Load: idle},
		{Class: "zookeeper", Name: "light", Desc: "1 session 10 ops/s, 10% writes, 100 znodes", Load: zkLoad("-sessions", "1", "-rate", "10", "-writes", "0.1")},
		{Class: "zookeeper", Name: "config-reads", Desc: "10 sessions 400 reads/s with watches, 2% writes, 500 znodes", Load: zkLoad("-sessions", "10", "-rate", "400", "-writes", "0.02", "-watch", "-nodes", "500")},
		{Class: "zookeeper", Name: "writes", Desc: "4 sessions 100 ops/s, 70% writes of 1 KiB", Load: zkLoad("-sessions", "4", "-rate", "100", "-writes", "0.7", "-size", "1024")},
		{Class: "zookeeper", Name: "membership", Desc: "60 sessions with ephemeral znodes and sequential locks, 50 ops/s", Load: zkLoad("-sessions", "60", "-rate", "50", "-writes", "0.1", "-ephemeral")},
		{Class: "zookeeper", Name: "large-znodes", Desc: "2 sessions 30 ops/s, 50% writes of 64 KiB", Load: zkLoad("-sessions", "2", "-rate", "30", "-writes", "0.5", "-size", "65536", "-nodes", "50")},

		// etcd (etcd 3.4 + own v3 JSON-gateway client)
		{Class: "etcd", Name: "idle", Desc: "started, no clients", Load: idle},
		{Class: "etcd", Name: "light", Desc: "1 client 5 req/s, 20% puts, 1k keys", Load: etcdLoad("-conns", "1", "-rate", "5", "-writes", "0.2", "-keys", "1000")},
		{Class: "etcd", Name: "reads", Desc: "8 clients 400 req/s, 5% puts, 5k keys", Load: etcdLoad("-conns", "8", "-rate", "400", "-writes", "0.05", "-keys", "5000")},
		{Class: "etcd", Name: "writes", Desc: "4 clients 150 puts/s of 1 KiB", Load: etcdLoad("-conns", "4", "-rate", "150", "-writes", "1", "-size", "1024", "-keys", "2000")},
		{Class: "etcd", Name: "watchers", Desc: "30 watch streams on the prefix, 2 clients 50 req/s, 50% puts", Load: etcdLoad("-conns", "2", "-rate", "50", "-writes", "0.5", "-watchers", "30", "-keys", "500")},
		{Class: "etcd", Name: "large-values", Desc: "2 clients 20 puts/s of 64 KiB, snapshot every 2000", Opts: map[string]string{"snapshot_count": "2000"}, Load: etcdLoad("-conns", "2", "-rate", "20", "-writes", "1", "-size", "65536", "-keys", "200")},

		// prometheus (Prometheus 2.42 scraping `corpus exporter` targets)
		{Class: "prometheus", Name: "self-only", Desc: "scrapes itself every 15 s, no queries", Load: idle},
		{Class: "prometheus", Name: "light", Desc: "2 targets x 200 series every 15 s, 0.5 queries/s", Opts: map[string]string{"targets": "2", "series": "200"}, Load: promQueries(0.5, 1)},
		{Class: "prometheus", Name: "many-series", Desc: "4 targets x 3000 series every 10 s, no queries", Opts: map[string]string{"targets": "4", "series": "3000", "scrape_interval": "10s"}, Load: idle},
		{Class: "prometheus", Name: "dashboards", Desc: "2 targets x 500 series every 15 s, 10 queries/s from 4 clients", Opts: map[string]string{"targets": "2", "series": "500"}, Load: promQueries(10, 4)},
		{Class: "prometheus", Name: "fast-scrape", Desc: "3 targets x 800 series every 2 s, 1 query/s", Opts: map[string]string{"targets": "3", "series": "800", "scrape_interval": "2s"}, Load: promQueries(1, 1)},
		{Class: "prometheus", Name: "heavy-queries", Desc: "4 targets x 1000 series every 5 s, 30 queries/s from 6 clients", Opts: map[string]string{"targets": "4", "series": "1000", "scrape_interval": "5s"}, Load: promQueries(30, 6)},

		// foreign services: recorded, never learned
		{Class: "lighttpd", Name: "idle", Desc: "started, no clients", Load: idle},
		{Class: "lighttpd", Name: "small-pages", Desc: "200 req/s of the 4 KiB page, 4 conns", Load: httpGet("/4k.html", 200, 4)},
		{Class: "lighttpd", Name: "downloads", Desc: "ab 3 req of 10 MiB, 1 conn, every 10 s", Load: abEvery(10*time.Second, 3, 1, "/10m.bin", false)},
		{Class: "lighttpd", Name: "mixed", Desc: "50 req/s over 64 KiB js and 256 KiB png, 2 conns", Load: func(ctx context.Context, p *Pod) error {
			return helper("httpload", "-url", "http://"+p.SrvIP+"/64k.js|http://"+p.SrvIP+"/256k.png", "-rate", "50", "-conns", "2", "-duration", "@dur")(ctx, p)
		}},
		{Class: "varnish", Name: "idle", Desc: "started, backend health only", Load: idle},
		{Class: "varnish", Name: "cached-pages", Desc: "300 req/s of the 4 KiB page (cache hits), 6 conns", Load: httpGet("/4k.html", 300, 6)},
		{Class: "varnish", Name: "large-objects", Desc: "ab 20 req of 1 MiB, 4 conns, every 2 s", Load: abEvery(2*time.Second, 20, 4, "/1m.bin", false)},
		{Class: "varnish", Name: "api", Desc: "ab 300 req of /api/ JSON, 5 conns, every 1 s", Load: abEvery(time.Second, 300, 5, "/api/status", false)},
		{Class: "caddy", Name: "idle", Desc: "started, no clients", Load: idle},
		{Class: "caddy", Name: "small-pages", Desc: "150 req/s of the 612 B page, 4 conns", Load: httpGet("/index.html", 150, 4)},
		{Class: "caddy", Name: "large-files", Desc: "ab 20 req of 1 MiB, 4 conns, every 2 s", Load: abEvery(2*time.Second, 20, 4, "/1m.bin", false)},
		{Class: "caddy", Name: "wrk-bursts", Desc: "wrk 20 conns on 4 KiB page for 10 s every 40 s", Load: wrkBursts(10*time.Second, 30*time.Second, 20, "/4k.html")},
	}...)
}
