package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

var log = logf.Log.WithName("webhook")

// Options configure the webhook's servers.
type Options struct {
	// Host and Port the TLS admission server listens on.
	Host string
	Port int
	// CertDir holds CertName and KeyName; they are reloaded when they change.
	CertDir, CertName, KeyName string
	// ProbeAddr serves /healthz and /readyz over plain HTTP ("0" disables).
	ProbeAddr string
	// MetricsAddr serves Prometheus metrics over plain HTTP ("0" disables).
	MetricsAddr string
	// MaxReviewBytes is the largest AdmissionReview read (larger: 413);
	// DefaultMaxReviewBytes if zero.
	MaxReviewBytes int64
	// ReviewBudgetBytes bounds the bytes of all reviews in flight (a review
	// waits up to a second for room, then gets 503);
	// DefaultReviewBudgetBytes if zero.
	ReviewBudgetBytes int64
	// Bootstrap, if set, runs before the admission server starts (which
	// reads the certificate files at start), while probes and metrics are
	// already served: /healthz answers and /readyz fails until it returns,
	// so a slow bootstrap (e.g. self-managed certificates waiting for the
	// API server) is not mistaken for a dead process. An error ends Run.
	Bootstrap func(context.Context) error
}

// TLSOptions are applied to the admission server: TLS 1.2 or later, and for
// TLS 1.2 only AEAD cipher suites with forward secrecy.
func TLSOptions(c *tls.Config) {
	c.MinVersion = tls.VersionTLS12
	c.CipherSuites = []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	}
}

// NewServer returns controller-runtime's webhook server with the pod
// annotator registered at Path, behind the memory budget (reviewBudget). Its
// certwatcher reloads the serving cert when the files change, so rotation
// needs no restart. The certificate's expiry is exported from the same file
// (podclass_certificate_expiry_timestamp_seconds).
func NewServer(o Options, h admission.Handler) crwebhook.Server {
	servingCert.watch(certPath(o))
	s := crwebhook.NewServer(crwebhook.Options{
		Host: o.Host, Port: o.Port,
		CertDir: o.CertDir, CertName: o.CertName, KeyName: o.KeyName,
		TLSOpts: []func(*tls.Config){TLSOptions},
	})
	s.Register(Path, newReviewBudget(&crwebhook.Admission{Handler: h}, o.MaxReviewBytes, o.ReviewBudgetBytes))
	return s
}

// Run serves admissions, probes and metrics until ctx is done, then drains
// in-flight admissions before returning. ready, if set, gates /readyz in
// addition to the server having started (e.g. "a valid cert exists").
func Run(ctx context.Context, o Options, h admission.Handler, ready healthz.Checker) error {
	srv := NewServer(o, h)
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if o.Bootstrap != nil {
			if err := o.Bootstrap(ctx); err != nil {
				return err
			}
			log.Info("Bootstrap done; starting the admission server")
		}
		return srv.Start(ctx)
	})

	started := srv.StartedChecker()
	checks := map[string]healthz.Checker{"webhook": started}
	if ready != nil {
		checks["certs"] = ready
	}
	if o.ProbeAddr != "" && o.ProbeAddr != "0" {
		mux := http.NewServeMux()
		mux.Handle("/healthz/", http.StripPrefix("/healthz", &healthz.Handler{Checks: map[string]healthz.Checker{"ping": healthz.Ping}}))
		mux.Handle("/healthz", http.StripPrefix("/healthz", &healthz.Handler{Checks: map[string]healthz.Checker{"ping": healthz.Ping}}))
		mux.Handle("/readyz/", http.StripPrefix("/readyz", &healthz.Handler{Checks: checks}))
		mux.Handle("/readyz", http.StripPrefix("/readyz", &healthz.Handler{Checks: checks}))
		g.Go(func() error { return serveHTTP(ctx, "probes", o.ProbeAddr, mux) })
	}
	if o.MetricsAddr != "" && o.MetricsAddr != "0" {
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(metrics.Registry, promhttp.HandlerOpts{}))
		g.Go(func() error { return serveHTTP(ctx, "metrics", o.MetricsAddr, mux) })
	}
	return g.Wait()
}

// CertSource keeps the serving certificate in the files Options names, e.g.
// the self-managed certs.Manager.
type CertSource interface {
	// Bootstrap writes a valid certificate (retrying until ctx is done).
	Bootstrap(ctx context.Context) error
	// Start renews the certificate until ctx is done.
	Start(ctx context.Context) error
	// Checker fails while the certificate is not valid and trusted.
	Checker() healthz.Checker
}

// RunWithCerts is Run with certificates from src: probes are served at once,
// src bootstraps before the admission server starts (o.Bootstrap is
// replaced), then renews in the background; /readyz also follows
// src.Checker.
func RunWithCerts(ctx context.Context, o Options, h admission.Handler, src CertSource) error {
	g, ctx := errgroup.WithContext(ctx)
	bootstrapped := make(chan struct{})
	o.Bootstrap = func(ctx context.Context) error {
		if err := src.Bootstrap(ctx); err != nil {
			return err
		}
		close(bootstrapped)
		return nil
	}
	g.Go(func() error {
		select {
		case <-bootstrapped:
			return src.Start(ctx)
		case <-ctx.Done():
			return nil
		}
	})
	g.Go(func() error { return Run(ctx, o, h, src.Checker()) })
	return g.Wait()
}

// serveHTTP serves h on addr until ctx is done.
func serveHTTP(ctx context.Context, name, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening for %s on %s: %w", name, addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	log.Info("Serving", "what", name, "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(shutdown)
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serving %s: %w", name, err)
	}
}

// TuneGC sets the garbage collector's target to 400% unless GOGC is set.
// The webhook's live heap is a few MiB and every admission allocates a few
// KiB that die at once; collecting at 4× the live heap instead of 2× halves
// GC cycles, which are what the p99 latency tail is made of (measured in
// docs/benchmarks.md), for a few MiB more memory. So that a burst of large
// reviews cannot take the heap past the container's memory limit, it also
// sets the runtime's soft memory limit to 60% of the cgroup's (unless
// GOMEMLIMIT is set).
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	setMemoryLimit("/sys/fs/cgroup/memory.max")
}
