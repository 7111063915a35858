package certs

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
)

// FileChecker is a readiness check for certificates someone else writes
// (cert-manager, a mounted Secret): it fails while the pair in certPath and
// keyPath is missing, unreadable, mismatched or outside its validity period.
// The files are read on every probe, so a renewal is seen at once.
func FileChecker(certPath, keyPath string, clk clock.PassiveClock) healthz.Checker {
	if clk == nil {
		clk = clock.RealClock{}
	}
	return func(*http.Request) error {
		certPEM, err := os.ReadFile(certPath)
		if err != nil {
			return fmt.Errorf("reading serving certificate: %w", err)
		}
		keyPEM, err := os.ReadFile(keyPath)
		if err != nil {
			return fmt.Errorf("reading serving key: %w", err)
		}
		pair, err := parseKeyPair(certPEM, keyPEM)
		if err != nil {
			return err
		}
		now := clk.Now()
		switch {
		case now.Before(pair.Cert.NotBefore):
			return fmt.Errorf("serving certificate is valid only from %s", pair.Cert.NotBefore.Format(time.RFC3339))
		case !now.Before(pair.Cert.NotAfter):
			return fmt.Errorf("serving certificate expired at %s", pair.Cert.NotAfter.Format(time.RFC3339))
		}
		return nil
	}
}

// errNoCert is returned by checks before any certificate exists.
var errNoCert = errors.New("no serving certificate yet")
