// Package prometheus reads pod samples from anything serving Prometheus'
// HTTP query API — Prometheus, VictoriaMetrics, Thanos Query, Mimir —
// holding the kubelet's cAdvisor series: one range query per batch of pods
// covering every series.
//
// Its tests run one suite against a real Prometheus and a real
// VictoriaMetrics holding the same series. Two things the engines do
// differently are handled here: every request asks for VictoriaMetrics'
// smallest latency_offset (by default it answers the last 30 s with older
// points), and no range reaches past now (VictoriaMetrics repeats the last
// point there). docs/install.md lists what else differs.
//
// It imports the samples core and Prometheus' API client only; nothing of
// podclass above it and no test harness.
package prometheus
