package main

import "time"

// The second round of added scenarios: three more loads per known class, each
// recorded on two shapes (`record.sh -added -round 2`). Leave-scenario-out
// holds a class's load out on every shape at once, so what a model knows of
// an unseen load is the variety of the others: these add dataset sizes,
// client counts, value sizes and persistence settings the first rounds did
// not have (a 2.5M-row pgbench, 300k-row sysbench tables, 16 KiB memcached
// values, 64 KiB AMQP messages, 20k etcd keys, 8 Prometheus targets). As in
// round 1, nginx, apache and haproxy are given the same requests.
var (
	round2A = []string{"cpu1", "cpu4sim"}
	round2B = []string{"cpu2", "small"}
	round2C = []string{"cpu2", "cpu4sim"}
)

func init() {
	scenarios = append(scenarios, round(2, []*Scenario{
		{Class: "mysql", Name: "point-select-large", Desc: "oltp_point_select, 1 x 300k rows, 4 threads, 800 qps", Machines: round2A, Load: sbLoad("oltp_point_select", 1, 300000, 4, 800)},
		{Class: "mysql", Name: "delete-insert", Desc: "oltp_delete, 2 x 30k rows, 2 threads, 100 tps", Machines: round2B, Load: sbLoad("oltp_delete", 2, 30000, 2, 100)},
		{Class: "mysql", Name: "update-many-threads", Desc: "oltp_update_non_index, 4 x 10k rows, 16 threads, 200 tps", Machines: round2C, Load: sbLoad("oltp_update_non_index", 4, 10000, 16, 200)},

		{Class: "postgresql", Name: "tpcb-scale-25", Desc: "pgbench tpcb, scale 25, 6 clients, 120 tps", Machines: round2A, Load: pgLoad(25, 6, 120)},
		{Class: "postgresql", Name: "select-many-clients", Desc: "pgbench -S, scale 5, 24 clients, 200 tps", Machines: round2B, Load: pgLoad(5, 24, 200, "-S")},
		{Class: "postgresql", Name: "simple-update-light", Desc: "pgbench -N, scale 20, 1 client, 15 tps", Machines: round2C, Load: pgLoad(20, 1, 15, "-N")},

		{Class: "redis", Name: "lists-lrange", Desc: "lpush,lrange_100 5k req, 4 conns, 64 B, every 3 s", Machines: round2A, Load: rbEvery(3*time.Second, "-t", "lpush,lrange_100", "-n", "5000", "-c", "4", "-d", "64")},
		{Class: "redis", Name: "tiny-many-conns", Desc: "set,get 20k req, 40 conns, 16 B, 30k keys, every 2 s", Machines: round2B, Load: rbEvery(2*time.Second, "-t", "set,get", "-n", "20000", "-c", "40", "-d", "16", "-r", "30000")},
		{Class: "redis", Name: "rdb-frequent", Desc: "set 5k req, 2 conns, 2 KiB, 50k keys, RDB save 10 100, every 4 s", Machines: round2C, Opts: map[string]string{"save": "10 100"}, Load: rbEvery(4*time.Second, "-t", "set", "-n", "5000", "-c", "2", "-d", "2048", "-r", "50000")},

		{Class: "memcached", Name: "large-values", Desc: "fill 2k, 4 conns, 200 ops/s, 50% get, 16 KiB, 4k keys, -m 256", Machines: round2A, Opts: map[string]string{"mem": "256"}, Load: mcLoad(4, 200, 0.5, 16384, 4000, 2000)},
		{Class: "memcached", Name: "write-light", Desc: "1 conn, 100 ops/s, 10% get, 512 B, 10k keys", Machines: round2B, Load: mcLoad(1, 100, 0.1, 512, 10000, 0)},
		{Class: "memcached", Name: "many-conns-heavy", Desc: "fill 10k, 40 conns, 2500 ops/s, 95% get, 1 KiB, 20k keys", Machines: round2C, Load: mcLoad(40, 2500, 0.95, 1024, 20000, 10000)},

		{Class: "nginx", Name: "png-images", Desc: "ab 100 req of 256 KiB png, 4 conns, every 2 s", Machines: round2A, Load: abEvery(2*time.Second, 100, 4, "/256k.png", false)},
		{Class: "nginx", Name: "light-no-keepalive", Desc: "ab 100 req of 612 B page, 2 conns, every 1 s", Machines: round2B, Load: abEvery(time.Second, 100, 2, "/index.html", false)},
		{Class: "nginx", Name: "wrk-steady-js", Desc: "wrk 8 conns on 64 KiB js for 20 s every 30 s", Machines: round2C, Load: wrkBursts(20*time.Second, 10*time.Second, 8, "/64k.js")},

		{Class: "apache", Name: "png-images", Desc: "mpm_event, ab 100 req of 256 KiB png, 4 conns, every 2 s", Machines: round2A, Load: abEvery(2*time.Second, 100, 4, "/256k.png", false)},
		{Class: "apache", Name: "light-no-keepalive-prefork", Desc: "mpm_prefork, ab 100 req of 612 B page, 2 conns, every 1 s", Machines: round2B, Opts: map[string]string{"mpm": "prefork"}, Load: abEvery(time.Second, 100, 2, "/index.html", false)},
		{Class: "apache", Name: "wrk-steady-js-worker", Desc: "mpm_worker, wrk 8 conns on 64 KiB js for 20 s every 30 s", Machines: round2C, Opts: map[string]string{"mpm": "worker"}, Load: wrkBursts(20*time.Second, 10*time.Second, 8, "/64k.js")},

		{Class: "haproxy", Name: "http-png-images", Desc: "ab 100 req of 256 KiB png, 4 conns, every 2 s", Machines: round2A, Load: abEvery(2*time.Second, 100, 4, "/256k.png", false)},
		{Class: "haproxy", Name: "tcp-light-no-keepalive", Desc: "tcp mode, ab 100 req of 612 B page, 2 conns, every 1 s", Machines: round2B, Opts: map[string]string{"mode": "tcp"}, Load: abEvery(time.Second, 100, 2, "/index.html", false)},
		{Class: "haproxy", Name: "http-wrk-steady-js", Desc: "wrk 8 conns on 64 KiB js for 20 s every 30 s", Machines: round2C, Load: wrkBursts(20*time.Second, 10*time.Second, 8, "/64k.js")},

		{Class: "mosquitto", Name: "qos1-many-publishers", Desc: "10 publishers x 5 msg/s 512 B QoS 1, 2 subscribers", Machines: round2A, Load: mqLoad(10, 2, 1, 5, 512)},
		{Class: "mosquitto", Name: "large-payloads-qos1", Desc: "1 publisher 2 msg/s 256 KiB QoS 1, 1 subscriber, persistence on", Machines: round2B, Opts: map[string]string{"persistence": "true"}, Load: mqLoad(1, 1, 1, 2, 262144)},
		{Class: "mosquitto", Name: "chatty-small", Desc: "2 publishers x 100 msg/s 64 B QoS 0, 1 subscriber", Machines: round2C, Load: mqLoad(2, 1, 0, 100, 64)},

		{Class: "rabbitmq", Name: "large-messages", Desc: "1 publisher 20 msg/s 64 KiB, 1 consumer", Machines: round2A, Load: amqpLoad("-pubs", "1", "-subs", "1", "-rate", "20", "-size", "65536")},
		{Class: "rabbitmq", Name: "work-queue-light", Desc: "2 publishers 30 msg/s 512 B, 2 consumers", Machines: round2B, Load: amqpLoad("-pubs", "2", "-subs", "2", "-rate", "30", "-size", "512")},
		{Class: "rabbitmq", Name: "light-persistent", Desc: "1 publisher 10 msg/s 512 B persistent with confirms, 1 consumer", Machines: round2C, Load: amqpLoad("-pubs", "1", "-subs", "1", "-rate", "10", "-size", "512", "-persistent")},

		{Class: "zookeeper", Name: "many-idle-sessions", Desc: "100 sessions 5 ops/s, 10% writes", Machines: round2A, Load: zkLoad("-sessions", "100", "-rate", "5", "-writes", "0.1")},
		{Class: "zookeeper", Name: "write-heavy-small", Desc: "8 sessions 300 ops/s, 90% writes of 128 B", Machines: round2B, Load: zkLoad("-sessions", "8", "-rate", "300", "-writes", "0.9", "-size", "128")},
		{Class: "zookeeper", Name: "watches-many-nodes", Desc: "30 sessions 100 ops/s with watches, 2% writes, 1000 znodes", Machines: round2C, Load: zkLoad("-sessions", "30", "-rate", "100", "-writes", "0.02", "-watch", "-nodes", "1000")},

		{Class: "etcd", Name: "many-keys-reads", Desc: "4 clients 200 req/s, 1% puts, 20k keys", Machines: round2A, Load: etcdLoad("-conns", "4", "-rate", "200", "-writes", "0.01", "-keys", "20000")},
		{Class: "etcd", Name: "small-puts-fast", Desc: "2 clients 300 puts/s of 64 B, 1k keys", Machines: round2B, Load: etcdLoad("-conns", "2", "-rate", "300", "-writes", "1", "-size", "64", "-keys", "1000")},
		{Class: "etcd", Name: "light-watch", Desc: "10 watch streams, 1 client 2 req/s, 50% puts, 100 keys", Machines: round2C, Load: etcdLoad("-conns", "1", "-rate", "2", "-writes", "0.5", "-watchers", "10", "-keys", "100")},

		{Class: "prometheus", Name: "many-targets", Desc: "8 targets x 200 series every 15 s, no queries", Machines: round2A, Opts: map[string]string{"targets": "8", "series": "200"}, Load: idle},
		{Class: "prometheus", Name: "big-series-slow", Desc: "2 targets x 5000 series every 30 s, 0.2 queries/s", Machines: round2B, Opts: map[string]string{"targets": "2", "series": "5000", "scrape_interval": "30s"}, Load: promQueries(0.2, 1)},
		{Class: "prometheus", Name: "range-queries", Desc: "1 target x 1000 series every 5 s, 3 queries/s from 2 clients", Machines: round2C, Opts: map[string]string{"targets": "1", "series": "1000", "scrape_interval": "5s"}, Load: promQueries(3, 2)},
	})...)
}
