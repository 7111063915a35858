package main

// Load clients added in corpus v2, re-executed by the recorder inside the
// client netns. Each is rate-limited and stops by itself after -duration.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	amqp "github.com/rabbitmq/amqp091-go"
)

// pace calls fn rate times per second (spread over workers) until end.
func pace(workers int, rate float64, end time.Time, fn func(w int, rng *rand.Rand) error) {
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewSource(time.Now().UnixNano() + int64(w)))
			interval := time.Duration(float64(time.Second) * float64(workers) / max(rate, 0.001))
			next := time.Now().Add(time.Duration(rng.Int63n(int64(interval) + 1)))
			for time.Now().Before(end) {
				if d := time.Until(next); d > 0 {
					time.Sleep(min(d, time.Until(end)))
					if !time.Now().Before(end) {
						return
					}
				} else if d < -time.Second {
					next = time.Now()
				}
				next = next.Add(interval)
				if err := fn(w, rng); err != nil {
					fmt.Fprintln(os.Stderr, err)
					time.Sleep(500 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
}

func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

// httpload: GET -url at -rate requests/s over -conns connections; with
// -body, POST that JSON body instead.
func httpLoadMain(args []string) int {
	fs := flag.NewFlagSet("httpload", flag.ExitOnError)
	url := fs.String("url", "", "URL (several separated by |, taken in turn)")
	rate := fs.Float64("rate", 1, "requests per second")
	conns := fs.Int("conns", 1, "concurrent connections")
	dur := fs.Duration("duration", time.Minute, "how long")
	body := fs.String("body", "", "POST this JSON body instead of a GET")
	fs.Parse(args)
	urls := strings.Split(*url, "|")
	cl := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *conns}}
	pace(*conns, *rate, time.Now().Add(*dur), func(w int, rng *rand.Rand) error {
		u := urls[rng.Intn(len(urls))]
		var resp *http.Response
		var err error
		if *body != "" {
			resp, err = cl.Post(u, "application/json", strings.NewReader(*body))
		} else {
			resp, err = cl.Get(u)
		}
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	})
	return 0
}

// exporter: serve -series gauge/counter series on /metrics whose values move,
// a scrape target for the recorded Prometheus.
func exporterMain(args []string) int {
	fs := flag.NewFlagSet("exporter", flag.ExitOnError)
	listen := fs.String("listen", ":9100", "address")
	series := fs.Int("series", 100, "series per scrape")
	fs.Parse(args)
	start := time.Now()
	http.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		el := time.Since(start).Seconds()
		b.WriteString("# TYPE app_requests_total counter\n")
		for i := 0; i < *series/2; i++ {
			fmt.Fprintf(&b, "app_requests_total{path=\"/p%d\",code=\"%d\"} %d\n", i/5, 200+100*(i%5), int(el*float64(1+i%7)))
		}
		b.WriteString("# TYPE app_latency_seconds gauge\n")
		for i := 0; i < *series-*series/2; i++ {
			fmt.Fprintf(&b, "app_latency_seconds{path=\"/p%d\",q=\"%d\"} %.4f\n", i/4, i%4, 0.01+rand.Float64()*0.2)
		}
		w.Write(b.Bytes())
	})
	if err := http.ListenAndServe(*listen, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// amqpload: publishers and consumers on a RabbitMQ broker.
func amqpLoadMain(args []string) int {
	fs := flag.NewFlagSet("amqpload", flag.ExitOnError)
	url := fs.String("url", "", "amqp://guest:guest@host:5672/")
	pubs := fs.Int("pubs", 1, "publisher connections")
	subs := fs.Int("subs", 1, "consumer connections (0: the queues only grow)")
	queues := fs.Int("queues", 1, "queues (a fanout exchange copies every message to each)")
	rate := fs.Float64("rate", 10, "messages per second in total")
	size := fs.Int("size", 256, "message bytes")
	persistent := fs.Bool("persistent", false, "durable queues, persistent messages, publisher confirms")
	dur := fs.Duration("duration", time.Minute, "how long")
	fs.Parse(args)
	end := time.Now().Add(*dur)
	setup, err := amqp.Dial(*url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ch, err := setup.Channel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	exchange := "load"
	if err := ch.ExchangeDeclare(exchange, "fanout", *persistent, false, false, false, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for q := 0; q < *queues; q++ {
		name := fmt.Sprintf("q%d", q)
		if _, err := ch.QueueDeclare(name, *persistent, false, false, false, amqp.Table{"x-max-length": 200000}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		ch.QueueBind(name, "", exchange, false, nil)
	}
	var wg sync.WaitGroup
	for s := 0; s < *subs; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := amqp.Dial(*url)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return
			}
			defer c.Close()
			cch, _ := c.Channel()
			cch.Qos(50, 0, false)
			msgs, err := cch.Consume(fmt.Sprintf("q%d", s%*queues), "", false, false, false, false, nil)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return
			}
			timer := time.NewTimer(time.Until(end))
			for {
				select {
				case m, ok := <-msgs:
					if !ok {
						return
					}
					m.Ack(false)
				case <-timer.C:
					return
				}
			}
		}()
	}
	body := payload(*size)
	mode := amqp.Transient
	if *persistent {
		mode = amqp.Persistent
	}
	pubChans := make([]*amqp.Channel, *pubs)
	for i := range pubChans {
		c, err := amqp.Dial(*url)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer c.Close()
		pubChans[i], _ = c.Channel()
		if *persistent {
			pubChans[i].Confirm(false)
		}
	}
	pace(*pubs, *rate, end, func(w int, rng *rand.Rand) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if *persistent {
			conf, err := pubChans[w].PublishWithDeferredConfirmWithContext(ctx, exchange, "", false, false, amqp.Publishing{DeliveryMode: mode, Body: body})
			if err != nil {
				return err
			}
			_, err = conf.WaitContext(ctx)
			return err
		}
		return pubChans[w].PublishWithContext(ctx, exchange, "", false, false, amqp.Publishing{DeliveryMode: mode, Body: body})
	})
	wg.Wait()
	setup.Close()
	return 0
}

// zkload: ZooKeeper sessions reading, writing and watching znodes.
func zkLoadMain(args []string) int {
	fs := flag.NewFlagSet("zkload", flag.ExitOnError)
	addr := fs.String("addr", "", "host:port")
	sessions := fs.Int("sessions", 1, "client sessions")
	rate := fs.Float64("rate", 10, "operations per second in total")
	writes := fs.Float64("writes", 0.1, "fraction of writes")
	size := fs.Int("size", 128, "znode data bytes")
	nodes := fs.Int("nodes", 100, "znodes")
	watch := fs.Bool("watch", false, "reads set watches")
	ephemeral := fs.Bool("ephemeral", false, "each session also holds an ephemeral znode and takes sequential locks")
	dur := fs.Duration("duration", time.Minute, "how long")
	fs.Parse(args)
	end := time.Now().Add(*dur)
	conns := make([]*zk.Conn, *sessions)
	for i := range conns {
		c, _, err := zk.Connect([]string{*addr}, 10*time.Second, zk.WithLogInfo(false))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer c.Close()
		conns[i] = c
	}
	data := payload(*size)
	acl := zk.WorldACL(zk.PermAll)
	conns[0].Create("/app", nil, 0, acl)
	conns[0].Create("/locks", nil, 0, acl)
	for i := 0; i < *nodes; i++ {
		conns[0].Create(fmt.Sprintf("/app/n%d", i), data, 0, acl)
	}
	if *ephemeral {
		for i, c := range conns {
			c.Create(fmt.Sprintf("/app/member-%d", i), nil, zk.FlagEphemeral, acl)
		}
	}
	pace(*sessions, *rate, end, func(w int, rng *rand.Rand) error {
		c := conns[w]
		path := fmt.Sprintf("/app/n%d", rng.Intn(*nodes))
		switch {
		case *ephemeral && rng.Float64() < 0.2:
			p, err := c.Create("/locks/lock-", nil, zk.FlagEphemeral|zk.FlagSequence, acl)
			if err != nil {
				return err
			}
			return c.Delete(p, -1)
		case rng.Float64() < *writes:
			_, err := c.Set(path, data, -1)
			return err
		case *watch:
			_, _, ev, err := c.GetW(path)
			if err == nil {
				go func() {
					select {
					case <-ev:
					case <-time.After(time.Until(end)):
					}
				}()
			}
			return err
		default:
			_, _, err := c.Get(path)
			return err
		}
	})
	return 0
}

// etcdload: puts, ranges and watches over etcd's v3 JSON gateway.
func etcdLoadMain(args []string) int {
	fs := flag.NewFlagSet("etcdload", flag.ExitOnError)
	endpoint := fs.String("endpoint", "", "http://host:2379")
	conns := fs.Int("conns", 1, "concurrent clients")
	rate := fs.Float64("rate", 10, "requests per second in total")
	writes := fs.Float64("writes", 0.1, "fraction of puts")
	size := fs.Int("size", 128, "value bytes")
	keys := fs.Int("keys", 1000, "key space")
	watchers := fs.Int("watchers", 0, "watch streams on the key prefix")
	dur := fs.Duration("duration", time.Minute, "how long")
	fs.Parse(args)
	end := time.Now().Add(*dur)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	val := base64.StdEncoding.EncodeToString(payload(*size))
	cl := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *conns + *watchers}}
	post := func(ctx context.Context, path string, body any) error {
		bb, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, *endpoint+path, bytes.NewReader(bb))
		resp, err := cl.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("%s: %s", path, resp.Status)
		}
		return nil
	}
	ctx, cancel := context.WithDeadline(context.Background(), end)
	defer cancel()
	for i := 0; i < *keys; i++ {
		if time.Now().After(end) {
			break
		}
		post(ctx, "/v3/kv/put", map[string]string{"key": b64(fmt.Sprintf("/app/k%06d", i)), "value": val})
	}
	wcl := &http.Client{}
	for i := 0; i < *watchers; i++ {
		go func() {
			bb, _ := json.Marshal(map[string]any{"create_request": map[string]string{"key": b64("/app/"), "range_end": b64("/app0")}})
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, *endpoint+"/v3/watch", bytes.NewReader(bb))
			if resp, err := wcl.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	pace(*conns, *rate, end, func(w int, rng *rand.Rand) error {
		k := b64(fmt.Sprintf("/app/k%06d", rng.Intn(*keys)))
		if rng.Float64() < *writes {
			return post(ctx, "/v3/kv/put", map[string]string{"key": k, "value": val})
		}
		return post(ctx, "/v3/kv/range", map[string]string{"key": k})
	})
	return 0
}
