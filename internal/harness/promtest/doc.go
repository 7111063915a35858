// Package promtest runs a real Prometheus for tests, holding samples the test
// chose: it writes them as OpenMetrics, backfills them into TSDB blocks with
// `promtool tsdb create-blocks-from openmetrics`, and starts `prometheus` on a
// free loopback port over those blocks. Nothing is scraped.
//
// The binaries come from Debian's prometheus package (`hack/prometheus.sh`
// installs it for CI); missing binaries fail the test rather than skip it.
//
//	srv := promtest.Start(t, []promtest.Series{{
//		Metric: "container_memory_rss",
//		Labels: map[string]string{"namespace": "a", "pod": "b", "container": "c"},
//		Points: []promtest.Point{{Time: t0, Value: 42}},
//	}})
//	src, _ := prometheus.NewSource(prometheus.Config{URL: srv.URL})
//
// The same series go to a real VictoriaMetrics through the vmtest harness
// (WriteText is its import format), so one suite tests both engines.
//
// A harness: imported only by tests; it imports only the freeport and tools harnesses.
package promtest
