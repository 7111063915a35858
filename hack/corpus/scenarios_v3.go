package main

import "time"

// Scenarios added after the four machine shapes were first recorded: two
// more loads per known class, each recorded on two shapes (the first on cpu1
// and cpu2, the second on cpu4sim and small), so leave-scenario-out sees more
// kinds of load per class and leave-machine-out still meets loads its
// training shapes recorded once. nginx, apache and haproxy get the same
// loads, so the same requests tell the servers apart rather than their
// loads. Recorded with `record.sh -added`.
var (
	addedA = []string{"cpu1", "cpu2"}
	addedB = []string{"cpu4sim", "small"}
)

func init() {
	scenarios = append(scenarios, round(1, []*Scenario{
		{Class: "mysql", Name: "oltp-ro-light", Desc: "oltp_read_only, 1 x 20k rows, 1 thread, 10 tps", Machines: addedA, Load: sbLoad("oltp_read_only", 1, 20000, 1, 10)},
		{Class: "mysql", Name: "update-index", Desc: "oltp_update_index, 2 x 20k rows, 2 threads, 80 tps", Machines: addedB, Load: sbLoad("oltp_update_index", 2, 20000, 2, 80)},

		{Class: "postgresql", Name: "select-light", Desc: "pgbench -S, scale 5, 1 client, 50 tps", Machines: addedA, Load: pgLoad(5, 1, 50, "-S")},
		{Class: "postgresql", Name: "tpcb-many-clients", Desc: "pgbench tpcb, scale 10, 16 clients, 40 tps", Machines: addedB, Load: pgLoad(10, 16, 40)},

		{Class: "redis", Name: "hashes", Desc: "hset,incr 10k req, 4 conns, 128 B, every 3 s", Machines: addedA, Load: rbEvery(3*time.Second, "-t", "hset,incr", "-n", "10000", "-c", "4", "-d", "128", "-r", "20000")},
		{Class: "redis", Name: "mset-light", Desc: "mset,get 3k req, 3 conns, 256 B, every 5 s", Machines: addedB, Load: rbEvery(5*time.Second, "-t", "mset,get", "-n", "3000", "-c", "3", "-d", "256", "-r", "10000")},

		{Class: "memcached", Name: "medium-mixed", Desc: "4 conns, 800 ops/s, 80% get, 1 KiB, 10k keys", Machines: addedA, Load: mcLoad(4, 800, 0.8, 1024, 10000, 5000)},
		{Class: "memcached", Name: "small-gets", Desc: "2 conns, 1500 ops/s, 99% get, 100 B, 5k keys", Machines: addedB, Load: mcLoad(2, 1500, 0.99, 100, 5000, 5000)},

		{Class: "nginx", Name: "medium-pages", Desc: "ab 200 req of 4 KiB page, 4 conns keep-alive, every 1 s", Machines: addedA, Load: abEvery(time.Second, 200, 4, "/4k.html", true)},
		{Class: "nginx", Name: "js-assets", Desc: "ab 60 req of 64 KiB js, 3 conns, every 2 s", Machines: addedB, Load: abEvery(2*time.Second, 60, 3, "/64k.js", false)},

		{Class: "apache", Name: "medium-pages-worker", Desc: "mpm_worker, ab 200 req of 4 KiB page, 4 conns keep-alive, every 1 s", Machines: addedA, Opts: map[string]string{"mpm": "worker"}, Load: abEvery(time.Second, 200, 4, "/4k.html", true)},
		{Class: "apache", Name: "js-assets-prefork", Desc: "mpm_prefork, ab 60 req of 64 KiB js, 3 conns, every 2 s", Machines: addedB, Opts: map[string]string{"mpm": "prefork"}, Load: abEvery(2*time.Second, 60, 3, "/64k.js", false)},

		{Class: "mosquitto", Name: "qos2-light", Desc: "2 publishers x 5 msg/s 256 B QoS 2, 1 subscriber", Machines: addedA, Load: mqLoad(2, 1, 2, 5, 256)},
		{Class: "mosquitto", Name: "medium-telemetry", Desc: "4 publishers x 10 msg/s 200 B QoS 0, 3 subscribers", Machines: addedB, Load: mqLoad(4, 3, 0, 10, 200)},

		{Class: "haproxy", Name: "http-medium-pages", Desc: "ab 200 req of 4 KiB page, 4 conns keep-alive, every 1 s", Machines: addedA, Load: abEvery(time.Second, 200, 4, "/4k.html", true)},
		{Class: "haproxy", Name: "tcp-js-assets", Desc: "tcp mode, ab 60 req of 64 KiB js, 3 conns, every 2 s", Machines: addedB, Opts: map[string]string{"mode": "tcp"}, Load: abEvery(2*time.Second, 60, 3, "/64k.js", false)},

		{Class: "rabbitmq", Name: "small-fast", Desc: "2 publishers 600 msg/s 64 B, 2 consumers", Machines: addedA, Load: amqpLoad("-pubs", "2", "-subs", "2", "-rate", "600", "-size", "64")},
		{Class: "rabbitmq", Name: "persistent-backlog", Desc: "1 publisher 50 msg/s 4 KiB persistent with confirms, no consumers", Machines: addedB, Load: amqpLoad("-pubs", "1", "-subs", "0", "-rate", "50", "-size", "4096", "-persistent")},

		{Class: "zookeeper", Name: "read-mostly", Desc: "20 sessions 150 ops/s with watches, 5% writes, 200 znodes", Machines: addedA, Load: zkLoad("-sessions", "20", "-rate", "150", "-writes", "0.05", "-watch", "-nodes", "200")},
		{Class: "zookeeper", Name: "small-writes", Desc: "2 sessions 200 ops/s, 50% writes of 64 B", Machines: addedB, Load: zkLoad("-sessions", "2", "-rate", "200", "-writes", "0.5", "-size", "64")},

		{Class: "etcd", Name: "mixed", Desc: "4 clients 150 req/s, 30% puts of 256 B, 2k keys", Machines: addedA, Load: etcdLoad("-conns", "4", "-rate", "150", "-writes", "0.3", "-size", "256", "-keys", "2000")},
		{Class: "etcd", Name: "watch-heavy", Desc: "100 watch streams on the prefix, 1 client 10 puts/s, 100 keys", Machines: addedB, Load: etcdLoad("-conns", "1", "-rate", "10", "-writes", "1", "-watchers", "100", "-keys", "100")},

		{Class: "prometheus", Name: "medium", Desc: "3 targets x 1500 series every 15 s, 2 queries/s", Machines: addedA, Opts: map[string]string{"targets": "3", "series": "1500"}, Load: promQueries(2, 1)},
		{Class: "prometheus", Name: "slow-scrape-queries", Desc: "1 target x 300 series every 30 s, 5 queries/s from 2 clients", Machines: addedB, Opts: map[string]string{"targets": "1", "series": "300", "scrape_interval": "30s"}, Load: promQueries(5, 2)},
	})...)
}

// round marks a batch of added scenarios with its number.
func round(n int, batch []*Scenario) []*Scenario {
	for _, s := range batch {
		s.Round = n
	}
	return batch
}
