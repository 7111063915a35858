package testenv

import (
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/podclass/podclass/imagerules"
	"github.com/podclass/podclass/webhook"
)

// ServeWebhook serves podclass's webhook (built-in rules) where the
// apiserver's installed webhook configurations point, waits until it answers
// TLS, and stops it — draining in-flight admissions — before the control
// plane stops, or earlier when the returned stop is called (to take the
// webhook down in a test; stop is idempotent).
func (e *Env) ServeWebhook(t testing.TB) (stop func()) {
	t.Helper()
	o := e.WebhookInstallOptions
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- webhook.Run(ctx, webhook.Options{
			Host: o.LocalServingHost, Port: o.LocalServingPort, CertDir: o.LocalServingCertDir,
			CertName: "tls.crt", KeyName: "tls.key", ProbeAddr: "0", MetricsAddr: "0",
		}, webhook.NewPodAnnotator(imagerules.Default()), nil)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("webhook server: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	addr := net.JoinHostPort(o.LocalServingHost, strconv.Itoa(o.LocalServingPort))
	WaitFor(t, 10*time.Second, "the webhook to serve TLS", func() (bool, error) {
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			return false, err
		}
		return true, conn.Close()
	})
	return stop
}
