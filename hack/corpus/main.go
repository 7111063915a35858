// Command corpus records the podclass training corpus: real servers under
// real load, each in its own cgroup v1 and network namespace like a pod,
// sampled every 10 s into the line protocol telegraf's kubernetes and docker
// inputs write. Run it through hack/corpus/record.sh (root, Debian).
//
//	corpus [-out testdata/corpus] [-machine cpu1|cpu2|cpu4sim|small|cpu8sim|cpu16sim] [-added [-round N]] [-parallel 8] [-duration 300s] [-only class,...] [-smoke] [-list]
package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "probe":
			os.Exit(probeMain(os.Args[2:]))
		case "lines":
			os.Exit(linesMain(os.Args[2:]))
		case "memcload":
			os.Exit(memcloadMain(os.Args[2:]))
		case "httpload":
			os.Exit(httpLoadMain(os.Args[2:]))
		case "exporter":
			os.Exit(exporterMain(os.Args[2:]))
		case "amqpload":
			os.Exit(amqpLoadMain(os.Args[2:]))
		case "zkload":
			os.Exit(zkLoadMain(os.Args[2:]))
		case "etcdload":
			os.Exit(etcdLoadMain(os.Args[2:]))
		case "kubeprobe":
			os.Exit(kubeProbeMain(os.Args[2:]))
		case "natsload":
			os.Exit(natsLoadMain(os.Args[2:]))
		case "beanload":
			os.Exit(beanLoadMain(os.Args[2:]))
		}
	}
	os.Exit(record())
}

type result struct {
	pod   *Pod
	lines string
	span  time.Duration
	err   error
}

func record() int {
	out := flag.String("out", "testdata/corpus", "output directory (metrics.lp, pods.csv)")
	work := flag.String("work", "", "directory for per-pod logs and partial results (default: <out>/.work)")
	parallel := flag.Int("parallel", 8, "pods recorded at once")
	duration := flag.Duration("duration", 300*time.Second, "recorded life of each pod")
	interval := flag.Duration("interval", 10*time.Second, "sampling interval (telegraf default)")
	only := flag.String("only", "", "comma-separated classes to record (default: all)")
	smoke := flag.Bool("smoke", false, "one loaded pod per class, short duration")
	machine := flag.String("machine", "cpu2", "machine shape: cpu1 (1 CPU, 1 GiB per pod), cpu2 (2 CPUs, 3 GiB), cpu4sim (a 4-CPU node's pool sizing on 2 CPUs, 4 GiB), small (the other CPU, 640 MiB, small-node defaults, cold page cache for image content), cpu8sim (an 8-CPU node's pool sizing on 2 CPUs, 6 GiB), or the test shape cpu16sim (a 16-CPU node's pool sizing on 2 CPUs, 8 GiB; idle and the shared load only)")
	seed := flag.Int64("seed", 20240611, "seed for pod names and namespaces")
	list := flag.Bool("list", false, "print the scenario table (markdown) and exit")
	added := flag.Bool("added", false, "record only the scenarios that name their machine shapes (added after the shapes' first recordings)")
	addedRound := flag.Int("round", 0, "with -added, only the added scenarios of this round (1, 2, …); 0: every round")
	flag.Parse()
	if *list {
		fmt.Println("| class | scenario | machines | server options and load |")
		fmt.Println("|---|---|---|---|")
		byClass := pickLists()
		for _, s := range scenarios {
			list := byClass[s.Class]
			i := slices.Index(list, s)
			on := s.Machines
			if on == nil {
				for _, name := range []string{"cpu1", "cpu2", "cpu4sim", "small", "cpu8sim"} {
					if machines[name].pick(i, len(list)) {
						on = append(on, name)
					}
				}
			}
			class := s.Class
			if classes[s.Class].Foreign {
				class += " (foreign)"
			}
			fmt.Printf("| %s | %s | %s | %s |\n", class, s.Name, strings.Join(on, ", "), s.Desc)
		}
		return 0
	}

	if *work == "" {
		*work = filepath.Join(*out, ".work")
	}
	for _, d := range []string{*out, *work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	m, ok := machines[*machine]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown machine shape %q\n", *machine)
		return 2
	}
	pods := plan(*only, *smoke, *added, *addedRound, *seed, m, self)
	if len(pods) == 0 {
		fmt.Fprintln(os.Stderr, "no pods to record")
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	start := time.Now()
	fmt.Printf("machine %s (cpus %s, %d MiB per pod): ", m.Name, m.CPUs, m.Memory>>20)
	fmt.Printf("recording %d pods, %d at a time, %s each, sample every %s\n", len(pods), *parallel, *duration, *interval)
	results := make([]result, len(pods))
	sem := make(chan struct{}, *parallel)
	var wg sync.WaitGroup
	for i, p := range pods {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fmt.Printf("%s start %-28s %-11s %s\n", time.Now().Format("15:04:05"), p.Name, p.Class.Name, p.Scenario.Name)
			r := recordPod(ctx, p, *duration, *interval, *work)
			results[i] = r
			status := "ok"
			if r.err != nil {
				status = "FAILED: " + r.err.Error()
			}
			fmt.Printf("%s done  %-28s %-11s %s: %s\n", time.Now().Format("15:04:05"), p.Name, p.Class.Name, p.Scenario.Name, status)
		}()
		// Stagger starts so initdb/prepare phases of one wave do not all coincide.
		if i < *parallel {
			sleepCtx(ctx, 3*time.Second)
		}
	}
	wg.Wait()
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "interrupted; outputs not written")
		return 130
	}
	if err := writeOutputs(*out, results); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	failed := 0
	for _, r := range results {
		if r.err != nil {
			failed++
		}
	}
	fmt.Printf("recorded %d pods (%d failed) in %s\n", len(results)-failed, failed, time.Since(start).Round(time.Second))
	return 0
}

// pickLists returns each class's scenarios that Machine.pick shares out by
// position (those without their own Machines), in order.
func pickLists() map[string][]*Scenario {
	byClass := map[string][]*Scenario{}
	for _, s := range scenarios {
		if s.Machines == nil {
			byClass[s.Class] = append(byClass[s.Class], s)
		}
	}
	return byClass
}

// plan lists the pods: for each class its scenarios, interleaved so that
// every wave of concurrent pods mixes classes and intensities.
func plan(only string, smoke, added bool, addedRound int, seed int64, m *Machine, self string) []*Pod {
	want := map[string]bool{}
	for _, c := range strings.Split(only, ",") {
		if c != "" {
			want[c] = true
		}
	}
	byClass := pickLists()
	// Each machine shape records its share of each class's scenarios, then
	// the added scenarios that name it; with added only those.
	for c, list := range byClass {
		var mine []*Scenario
		for i, s := range list {
			if !added && (smoke || m.pick(i, len(list))) {
				mine = append(mine, s)
			}
		}
		byClass[c] = mine
	}
	if !smoke {
		for _, s := range scenarios {
			if s.on(m.Name) && (!added || addedRound == 0 || s.Round == addedRound) {
				byClass[s.Class] = append(byClass[s.Class], s)
			}
		}
	}
	rng := rand.New(rand.NewSource(seed))
	namespaces := []string{"shop", "analytics", "iot", "platform"}
	var pods []*Pod
	maxN := 0
	for _, c := range classOrder {
		maxN = max(maxN, len(byClass[c]))
	}
	if smoke {
		maxN = 1
	}
	for k := 0; k < maxN; k++ {
		for ci, c := range classOrder {
			if len(want) > 0 && !want[c] {
				continue
			}
			list := byClass[c]
			var s *Scenario
			if smoke {
				s = list[2%len(list)]
			} else {
				if k >= len(list) {
					continue
				}
				s = list[(k+ci)%len(list)]
			}
			cl := classes[c]
			p := &Pod{
				Idx:       len(pods) + 1,
				Class:     cl,
				Scenario:  s,
				Image:     cl.Images[rng.Intn(len(cl.Images))],
				Namespace: namespaces[(k+ci)%len(namespaces)],
				Node:      m.Node,
				Machine:   m,
				self:      self,
			}
			p.Name = podName(rng, cl.Apps[rng.Intn(len(cl.Apps))])
			// About half the pods of a class with an exporter run it as a sidecar.
			if sc := sidecars[c]; sc != nil && rng.Intn(2) == 0 {
				p.Sidecar = sc
			}
			pods = append(pods, p)
		}
	}
	return pods
}

// podName mimics a Deployment's pod: <app>-<replicaset hash>-<suffix>.
func podName(rng *rand.Rand, app string) string {
	const alnum = "bcdfghjklmnpqrstvwxz2456789"
	r := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alnum[rng.Intn(len(alnum))]
		}
		return string(b)
	}
	return app + "-" + r(9+rng.Intn(2)) + "-" + r(5)
}

// recordPod runs one pod's life: start the server, run its load, sample
// every interval for duration, then tear everything down.
func recordPod(ctx context.Context, p *Pod, duration, interval time.Duration, work string) (res result) {
	res.pod = p
	defer p.teardown()
	if err := p.setup(work); err != nil {
		res.err = err
		return
	}
	p.logf("pod %s/%s class=%s scenario=%s image=%s netns=%s ip=%s", p.Namespace, p.Name, p.Class.Name, p.Scenario.Name, p.Image, p.SrvNS, p.SrvIP)

	prev := p.read()
	t0 := prev.t
	lctx, cancel := context.WithDeadline(ctx, t0.Add(duration-5*time.Second))
	defer cancel()
	loadErr := make(chan error, 1)
	go func() {
		if err := p.Class.Start(lctx, p); err != nil {
			loadErr <- fmt.Errorf("start: %w", err)
			return
		}
		p.logf("server ready after %s", time.Since(t0).Round(time.Millisecond))
		if p.side != nil {
			// Containers of a pod start together: the load does not wait
			// for the exporter, but a sidecar that never comes up fails the pod.
			go func() {
				if err := p.startSidecar(lctx); err != nil && lctx.Err() == nil {
					p.logf("sidecar: %v", err)
					p.sideFailed.Store(true)
				}
			}()
		}
		loadErr <- p.Scenario.Load(lctx, p)
	}()

	var b strings.Builder
	n := int(duration / interval)
	for i := 1; i <= n; i++ {
		if !sleepCtx(ctx, time.Until(t0.Add(time.Duration(i)*interval))) {
			res.err = ctx.Err()
			return
		}
		cur := p.read()
		b.WriteString(p.lines(prev, cur))
		c, pc := cur.main, prev.main
		p.logf("sample %d: cpu=%.3f cores mem=%dMiB ws=%dMiB rx=%d tx=%d io=%d/%d procs=%d threads=%d fds=%d sockets=%d", i,
			float64(c.cpuNs-pc.cpuNs)/float64(cur.t.Sub(prev.t).Nanoseconds()),
			c.memUsage>>20, (c.memUsage-min(c.inactive, c.memUsage))>>20, cur.rx, cur.tx, c.ioRead, c.ioWrite, c.procs, c.threads, c.fds, c.sockets)
		prev = cur
		select {
		case err := <-loadErr:
			if err != nil {
				res.err = err
				return
			}
			loadErr = nil
		default:
		}
	}
	cancel()
	if p.sideFailed.Load() {
		res.err = fmt.Errorf("sidecar %s did not start", p.Sidecar.Name)
		return
	}
	if loadErr != nil {
		if err := <-loadErr; err != nil {
			res.err = err
			return
		}
	}
	res.lines = b.String()
	res.span = time.Duration(n) * interval
	os.WriteFile(filepath.Join(work, p.Name+".lp"), []byte(res.lines), 0o644)
	return
}

func writeOutputs(out string, results []result) error {
	var ok []result
	for _, r := range results {
		if r.err == nil && r.pod != nil && r.lines != "" {
			ok = append(ok, r)
		}
	}
	sort.SliceStable(ok, func(i, j int) bool { return ok[i].pod.Idx < ok[j].pod.Idx })
	mf, err := os.Create(filepath.Join(out, "metrics.lp"))
	if err != nil {
		return err
	}
	for _, r := range ok {
		mf.WriteString(r.lines)
	}
	if err := mf.Close(); err != nil {
		return err
	}
	cf, err := os.Create(filepath.Join(out, "pods.csv"))
	if err != nil {
		return err
	}
	w := csv.NewWriter(cf)
	w.Write([]string{"namespace", "pod_name", "image", "class", "scenario", "duration_s", "machine", "container", "sidecar", "known"})
	for _, r := range ok {
		side := ""
		if r.pod.Sidecar != nil {
			side = r.pod.Sidecar.Name
		}
		w.Write([]string{r.pod.Namespace, r.pod.Name, r.pod.Image, r.pod.Class.Name, r.pod.Scenario.Name, fmt.Sprint(int(r.span.Seconds())),
			r.pod.Machine.Name, r.pod.Class.Container, side, fmt.Sprint(!r.pod.Class.Foreign)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return cf.Close()
}
