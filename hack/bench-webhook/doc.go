// Command bench-webhook drives podclass's real admission server over TLS on
// loopback at a fixed request rate and reports latency percentiles and
// errors. It is open-loop: each request's latency is measured from when it
// was due, not from when a worker got to it, so a server that falls behind
// cannot hide it (no coordinated omission).
//
//	go run ./hack/bench-webhook --rate 2000 --duration 60s
//	go run ./hack/bench-webhook --find-max --p99 10ms   # highest rate with p99 under the target
//
// A tool, not the product: it may import the harnesses (freeport, testcerts);
// nothing imports it.
package main
