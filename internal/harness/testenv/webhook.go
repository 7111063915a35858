package testenv

import (
	"sync"
	"testing"
)

// ServeWebhook serves podclass's webhook (built-in rules) where the
// apiserver's installed webhook configurations point, waits until it answers
// TLS, and stops it — draining in-flight admissions — before the control
// plane stops, or earlier when the returned stop is called (to take the
// webhook down in a test; stop is idempotent).
func (e *Env) ServeWebhook(t testing.TB) (stop func()) {
	t.Helper()
	stopServer, err := e.cluster.ServeWebhook()
	if err != nil {
		t.Fatalf("serving the webhook: %v", err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			if err := stopServer(); err != nil {
				t.Errorf("webhook server: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}
