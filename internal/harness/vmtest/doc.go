// Package vmtest runs a real single-node VictoriaMetrics for tests, holding
// the samples the test chose: it starts `victoria-metrics` on a free loopback
// port with its data in the test's temporary directory and a retention of
// 100 years (so old recorded timestamps are kept), imports promtest's series
// through /api/v1/import/prometheus and returns once they are searchable.
// Nothing is scraped. The Prometheus source runs the same tests against it as
// against promtest's Prometheus.
//
// The binary is built by `hack/tools.sh victoria-metrics` (`make test` runs
// it); $PODCLASS_VICTORIA_METRICS overrides where Start looks. A missing
// binary fails the test rather than skipping it.
//
//	srv := vmtest.Start(t, series, "-search.maxQueryLen=1MiB")
//	src, _ := prometheus.NewSource(prometheus.Config{URL: srv.URL})
//
// A harness: imported only by tests and hack/; it imports only the promtest,
// freeport and tools harnesses.
package vmtest
